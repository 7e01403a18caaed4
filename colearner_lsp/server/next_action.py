"""What comes next on an exercise, for the person looking at it.

One rule, read by the diagnostics (which name the next action), the code
actions (which offer it first) and the hover, so the three never disagree.
Plain Python over the folded state: no LSP types.
"""

from __future__ import annotations

from typing import Literal

from ..core.model.state import ExerciseState

StudentAction = Literal["acknowledge", "answer_request", "respond"]

# How a diagnostic names each action: the start of the code action's title.
STUDENT_ACTION_TITLE: dict[StudentAction, str] = {
    "acknowledge": "Acknowledge",
    "answer_request": "Answer evidence request",
    "respond": "Respond",
}


def student_next(ex: ExerciseState) -> StudentAction | None:
    """The student's one next move; None while the coach has the turn (or the exercise passed)."""
    if ex.state == "assigned":
        return "acknowledge"
    if ex.state == "passed":
        return None
    if ex.open_requests:
        return "answer_request"  # the coach waits on it, even on an answer already sent
    if ex.state in ("acknowledged", "revise"):
        return "respond"
    return None


def coach_has_turn(ex: ExerciseState) -> bool:
    """True when an answer waits for this exercise's coach to review it."""
    return ex.state == "responded"
