"""One function per user action. The CLI, the language server and the demo call these.

Each function checks the rules (role, known ids, lifecycle, scope), builds the
payloads and emits them through ``Instance.emit`` in one atomic append, so a
lifecycle move is never separated from the action that caused it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from pydantic import ValidationError

from .errors import InvalidArgument, NotFound, WrongRole
from .instance import Instance
from .model import lifecycle
from .model.state import ExerciseState, SessionState
from .protocol.event_types import Payload
from .protocol.events import (
    Anchor,
    AnchoredMistake,
    AssessmentFeedback,
    EnvelopeBase,
    EvidenceRef,
    EvidenceRequest,
    EvidenceSnapshot,
    ExerciseAcknowledged,
    ExerciseAssigned,
    ExerciseResponse,
    LearningPlan,
    PlanStep,
    ProgressUpdate,
    ScopePolicy,
    SessionLifecycle,
    new_id,
)

if TYPE_CHECKING:  # evidence needs gitpython: imported when evidence is taken
    from .sharing.evidence import EvidencePreview
    from .sharing.scope import ScopeRules


P = ParamSpec("P")
R = TypeVar("R")


def user_action(func: Callable[P, R]) -> Callable[P, R]:
    """Turn a payload the user's values cannot make into ``InvalidArgument``.

    The event models hold the value rules (grade pass|revise, confidence 0..1,
    delta -1..1, …); this keeps them the only copy while every edge (CLI, LSP,
    demo) still gets one readable sentence instead of a validation dump.
    """

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"]) or "value"
            raise InvalidArgument(f"{field}: {err['msg'].lower()} (got {err.get('input')!r})") from None
        except NotFound:
            # a ledger being recovered does not know everything yet: say that, not "no such session"
            inst = args[0] if args else None
            if isinstance(inst, Instance) and inst.recovering:
                inst.refuse_while_recovering()
            raise

    return wrapper


def require_role(inst: Instance, role: str, action: str) -> None:
    if inst.role != role:
        raise WrongRole(f"'{action}' is for a {role}; this instance is {inst.identity!r}, a {inst.role}")


def find_session(inst: Instance, session_id: str) -> SessionState:
    session = inst.state.sessions.get(session_id)
    if session is None:
        matches = [s for sid, s in inst.state.sessions.items() if sid.startswith(session_id)] if len(session_id) >= 4 else []
        if len(matches) == 1:
            return matches[0]
        raise NotFound(f"no session {session_id!r} here; 'colearner inbox' or 'colearner dashboard' lists them")
    return session


def find_exercise(inst: Instance, exercise_id: str) -> ExerciseState:
    ex = inst.state.exercises.get(exercise_id)
    if ex is None:
        matches = [e for eid, e in inst.state.exercises.items() if eid.startswith(exercise_id)] if len(exercise_id) >= 4 else []
        if len(matches) == 1:
            return matches[0]
        raise NotFound(f"no exercise {exercise_id!r} here; 'colearner inbox' lists the exercises and their ids")
    return ex


def _move(stage: str, cause: type[Payload], states_after: list[str], grade: str | None, reason: str) -> list[SessionLifecycle]:
    """The lifecycle event an action sending a ``cause`` brings with it, if any."""
    to = lifecycle.automatic_move(stage, states_after, cause.event_type, grade)
    if to is None:
        return []
    return [SessionLifecycle(from_=stage, to=to, reason=reason)]


def _states_after(session: SessionState, exercise_id: str, new_state: str) -> list[str]:
    return [new_state if e.exercise_id == exercise_id else e.state for e in session.exercises()]


# ---------------------------------------------------------------- coach


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
    out = inst.emit(session.session_id, session.student, [plan, *_move(session.stage, LearningPlan, [], None, "learning plan sent")])
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
    from .anchor.anchoring import anchor_for

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
    if share not in ("hashes", "diffstat", "diff"):
        raise InvalidArgument(f"--share must be hashes, diffstat or diff, not {share!r}")
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
    mistakes: Sequence[str | dict[str, Any]] = (),
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
    feedback = AssessmentFeedback(
        grade=grade,
        mistakes=parsed,
        next_step=next_step,
        confidence_delta=confidence_delta,
        exercise_id=ex.exercise_id,
    )
    new_state = "passed" if grade == "pass" else "revise"
    events: list[Payload] = [feedback]
    events += _move(session.stage, AssessmentFeedback, _states_after(session, ex.exercise_id, new_state), grade, f"feedback: {grade}")
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


def _own_exercise(inst: Instance, exercise_id: str, action: str) -> ExerciseState:
    require_role(inst, "student", action)
    ex = find_exercise(inst, exercise_id)
    if ex.student != inst.identity:
        raise NotFound(f"exercise {exercise_id!r} is not assigned to {inst.identity!r}")
    return ex


@user_action
def acknowledge(inst: Instance, exercise_id: str) -> str:
    """Acknowledge an assigned exercise; returns the event id."""
    ex = _own_exercise(inst, exercise_id, "ack")
    if ex.state != "assigned":
        raise InvalidArgument(f"exercise {ex.exercise_id} is already {ex.state}")
    session = inst.state.sessions[ex.session_id]
    events: list[Payload] = [ExerciseAcknowledged(exercise_id=ex.exercise_id)]
    events += _move(
        session.stage, ExerciseAcknowledged, _states_after(session, ex.exercise_id, "acknowledged"), None, "first exercise acknowledged"
    )
    return inst.emit(ex.session_id, ex.student, events)[0].event_id


def scope_rules(inst: Instance, session: SessionState) -> ScopeRules:
    """The rules in force for a session: the coach's signed policy plus the student's own deny list."""
    from .sharing.scope import DEFAULT_STUDENT_DENY, ScopeRules

    # No policy yet: the policy model's defaults (share hashes only, of at most 50 files, nothing allowed).
    policy = session.scope.policy if session.scope is not None else ScopePolicy()
    return ScopeRules(
        allow=tuple(policy.allow),
        deny=tuple(policy.deny),
        share=policy.share,
        max_files=policy.max_files,
        student_deny=tuple(DEFAULT_STUDENT_DENY) + tuple(inst.config.scope.deny),
    )


def preview_evidence(
    inst: Instance,
    exercise_id: str,
    paths: Sequence[str] | None = None,
    request_id: str | None = None,
    *,
    include_ignored: bool = False,
    for_response: bool = False,
) -> EvidencePreview:
    """What ``attach_evidence`` (or, ``for_response``, ``respond``) with the same arguments would
    share and withhold, every withheld file named with its reason. Local only: nothing is sent.

    The real actions take their snapshot from this same decision and hand it
    to ``on_preview``, so a dry run and the real command say the same.
    """
    from .sharing.evidence import preview_snapshot

    ex = _own_exercise(inst, exercise_id, "respond" if for_response else "attach evidence")
    paths, globs, _request = _evidence_target(ex, paths, request_id, follow_requests=not for_response)
    session = inst.state.sessions[ex.session_id]
    return preview_snapshot(
        inst.root,
        scope_rules(inst, session),
        paths=paths,
        since_commit=_since(inst, ex),
        globs=globs,
        include_ignored=include_ignored,
    )


def _evidence_target(
    ex: ExerciseState, paths: Sequence[str] | None, request_id: str | None, follow_requests: bool
) -> tuple[list[str] | None, list[str] | None, str | None]:
    """(paths, globs, request id) a snapshot is taken of.

    Attached paths win; else the request named, or the first open one, gives
    its globs (evidence only: an answer's evidence is what the student
    attached, or what changed); else every change since the assignment.
    """
    paths = list(paths) if paths else None
    if not follow_requests:
        return paths, None, None
    if request_id is not None:
        request = next((r for r in ex.evidence_requests if r.event_id.startswith(request_id)), None)
        if request is None:
            raise NotFound(f"no evidence request {request_id!r} on exercise {ex.exercise_id}")
        return paths, None if paths else list(request.paths), request.event_id
    if not paths and ex.open_requests:
        request = ex.open_requests[0]
        return None, list(request.paths), request.event_id
    return paths, None, None


def _snapshot_payload(
    inst: Instance,
    ex: ExerciseState,
    paths: Sequence[str] | None,
    globs: Sequence[str] | None,
    request_id: str | None,
    progress: Callable[[str], None] | None = None,
    include_ignored: bool = False,
    on_preview: Callable[[EvidencePreview], None] | None = None,
) -> EvidenceSnapshot:
    """The snapshot event's payload; ``on_preview`` sees what it shares and withholds first.

    Only the count of withheld files goes into the payload, never their names.
    ``on_preview`` may raise to stop the action before anything is written.
    """
    from .sharing.evidence import snapshot_with_preview

    session = inst.state.sessions[ex.session_id]
    snap, preview = snapshot_with_preview(
        inst.root,
        scope_rules(inst, session),
        paths=paths or None,
        since_commit=_since(inst, ex),
        globs=globs,
        progress=progress,
        include_ignored=include_ignored,
    )
    if on_preview is not None:
        on_preview(preview)
    return EvidenceSnapshot(exercise_id=ex.exercise_id, request_id=request_id, **snap)


def _since(inst: Instance, ex: ExerciseState) -> str | None:
    """The commit the exercise was assigned at, when the student's clone has it.

    A coach may assign from a commit the student has not fetched yet; changes are
    then taken against the student's own HEAD rather than failing.
    """
    commit = (ex.anchor.commit if ex.anchor is not None else "") or None
    if commit is None:
        return None
    import git

    try:
        git.Repo(inst.root).commit(commit)
    except (ValueError, git.BadName, git.InvalidGitRepositoryError, git.NoSuchPathError):
        return None
    return str(commit)


@user_action
def attach_evidence(
    inst: Instance,
    exercise_id: str,
    paths: Sequence[str] | None = None,
    request_id: str | None = None,
    progress: Callable[[str], None] | None = None,
    *,
    include_ignored: bool = False,
    on_preview: Callable[[EvidencePreview], None] | None = None,
) -> EnvelopeBase:
    """Send an evidence snapshot for an exercise (answering a request when ``request_id`` is given).

    Git-ignored files the student attached go only with ``include_ignored``;
    ``on_preview`` gets what is shared and withheld (see ``preview_evidence``).
    """
    ex = _own_exercise(inst, exercise_id, "attach evidence")
    paths, globs, request_id = _evidence_target(ex, paths, request_id, follow_requests=True)
    payload = _snapshot_payload(inst, ex, paths, globs, request_id, progress, include_ignored, on_preview)
    return inst.emit(ex.session_id, ex.student, payload)[0]


@user_action
def respond(
    inst: Instance,
    exercise_id: str,
    text: str,
    evidence: Sequence[str] | None = None,
    progress: Callable[[str], None] | None = None,
    *,
    include_ignored: bool = False,
    on_preview: Callable[[EvidencePreview], None] | None = None,
) -> str:
    """Answer an exercise, optionally with an evidence snapshot of ``evidence`` paths; returns the event id.

    ``evidence=[]`` attaches every change since the assignment. Git-ignored
    files go only with ``include_ignored``; ``on_preview`` gets what is shared
    and withheld. The snapshot, the response pointing at it and any lifecycle
    move are appended together: the ledger holds all of them or none.
    """
    ex = _own_exercise(inst, exercise_id, "respond")
    if ex.state == "passed":
        raise InvalidArgument(f"exercise {ex.exercise_id} has already passed")
    if not text.strip():
        raise InvalidArgument("the response is empty; say what you did or found")
    session = inst.state.sessions[ex.session_id]
    events: list[Payload] = []
    event_ids: dict[int, str] = {}
    ref = None
    if evidence is not None:
        paths, _globs, _request = _evidence_target(ex, evidence, None, follow_requests=False)
        snapshot = _snapshot_payload(inst, ex, paths, None, None, progress, include_ignored, on_preview)
        event_ids[0] = new_id()
        events.append(snapshot)
        ref = EvidenceRef(event_id=event_ids[0], files=len(snapshot.files), withheld=snapshot.withheld)
    stage = session.stage
    if ex.state == "assigned":
        events.append(ExerciseAcknowledged(exercise_id=ex.exercise_id))
        moved = _move(
            stage, ExerciseAcknowledged, _states_after(session, ex.exercise_id, "acknowledged"), None, "first exercise acknowledged"
        )
        events += moved
        stage = moved[0].to if moved else stage
    response_index = len(events)
    events.append(ExerciseResponse(exercise_id=ex.exercise_id, response=text, evidence=ref))
    events += _move(stage, ExerciseResponse, _states_after(session, ex.exercise_id, "responded"), None, "every exercise answered")
    out = inst.emit(ex.session_id, ex.student, events, event_ids=event_ids)
    return out[response_index].event_id


@user_action
def submit_progress(
    inst: Instance,
    session_id: str | None,
    completed: Iterable[str] = (),
    confidence: dict[str, float] | None = None,
) -> str:
    """Mark plan steps complete (in order) and rate confidence per topic; returns the event id."""
    require_role(inst, "student", "progress")
    session = _student_session(inst, session_id)
    completed = list(completed)
    steps: list[tuple[str, str]] = [(s.id, s.status) for s in session.steps]
    for step_id in completed:
        lifecycle.check_step_order(steps, step_id)
        steps = [(i, "done" if i == step_id else st) for i, st in steps]
    for topic, value in (confidence or {}).items():
        if not 0.0 <= value <= 1.0:
            raise InvalidArgument(f"confidence for {topic!r} must be between 0 and 1, not {value}")
    payload = ProgressUpdate(completed=completed, confidence=dict(confidence or {}))
    return inst.emit(session.session_id, session.student, payload)[0].event_id


def _student_session(inst: Instance, session_id: str | None) -> SessionState:
    if session_id:
        return find_session(inst, session_id)
    mine = [s for s in inst.state.sessions.values() if s.student == inst.identity and s.stage != "done"]
    if len(mine) != 1:
        raise InvalidArgument("name the session: you have " + (f"{len(mine)} open sessions" if mine else "no open session"))
    return mine[0]


# ---------------------------------------------------------------- reading


def inbox(inst: Instance) -> dict[str, Any]:
    """Plan, exercises (ids, anchors, state) and feedback — the same JSON for ``inbox --json`` and LSP."""
    student = inst.identity if inst.role == "student" else None
    data = inst.state.to_json(student=student)
    data.update(identity=inst.identity, role=inst.role, outbox=inst.ledger.outbox_length())
    return data
