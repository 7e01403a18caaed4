"""Folded exercises built by hand, for tests and benchmarks of what reads them (the review queue)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from colearner_lsp.core.model.state import ExerciseState
from tests.records import anchor, evidence, response


def exercise_state(
    exercise_id: str,
    student: str,
    state: str,
    *,
    coach: str = "carol",
    topic: str = "topic",
    exercise: str = "x",
    expected: str = "y",
    lines: tuple[int, int] = (1, 2),
    assigned_at: str = "2026-01-01T00:00:00.000000Z",
    **fields: Any,
) -> ExerciseState:
    """An exercise of ``student``'s session ``s-<student>`` on app/inventory.py ``lines``, in ``state``."""
    return ExerciseState(
        exercise_id=exercise_id,
        session_id=f"s-{student}",
        student=student,
        coach=coach,
        topic=topic,
        exercise=exercise,
        expected=expected,
        tests=[],
        step_id=None,
        anchor=anchor("app/inventory.py", lines[0], lines[1]),
        assigned_at=assigned_at,
        state=state,
        **fields,
    )


def answered(ex: ExerciseState, tag: object, ts: str, text: str, files: Sequence[str]) -> ExerciseState:
    """``ex`` with an answer (``r<tag>``) at ``ts`` and its evidence (``e<tag>``) of ``files``."""
    ex.responses.append(response(text, ts, f"e{tag}", event_id=f"r{tag}"))
    ex.evidence.append(evidence(f"e{tag}", ts, [{"path": path} for path in files]))
    return ex
