"""The lifecycle table: init → plan → practice → review → done, review ↔ practice."""

from __future__ import annotations

import itertools

import pytest

from colearner_lsp.core.errors import IllegalTransition, InvalidArgument, NotFound
from colearner_lsp.core.model.lifecycle import (
    STAGES,
    allowed_next,
    automatic_move,
    check_step_order,
    check_transition,
    is_legal,
)

LEGAL = {("init", "plan"), ("plan", "practice"), ("practice", "review"), ("review", "done"), ("review", "practice")}


@pytest.mark.parametrize(("current", "wanted"), sorted(LEGAL))
def test_legal_moves(current: str, wanted: str) -> None:
    assert is_legal(current, wanted)
    check_transition(current, wanted)  # does not raise


@pytest.mark.parametrize(("current", "wanted"), [p for p in itertools.product(STAGES, STAGES) if p not in LEGAL])
def test_every_other_pair_is_illegal(current: str, wanted: str) -> None:
    assert not is_legal(current, wanted)
    with pytest.raises(IllegalTransition) as exc:
        check_transition(current, wanted)
    err = exc.value
    assert (err.current, err.wanted) == (current, wanted)
    assert err.allowed == allowed_next(current)
    message = str(err)
    assert f"from '{current}' to '{wanted}'" in message
    if err.allowed:
        assert message.endswith("allowed next: " + ", ".join(err.allowed))
    else:
        assert message.endswith("allowed next: none (the session is finished)")


def test_allowed_next_table() -> None:
    assert {s: allowed_next(s) for s in STAGES} == {
        "init": ["plan"],
        "plan": ["practice"],
        "practice": ["review"],
        "review": ["done", "practice"],
        "done": [],
    }
    assert allowed_next("nonsense") == []


def test_no_skipping_names_the_one_allowed_move() -> None:
    with pytest.raises(IllegalTransition, match=r"cannot move the session from 'init' to 'practice'; allowed next: plan$"):
        check_transition("init", "practice")


def test_unknown_stage() -> None:
    with pytest.raises(IllegalTransition) as exc:
        check_transition("plan", "archived")
    assert "(unknown stage)" in str(exc.value) and "allowed next: practice" in str(exc.value)


def test_reason_is_in_the_message() -> None:
    with pytest.raises(IllegalTransition, match=r"\(not every exercise has an answer\)"):
        check_transition("practice", "done", "not every exercise has an answer")


def test_revise_loop() -> None:
    stage = "init"
    path = ["plan", "practice", "review", "practice", "review", "practice", "review", "done"]
    for nxt in path:
        check_transition(stage, nxt)
        stage = nxt
    assert stage == "done" and allowed_next(stage) == []


# ---------------------------------------------------------------- automatic moves


@pytest.mark.parametrize(
    ("stage", "states", "event_type", "grade", "expected"),
    [
        ("init", [], "learning_plan", None, "plan"),
        ("plan", [], "learning_plan", None, None),  # a second plan changes nothing
        ("plan", ["acknowledged"], "exercise_acknowledged", None, "practice"),
        ("practice", ["acknowledged", "acknowledged"], "exercise_acknowledged", None, None),
        ("init", ["acknowledged"], "exercise_acknowledged", None, None),
        ("practice", ["responded"], "exercise_response", None, "review"),
        ("practice", ["responded", "passed"], "exercise_response", None, "review"),
        ("practice", ["responded", "assigned"], "exercise_response", None, None),
        ("practice", ["responded", "revise"], "exercise_response", None, None),
        ("practice", [], "exercise_response", None, None),
        ("plan", ["responded"], "exercise_response", None, None),
        ("review", ["revise", "passed"], "assessment_feedback", "revise", "practice"),
        ("review", ["passed", "passed"], "assessment_feedback", "pass", "done"),
        ("review", ["passed", "responded"], "assessment_feedback", "pass", None),
        ("review", [], "assessment_feedback", "pass", None),
        ("practice", ["revise"], "assessment_feedback", "revise", None),
        ("practice", ["passed"], "assessment_feedback", "pass", None),
        ("done", ["passed"], "assessment_feedback", "pass", None),
        ("practice", ["responded"], "progress_update", None, None),
        ("review", ["responded"], "evidence_snapshot", None, None),
    ],
)
def test_automatic_move(stage: str, states: list[str], event_type: str, grade: str | None, expected: str | None) -> None:
    moved = automatic_move(stage, states, event_type, grade)
    assert moved == expected
    if moved is not None:
        assert is_legal(stage, moved)  # an automatic move is always a legal one


# ---------------------------------------------------------------- plan steps


STEPS = [("step-1", "done"), ("step-2", "active"), ("step-3", "next")]


def test_steps_in_order() -> None:
    check_step_order(STEPS, "step-1")  # done again: harmless
    check_step_order(STEPS, "step-2")
    check_step_order([("a", "active"), ("b", "next")], "a")


def test_step_out_of_order() -> None:
    with pytest.raises(InvalidArgument) as exc:
        check_step_order(STEPS, "step-3")
    assert str(exc.value) == "step 'step-3' cannot be completed before step 'step-2'; plan steps are done in order"
    with pytest.raises(InvalidArgument, match="before step 'a'"):
        check_step_order([("a", "next"), ("b", "next"), ("c", "next")], "c")


def test_unknown_step() -> None:
    with pytest.raises(NotFound) as exc:
        check_step_order(STEPS, "step-9")
    assert str(exc.value) == "no plan step 'step-9'; the plan has: step-1, step-2, step-3"
    with pytest.raises(NotFound, match="no steps"):
        check_step_order([], "step-1")
