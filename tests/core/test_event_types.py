"""Every event type is declared once, on its payload class, and everything else
is found from that declaration: writers, topic, fold handler, history summary.

The receive boundary refuses, for every declared type, what does not match
its declaration (DESIGN.md, "Hostile input"), and the refusals are judged on
real events of a whole session, so a new type is covered as soon as an action
writes it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from colearner_lsp.core.config import AgentConfig, TopicsConfig
from colearner_lsp.core.model.fold import FOLDS
from colearner_lsp.core.protocol.event_types import COACH, EITHER, STUDENT, Payload, PayloadHandlers, declare_event
from colearner_lsp.core.protocol.events import ENVELOPES, PAYLOADS, ExerciseAcknowledged, LearningPlan
from colearner_lsp.core.protocol.receive import judge_alone
from colearner_lsp.core.reports.history import SUMMARIES, summarize
from tests.core.conftest import Wire, make_pair, run_session
from tests.wire_forge import sealed_message

TYPES = list(PAYLOADS)
ONE_WRITER = [t for t in TYPES if PAYLOADS[t].writers != EITHER]


# ---------------------------------------------------------------- the declarations


@pytest.mark.parametrize("event_type", TYPES)
def test_each_type_is_declared_on_its_payload_class(event_type: str) -> None:
    cls = PAYLOADS[event_type]
    assert cls.event_type == event_type
    assert cls.writers and cls.writers <= {"coach", "student"}
    assert cls.topic_key in TopicsConfig.model_fields
    assert event_type in ENVELOPES


def test_the_envelope_union_is_the_declared_types() -> None:
    assert list(ENVELOPES) == TYPES
    assert len(set(PAYLOADS.values())) == len(PAYLOADS)  # one class, one type


def test_every_declared_type_has_a_fold_handler_and_a_summary() -> None:
    assert FOLDS.missing() == []
    assert SUMMARIES.missing() == []


@pytest.mark.parametrize("event_type", TYPES)
def test_handlers_are_found_from_the_payload_class(event_type: str) -> None:
    cls = PAYLOADS[event_type]
    FOLDS.of(cls)  # a handler, or None declared with FOLDS.nothing_for; a forgotten one raises
    assert callable(SUMMARIES.of(cls))


def test_a_forgotten_handler_is_an_error_not_a_skip() -> None:
    table: PayloadHandlers[Any] = PayloadHandlers("test handler")
    table.handles(LearningPlan)(lambda *_: None)
    assert "learning_plan" not in table.missing()
    assert "exercise_acknowledged" in table.missing()
    with pytest.raises(KeyError, match="no test handler for ExerciseAcknowledged"):
        table.of(ExerciseAcknowledged)
    with pytest.raises(TypeError, match="two test handlers"):
        table.handles(LearningPlan)(lambda *_: None)


def test_a_type_is_declared_once() -> None:
    class Again(Payload):
        pass

    with pytest.raises(TypeError, match="declared twice"):
        declare_event("learning_plan", writers=COACH, topic="assignments")(Again)
    with pytest.raises(TypeError, match="declared twice"):
        declare_event("learning_plan_again", writers=COACH, topic="assignments")(LearningPlan)
    with pytest.raises(TypeError, match="no writers"):
        declare_event("nobody_writes", writers=frozenset(), topic="events")(Again)
    assert "learning_plan_again" not in PAYLOADS and "nobody_writes" not in PAYLOADS


def test_writers_follow_the_topics_table() -> None:
    # coach → student on assignments and feedback, student → coach on progress, both on events
    for cls in PAYLOADS.values():
        expected = {"assignments": COACH, "feedback": COACH, "progress": STUDENT, "events": EITHER}[cls.topic_key]
        assert cls.writers == expected, cls.event_type


# ---------------------------------------------------------------- the receive boundary


@dataclass(frozen=True)
class Side:
    config: AgentConfig
    public_key: str
    key: Any
    sessions: dict[str, str] | None  # what ``judge`` gets: a coach's sessions and their students


@dataclass(frozen=True)
class Session:
    sides: dict[str, Side]  # by role
    events: dict[str, dict[str, Any]]  # one real event per event type, opened

    def written(self, event_type: str) -> dict[str, Any]:
        assert event_type in self.events, f"run_session (tests/core/conftest.py) writes no {event_type}; make it"
        return self.events[event_type]

    def judge(self, data: dict[str, Any] | bytes, receiver: str) -> str | None:
        """How ``receiver`` judges ``data``: a message, or an opened event sealed and signed anew by its writer's side."""
        raw = data if isinstance(data, bytes) else self.resigned(data, by=data["actor"])
        side = self.sides[receiver]
        return judge_alone(raw, side.config, side.key, side.sessions).reason

    def resigned(self, data: dict[str, Any], by: str) -> bytes:
        """``data`` (an opened event) sealed and signed anew by the side ``by`` (so a refusal is never about the signature)."""
        side = self.sides[by]
        readers = {s.config.identity: s.public_key for s in self.sides.values()}
        header = {k: v for k, v in data.items() if k not in ("sig", "payload", "v", "sender", "actor")}
        return sealed_message(side.key, readers, payload=data["payload"], sender=side.config.identity, actor=side.config.role, **header)


def other(role: str) -> str:
    return "student" if role == "coach" else "coach"


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    """A whole coaching session (every type written once at least), judged again below."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COLEARNER_KEY_DIR", str(tmp_path_factory.mktemp("keys")))
        mp.delenv("COLEARNER_BOOTSTRAP", raising=False)
        coach, (student,) = make_pair(Path(tmp_path_factory.mktemp("event_types")))
        try:
            ids = run_session(coach, student, Wire())
            events: dict[str, dict[str, Any]] = {}
            for row in coach.ledger.events_after(0):
                env = json.loads(row.raw)
                events.setdefault(env["event_type"], env)
            sides = {
                "coach": Side(coach.config, coach.public_key, coach.key, {ids["session_id"]: student.identity}),
                "student": Side(student.config, student.public_key, student.key, {}),
            }
        finally:
            coach.close()
            student.close()
    yield Session(sides, events)


@pytest.mark.parametrize("event_type", TYPES)
def test_a_real_event_of_each_type_is_accepted_by_the_other_side(session: Session, event_type: str) -> None:
    event = session.written(event_type)
    assert session.judge(event, receiver=other(event["actor"])) is None
    assert not summarize(event).startswith(f"{event_type} from ")  # its own summary, not the fallback


@pytest.mark.parametrize("event_type", TYPES)
def test_an_unknown_event_type_is_refused(session: Session, event_type: str) -> None:
    event = session.written(event_type)
    for unknown in (f"{event_type}_v2", event_type.upper(), "", "x" * 64):
        data = session.resigned({**event, "event_type": unknown}, by=event["actor"])
        reason = session.judge(data, receiver=other(event["actor"]))
        assert reason is not None and reason.startswith("fails the schema"), (unknown, reason)


@pytest.mark.parametrize("event_type", TYPES)
def test_a_payload_of_the_wrong_type_is_refused(session: Session, event_type: str) -> None:
    event = session.written(event_type)
    model: type[BaseModel] = PAYLOADS[event_type]
    others = [e["payload"] for t, e in session.events.items() if t != event_type]
    wrong = [p for p in others if not _fits(model, p)] + [[], "text", 1, None, {"unknown_field": 1}]
    assert len(wrong) > 5  # most other types' payloads do not fit this one
    for payload in wrong:
        data = session.resigned({**event, "payload": payload}, by=event["actor"])
        reason = session.judge(data, receiver=other(event["actor"]))
        assert reason is not None and reason.startswith(f"fails the schema at '{event_type}.payload"), (payload, reason)


@pytest.mark.parametrize("event_type", ONE_WRITER)
def test_a_role_not_declared_as_writer_is_refused(session: Session, event_type: str) -> None:
    event = session.written(event_type)
    (writer,) = PAYLOADS[event_type].writers
    intruder = other(writer)
    data = session.resigned(event, by=intruder)  # signed by a trusted peer, in the wrong role for this type
    assert session.judge(data, receiver=writer) == f"a {intruder} may not send {event_type}"


def _fits(model: type[BaseModel], payload: Any) -> bool:
    try:
        model.model_validate(payload)
    except ValueError:
        return False
    return True
