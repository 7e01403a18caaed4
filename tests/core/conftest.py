"""Fixtures for the pure core: instances in temporary repositories (keys in the root
conftest's temporary folder),
and a hand-driven wire that carries events from one instance's outbox to another.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from colearner_lsp.core.identity import init_instance
from colearner_lsp.core.instance import Instance
from colearner_lsp.core.protocol.events import now_ts
from colearner_lsp.core.store.ledger import Incoming
from tests.repos import enrol, make_origin

SERVICE = (
    "import os\n\n\ndef handler(event):\n    value = event['x']\n    return value * 2\n\n\ndef main():\n    print(handler({'x': 21}))\n"
)


def git_repo(folder: Path) -> Path:
    """A real git repository with one commit holding a small Python file (``SERVICE`` as service.py)."""
    return make_origin(folder, {"service.py": SERVICE})


class Wire:
    """A stand-in for the Kafka topics: ordered logs, one partition each.

    ``publish`` drains an instance's outbox into the logs and marks the events
    sent, as the bus does after the broker's ack; ``deliver`` feeds an instance
    every message past its stored position, as a consumer would, then lets
    ``learning.json`` be written as the bus does when it falls idle.
    """

    def __init__(self) -> None:
        self.logs: dict[str, list[bytes]] = defaultdict(list)

    def publish(self, inst: Instance) -> int:
        pending = inst.ledger.pending()
        for _event_id, topic, _student, raw in pending:
            self.logs[topic].append(raw.encode("utf-8"))
        inst.ledger.mark_sent([row[0] for row in pending])
        return len(pending)

    def inject(self, topic: str, raw: bytes) -> None:
        self.logs[topic].append(raw)

    def deliver(self, inst: Instance) -> list[str]:
        positions = inst.ledger.positions()
        batch = []
        for topic in inst.topics():
            start = positions.get((topic, 0), (0, None))[0]
            for offset, raw in enumerate(self.logs[topic][start:], start=start):
                batch.append(Incoming(raw=raw, topic=topic, partition=0, offset=offset))
        if not batch:
            return []
        outcomes = list(inst.receive(batch).outcomes)
        inst.flush_learning_json()  # what the bus does once it has read everything waiting
        return outcomes

    def exchange(self, *instances: Instance, rounds: int = 2) -> None:
        """Publish and deliver among ``instances`` until everything has gone round."""
        for _ in range(rounds):
            for inst in instances:
                self.publish(inst)
            for inst in instances:
                self.deliver(inst)


@pytest.fixture
def wire() -> Wire:
    return Wire()


def make_pair(tmp_path: Path, coach_id: str = "coach", students: tuple[str, ...] = ("alice",)) -> tuple[Instance, list[Instance]]:
    """A coach and its students, each in its own git repository, keys exchanged."""
    coach_root = git_repo(tmp_path / coach_id)
    _, coach_key = init_instance(coach_root, "coach", coach_id)
    student_roots = [git_repo(tmp_path / name) for name in students]
    for name, root in zip(students, student_roots, strict=True):
        enrol(coach_root, coach_id, coach_key, root, name)
    return Instance.open(coach_root), [Instance.open(r) for r in student_roots]


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[Instance, Instance]]:
    coach, (student,) = make_pair(tmp_path)
    yield coach, student
    coach.close()
    student.close()


def envelope(
    event_type: str,
    payload: dict[str, Any],
    *,
    sender: str = "coach",
    actor: str = "coach",
    student: str = "alice",
    seq: int = 1,
    session_id: str | None = None,
    event_id: str | None = None,
    ts: str | None = None,
) -> dict[str, Any]:
    """An unsigned envelope dict with sensible defaults."""
    return {
        "ts": ts or now_ts(),
        "actor": actor,
        "session_id": session_id or str(uuid.uuid4()),
        "event_type": event_type,
        "payload": payload,
        "event_id": event_id or str(uuid.uuid4()),
        "sender": sender,
        "student": student,
        "seq": seq,
    }


def run_session(coach: Instance, student: Instance, wire: Wire) -> dict[str, str]:
    """A whole coaching loop that writes every event type once at least; returns its ids."""
    from colearner_lsp.core import actions

    session_id = actions.start_session(coach, student.identity)
    actions.send_plan(coach, session_id, ["onboard to service X"], [("step-1", "repo overview"), ("step-2", "handlers")])
    actions.set_scope(coach, session_id, allow=["*.py"], deny=["secrets/**"])
    exercise_id = actions.assign_exercise(
        coach,
        session_id,
        topic="handlers",
        exercise="What does handler return?",
        expected="twice x",
        path="service.py",
        start_line=4,
        end_line=6,
        step_id="step-1",
        tests=["python service.py"],
    )
    wire.exchange(coach, student)
    actions.acknowledge(student, exercise_id)
    wire.exchange(coach, student)
    actions.request_evidence(coach, exercise_id, ["*.py"], "show the handler")
    wire.exchange(coach, student)
    actions.respond(student, exercise_id, "it doubles x", evidence=["service.py"])
    actions.submit_progress(student, session_id, ["step-1"], {"repo overview": 0.8})
    wire.exchange(coach, student)
    actions.send_feedback(
        coach,
        exercise_id,
        grade="pass",
        next_step="read main()",
        confidence_delta=0.1,
        mistakes=["none really", {"text": "off by one", "path": "service.py", "start_line": 5, "end_line": 5}],
    )
    wire.exchange(coach, student)
    student.request_missing(tail_check=True)  # a resync_request, as after a broker restart
    wire.exchange(coach, student)
    return {"session_id": session_id, "exercise_id": exercise_id}
