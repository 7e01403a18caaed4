"""The fold: pure, deterministic, idempotent, and indifferent to how the topics of
different senders interleave."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from colearner_lsp.core.model import lifecycle
from colearner_lsp.core.model.fold import apply_event, fold
from colearner_lsp.core.model.state import State
from colearner_lsp.core.protocol.events import EnvelopeBase, parse_event
from tests.core.conftest import envelope

COACH = "coach"
NO_SESSION = "00000000-0000-0000-0000-000000000000"
T0 = datetime(2026, 1, 31, 9, 0, tzinfo=UTC)


class Script:
    """Writes the envelopes of plausible coaching sessions in causal order.

    Each sender numbers its own events per student, as the ledger does; times
    strictly increase, so the stage the script tracks is the one a fold must reach.
    """

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.seqs: dict[tuple[str, str], int] = {}
        self.clock = T0

    def emit(self, session_id: str, student: str, sender: str, event_type: str, payload: dict[str, Any]) -> dict[str, Any]:
        self.seqs[(sender, student)] = seq = self.seqs.get((sender, student), 0) + 1
        self.clock += timedelta(microseconds=1 + len(self.events) % 7)
        env = envelope(
            event_type,
            payload,
            sender=sender,
            actor="coach" if sender == COACH else "student",
            student=student,
            seq=seq,
            session_id=session_id,
            ts=self.clock.isoformat(timespec="microseconds").replace("+00:00", "Z"),
        )
        self.events.append(env)
        return env


class Session:
    def __init__(self, script: Script, student: str) -> None:
        self.script, self.student = script, student
        self.id = str(uuid.uuid4())
        self.stage = "init"
        self.exercises: dict[str, str] = {}
        self.steps: list[str] = []
        self.completed = 0

    def emit(self, sender: str, event_type: str, payload: dict[str, Any]) -> None:
        self.script.emit(self.id, self.student, sender, event_type, payload)

    def move(self, sender: str, event_type: str, grade: str | None = None) -> None:
        """The lifecycle event an action brings with it, as ``actions`` writes it."""
        to = lifecycle.automatic_move(self.stage, list(self.exercises.values()), event_type, grade)
        if to is not None:
            self.emit(sender, "session_lifecycle", {"from": self.stage, "to": to, "reason": event_type})
            self.stage = to


@st.composite
def sessions(draw: st.DrawFn) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Event streams of 1–3 sessions of 1–2 students, with a random course of actions."""
    script = Script()
    open_sessions = [Session(script, draw(st.sampled_from(["alice", "bob"]))) for _ in range(draw(st.integers(1, 3)))]
    for s in open_sessions:
        s.emit(COACH, "session_lifecycle", {"to": "init", "reason": "session opened"})

    for _ in range(draw(st.integers(3, 60))):
        s = draw(st.sampled_from(open_sessions))
        by_state: dict[str, list[str]] = {}
        for exercise_id, state in s.exercises.items():
            by_state.setdefault(state, []).append(exercise_id)
        # Only actions the session allows now, so that streams get far (review, done).
        possible = ["scope", "resync"]
        possible += ["plan"] if not s.steps else ["progress"]
        possible += ["assign"] if s.stage in ("plan", "practice") and len(s.exercises) < 4 else []
        possible += ["ack"] * 2 if by_state.get("assigned") else []
        possible += ["respond"] * 3 if s.stage == "practice" and (by_state.get("acknowledged") or by_state.get("revise")) else []
        possible += ["feedback"] * 3 if by_state.get("responded") else []
        possible += ["request", "evidence"] if s.exercises else []
        action = draw(st.sampled_from(possible))
        if action == "plan":
            s.steps = [f"step-{i}" for i in range(1, draw(st.integers(1, 3)) + 1)]
            s.emit(COACH, "learning_plan", {"goals": ["onboard"], "plan": [{"id": i, "topic": f"topic {i}"} for i in s.steps]})
            s.move(COACH, "learning_plan")
        elif action == "assign":
            exercise_id = str(uuid.uuid4())
            topic = draw(st.sampled_from(["graphs", "handlers", "tests"]))
            s.exercises[exercise_id] = "assigned"
            s.emit(COACH, "exercise_assigned", {"topic": topic, "exercise": "do it", "expected": "done", "exercise_id": exercise_id})
        elif action == "ack":
            exercise_id = draw(st.sampled_from(by_state["assigned"]))
            s.exercises[exercise_id] = "acknowledged"
            s.emit(s.student, "exercise_acknowledged", {"exercise_id": exercise_id})
            s.move(s.student, "exercise_acknowledged")
        elif action == "respond":
            exercise_id = draw(st.sampled_from(by_state.get("acknowledged", []) + by_state.get("revise", [])))
            s.exercises[exercise_id] = "responded"
            s.emit(s.student, "exercise_response", {"exercise_id": exercise_id, "response": draw(st.text(max_size=20))})
            s.move(s.student, "exercise_response")
        elif action == "feedback":
            exercise_id = draw(st.sampled_from(by_state["responded"]))
            grade = draw(st.sampled_from(["pass", "revise"]))
            delta = draw(st.floats(-1, 1, allow_nan=False))
            s.exercises[exercise_id] = "passed" if grade == "pass" else "revise"
            s.emit(
                COACH,
                "assessment_feedback",
                {"grade": grade, "mistakes": ["m"], "next_step": "n", "confidence_delta": delta, "exercise_id": exercise_id},
            )
            s.move(COACH, "assessment_feedback", grade)
        elif action == "progress":
            completed = [s.steps[s.completed]] if s.completed < len(s.steps) and draw(st.booleans()) else []
            s.completed += len(completed)
            confidence = draw(st.dictionaries(st.sampled_from(["graphs", "handlers"]), st.floats(0, 1), max_size=2))
            s.emit(s.student, "progress_update", {"completed": completed, "confidence": confidence})
        elif action == "scope":
            s.emit(COACH, "scope_policy", {"allow": ["*.py"], "version": draw(st.integers(1, 3))})
        elif action == "request":
            s.emit(COACH, "evidence_request", {"exercise_id": draw(st.sampled_from(sorted(s.exercises))), "paths": ["*.py"], "reason": "r"})
        elif action == "evidence":
            s.emit(
                s.student,
                "evidence_snapshot",
                {"exercise_id": draw(st.sampled_from(sorted(s.exercises))), "commit": "", "branch": "main", "dirty": False},
            )
        else:
            script.emit(NO_SESSION, s.student, s.student, "resync_request", {"sender": COACH, "from_seq": 1})
    return script.events, {s.id: s.stage for s in open_sessions}


def parsed(stream: list[dict[str, Any]]) -> list[EnvelopeBase]:
    return [parse_event(e) for e in stream]


def with_duplicates(events: list[EnvelopeBase], rng: random.Random) -> list[EnvelopeBase]:
    """Redeliver some events: each copy lands somewhere after its first delivery."""
    out = list(events)
    for _ in range(rng.randint(1, max(1, len(events)))):
        i = rng.randrange(len(events))
        first = out.index(events[i])
        out.insert(rng.randint(first + 1, len(out)), events[i])
    return out


def interleave(events: list[EnvelopeBase], rng: random.Random) -> list[EnvelopeBase]:
    """Another arrival order: each sender's own events keep their order, senders mix at random."""
    queues: dict[str, list[EnvelopeBase]] = {}
    for e in events:
        queues.setdefault(e.sender, []).append(e)
    out = []
    while queues:
        sender = rng.choice(sorted(queues))
        out.append(queues[sender].pop(0))
        if not queues[sender]:
            del queues[sender]
    return out


def stages(state: State) -> dict[str, str]:
    return {sid: s.stage for sid, s in state.sessions.items()}


def sender_view(state: State) -> dict[str, Any]:
    """What each exercise and session holds from one sender alone, or from the
    plan and progress together: the same in any interleaving."""
    exercises = {
        e.exercise_id: (
            [r.event_id for r in e.responses],
            [f.event_id for f in e.feedback],
            [r.event_id for r in e.evidence_requests],
            len(e.evidence),
        )
        for e in state.exercises.values()
    }
    plans = {sid: (s.steps, s.completed, s.exercise_ids, s.coach, s.opened_at) for sid, s in state.sessions.items()}
    return {"exercises": exercises, "plans": plans}


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(sessions(), st.randoms(use_true_random=False))
def test_duplicates_change_nothing(stream: tuple[list[dict[str, Any]], dict[str, str]], rng: random.Random) -> None:
    events = parsed(stream[0])
    once = fold(events)
    twice = fold(with_duplicates(events, rng))
    assert twice.to_json() == once.to_json()
    assert twice.events_applied == once.events_applied == len(events)


@SETTINGS
@given(sessions())
def test_fold_is_deterministic_and_reaches_the_scripted_stage(stream: tuple[list[dict[str, Any]], dict[str, str]]) -> None:
    events = parsed(stream[0])
    a, b = fold(events), fold(parsed(stream[0]))
    assert a.to_json() == b.to_json()
    assert stages(a) == stream[1]
    assert all(t.applied for s in a.sessions.values() for t in s.transitions)
    # incremental (one event at a time into one state) equals all at once
    c = State()
    for e in events:
        apply_event(c, e)
    assert c.to_json() == a.to_json()


@SETTINGS
@given(sessions(), st.randoms(use_true_random=False))
def test_interleaving_senders_reaches_the_same_stages(stream: tuple[list[dict[str, Any]], dict[str, str]], rng: random.Random) -> None:
    events = parsed(stream[0])
    reference = fold(events)
    shuffled = fold(with_duplicates(interleave(events, rng), rng))
    assert stages(shuffled) == stages(reference) == stream[1]
    assert sender_view(shuffled) == sender_view(reference)
    assert shuffled.waiting == {}  # everything that waited for its exercise got applied
    assert [[(t.event_id, t.applied) for t in s.transitions] for s in shuffled.sessions.values()] == [
        [(t.event_id, t.applied) for t in reference.sessions[sid].transitions] for sid in shuffled.sessions
    ]


# ---------------------------------------------------------------- handlers, one by one


def make(script: Script, session: str, sender: str, event_type: str, payload: dict[str, Any], student: str = "alice") -> EnvelopeBase:
    return parse_event(script.emit(session, student, sender, event_type, payload))


def test_events_for_an_unknown_exercise_wait_for_it() -> None:
    script, session = Script(), str(uuid.uuid4())
    ex = str(uuid.uuid4())
    ack = make(script, session, "alice", "exercise_acknowledged", {"exercise_id": ex})
    response = make(script, session, "alice", "exercise_response", {"exercise_id": ex, "response": "r"})
    assigned = make(script, session, COACH, "exercise_assigned", {"topic": "t", "exercise": "e", "expected": "x", "exercise_id": ex})
    state = fold([ack, response])
    assert state.exercises == {} and [e.event_id for e in state.waiting[ex]] == [ack.event_id, response.event_id]
    apply_event(state, assigned)
    assert state.waiting == {}
    assert state.exercises[ex].state == "responded" and state.exercises[ex].acknowledged_at == ack.ts


def test_illegal_transition_is_kept_but_not_applied() -> None:
    script, session = Script(), str(uuid.uuid4())
    events = [
        make(script, session, COACH, "session_lifecycle", {"to": "init"}),
        make(script, session, COACH, "session_lifecycle", {"from": "init", "to": "review"}),
        make(script, session, COACH, "session_lifecycle", {"from": "init", "to": "plan"}),
    ]
    s = fold(events).sessions[session]
    assert s.stage == "plan"
    assert [t.applied for t in s.transitions] == [True, False, True]


def test_transitions_sort_by_time_not_arrival() -> None:
    script, session = Script(), str(uuid.uuid4())
    opened = make(script, session, COACH, "session_lifecycle", {"to": "init"})
    plan = make(script, session, COACH, "session_lifecycle", {"from": "init", "to": "plan"})
    practice = make(script, session, "alice", "session_lifecycle", {"from": "plan", "to": "practice"})
    s = fold([practice, opened, plan]).sessions[session]
    assert s.stage == "practice" and [t.to for t in s.transitions] == ["init", "plan", "practice"]


def test_stage_is_the_same_whether_moves_arrive_in_order_or_not() -> None:
    """Appending a newer move steps the stage; an older one refolds the whole list."""
    script, session = Script(), str(uuid.uuid4())
    moves = [
        (None, "init"),
        ("init", "plan"),
        ("init", "practice"),
        ("plan", "practice"),
        ("practice", "review"),
        ("review", "practice"),
        ("review", "done"),
        ("practice", "review"),
        ("review", "done"),
    ]
    events = [make(script, session, COACH, "session_lifecycle", {"from": a, "to": b} if a else {"to": b}) for a, b in moves]
    expected = [True, True, False, True, True, True, False, True, True]
    for order in (events, events[::-1], events[1::2] + events[0::2]):
        s = fold(order).sessions[session]
        assert [t.applied for t in s.transitions] == expected
        assert s.stage == "done"


def test_plan_progress_and_confidence() -> None:
    script, session = Script(), str(uuid.uuid4())
    ex = str(uuid.uuid4())
    state = fold(
        [
            make(script, session, COACH, "learning_plan", {"goals": ["g"], "plan": [{"id": "a", "topic": "A"}, {"id": "b", "topic": "B"}]}),
            make(script, session, "alice", "progress_update", {"completed": ["a"], "confidence": {"A": 0.8}}),
            make(script, session, COACH, "exercise_assigned", {"topic": "B", "exercise": "e", "expected": "x", "exercise_id": ex}),
            make(script, session, "alice", "exercise_response", {"exercise_id": ex, "response": "r"}),
            make(
                script,
                session,
                COACH,
                "assessment_feedback",
                {"grade": "revise", "next_step": "n", "confidence_delta": -0.7, "exercise_id": ex},
            ),
            make(
                script,
                session,
                COACH,
                "assessment_feedback",
                {"grade": "pass", "next_step": "n", "confidence_delta": 1.0, "exercise_id": ex},
            ),
        ]
    )
    s = state.sessions[session]
    assert [(p.id, p.topic, p.status) for p in s.steps] == [("a", "A", "done"), ("b", "B", "active")]
    assert s.completed == ["a"] and s.coach == COACH
    assert s.confidence == {"A": 0.8, "B": 1.0}  # 0.5 - 0.7 clamps at 0, + 1.0 clamps at 1
    assert [(t.value, t.delta, t.source) for t in s.confidence_trend] == [
        (0.8, None, "student"),
        (0.0, -0.7, "feedback"),
        (1.0, 1.0, "feedback"),
    ]
    e = state.exercises[ex]
    assert (e.state, e.revise_count, [f.grade for f in e.feedback]) == ("passed", 1, ["revise", "pass"])


def test_scope_versions_and_anomalies() -> None:
    script, session = Script(), str(uuid.uuid4())
    ex = str(uuid.uuid4())
    assign = {"topic": "t", "exercise": "e", "expected": "x", "exercise_id": ex}
    state = fold(
        [
            make(script, session, COACH, "scope_policy", {"allow": ["a"], "version": 2}),
            make(script, session, COACH, "scope_policy", {"allow": ["b"], "version": 1}),
            make(script, session, COACH, "exercise_assigned", assign),
            make(script, session, COACH, "exercise_assigned", {**assign, "topic": "other"}),
            make(script, session, COACH, "assessment_feedback", {"grade": "pass", "next_step": "n", "confidence_delta": 0}),
        ]
    )
    s = state.sessions[session]
    assert s.scope is not None and s.scope.policy.allow == ["a"] and s.scope.policy.version == 2 and s.scope.sender == COACH
    assert len(s.anomalies) == 3
    assert "older than 2" in s.anomalies[0] and "assigned twice" in s.anomalies[1] and "names no exercise" in s.anomalies[2]
    assert state.exercises[ex].topic == "t"


def test_evidence_answers_its_request() -> None:
    script, session = Script(), str(uuid.uuid4())
    ex = str(uuid.uuid4())
    snapshot = {"exercise_id": ex, "commit": "", "branch": "main", "dirty": False}
    events = [
        make(script, session, COACH, "exercise_assigned", {"topic": "t", "exercise": "e", "expected": "x", "exercise_id": ex}),
        make(script, session, COACH, "evidence_request", {"exercise_id": ex, "paths": ["*.py"], "reason": "r"}),
        make(script, session, COACH, "evidence_request", {"exercise_id": ex, "paths": ["*.md"], "reason": "r"}),
    ]
    second = events[2].event_id
    events.append(make(script, session, "alice", "evidence_snapshot", {**snapshot, "request_id": second}))
    e = fold(events).exercises[ex]
    assert [r.answered_by for r in e.evidence_requests] == [None, events[3].event_id]
    assert [r.paths for r in e.open_requests] == [("*.py",)]
    events.append(make(script, session, "alice", "evidence_snapshot", snapshot))  # no request named: answers the open ones
    assert fold(events).exercises[ex].open_requests == []


def test_resync_requests_touch_no_session() -> None:
    script = Script()
    state = fold([make(script, NO_SESSION, "alice", "resync_request", {"sender": COACH, "from_seq": 3})])
    assert state.sessions == {} and state.events_applied == 1


def test_apply_event_reports_duplicates() -> None:
    script, session = Script(), str(uuid.uuid4())
    event = make(script, session, COACH, "session_lifecycle", {"to": "init"})
    state = State()
    assert apply_event(state, event) is True
    assert apply_event(state, event) is False
    assert state.events_applied == 1
