"""The coach's actions: sessions, plans, exercises, scope, evidence requests, feedback."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..errors import InvalidArgument, NotFound
from ..instance import Instance
from ..model import lifecycle
from ..protocol.event_types import Payload
from ..protocol.events import (
    Anchor,
    AnchoredMistake,
    AssessmentFeedback,
    EnvelopeBase,
    EvidenceRequest,
    ExerciseAssigned,
    LearningPlan,
    PlanStep,
    ScopePolicy,
    SessionLifecycle,
    new_id,
)
from ..protocol.vocabulary import SHARE_MODES

if TYPE_CHECKING:  # evidence needs gitpython: imported when evidence is taken
    pass


from .rules import find_exercise, find_session, lifecycle_move, require_role, states_after, user_action


@user_action
def start_session(inst: Instance, student: str) -> str:
    """Open a coaching session with a rostered student; returns its id."""
    require_role(inst, "coach", "session start")
    peer = inst.config.peers.get(student)
    if peer is None or peer.role != "student":
        raise NotFound(f"{student!r} is not on your roster; add them with 'colearner trust {student} PUBLIC_KEY'")
    session_id = new_id()
    inst.emit(session_id, student, SessionLifecycle(from_=None, to="init", reason="session opened"))
    return session_id


@user_action
def send_plan(inst: Instance, session_id: str, goals: Sequence[str], steps: Sequence[tuple[str, str]]) -> EnvelopeBase:
    """Send a learning plan: ``steps`` are ``(id, topic)`` in the order they are to be done."""
    require_role(inst, "coach", "plan")
    session = find_session(inst, session_id)
    if not steps:
        raise InvalidArgument("a plan needs at least one step, e.g. --step step-1:'repo overview'")
    plan = LearningPlan(
        goals=list(goals),
        plan=[PlanStep(id=i, topic=t, status="active" if n == 0 else "next") for n, (i, t) in enumerate(steps)],
    )
    out = inst.emit(
        session.session_id, session.student, [plan, *lifecycle_move(session.stage, LearningPlan, [], None, "learning plan sent")]
    )
    return out[0]


@user_action
def assign_exercise(
    inst: Instance,
    session_id: str,
    *,
    topic: str,
    exercise: str,
    expected: str,
    path: str,
    start_line: int,
    end_line: int,
    tests: Sequence[str] = (),
    step_id: str | None = None,
    start_char: int | None = None,
    end_char: int | None = None,
) -> str:
    """Assign an exercise anchored to lines of a file in the coach's checkout; returns its id."""
    from ..anchor.anchoring import anchor_for

    require_role(inst, "coach", "assign")
    session = find_session(inst, session_id)
    if session.stage == "done":
        raise InvalidArgument(f"session {session.session_id} is done; open a new one with 'colearner session start'")
    if step_id is not None and session.steps and step_id not in [s.id for s in session.steps]:
        raise NotFound(f"no plan step {step_id!r} in this session; the plan has: {', '.join(s.id for s in session.steps)}")
    anchor: Anchor = anchor_for(inst.root, path, start_line, end_line, start_char, end_char)
    exercise_id = new_id()
    payload = ExerciseAssigned(
        topic=topic,
        exercise=exercise,
        expected=expected,
        tests=list(tests),
        exercise_id=exercise_id,
        step_id=step_id,
        anchor=anchor,
    )
    events: list[Payload] = [payload]
    if session.stage == "review":
        # A new exercise reopens practice: the session is not all answered any more.
        events.append(SessionLifecycle(from_="review", to="practice", reason="new exercise assigned"))
    inst.emit(session.session_id, session.student, events)
    return exercise_id


@user_action
def set_scope(
    inst: Instance,
    session_id: str,
    allow: Sequence[str],
    deny: Sequence[str] = (),
    share: str = "hashes",
    max_files: int = 50,
) -> int:
    """Send the scope policy (which paths the student may share); returns its version."""
    require_role(inst, "coach", "scope")
    session = find_session(inst, session_id)
    if share not in SHARE_MODES:
        raise InvalidArgument(f"--share must be {', '.join(SHARE_MODES[:-1])} or {SHARE_MODES[-1]}, not {share!r}")
    version = (session.scope.policy.version if session.scope is not None else 0) + 1
    policy = ScopePolicy(allow=list(allow), deny=list(deny), share=share, max_files=max_files, version=version)
    inst.emit(session.session_id, session.student, policy)
    return version


@user_action
def request_evidence(inst: Instance, exercise_id: str, paths: Sequence[str], reason: str) -> str:
    """Ask the student for more evidence on an exercise; returns the request's event id."""
    require_role(inst, "coach", "request-evidence")
    ex = find_exercise(inst, exercise_id)
    if not paths:
        raise InvalidArgument("name at least one path or glob with --path")
    out = inst.emit(ex.session_id, ex.student, EvidenceRequest(exercise_id=ex.exercise_id, paths=list(paths), reason=reason))
    return out[0].event_id


@user_action
def send_feedback(
    inst: Instance,
    exercise_id: str,
    *,
    grade: str,
    next_step: str,
    confidence_delta: float,
    mistakes: Sequence[str | dict[str, Any] | AnchoredMistake] = (),
) -> str:
    """Grade an exercise pass or revise; returns the feedback's event id."""
    require_role(inst, "coach", "feedback")
    ex = find_exercise(inst, exercise_id)
    session = inst.state.sessions[ex.session_id]
    if ex.state == "passed":
        raise InvalidArgument(f"exercise {ex.exercise_id} has already passed")
    if ex.state in ("assigned", "acknowledged"):
        raise InvalidArgument(f"exercise {ex.exercise_id} has no response yet (it is {ex.state}); wait for the student's answer")
    parsed = [AnchoredMistake.model_validate(m) if isinstance(m, dict) else m for m in mistakes]
    if any(not (m if isinstance(m, str) else m.text).strip() for m in parsed):
        raise InvalidArgument("a mistake needs its text: say what is wrong")
    feedback = AssessmentFeedback(
        grade=grade,
        mistakes=parsed,
        next_step=next_step,
        confidence_delta=confidence_delta,
        exercise_id=ex.exercise_id,
    )
    new_state = "passed" if grade == "pass" else "revise"
    events: list[Payload] = [feedback]
    events += lifecycle_move(
        session.stage, AssessmentFeedback, states_after(session, ex.exercise_id, new_state), grade, f"feedback: {grade}"
    )
    out = inst.emit(ex.session_id, ex.student, events)
    return out[0].event_id


@user_action
def advance_session(inst: Instance, session_id: str, to: str, reason: str = "") -> str:
    """Move a session by hand (e.g. the coach closes it); refused unless the move is legal."""
    session = find_session(inst, session_id)
    lifecycle.check_transition(session.stage, to)
    out = inst.emit(
        session.session_id, session.student, SessionLifecycle(from_=session.stage, to=to, reason=reason or f"moved by {inst.identity}")
    )
    return out[0].event_id


# ---------------------------------------------------------------- student
