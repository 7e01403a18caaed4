"""The state is a pure fold over the ledger's events.

``apply_event`` is the only function that changes a ``State``. It is
deterministic, and idempotent by ``event_id``: applying an event twice changes
nothing. Events arrive from several Kafka topics, so the fold does not assume
one topic's events come before another's:

- an event naming an exercise not yet assigned waits until the assignment comes;
- the lifecycle stage is computed from the session's transitions ordered by
  (ts, sender, seq), so both sides reach the same stage whatever the arrival
  order.
"""

from __future__ import annotations

from bisect import insort
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from ..protocol.event_types import PayloadHandlers
from ..protocol.events import (
    AssessmentFeedback,
    EnvelopeBase,
    EvidenceRequest,
    EvidenceSnapshot,
    ExerciseAcknowledged,
    ExerciseAssigned,
    ExerciseResponse,
    LearningPlan,
    ProgressUpdate,
    ResyncRequest,
    ScopePolicy,
    SessionLifecycle,
)
from ..protocol.vocabulary import StepStatus
from . import lifecycle
from .records import ConfidencePoint, EvidenceRecord, EvidenceRequestRecord, FeedbackRecord, ResponseRecord, ScopeRecord, StepRecord
from .state import ExerciseState, SessionState, State, Transition

# What applying one type does to its session: found by the payload's class, and given the
# event and its payload (typed in each handler: the table finds a handler by that very class).
FoldHandler = Callable[[State, SessionState, EnvelopeBase, Any], None]
FOLDS: PayloadHandlers[FoldHandler] = PayloadHandlers("fold handler")

NEUTRAL_CONFIDENCE = 0.5  # where a topic starts when feedback moves it before the student rated it


def fold(events: Iterable[EnvelopeBase], state: State | None = None) -> State:
    """Fold ``events`` (in ledger order) into ``state`` (a new one by default)."""
    state = state or State()
    for event in events:
        apply_event(state, event)
    return state


def apply_event(state: State, event: EnvelopeBase) -> bool:
    """Apply one accepted event; False when it was already applied."""
    identity = (event.sender, event.event_id)  # an id names an event only within its sender's events
    if identity in state.seen:
        return False
    state.seen.add(identity)
    state.events_applied += 1
    handler = FOLDS.of(type(event.payload))
    if handler is None:
        return True  # a type declared to change no session (see nothing_for below)
    session = _session(state, event)
    if event.actor == "coach" and session.coach != event.sender:
        return True  # another coach writing into this session: it is its opener's (seen, not applied)
    if session.last_activity is None or event.ts > session.last_activity:
        session.last_activity = event.ts
    handler(state, session, event, event.payload)
    return True


def _opens(event: EnvelopeBase) -> bool:
    p = event.payload
    return isinstance(p, SessionLifecycle) and p.from_ is None and p.to == "init"


def _session(state: State, event: EnvelopeBase) -> SessionState:
    session = state.sessions.get(event.session_id)
    if session is None:
        session = SessionState(session_id=event.session_id, student=event.student)
        session._exercises = state.exercises
        state.sessions[event.session_id] = session
    if event.actor == "coach" and (session.coach is None or _opens(event)):
        # The coach who opened the session owns it, whatever time another coach's event claims
        # (replay order follows ts, which a writer chooses).
        session.coach = event.sender
    if session.opened_at is None or event.ts < session.opened_at:
        session.opened_at = event.ts
    return session


# ---------------------------------------------------------------- handlers

# Delivery plumbing: a resync request opens, and changes, no session.
FOLDS.nothing_for(ResyncRequest)


@FOLDS.handles(SessionLifecycle)
def _lifecycle(state: State, session: SessionState, event: EnvelopeBase, p: SessionLifecycle) -> None:
    transition = Transition(
        from_=p.from_,
        to=p.to,
        reason=p.reason,
        ts=event.ts,
        actor=event.actor,
        sender=event.sender,
        seq=event.seq,
        event_id=event.event_id,
    )
    transitions = session.transitions
    if not transitions or transitions[-1].sort_key() <= transition.sort_key():
        # The usual case, a move newer than all before it: one more step of the
        # same walk _recompute_stage makes, instead of the whole walk again.
        transitions.append(transition)
        session.stage = _step(session.stage, transition)
    else:
        insort(transitions, transition, key=Transition.sort_key)
        _recompute_stage(session)


def _step(stage: str, t: Transition) -> str:
    """Apply one transition to ``stage`` (marking whether it applied); the stage after it."""
    if t.from_ is None and t.to == "init":
        t.applied = True  # the session's opening record
        return stage
    t.applied = t.from_ == stage and lifecycle.is_legal(stage, t.to)
    return t.to if t.applied else stage


def _recompute_stage(session: SessionState) -> None:
    stage = "init"
    for t in session.transitions:
        stage = _step(stage, t)
    session.stage = stage


@FOLDS.handles(LearningPlan)
def _plan(state: State, session: SessionState, event: EnvelopeBase, p: LearningPlan) -> None:
    session.goals = list(p.goals)
    done = set(session.completed)
    session.steps = [StepRecord(s.id, s.topic, "done" if s.id in done else s.status) for s in p.plan]
    _activate_next_step(session)


def _with_status(step: StepRecord, status: StepStatus) -> StepRecord:
    return step if step.status == status else replace(step, status=status)


def _activate_next_step(session: SessionState) -> None:
    steps = session.steps
    for n, step in enumerate(steps):
        if step.status != "done":
            if step.status == "next" and not any(s.status == "active" for s in steps):
                steps[n] = _with_status(step, "active")
            return


@FOLDS.handles(ExerciseAssigned)
def _assigned(state: State, session: SessionState, event: EnvelopeBase, p: ExerciseAssigned) -> None:
    exercise_id = p.exercise_id or event.event_id
    if exercise_id in state.exercises:
        session.anomalies.append(f"exercise {exercise_id} assigned twice; kept the first")
        return
    ex = ExerciseState(
        exercise_id=exercise_id,
        session_id=session.session_id,
        student=event.student,
        coach=event.sender,
        topic=p.topic,
        exercise=p.exercise,
        expected=p.expected,
        tests=list(p.tests),
        step_id=p.step_id,
        anchor=p.anchor,
        assigned_at=event.ts,
    )
    state.exercises[exercise_id] = ex
    session.exercise_ids.append(exercise_id)
    for waiting in state.waiting.pop(exercise_id, []):
        handler = FOLDS.of(type(waiting.payload))
        assert handler is not None  # only events of a session wait for an exercise
        handler(state, state.sessions[waiting.session_id], waiting, waiting.payload)


def exercise_named(event: EnvelopeBase) -> str | None:
    """The exercise an event is about: its payload's ``exercise_id``, or an assignment's own id."""
    exercise_id = getattr(event.payload, "exercise_id", None)
    if not exercise_id and isinstance(event.payload, ExerciseAssigned):
        exercise_id = event.event_id
    return exercise_id if isinstance(exercise_id, str) else None


def _exercise_of(state: State, session: SessionState, event: EnvelopeBase, exercise_id: str | None) -> ExerciseState | None:
    ex = state.exercises.get(exercise_id) if exercise_id else None
    if ex is None and exercise_id:
        state.waiting.setdefault(exercise_id, []).append(event)
    elif ex is not None and (ex.session_id != event.session_id or ex.student != event.student):
        # an exercise id is not a capability: only events of the exercise's own session touch it
        session.anomalies.append(f"{event.event_type} from {event.sender!r} names exercise {exercise_id} of another session; ignored")
        return None
    return ex


@FOLDS.handles(ExerciseAcknowledged)
def _acknowledged(state: State, session: SessionState, event: EnvelopeBase, p: ExerciseAcknowledged) -> None:
    ex = _exercise_of(state, session, event, p.exercise_id)
    if ex and ex.state == "assigned":
        ex.state = "acknowledged"
        ex.acknowledged_at = event.ts


@FOLDS.handles(ExerciseResponse)
def _response(state: State, session: SessionState, event: EnvelopeBase, p: ExerciseResponse) -> None:
    ex = _exercise_of(state, session, event, p.exercise_id)
    if ex is None:
        return
    ex.responses.append(ResponseRecord(event.event_id, event.ts, p.response, p.evidence.event_id if p.evidence else None))
    if ex.state != "passed":
        ex.state = "responded"
        ex.responded_at = event.ts
        ex.acknowledged_at = ex.acknowledged_at or event.ts


@FOLDS.handles(EvidenceSnapshot)
def _evidence(state: State, session: SessionState, event: EnvelopeBase, p: EvidenceSnapshot) -> None:
    ex = _exercise_of(state, session, event, p.exercise_id)
    if ex is None:
        return
    ex.evidence.append(EvidenceRecord(event.event_id, event.ts, p))
    request_id = p.request_id
    requests = ex.evidence_requests
    for n, request in enumerate(requests):
        # A snapshot naming no request answers every open one; naming one, that one alone.
        if request.answered_by is None and (request_id is None or request.event_id == request_id):
            requests[n] = replace(request, answered_by=event.event_id)
            if request_id is not None:
                break


@FOLDS.handles(EvidenceRequest)
def _evidence_request(state: State, session: SessionState, event: EnvelopeBase, p: EvidenceRequest) -> None:
    ex = _exercise_of(state, session, event, p.exercise_id)
    if ex is None:
        return
    ex.evidence_requests.append(EvidenceRequestRecord(event.event_id, event.ts, tuple(p.paths), p.reason))


@FOLDS.handles(AssessmentFeedback)
def _feedback(state: State, session: SessionState, event: EnvelopeBase, p: AssessmentFeedback) -> None:
    ex = _exercise_of(state, session, event, p.exercise_id) if p.exercise_id else None
    if p.exercise_id and ex is None:
        return  # waits for its exercise
    if ex is None:
        session.anomalies.append(f"feedback {event.event_id} names no exercise; recorded on the session only")
        return
    ex.feedback.append(FeedbackRecord(event.event_id, event.ts, p))
    if p.grade == "pass":
        ex.state = "passed"
        ex.passed_at = event.ts
    else:
        ex.state = "revise"
        ex.revise_count += 1
    topic = ex.topic
    before = session.confidence.get(topic, NEUTRAL_CONFIDENCE)
    after = min(1.0, max(0.0, before + p.confidence_delta))
    session.confidence[topic] = round(after, 6)
    session.confidence_trend.append(ConfidencePoint(event.ts, topic, p.confidence_delta, session.confidence[topic], "feedback"))


@FOLDS.handles(ProgressUpdate)
def _progress(state: State, session: SessionState, event: EnvelopeBase, p: ProgressUpdate) -> None:
    for step_id in p.completed:
        if step_id not in session.completed:
            session.completed.append(step_id)
        steps = session.steps
        for n, step in enumerate(steps):
            if step.id == step_id:
                steps[n] = _with_status(step, "done")
    _activate_next_step(session)
    for topic, value in p.confidence.items():
        session.confidence[topic] = value
        session.confidence_trend.append(ConfidencePoint(event.ts, topic, None, value, "student"))


@FOLDS.handles(ScopePolicy)
def _scope(state: State, session: SessionState, event: EnvelopeBase, p: ScopePolicy) -> None:
    current = session.scope
    if current is not None and p.version < current.policy.version:
        session.anomalies.append(f"scope policy version {p.version} is older than {current.policy.version}; ignored")
        return
    session.scope = ScopeRecord(p, event.sender, event.event_id, event.ts)
