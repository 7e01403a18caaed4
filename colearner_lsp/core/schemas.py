"""JSON Schemas (draft 2020-12) generated from the code's models.

``schemas/`` at the repository root holds what ``generate_schemas`` returns, one
file per payload, one for the envelope and one for ``agent.yaml``, so tools in
other languages can check messages and configs. The models stay the source of
truth: a test fails when the files drift from them, and ``write_schemas``
brings them back in line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .config import AgentConfig
from .protocol.event_types import PAYLOADS
from .protocol.events import RFC3339, SCHEMA_VERSION, WIRE_ADAPTER

DRAFT = "https://json-schema.org/draft/2020-12/schema"
ENVELOPE_FILE = "envelope.schema.json"
AGENT_FILE = "agent.schema.json"


def payload_file(event_type: str) -> str:
    return f"payload.{event_type}.schema.json"


def schema_id(name: str) -> str:
    return f"colearner/v{SCHEMA_VERSION}/{name}"


def _stamp(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"$schema": DRAFT, "$id": schema_id(name), "description": description, **schema}


def _envelope_schema() -> dict[str, Any]:
    schema = WIRE_ADAPTER.json_schema()
    # The envelope's ts and ids are checked by validators, which pydantic cannot
    # express in a schema; say the same thing here so other tools check it too.
    props = schema["properties"]
    props["ts"]["pattern"] = RFC3339.pattern
    props["session_id"]["format"] = "uuid"
    props["event_id"]["format"] = "uuid"
    return schema


def generate_schemas() -> dict[str, dict[str, Any]]:
    """Every schema by file name, as the current models define them."""
    out: dict[str, dict[str, Any]] = {}
    for event_type, model in PAYLOADS.items():
        name = payload_file(event_type)
        out[name] = _stamp(name, model.model_json_schema(), f"colearner v{SCHEMA_VERSION} payload of a {event_type} event")
    out[ENVELOPE_FILE] = _stamp(
        ENVELOPE_FILE,
        _envelope_schema(),
        f"colearner v{SCHEMA_VERSION} event envelope: one object per Kafka message, its payload sealed to its readers "
        "(the plaintext payload's schema is payload.<event_type>.schema.json)",
    )
    out[AGENT_FILE] = _stamp(AGENT_FILE, AgentConfig.model_json_schema(), "colearner .colearner/agent.yaml")
    return out


def render(schema: dict[str, Any]) -> str:
    """The stable text of one schema file: indent 2, sorted keys, trailing newline."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_schemas(folder: Path) -> list[Path]:
    """Write every schema into ``folder`` (only files whose text changed); returns all paths.

    Files named like a schema but no longer generated are removed.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    wanted = generate_schemas()
    paths = []
    for name, schema in sorted(wanted.items()):
        path = folder / name
        text = render(schema)
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        paths.append(path)
    for stale in folder.glob("*.schema.json"):
        if stale.name not in wanted:
            stale.unlink()
    return paths


def check_schemas(folder: Path) -> list[str]:
    """Names of schema files in ``folder`` that drifted, are missing or are extra."""
    folder = Path(folder)
    wanted = {name: render(schema) for name, schema in generate_schemas().items()}
    problems = []
    for name, text in sorted(wanted.items()):
        path = folder / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            problems.append(name)
    if folder.is_dir():
        problems += sorted(p.name for p in folder.glob("*.schema.json") if p.name not in wanted)
    return problems


def main() -> None:
    """``python -m colearner_lsp.core.schemas [FOLDER]``: regenerate the schema files."""
    import sys

    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("schemas")
    for path in write_schemas(folder):
        print(path)


if __name__ == "__main__":
    main()
