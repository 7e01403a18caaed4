"""Attacks on wire v2 found in review, each a regression test (DESIGN.md, "Hostile input").

- a lone surrogate in a refused message's header must not fail the batch's transaction;
- a signed tip laid out anew (same object, other bytes) must not fork its stream, read
  after the real one or before it;
- junk in the quarantine must not push out an event waiting for its session;
- a second pinned coach must not take over another coach's session (and its readers).
"""

from __future__ import annotations

import json
from pathlib import Path

from colearner_lsp.core import actions
from colearner_lsp.core.identity import init_instance, trust_peer
from colearner_lsp.core.instance import Instance
from colearner_lsp.core.store.ledger import Incoming
from tests.core.conftest import Wire, git_repo, make_pair
from tests.wire_forge import last_sent, own_event

ASSIGNMENTS = "colearner.assignments.v1"


def test_a_lone_surrogate_in_a_header_is_refused_and_the_reader_goes_on(tmp_path: Path) -> None:
    _, (student,) = make_pair(tmp_path)
    try:
        bad = [b'{"v":2,"sender":"\\ud800","student":"alice"}', b'{"v":2,"\\udfff":1}', b'{"\\ud800":"x"}']
        batch = [Incoming(raw=raw, topic=ASSIGNMENTS, partition=0, offset=i) for i, raw in enumerate([*bad, b"not json"])]
        got = student.receive(batch)
        assert got.outcomes == ["quarantined"] * 4
        assert student.ledger.positions()[(ASSIGNMENTS, 0)][0] == 4  # read past all of them
        reasons = [q["reason"] for q in student.ledger.quarantined()]
        assert all("lone surrogate" in r for r in reasons[:3]), reasons
    finally:
        student.close()


def test_a_tip_laid_out_anew_is_refused_not_a_fork(tmp_path: Path, wire: Wire) -> None:
    coach, (student,) = make_pair(tmp_path)
    try:
        session_id = actions.start_session(coach, student.identity)
        actions.send_plan(coach, session_id, ["g"], [("s1", "t1")])
        wire.exchange(coach, student)
        data, _ = last_sent(coach, "alice")
        assert "sig" in data
        wire.inject(coach.topic(data["event_type"]), json.dumps(data, indent=1).encode())  # the same object, other bytes
        wire.deliver(student)
        assert student.ledger.forks() == {}
        [q] = student.ledger.quarantined()
        assert "is not laid out as it was signed" in q["reason"]
        actions.set_scope(coach, session_id, allow=["*.py"])
        wire.exchange(coach, student)
        assert student.state.sessions[session_id].scope is not None  # the stream goes on
    finally:
        coach.close()
        student.close()


def test_a_tip_laid_out_anew_and_read_first_does_not_take_the_real_ones_place(tmp_path: Path, wire: Wire) -> None:
    coach, (student,) = make_pair(tmp_path)
    try:
        session_id = actions.start_session(coach, student.identity)
        wire.publish(coach)
        log = wire.logs[coach.topic("session_lifecycle")]
        log.insert(len(log) - 1, json.dumps(json.loads(log[-1])).encode())  # a copy published before the real one
        wire.deliver(student)
        assert student.ledger.forks() == {}
        assert session_id in student.state.sessions  # the real one was applied
    finally:
        coach.close()
        student.close()


def test_junk_does_not_push_out_an_event_waiting_for_its_session(tmp_path: Path, wire: Wire) -> None:
    """The coach lost its ledger; the student's acknowledgement is read before the coach's own
    session start comes back, so it waits in the quarantine; 1,001 junk messages follow."""
    coach, (student,) = make_pair(tmp_path)
    session_id = actions.start_session(coach, student.identity)
    actions.send_plan(coach, session_id, ["g"], [("step-1", "t1")])
    exercise_id = actions.assign_exercise(
        coach, session_id, topic="t1", exercise="e", expected="x", path="service.py", start_line=4, end_line=6, step_id="step-1"
    )
    wire.exchange(coach, student)
    actions.acknowledge(student, exercise_id)
    wire.publish(student)
    root = coach.root
    coach.close()
    for suffix in ("", "-wal", "-shm"):
        (root / ".colearner" / ("ledger.sqlite" + suffix)).unlink(missing_ok=True)
    coach = Instance.open(root)
    try:
        assert coach.recovering
        for i in range(1001):
            wire.inject(coach.config.topics.progress, b"junk %d" % i)
        students_first = [
            Incoming(raw=raw, topic=topic, partition=1, offset=offset)
            for topic in coach.topics()
            for offset, raw in enumerate(wire.logs[topic])
            if not raw.startswith(b"{") or json.loads(raw)["sender"] != coach.identity
        ]
        coach.receive(students_first)
        assert coach.ledger.quarantine_dropped() > 0  # the junk overflowed the quarantine…
        wire.deliver(coach)
        coach.complete_recovery()
        wire.exchange(coach, student, rounds=3)
        assert coach.state.exercises[exercise_id].state == "acknowledged"  # …but not the waiting event
    finally:
        coach.close()
        student.close()


def test_a_second_coach_cannot_take_over_a_session(tmp_path: Path, wire: Wire) -> None:
    coach, (student,) = make_pair(tmp_path)
    root2 = git_repo(tmp_path / "coach2")
    _, key2 = init_instance(root2, "coach", "coach2")
    trust_peer(student.root, "coach2", key2)
    trust_peer(root2, "alice", student.public_key)
    coach2 = Instance.open(root2)
    student.close()
    student = Instance.open(student.root)
    try:
        session_id = actions.start_session(coach, "alice")
        actions.send_plan(coach, session_id, ["g"], [("s1", "t1")])
        wire.exchange(coach, student)
        # coach2 writes into coach's session (its id is visible on the broker), dated before it
        own_event(
            coach2, "alice", session_id, "session_lifecycle", {"from": None, "to": "init", "reason": "x"}, ts="2000-01-01T00:00:00.000000Z"
        )
        own_event(coach2, "alice", session_id, "learning_plan", {"goals": ["hijacked"], "plan": [{"id": "h", "topic": "h"}]})
        wire.exchange(coach2, student)
        session = student.state.sessions[session_id]
        assert session.coach == "coach" and session.goals == ["g"]
        assert sorted(student._readers(session_id, "alice")) == ["alice", "coach"]
    finally:
        for inst in (coach, coach2, student):
            inst.close()
