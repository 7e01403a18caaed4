"""The session lifecycle: init → plan → practice → review → done, no skipping.

``review → practice`` is the one way back, taken when the coach grades an
exercise ``revise``. This module is the only place these rules are written; the
action layer checks a move before it emits it and the fold uses the same table
to decide whether a received move applies.
"""

from __future__ import annotations

from typing import get_args

from ..errors import IllegalTransition, InvalidArgument, NotFound
from ..protocol.vocabulary import Stage

STAGES: tuple[str, ...] = get_args(Stage)

NEXT_STAGES: dict[str, tuple[str, ...]] = {
    "init": ("plan",),
    "plan": ("practice",),
    "practice": ("review",),
    "review": ("done", "practice"),
    "done": (),
}


def allowed_next(stage: str) -> list[str]:
    return list(NEXT_STAGES.get(stage, ()))


def check_transition(current: str, wanted: str, why: str = "") -> None:
    """Raise ``IllegalTransition`` unless ``current → wanted`` is a legal move."""
    if wanted not in NEXT_STAGES:
        raise IllegalTransition(current, wanted, allowed_next(current), "unknown stage")
    if wanted not in NEXT_STAGES.get(current, ()):
        raise IllegalTransition(current, wanted, allowed_next(current), why)


def is_legal(current: str, wanted: str) -> bool:
    return wanted in NEXT_STAGES.get(current, ())


def automatic_move(stage: str, exercise_states: list[str], event_type: str, grade: str | None = None) -> str | None:
    """The stage an action moves a session to, judged on exercise states *after* it.

    - a learning plan moves ``init`` to ``plan``;
    - the first acknowledgement moves ``plan`` to ``practice``;
    - a response that leaves every exercise answered moves ``practice`` to ``review``;
    - a ``pass`` that leaves every exercise passed moves ``review`` to ``done``;
    - a ``revise`` in ``review`` moves back to ``practice``.
    """
    if event_type == "learning_plan" and stage == "init":
        return "plan"
    if event_type == "exercise_acknowledged" and stage == "plan":
        return "practice"
    if event_type == "exercise_response" and stage == "practice":
        if exercise_states and all(s in ("responded", "passed") for s in exercise_states):
            return "review"
    if event_type == "assessment_feedback" and stage == "review":
        if grade == "revise":
            return "practice"
        if exercise_states and all(s == "passed" for s in exercise_states):
            return "done"
    return None


def check_step_order(steps: list[tuple[str, str]], step_id: str) -> None:
    """Plan steps are completed in order: every earlier step must be done first.

    ``steps`` is ``[(id, status), …]`` in plan order.
    """
    ids = [sid for sid, _ in steps]
    if step_id not in ids:
        raise NotFound(f"no plan step {step_id!r}; the plan has: {', '.join(ids) or 'no steps'}")
    for sid, status in steps[: ids.index(step_id)]:
        if status != "done":
            raise InvalidArgument(f"step {step_id!r} cannot be completed before step {sid!r}; plan steps are done in order")
