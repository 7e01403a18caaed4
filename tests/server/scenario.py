"""Coach-side moves for the server tests: the real CLI and core actions on real instances."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from lsprotocol import types

from colearner_lsp.core.instance import Instance
from colearner_lsp.core.model.state import ExerciseState
from tests.instances import Pair, last_line, run_cli, sync

FILE = "app/inventory.py"


def cli(pair: Pair, root_of: str, *args: str) -> str:
    """Run ``colearner`` as the coach or the student; returns the last line (an id, for creating commands)."""
    root = pair.coach_root if root_of == "coach" else pair.student_root
    result = run_cli(root, *args, env=pair.env())
    assert result.returncode == 0, f"colearner {' '.join(args)} failed: {result.stderr}"
    return last_line(result) if result.stdout.strip() else ""


def start_session(pair: Pair, allow: str = "**/*.py") -> str:
    """A session with the student, whose scope lets Python files be shared."""
    session_id = cli(pair, "coach", "session", "start", "--student", pair.student_id)
    cli(pair, "coach", "scope", session_id, "--allow", allow)
    return session_id


def assign(pair: Pair, session_id: str, lines: str = "12-16", path: str = FILE, topic: str = "loops", *extra: str) -> str:
    return cli(
        pair,
        "coach",
        "assign",
        session_id,
        "--topic",
        topic,
        "--exercise",
        "total_value ignores discounts",
        "--expected",
        "an optional discount applied",
        "--test",
        "pytest -q",
        "--file",
        path,
        "--lines",
        lines,
        *extra,
    )


def of_kind(diagnostics: Sequence[types.Diagnostic], kind: str) -> list[types.Diagnostic]:
    return [d for d in diagnostics if isinstance(d.data, dict) and d.data.get("kind") == kind]


def lines_of(d: types.Diagnostic) -> tuple[int, int]:
    return d.range.start.line, d.range.end.line


async def synced(inst: Instance) -> Instance:
    await asyncio.to_thread(sync, inst)
    return inst


async def coach_sees(pair: Pair, exercise_id: str) -> tuple[Instance, ExerciseState]:
    """Open the coach's instance, sync it with Kafka, and return its view of the exercise."""
    coach = await synced(pair.coach())
    return coach, coach.state.exercises[exercise_id]


def titles(acts: Sequence[Any]) -> list[str]:
    return [a.title for a in acts]


def pick(acts: Sequence[Any], prefix: str) -> Any:
    found = [a for a in acts if a.title.startswith(prefix)]
    assert found, f"no code action starting {prefix!r} among {titles(acts)}"
    return found[0]
