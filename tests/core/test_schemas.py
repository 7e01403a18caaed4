"""``schemas/`` is generated from the models: it must not drift, and it must accept
what the code really sends and refuse what the code refuses."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator, FormatChecker

from colearner_lsp.core.protocol.events import PAYLOADS
from colearner_lsp.core.schemas import (
    AGENT_FILE,
    DRAFT,
    ENVELOPE_FILE,
    check_schemas,
    generate_schemas,
    payload_file,
    render,
    write_schemas,
)
from tests.core.conftest import Wire, make_pair, run_session

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


def validator(name: str) -> Draft202012Validator:
    schema = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FormatChecker())


def problems(v: Draft202012Validator, instance: Any) -> list[str]:
    return [e.message for e in v.iter_errors(instance)]


# ---------------------------------------------------------------- drift


def test_committed_schemas_match_the_models() -> None:
    """Fails when a model changed and ``python -m colearner_lsp.core.schemas`` was not re-run."""
    wanted = generate_schemas()
    on_disk = sorted(p.name for p in SCHEMAS.glob("*.json"))
    assert on_disk == sorted(wanted), "run: python -m colearner_lsp.core.schemas schemas"
    for name, schema in wanted.items():
        text = (SCHEMAS / name).read_text(encoding="utf-8")
        assert json.loads(text) == schema, f"{name} drifted; run: python -m colearner_lsp.core.schemas schemas"
        assert text == render(schema), f"{name} is not in the stable format"
    assert check_schemas(SCHEMAS) == []


def test_one_file_per_payload_plus_envelope_and_agent() -> None:
    names = set(generate_schemas())
    assert names == {payload_file(t) for t in PAYLOADS} | {ENVELOPE_FILE, AGENT_FILE}
    for name, schema in generate_schemas().items():
        assert schema["$schema"] == DRAFT
        assert schema["$id"] == f"colearner/v2/{name}"
        Draft202012Validator.check_schema(schema)


def test_envelope_names_every_type_and_seals_the_payload() -> None:
    schema = generate_schemas()[ENVELOPE_FILE]
    assert set(schema["properties"]["event_type"]["enum"]) == set(PAYLOADS)
    assert schema["properties"]["payload"] == {"$ref": "#/$defs/Sealed"}
    assert {"v", "prev", "seq", "sender", "student", "payload"} <= set(schema["required"])


def test_write_and_check(tmp_path: Path) -> None:
    folder = tmp_path / "schemas"
    assert set(check_schemas(folder)) == set(generate_schemas())  # all missing
    paths = write_schemas(folder)
    assert sorted(p.name for p in paths) == sorted(generate_schemas())
    assert check_schemas(folder) == []
    text = (folder / ENVELOPE_FILE).read_text()
    assert text.endswith("}\n") and text.startswith('{\n  "$defs": {')  # indent 2, sorted keys
    mtimes = {p: p.stat().st_mtime_ns for p in paths}
    write_schemas(folder)  # stable: nothing to rewrite
    assert {p: p.stat().st_mtime_ns for p in paths} == mtimes

    (folder / payload_file("progress_update")).write_text('{"type": "object"}\n')
    (folder / payload_file("learning_plan")).unlink()
    (folder / "payload.exercise_deleted.schema.json").write_text("{}\n")
    assert check_schemas(folder) == [payload_file("learning_plan"), payload_file("progress_update"), "payload.exercise_deleted.schema.json"]
    write_schemas(folder)
    assert check_schemas(folder) == []
    assert not (folder / "payload.exercise_deleted.schema.json").exists()


# ---------------------------------------------------------------- real events


@pytest.fixture
def real_events(tmp_path: Path) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Every event both sides of a whole session hold: (as sent on the wire, opened), both as JSON."""
    coach, (student,) = make_pair(tmp_path)
    try:
        run_session(coach, student, Wire())
        pairs = [
            (json.loads(sent[3]), json.loads(row.raw))
            for inst in (coach, student)
            for sent, row in zip(inst.ledger.events_as_sent(0), inst.ledger.events_after(0))
        ]
    finally:
        coach.close()
        student.close()
    return pairs


def test_schemas_accept_what_the_code_sends(real_events: list[tuple[dict[str, Any], dict[str, Any]]]) -> None:
    envelope = validator(ENVELOPE_FILE)
    payloads = {t: validator(payload_file(t)) for t in PAYLOADS}
    seen = set()
    for sent, opened in real_events:
        assert problems(envelope, sent) == [], sent
        assert set(sent["payload"]) == {"nonce", "sealed", "keys"}
        assert problems(payloads[opened["event_type"]], opened["payload"]) == [], opened
        seen.add(opened["event_type"])
    assert seen == set(PAYLOADS)  # the session really exercised every type


def test_schemas_refuse_bad_events(real_events: list[tuple[dict[str, Any], dict[str, Any]]]) -> None:
    envelope = validator(ENVELOPE_FILE)
    feedback = next(o for _, o in real_events if o["event_type"] == "assessment_feedback")
    progress_sent, progress = next((s, o) for s, o in real_events if o["event_type"] == "progress_update")

    bad = copy.deepcopy(feedback)
    bad["payload"]["grade"] = "fail"
    assert problems(validator(payload_file("assessment_feedback")), bad["payload"])

    bad = copy.deepcopy(progress)
    bad["payload"]["confidence"]["repo overview"] = 1.5
    assert any("1.5 is greater than the maximum of 1.0" in p for p in problems(validator(payload_file("progress_update")), bad["payload"]))
    assert problems(envelope, bad)  # a plaintext payload is not what the wire carries
    progress = progress_sent
    for field, value in {"nonce": "short", "keys": {}, "sealed": 7}.items():
        bad = copy.deepcopy(progress)
        bad["payload"][field] = value
        assert problems(envelope, bad), field

    cases = {
        "event_type": "exercise_deleted",
        "ts": "yesterday",
        "event_id": "not-a-uuid",
        "seq": 0,
        "actor": "teacher",
        "sender": "bad name",
    }
    for field, value in cases.items():
        bad = copy.deepcopy(progress)
        bad[field] = value
        assert problems(envelope, bad), field
    for field in ("payload", "ts", "session_id", "student"):
        bad = copy.deepcopy(progress)
        del bad[field]
        assert problems(envelope, bad), field
    bad = copy.deepcopy(progress)
    bad["unexpected"] = True
    assert problems(envelope, bad)
    for field in ("v", "prev"):
        bad = copy.deepcopy(progress)
        del bad[field]
        assert problems(envelope, bad), field


def test_agent_schema_accepts_real_config_and_refuses_bad(tmp_path: Path) -> None:
    coach, (student,) = make_pair(tmp_path)
    coach.close()
    student.close()
    agent = validator(AGENT_FILE)
    for inst in (coach, student):
        data = yaml.safe_load((inst.root / ".colearner" / "agent.yaml").read_text())
        assert problems(agent, data) == []
        assert data["peers"]
        bad = {**data, "role": "teacher"}
        assert problems(agent, bad)
        bad = {**data, "colour": "red"}
        assert problems(agent, bad)
        bad = {**data, "kafka": {**data["kafka"], "security_protocol": "TLS"}}
        assert problems(agent, bad)
