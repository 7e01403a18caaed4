"""The student's actions: acknowledging, answering with evidence, progress, the inbox."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import InvalidArgument, NotFound
from ..instance import Instance
from ..model import lifecycle
from ..model.state import ExerciseState, SessionState
from ..protocol.event_types import Payload
from ..protocol.events import (
    EnvelopeBase,
    EvidenceRef,
    EvidenceSnapshot,
    ExerciseAcknowledged,
    ExerciseResponse,
    ProgressUpdate,
    ScopePolicy,
    new_id,
)

if TYPE_CHECKING:  # evidence needs gitpython: imported when evidence is taken
    from ..sharing.evidence import EvidencePreview
    from ..sharing.scope import ScopeRules


from .rules import find_exercise, find_session, lifecycle_move, require_role, states_after, user_action


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
    events += lifecycle_move(
        session.stage, ExerciseAcknowledged, states_after(session, ex.exercise_id, "acknowledged"), None, "first exercise acknowledged"
    )
    return inst.emit(ex.session_id, ex.student, events)[0].event_id


def scope_rules(inst: Instance, session: SessionState) -> ScopeRules:
    """The rules in force for a session: the coach's signed policy plus the student's own deny list."""
    from ..sharing.scope import DEFAULT_STUDENT_DENY, ScopeRules

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
    from ..sharing.evidence import preview_snapshot

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
    from ..sharing.evidence import snapshot_with_preview

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
        moved = lifecycle_move(
            stage, ExerciseAcknowledged, states_after(session, ex.exercise_id, "acknowledged"), None, "first exercise acknowledged"
        )
        events += moved
        stage = moved[0].to if moved else stage
    response_index = len(events)
    events.append(ExerciseResponse(exercise_id=ex.exercise_id, response=text, evidence=ref))
    events += lifecycle_move(stage, ExerciseResponse, states_after(session, ex.exercise_id, "responded"), None, "every exercise answered")
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
