"""The user actions, with two real instances in temporary git repositories and
their events carried between them by hand."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from colearner_lsp.core import actions
from colearner_lsp.core.errors import IllegalTransition, InvalidArgument, NotFound, WrongRole
from colearner_lsp.core.instance import Instance
from colearner_lsp.core.protocol.events import AnchoredMistake
from tests.core.conftest import Wire, make_pair

ASSIGN = dict(topic="handlers", exercise="What does handler return?", expected="twice x", path="service.py", start_line=4, end_line=6)


@pytest.fixture
def two(tmp_path: Path) -> Iterator[tuple[Instance, Instance, Wire]]:
    coach, (student,) = make_pair(tmp_path)
    yield coach, student, Wire()
    coach.close()
    student.close()


def learning(inst: Instance) -> dict[str, Any]:
    folder = inst.root / ".colearner"
    assert not list(folder.glob(".learning.*.tmp"))  # written to a temp file, then renamed
    return json.loads((folder / "learning.json").read_text(encoding="utf-8"))


def stage_of(inst: Instance, session_id: str) -> str:
    return inst.state.sessions[session_id].stage


def stages(coach: Instance, student: Instance, session_id: str) -> tuple[str, str]:
    return stage_of(coach, session_id), stage_of(student, session_id)


def started(coach: Instance, student: Instance, wire: Wire, steps: int = 2) -> str:
    session_id = actions.start_session(coach, student.identity)
    actions.send_plan(coach, session_id, ["onboard to service X"], [(f"step-{i}", f"topic {i}") for i in range(1, steps + 1)])
    wire.exchange(coach, student)
    return session_id


# ---------------------------------------------------------------- the whole loop


@dataclass
class Loop:
    """The whole loop, run once for the checks below: what was seen after each step, and both instances at the end."""

    coach: Instance
    student: Instance
    session_id: str
    seen: dict[str, Any]


@pytest.fixture(scope="module")
def whole_loop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loop]:
    """Init → plan → assign → ack → respond → revise → respond → pass, with what each step shows recorded as it happens."""
    with pytest.MonkeyPatch.context() as patch:  # the root conftest's key_dir, for a fixture the whole module shares
        patch.setenv("COLEARNER_KEY_DIR", str(tmp_path_factory.mktemp("keys")))
        patch.delenv("COLEARNER_BOOTSTRAP", raising=False)
        coach, (student,) = make_pair(tmp_path_factory.mktemp("loop"))
        wire, seen = Wire(), {}
        session_id = actions.start_session(coach, "alice")
        seen["started: the coach's stage"] = stage_of(coach, session_id)
        wire.exchange(coach, student)
        seen["started: both stages"] = stages(coach, student, session_id)
        seen["started: learning.json's stage"] = learning(student)["sessions"][0]["stage"]

        actions.send_plan(coach, session_id, ["onboard to service X"], [("step-1", "repo overview"), ("step-2", "handlers")])
        wire.exchange(coach, student)
        seen["planned: both stages"] = stages(coach, student, session_id)
        plan = learning(student)["sessions"][0]["plan"]
        seen["planned: learning.json's goals"] = plan["goals"]
        seen["planned: learning.json's steps"] = [(s["id"], s["status"]) for s in plan["steps"]]

        exercise_id = actions.assign_exercise(coach, session_id, step_id="step-2", tests=["python service.py"], **ASSIGN)
        wire.exchange(coach, student)
        ex = student.state.exercises[exercise_id]
        seen["assigned: the student's exercise"] = (ex.state, ex.topic, ex.step_id, copy.copy(ex.tests), ex.coach)
        anchor = ex.anchor
        seen["assigned: its anchor"] = None if anchor is None else (anchor.path, anchor.start_line, anchor.end_line)
        seen["assigned: its anchor has a commit and a fingerprint"] = anchor is not None and bool(anchor.commit and anchor.fingerprint)
        seen["assigned: both stages"] = stages(coach, student, session_id)  # practice starts with the first ack

        actions.acknowledge(student, exercise_id)
        seen["acknowledged: the student's stage at once"] = stage_of(student, session_id)
        wire.exchange(coach, student)
        seen["acknowledged: both stages"] = stages(coach, student, session_id)
        seen["acknowledged: the coach's exercise"] = coach.state.exercises[exercise_id].state

        actions.respond(student, exercise_id, "it doubles x")
        wire.exchange(coach, student)
        seen["responded: both stages"] = stages(coach, student, session_id)
        seen["responded: the coach's answers"] = [r.text for r in coach.state.exercises[exercise_id].responses]

        actions.send_feedback(
            coach, exercise_id, grade="revise", next_step="look at main()", confidence_delta=-0.2, mistakes=["missed the print"]
        )
        wire.exchange(coach, student)
        seen["revise: both stages"] = stages(coach, student, session_id)
        ex = student.state.exercises[exercise_id]
        seen["revise: the student's exercise"] = (ex.state, ex.revise_count)
        feedback = ex.latest_feedback
        seen["revise: its mistakes"] = None if feedback is None else [(m.text, m.path) for m in feedback.mistakes]
        seen["revise: its mistakes as shown"] = None if feedback is None else feedback.to_json()["mistakes"]
        seen["revise: learning.json's exercise"] = learning(student)["sessions"][0]["exercises"][0]["state"]

        actions.respond(student, exercise_id, "it doubles x, and main prints 42")
        wire.exchange(coach, student)
        seen["responded again: both stages"] = stages(coach, student, session_id)

        actions.send_feedback(coach, exercise_id, grade="pass", next_step="read the tests", confidence_delta=0.3)
        wire.exchange(coach, student)
        seen["passed: both stages"] = stages(coach, student, session_id)
        yield Loop(coach, student, session_id, seen)
        coach.close()
        student.close()


WHOLE_LOOP_STEPS = [
    ("started: the coach's stage", "init"),
    ("started: both stages", ("init", "init")),
    ("started: learning.json's stage", "init"),
    ("planned: both stages", ("plan", "plan")),
    ("planned: learning.json's goals", ["onboard to service X"]),
    ("planned: learning.json's steps", [("step-1", "active"), ("step-2", "next")]),
    ("assigned: the student's exercise", ("assigned", "handlers", "step-2", ["python service.py"], "coach")),
    ("assigned: its anchor", ("service.py", 4, 6)),
    ("assigned: its anchor has a commit and a fingerprint", True),
    ("assigned: both stages", ("plan", "plan")),
    ("acknowledged: the student's stage at once", "practice"),
    ("acknowledged: both stages", ("practice", "practice")),
    ("acknowledged: the coach's exercise", "acknowledged"),
    ("responded: both stages", ("review", "review")),
    ("responded: the coach's answers", ["it doubles x"]),
    ("revise: both stages", ("practice", "practice")),
    ("revise: the student's exercise", ("revise", 1)),
    ("revise: its mistakes", [("missed the print", None)]),
    ("revise: its mistakes as shown", [{"text": "missed the print"}]),  # a plain-text mistake, in learning.json as ever
    ("revise: learning.json's exercise", "revise"),
    ("responded again: both stages", ("review", "review")),
    ("passed: both stages", ("done", "done")),
]


@pytest.mark.parametrize(("step", "expected"), WHOLE_LOOP_STEPS, ids=[step for step, _ in WHOLE_LOOP_STEPS])
def test_whole_loop_step(whole_loop: Loop, step: str, expected: Any) -> None:
    assert whole_loop.seen[step] == expected


@pytest.fixture(params=["coach", "student"])
def at_the_end(request: pytest.FixtureRequest, whole_loop: Loop) -> tuple[Instance, str]:
    """Each side once the loop has passed, and the session."""
    return getattr(whole_loop, request.param), whole_loop.session_id


def test_whole_loop_ends_with_every_transition_applied(at_the_end: tuple[Instance, str]) -> None:
    inst, session_id = at_the_end
    session = inst.state.sessions[session_id]
    assert [(t.from_, t.to) for t in session.transitions] == [
        (None, "init"),
        ("init", "plan"),
        ("plan", "practice"),
        ("practice", "review"),
        ("review", "practice"),
        ("practice", "review"),
        ("review", "done"),
    ]
    assert all(t.applied for t in session.transitions)


def test_whole_loop_ends_with_the_confidence_summed(at_the_end: tuple[Instance, str]) -> None:
    inst, session_id = at_the_end
    assert inst.state.sessions[session_id].confidence == {"handlers": pytest.approx(0.6)}


def test_whole_loop_ends_with_nothing_quarantined_or_unsent(at_the_end: tuple[Instance, str]) -> None:
    inst, _ = at_the_end
    assert inst.ledger.quarantined() == []
    assert inst.ledger.outbox_length() == 0


def test_whole_loop_ends_with_a_ledger_that_replays_to_the_same_state(at_the_end: tuple[Instance, str]) -> None:
    inst, _ = at_the_end
    again = Instance.open(inst.root)
    try:
        assert again.state.to_json() == inst.state.to_json()
    finally:
        again.close()


def test_whole_loop_ends_with_learning_json_done(whole_loop: Loop) -> None:
    data = learning(whole_loop.student)
    assert (data["identity"], data["role"]) == ("alice", "student")
    [session] = data["sessions"]
    assert session["stage"] == "done" and session["exercises"][0]["state"] == "passed"
    assert [t["to"] for t in session["lifecycle"]][-1] == "done"
    assert learning(whole_loop.coach)["sessions"][0]["stage"] == "done"


def test_learning_json_is_replaced_atomically(two: tuple[Instance, Instance, Wire]) -> None:
    """A reader polling learning.json while it is rewritten only ever sees whole files."""
    import threading

    coach, student, wire = two
    session_id = started(coach, student, wire)
    path = student.root / ".colearner" / "learning.json"
    stop = threading.Event()
    seen: list[int] = []
    torn: list[str] = []

    def reader() -> None:
        while not stop.is_set():
            text = path.read_text(encoding="utf-8")
            try:
                seen.append(len(json.loads(text)["sessions"][0]["confidence_trend"]))
            except (ValueError, KeyError, IndexError):
                torn.append(text[-80:])

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for i in range(40):
            actions.submit_progress(student, session_id, [], {"topic 1": i / 40})
    finally:
        stop.set()
        thread.join()
    assert torn == [] and len(seen) > 10
    assert seen == sorted(seen)  # never an older state after a newer one
    assert json.loads(path.read_text())["sessions"][0]["confidence"] == {"topic 1": 39 / 40}
    assert not list(path.parent.glob(".learning.*.tmp"))


def scoped_exercise(coach: Instance, student: Instance, wire: Wire, allow: str) -> tuple[str, str]:
    """A started session with a scope allowing ``allow`` and one exercise delivered: (session_id, exercise_id)."""
    session_id = started(coach, student, wire)
    actions.set_scope(coach, session_id, allow=[allow])
    exercise_id = actions.assign_exercise(coach, session_id, **ASSIGN)
    wire.exchange(coach, student)
    return session_id, exercise_id


def test_respond_without_ack_and_with_evidence(two: tuple[Instance, Instance, Wire]) -> None:
    coach, student, wire = two
    session_id, exercise_id = scoped_exercise(coach, student, wire, "*.py")
    (student.root / "service.py").write_text((student.root / "service.py").read_text() + "# tried it\n")
    before = student.ledger.last_seq("alice", "alice")
    response_id = actions.respond(student, exercise_id, "done", evidence=["service.py"])
    written = [json.loads(r.raw) for r in student.ledger.events_after(0) if json.loads(r.raw)["sender"] == "alice"]
    # snapshot, ack, the move to practice, the response and the move to review: one append, consecutive seqs
    assert [e["event_type"] for e in written] == [
        "evidence_snapshot",
        "exercise_acknowledged",
        "session_lifecycle",
        "exercise_response",
        "session_lifecycle",
    ]
    assert [e["seq"] for e in written] == list(range(before + 1, before + 6))
    assert written[3]["event_id"] == response_id
    assert written[3]["payload"]["evidence"]["event_id"] == written[0]["event_id"]
    wire.exchange(coach, student)
    ex = coach.state.exercises[exercise_id]
    assert ex.state == "responded" and stages(coach, student, session_id) == ("review", "review")
    [snapshot] = ex.evidence
    assert [f.path for f in snapshot.snapshot.files] == ["service.py"] and snapshot.snapshot.files[0].status == "modified"
    assert "content" not in json.dumps(snapshot.to_json())  # hashes and counts, not the file


def test_evidence_request_and_answer(two: tuple[Instance, Instance, Wire]) -> None:
    coach, student, wire = two
    session_id, exercise_id = scoped_exercise(coach, student, wire, "*.py")
    request_id = actions.request_evidence(coach, exercise_id, ["*.py"], "show me")
    wire.exchange(coach, student)
    assert [r.event_id for r in student.state.exercises[exercise_id].open_requests] == [request_id]
    (student.root / "service.py").write_text("changed\n")
    snapshot = actions.attach_evidence(student, exercise_id)
    assert snapshot.payload.request_id == request_id  # type: ignore[attr-defined]
    wire.exchange(coach, student)
    assert coach.state.exercises[exercise_id].open_requests == []
    with pytest.raises(NotFound, match="no evidence request 'nope'"):
        actions.attach_evidence(student, exercise_id, request_id="nope")


def _sent_by(inst: Instance, event_type: str) -> list[dict[str, Any]]:
    return [
        e
        for e in (json.loads(r.raw) for r in inst.ledger.events_after(0))
        if e["sender"] == inst.identity and e["event_type"] == event_type
    ]


def test_dry_run_and_response_give_the_same_answer_and_names_stay_home(two: tuple[Instance, Instance, Wire]) -> None:
    coach, student, wire = two
    session_id, exercise_id = scoped_exercise(coach, student, wire, "**")
    (student.root / ".gitignore").write_text("*.token\n")
    (student.root / "api.token").write_text("hunter2\n")
    (student.root / "service.py").write_text("changed\n")
    attached = ["service.py", "missing_file.py", "api.token"]

    preview = actions.preview_evidence(student, exercise_id, attached, for_response=True)
    assert preview.shared == ("service.py",)
    assert [(w.path, w.reason) for w in preview.withheld] == [("missing_file.py", "does not exist"), ("api.token", "git-ignored")]
    assert student.ledger.outbox_length() == 0  # a preview sends nothing

    seen = []
    actions.respond(student, exercise_id, "done", evidence=attached, on_preview=seen.append)
    assert seen == [preview]
    [snapshot] = _sent_by(student, "evidence_snapshot")
    wire.exchange(coach, student)
    [received] = coach.state.exercises[exercise_id].evidence
    assert [f.path for f in received.snapshot.files] == ["service.py"] and received.snapshot.withheld == 2
    for name in ("missing_file", "api.token", "token"):
        assert name not in json.dumps(snapshot) and name not in json.dumps(received.to_json())

    # With the student's consent the ignored file goes, and the preview says so beforehand.
    consented = actions.preview_evidence(student, exercise_id, ["api.token"], for_response=True, include_ignored=True)
    assert consented.shared == ("api.token",) and consented.withheld == ()
    actions.respond(student, exercise_id, "with the token file", evidence=["api.token"], include_ignored=True)
    wire.exchange(coach, student)
    last = coach.state.exercises[exercise_id].evidence[-1]
    assert [f.path for f in last.snapshot.files] == ["api.token"] and last.snapshot.withheld == 0


def test_a_preview_that_raises_stops_the_action(two: tuple[Instance, Instance, Wire]) -> None:
    coach, student, wire = two
    session_id = started(coach, student, wire)
    exercise_id = actions.assign_exercise(coach, session_id, **ASSIGN)
    wire.exchange(coach, student)
    before = student.ledger.outbox_length()

    def refuse(_preview: Any) -> None:
        raise InvalidArgument("not this")

    with pytest.raises(InvalidArgument, match="not this"):
        actions.respond(student, exercise_id, "done", evidence=["service.py"], on_preview=refuse)
    assert student.ledger.outbox_length() == before


def test_evidence_dry_run_follows_the_open_request_like_the_real_command(two: tuple[Instance, Instance, Wire]) -> None:
    coach, student, wire = two
    session_id, exercise_id = scoped_exercise(coach, student, wire, "**")
    actions.request_evidence(coach, exercise_id, ["*.py"], "show me")
    wire.exchange(coach, student)
    (student.root / "service.py").write_text("changed\n")
    (student.root / "notes.md").write_text("not asked for\n")
    preview = actions.preview_evidence(student, exercise_id)
    seen = []
    event = actions.attach_evidence(student, exercise_id, on_preview=seen.append)
    assert seen == [preview] and "notes.md" not in preview.shared and "service.py" in preview.shared
    assert [f.path for f in event.payload.files] == list(preview.shared)  # type: ignore[attr-defined]


def test_progress_in_order(two: tuple[Instance, Instance, Wire]) -> None:
    coach, student, wire = two
    session_id = started(coach, student, wire, steps=3)
    with pytest.raises(InvalidArgument) as exc:
        actions.submit_progress(student, session_id, ["step-2"])
    assert str(exc.value) == "step 'step-2' cannot be completed before step 'step-1'; plan steps are done in order"
    with pytest.raises(InvalidArgument, match="before step 'step-2'"):
        actions.submit_progress(student, session_id, ["step-1", "step-3"])
    with pytest.raises(NotFound, match="no plan step 'step-9'"):
        actions.submit_progress(student, session_id, ["step-9"])
    with pytest.raises(InvalidArgument) as exc:
        actions.submit_progress(student, session_id, [], {"x": 1.5})
    assert str(exc.value) == "confidence.x: input should be less than or equal to 1 (got 1.5)"
    with pytest.raises(InvalidArgument, match=r"confidence\.y: input should be greater than or equal to 0 \(got -0\.1\)"):
        actions.submit_progress(student, session_id, [], {"y": -0.1})
    assert student.ledger.outbox_length() == 0  # nothing refused was written
    actions.submit_progress(student, session_id, ["step-1", "step-2"], {"topic 1": 1.0})
    actions.submit_progress(student, None, ["step-3"])  # the only open session
    wire.exchange(coach, student)
    steps = coach.state.sessions[session_id].steps
    assert [s.status for s in steps] == ["done", "done", "done"]
    assert coach.state.sessions[session_id].confidence == {"topic 1": 1.0}


def test_assign_rules(two: tuple[Instance, Instance, Wire]) -> None:
    coach, student, wire = two
    session_id = started(coach, student, wire)
    with pytest.raises(NotFound, match="no plan step 'step-9' in this session; the plan has: step-1, step-2"):
        actions.assign_exercise(coach, session_id, step_id="step-9", **ASSIGN)
    with pytest.raises(InvalidArgument, match="service.py has 10 lines; lines 4-60 are outside it"):
        actions.assign_exercise(coach, session_id, **{**ASSIGN, "end_line": 60})
    with pytest.raises(InvalidArgument, match="lines 6-4 are not a range"):
        actions.assign_exercise(coach, session_id, **{**ASSIGN, "start_line": 6, "end_line": 4})
    with pytest.raises(NotFound, match="missing.py does not exist"):
        actions.assign_exercise(coach, session_id, **{**ASSIGN, "path": "missing.py"})
    with pytest.raises(InvalidArgument):
        actions.assign_exercise(coach, session_id, **{**ASSIGN, "path": "../outside.py"})
    assert coach.ledger.outbox_length() == 0  # only the refused attempts since the last exchange


def test_new_exercise_in_review_reopens_practice(two: tuple[Instance, Instance, Wire]) -> None:
    coach, student, wire = two
    session_id = started(coach, student, wire)
    first = actions.assign_exercise(coach, session_id, **ASSIGN)
    wire.exchange(coach, student)
    actions.respond(student, first, "answer")
    wire.exchange(coach, student)
    assert stages(coach, student, session_id) == ("review", "review")
    second = actions.assign_exercise(coach, session_id, **ASSIGN)
    wire.exchange(coach, student)
    assert stages(coach, student, session_id) == ("practice", "practice")
    actions.send_feedback(coach, first, grade="pass", next_step="n", confidence_delta=0.1)
    actions.respond(student, second, "answer 2")
    wire.exchange(coach, student)
    assert stages(coach, student, session_id) == ("review", "review")
    actions.send_feedback(coach, second, grade="pass", next_step="n", confidence_delta=0.1)
    wire.exchange(coach, student)
    assert stages(coach, student, session_id) == ("done", "done")
    with pytest.raises(InvalidArgument, match="is done; open a new one"):
        actions.assign_exercise(coach, session_id, **ASSIGN)


# ---------------------------------------------------------------- refusals


def test_wrong_role(two: tuple[Instance, Instance, Wire]) -> None:
    coach, student, wire = two
    session_id = started(coach, student, wire)
    exercise_id = actions.assign_exercise(coach, session_id, **ASSIGN)
    wire.exchange(coach, student)
    student_tries = [
        ("session start", lambda: actions.start_session(student, "alice")),
        ("plan", lambda: actions.send_plan(student, session_id, ["g"], [("a", "b")])),
        ("assign", lambda: actions.assign_exercise(student, session_id, **ASSIGN)),
        ("scope", lambda: actions.set_scope(student, session_id, ["*"])),
        ("request-evidence", lambda: actions.request_evidence(student, exercise_id, ["*"], "r")),
        ("feedback", lambda: actions.send_feedback(student, exercise_id, grade="pass", next_step="n", confidence_delta=0)),
    ]
    for action, call in student_tries:
        with pytest.raises(WrongRole) as exc:
            call()
        assert str(exc.value) == f"'{action}' is for a coach; this instance is 'alice', a student"
    coach_tries = [
        ("ack", lambda: actions.acknowledge(coach, exercise_id)),
        ("respond", lambda: actions.respond(coach, exercise_id, "text")),
        ("progress", lambda: actions.submit_progress(coach, session_id, ["step-1"])),
        ("attach evidence", lambda: actions.attach_evidence(coach, exercise_id)),
    ]
    for action, call in coach_tries:
        with pytest.raises(WrongRole) as exc:
            call()
        assert str(exc.value) == f"'{action}' is for a student; this instance is 'coach', a coach"
    assert coach.ledger.outbox_length() == student.ledger.outbox_length() == 0


def test_unknown_ids(two: tuple[Instance, Instance, Wire]) -> None:
    coach, student, wire = two
    session_id = started(coach, student, wire)
    exercise_id = actions.assign_exercise(coach, session_id, **ASSIGN)
    wire.exchange(coach, student)
    with pytest.raises(NotFound, match="'zoe' is not on your roster; add them with 'colearner trust zoe PUBLIC_KEY'"):
        actions.start_session(coach, "zoe")
    with pytest.raises(NotFound, match=r"no session 'nope' here; 'colearner inbox' or 'colearner dashboard' lists them"):
        actions.send_plan(coach, "nope", ["g"], [("a", "b")])
    with pytest.raises(NotFound, match="no exercise 'nope' here"):
        actions.acknowledge(student, "nope")
    with pytest.raises(NotFound, match="no exercise"):
        actions.send_feedback(coach, "0000", grade="pass", next_step="n", confidence_delta=0)
    with pytest.raises(NotFound, match="no session"):
        actions.advance_session(coach, "ffffffff-0000", "plan")
    # a unique prefix of at least 4 characters is enough
    assert actions.find_session(coach, session_id[:8]).session_id == session_id
    assert actions.find_exercise(student, exercise_id[:8]).exercise_id == exercise_id
    actions.acknowledge(student, exercise_id[:8])
    assert student.state.exercises[exercise_id].state == "acknowledged"


def test_feedback_before_response(two: tuple[Instance, Instance, Wire]) -> None:
    coach, student, wire = two
    session_id = started(coach, student, wire)
    exercise_id = actions.assign_exercise(coach, session_id, **ASSIGN)
    with pytest.raises(InvalidArgument) as exc:
        actions.send_feedback(coach, exercise_id, grade="pass", next_step="n", confidence_delta=0.1)
    assert str(exc.value) == f"exercise {exercise_id} has no response yet (it is assigned); wait for the student's answer"
    wire.exchange(coach, student)
    actions.acknowledge(student, exercise_id)
    wire.exchange(coach, student)
    with pytest.raises(InvalidArgument, match=r"\(it is acknowledged\)"):
        actions.send_feedback(coach, exercise_id, grade="revise", next_step="n", confidence_delta=0.1)


def test_feedback_refuses_a_mistake_without_text(two: tuple[Instance, Instance, Wire]) -> None:
    coach, student, wire = two
    session_id = started(coach, student, wire)
    exercise_id = actions.assign_exercise(coach, session_id, **ASSIGN)
    wire.exchange(coach, student)
    actions.respond(student, exercise_id, "my answer")
    wire.exchange(coach, student)
    waiting = coach.ledger.outbox_length()
    for blank in ("  ", {"text": "", "path": "a.py", "start_line": 2}, AnchoredMistake(text="\t")):
        with pytest.raises(InvalidArgument, match="a mistake needs its text"):
            actions.send_feedback(coach, exercise_id, grade="revise", next_step="n", confidence_delta=0, mistakes=["fine", blank])
    assert coach.ledger.outbox_length() == waiting and coach.state.exercises[exercise_id].state == "responded"
    actions.send_feedback(
        coach, exercise_id, grade="revise", next_step="n", confidence_delta=0, mistakes=[AnchoredMistake(text="off by one")]
    )
    assert coach.state.exercises[exercise_id].state == "revise"


def test_other_refusals(two: tuple[Instance, Instance, Wire]) -> None:
    coach, student, wire = two
    session_id = started(coach, student, wire)
    exercise_id = actions.assign_exercise(coach, session_id, **ASSIGN)
    wire.exchange(coach, student)
    actions.acknowledge(student, exercise_id)
    with pytest.raises(InvalidArgument, match="is already acknowledged"):
        actions.acknowledge(student, exercise_id)
    with pytest.raises(InvalidArgument, match="the response is empty"):
        actions.respond(student, exercise_id, "   ")
    actions.respond(student, exercise_id, "answer")
    wire.exchange(coach, student)
    written = coach.ledger.event_count()
    with pytest.raises(InvalidArgument, match="confidence_delta"):  # the payload model refuses it; nothing is written
        actions.send_feedback(coach, exercise_id, grade="pass", next_step="n", confidence_delta=2.0)
    assert coach.ledger.event_count() == written
    actions.send_feedback(coach, exercise_id, grade="pass", next_step="n", confidence_delta=0.5)
    wire.exchange(coach, student)
    with pytest.raises(InvalidArgument, match="has already passed"):
        actions.send_feedback(coach, exercise_id, grade="revise", next_step="n", confidence_delta=0)
    with pytest.raises(InvalidArgument, match="has already passed"):
        actions.respond(student, exercise_id, "more")
    with pytest.raises(InvalidArgument, match="a plan needs at least one step"):
        actions.send_plan(coach, session_id, ["g"], [])
    with pytest.raises(InvalidArgument, match="--share must be hashes, diffstat or diff, not 'all'"):
        actions.set_scope(coach, session_id, ["*"], share="all")
    with pytest.raises(InvalidArgument, match="name at least one path"):
        actions.request_evidence(coach, exercise_id, [], "r")


def test_advance_by_hand(two: tuple[Instance, Instance, Wire]) -> None:
    coach, student, wire = two
    session_id = actions.start_session(coach, "alice")
    with pytest.raises(IllegalTransition) as exc:
        actions.advance_session(coach, session_id, "done")
    assert str(exc.value) == "cannot move the session from 'init' to 'done'; allowed next: plan"
    with pytest.raises(IllegalTransition, match="unknown stage"):
        actions.advance_session(coach, session_id, "archived")
    actions.advance_session(coach, session_id, "plan", "agreed on a call")
    wire.exchange(coach, student)
    assert stages(coach, student, session_id) == ("plan", "plan")
    assert student.state.sessions[session_id].transitions[-1].reason == "agreed on a call"
    with pytest.raises(IllegalTransition, match="from 'plan' to 'review'; allowed next: practice"):
        actions.advance_session(student, session_id, "review")


def test_two_open_sessions_need_a_name(tmp_path: Path) -> None:
    coach, (student,) = make_pair(tmp_path)
    wire = Wire()
    try:
        with pytest.raises(InvalidArgument, match="you have no open session"):
            actions.submit_progress(student, None, [])
        started(coach, student, wire)
        started(coach, student, wire)
        with pytest.raises(InvalidArgument, match="name the session: you have 2 open sessions"):
            actions.submit_progress(student, None, [])
    finally:
        coach.close()
        student.close()


def test_inbox(two: tuple[Instance, Instance, Wire]) -> None:
    coach, student, wire = two
    session_id = started(coach, student, wire)
    exercise_id = actions.assign_exercise(coach, session_id, **ASSIGN)
    wire.exchange(coach, student)
    box = actions.inbox(student)
    assert (box["identity"], box["role"], box["outbox"]) == ("alice", "student", 0)
    [session] = box["sessions"]
    assert session["session_id"] == session_id and session["exercises"][0]["exercise_id"] == exercise_id


def test_a_lost_event_comes_back_through_resync(two: tuple[Instance, Instance, Wire]) -> None:
    coach, student, wire = two
    session_id = actions.start_session(coach, "alice")
    actions.send_plan(coach, session_id, ["g"], [("step-1", "topic 1")])
    actions.set_scope(coach, session_id, allow=["*.py"])
    wire.publish(coach)
    plan_topic = coach.config.topics.assignments
    lost = wire.logs[plan_topic].pop(0)  # the broker lost the plan (seq 2)
    assert json.loads(lost)["event_type"] == "learning_plan"
    wire.deliver(student)
    assert student.ledger.missing_seqs("coach", "alice") == [(2, 2)]
    assert student.state.sessions[session_id].goals == []
    [request] = student.request_missing()
    assert (request.payload.sender, request.payload.from_seq, request.payload.to_seq) == ("coach", 2, 2)  # type: ignore[attr-defined]
    assert student.request_missing() == []  # not asked again straight away
    wire.publish(student)
    wire.deliver(coach)
    # requeued from the coach's ledger, same bytes, on to its batch's signed tip (the stage move sent with it)
    (_, topic, _, raw), (_, _, _, tip) = coach.ledger.pending()
    assert raw.encode() == lost and topic == plan_topic
    assert json.loads(tip)["event_type"] == "session_lifecycle" and "sig" in json.loads(tip) and "sig" not in json.loads(raw)
    wire.publish(coach)
    wire.deliver(student)
    assert student.ledger.missing_seqs("coach", "alice") == []
    assert student.state.sessions[session_id].goals == ["g"] and stage_of(student, session_id) == "plan"


def test_opening_an_instance_leaves_the_gc_as_it_was(two: tuple[Instance, Instance, Wire]) -> None:
    """Folding a whole ledger pauses the cyclic GC, and only while it folds."""
    import gc

    coach, student, wire = two
    started(coach, student, wire)
    assert gc.isenabled()
    for enabled in (True, False):
        (gc.enable if enabled else gc.disable)()
        try:
            again = Instance.open(student.root)
            assert gc.isenabled() is enabled
            assert again.state.to_json() == student.state.to_json()
            again.close()
        finally:
            gc.enable()
