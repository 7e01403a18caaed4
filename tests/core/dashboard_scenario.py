"""A small cohort with a known history, built through the real core.

Real instances in temporary git repositories, real keys, real actions; events
are carried between ledgers by hand (``ship``), topic by topic when a test wants
them to arrive out of order. Used by the metrics, history and view tests.

The cohort (coach ``coach``):

- alice: session 1 reopened by a ``revise`` (review → practice) and then passed
  (done); a second session opened after it, in ``plan``.
- bob: two exercises; the first graded ``revise`` twice and asked for evidence
  that never came, the second never acknowledged. His events reach each side
  out of order across topics.
- carol: on the roster, no event yet.
- dave: acknowledged his exercise; a forged message in his name was quarantined.
- erin: answered her exercise, then was taken off the roster; a message she sent
  afterwards was refused.
- mallory: not a student here; a message from her was refused.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from colearner_lsp.core import actions
from colearner_lsp.core.identity import untrust_peer
from colearner_lsp.core.instance import Instance
from colearner_lsp.core.protocol.events import parse_ts
from colearner_lsp.core.protocol.signing import generate_key
from colearner_lsp.core.store.ledger import Incoming
from tests.core.conftest import make_pair
from tests.wire_forge import forged_next, sealed_message

STUDENTS = ("alice", "bob", "carol", "dave", "erin")


def ship(src: Instance, dst: Instance, topics: Iterable[str] | None = None) -> int:
    """Carry ``src``'s unsent events to ``dst`` (only those on ``topics``, when given).

    A student only gets what concerns it, as its partitions would hold; what is
    carried is marked sent, as after the broker's ack.
    """
    wanted = set(topics) if topics is not None else None
    rows = [
        row
        for row in src.ledger.pending(limit=100_000)
        if (wanted is None or row[1] in wanted) and (dst.role == "coach" or row[2] == dst.identity)
    ]
    if rows:
        dst.receive([Incoming(raw=row[3].encode(), topic=row[1], partition=0, offset=i) for i, row in enumerate(rows)])
        src.ledger.mark_sent([row[0] for row in rows])
    return len(rows)


def exchange(coach: Instance, student: Instance) -> None:
    ship(coach, student)
    ship(student, coach)


def assign(coach: Instance, session_id: str, topic: str, step_id: str | None = None) -> str:
    return actions.assign_exercise(
        coach,
        session_id,
        topic=topic,
        exercise=f"Explain {topic} in handler()",
        expected="a short note",
        path="service.py",
        start_line=4,
        end_line=6,
        step_id=step_id,
    )


def latest_ts(inst: Instance) -> datetime:
    """The newest event time in ``inst``'s ledger: tests set ``now`` relative to it."""
    return max(parse_ts(json.loads(e.raw)["ts"]) for e in inst.ledger.events_after(0))


@dataclass
class Cohort:
    coach: Instance
    students: dict[str, Instance]
    ids: dict[str, str] = field(default_factory=dict)

    def close(self) -> None:
        self.coach.close()
        for inst in self.students.values():
            inst.close()


def build_cohort(tmp_path: Path) -> Cohort:
    coach, instances = make_pair(tmp_path, students=STUDENTS)
    st = dict(zip(STUDENTS, instances))
    topics = coach.config.topics
    ids: dict[str, str] = {}

    # alice: revise reopens review → practice, then pass → done; a second session follows.
    a = st["alice"]
    ids["alice.s1"] = sa = actions.start_session(coach, "alice")
    actions.send_plan(coach, sa, ["read the dependency graph"], [("s1", "deps")])
    ids["alice.ex"] = ea = assign(coach, sa, "deps", "s1")
    ship(coach, a)
    actions.respond(a, ea, "first try")  # ack + practice, response + review
    ship(a, coach)
    actions.send_feedback(
        coach, ea, grade="revise", next_step="look at imports", confidence_delta=-0.1, mistakes=["missed os", "missed main"]
    )
    ship(coach, a)
    actions.submit_progress(a, sa, confidence={"deps": 0.45})
    actions.respond(a, ea, "second try")
    ship(a, coach)
    actions.send_feedback(coach, ea, grade="pass", next_step="move on", confidence_delta=0.2)
    ship(coach, a)
    ids["alice.s2"] = sa2 = actions.start_session(coach, "alice")
    actions.send_plan(coach, sa2, ["write tests"], [("t1", "testing")])
    ship(coach, a)

    # bob: out of order across topics, two revises, an unanswered request, an unacknowledged exercise.
    b = st["bob"]
    ids["bob.s"] = sb = actions.start_session(coach, "bob")
    actions.send_plan(coach, sb, ["graphs then io"], [("s1", "graphs"), ("s2", "io")])
    ids["bob.ex1"] = eb1 = assign(coach, sb, "graphs", "s1")
    ids["bob.ex2"] = assign(coach, sb, "io", "s2")
    ship(coach, b, [topics.events])  # lifecycle before the plan and the assignments
    ship(coach, b, [topics.assignments])
    actions.respond(b, eb1, "graphs answer")  # ack (plan → practice) + response
    actions.submit_progress(b, sb, confidence={"io": 0.3})
    ship(b, coach, [topics.events])  # the coach learns of the move to practice first
    ship(b, coach, [topics.progress])
    actions.send_feedback(coach, eb1, grade="revise", next_step="again", confidence_delta=-0.2, mistakes=["cycle"])
    exchange(coach, b)
    actions.respond(b, eb1, "graphs answer 2")
    ship(b, coach)
    ids["bob.request"] = actions.request_evidence(coach, eb1, ["service.py"], "show the graph you drew")
    actions.send_feedback(coach, eb1, grade="revise", next_step="again", confidence_delta=-0.2, mistakes=["cycle", "io"])
    ship(coach, b, [topics.feedback])  # the later feedback overtakes the earlier request
    ship(coach, b, [topics.assignments])

    # carol: nothing at all.

    # dave: acknowledged; then a forged response in his name reaches the coach.
    d = st["dave"]
    ids["dave.s"] = sd = actions.start_session(coach, "dave")
    actions.send_plan(coach, sd, ["io basics"], [("s1", "io")])
    ids["dave.ex"] = ed = assign(coach, sd, "io", "s1")
    ship(coach, d)
    actions.acknowledge(d, ed)
    ship(d, coach)
    forged = forged_next(d, "dave", event_type="exercise_response")  # next in dave's stream, but not signed by him
    coach.receive([Incoming(raw=forged, topic=topics.progress, partition=0, offset=1000)])

    # erin: answered, then taken off the roster; what she sends after that is refused.
    e = st["erin"]
    ids["erin.s"] = se = actions.start_session(coach, "erin")
    actions.send_plan(coach, se, ["logging"], [("s1", "logging")])
    ids["erin.ex"] = ee = assign(coach, se, "logging", "s1")
    ship(coach, e)
    actions.respond(e, ee, "done")
    ship(e, coach)
    untrust_peer(coach.root, "erin")
    coach.close()
    coach = Instance.open(coach.root)  # as the next CLI command would
    actions.submit_progress(e, se, confidence={"logging": 0.9})
    ship(e, coach)

    # mallory: a signed message from a stranger.
    stranger = sealed_message(
        generate_key(),
        {"coach": coach.public_key},
        event_type="progress_update",
        payload={"completed": [], "confidence": {}},
        sender="mallory",
        student="mallory",
        actor="student",
        session_id=str(uuid.uuid4()),
    )
    coach.receive([Incoming(raw=stranger, topic=topics.progress, partition=0, offset=1001)])
    return Cohort(coach, st, ids)


def hours_after_last(inst: Instance, hours: float) -> datetime:
    return latest_ts(inst) + timedelta(hours=hours)


@contextmanager
def temporary_cohort(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cohort]:
    """A cohort for one test module, its keys in a folder of its own, closed afterwards."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COLEARNER_KEY_DIR", str(tmp_path_factory.mktemp("keys")))
        cohort = build_cohort(tmp_path_factory.mktemp("cohort"))
        try:
            yield cohort
        finally:
            cohort.close()
