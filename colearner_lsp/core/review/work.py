"""The coach's review: the queue of answers waiting, and one exercise's answer with the student's change.

One function per thing the coach asks for, called by the CLI (``colearner
review``), the language server (``colearner.showStudentChange``, the review
tree) and the demo alike:

- ``review_queue``: every answer waiting for this coach's review, across
  students, the one waiting longest first;
- ``review_exercise``: an exercise's latest answer, its evidence and each
  evidence file's base and student versions (see ``versions``);
- ``student_change``: one evidence file of one exercise, both versions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..actions import find_exercise, require_role, user_action
from ..display import one_line
from ..errors import InvalidArgument, NotFound, ScopeError
from ..instance import Instance
from ..model.state import ExerciseState
from ..sharing.repo_paths import lexical_repo_path
from .versions import FileChange, rebuild_changes


def unreviewed_evidence(ex: ExerciseState) -> dict[str, Any] | None:
    """The latest snapshot, unless feedback came after it."""
    if not ex.evidence:
        return None
    latest = ex.evidence[-1]
    feedback = ex.latest_feedback
    if feedback and feedback.get("ts", "") >= latest.get("ts", ""):
        return None
    return latest


# ---------------------------------------------------------------- the queue


@dataclass(frozen=True)
class Waiting:
    """One answer waiting for review."""

    exercise_id: str
    session_id: str
    student: str
    topic: str
    waiting_since: str  # when the answer came (RFC 3339)
    answer: str
    files: tuple[str, ...]  # the paths of the evidence not reviewed yet
    anchor: dict[str, Any] | None  # the exercise's place as assigned (path, start_line, end_line)

    def as_json(self) -> dict[str, Any]:
        return {
            "exercise_id": self.exercise_id,
            "session_id": self.session_id,
            "student": self.student,
            "topic": self.topic,
            "waiting_since": self.waiting_since,
            "answer": self.answer,
            "files": list(self.files),
            "anchor": self.anchor,
        }


def queue_of(exercises: Iterable[ExerciseState], coach: str) -> list[Waiting]:
    """The answers to ``coach``'s exercises waiting for review, oldest first."""
    waiting = []
    for ex in exercises:
        if ex.state != "responded" or ex.coach != coach:
            continue
        snapshot = unreviewed_evidence(ex)
        files = tuple(str(f.get("path", "")) for f in (snapshot or {}).get("files", []))
        answer = str(ex.responses[-1].get("text", "")) if ex.responses else ""
        anchor: dict[str, Any] | None = None
        if ex.anchor:
            anchor = {key: ex.anchor[key] for key in ("path", "start_line", "end_line") if key in ex.anchor}
        since = ex.responded_at or ex.assigned_at
        waiting.append(Waiting(ex.exercise_id, ex.session_id, ex.student, ex.topic, since, answer, files, anchor))
    waiting.sort(key=lambda w: (w.waiting_since, w.student, w.exercise_id))
    return waiting


@user_action
def review_queue(inst: Instance) -> list[Waiting]:
    """Every answer waiting for this coach's review, across students, the one waiting longest first."""
    require_role(inst, "coach", "review")
    return queue_of(list(inst.state.exercises.values()), inst.identity)


# ---------------------------------------------------------------- one exercise


@dataclass(frozen=True)
class ExerciseReview:
    """An exercise's latest answer and the evidence behind it, each file's versions rebuilt."""

    exercise: ExerciseState
    answer: dict[str, Any] | None  # the latest response: text, ts, evidence (an event id)
    snapshot: dict[str, Any] | None  # the evidence reviewed here
    reviewed: bool  # feedback came after that evidence
    changes: list[FileChange]

    def as_json(self) -> dict[str, Any]:
        ex, snap = self.exercise, self.snapshot
        evidence = None
        if snap is not None:
            evidence = {
                "event_id": snap.get("event_id"),
                "ts": snap.get("ts"),
                "commit": snap.get("commit"),
                "branch": snap.get("branch"),
                "dirty": snap.get("dirty"),
                "summary": snap.get("summary"),
                "withheld": snap.get("withheld"),
                "reviewed": self.reviewed,
                "files": [change.as_json() for change in self.changes],
            }
        return {
            "exercise_id": ex.exercise_id,
            "session_id": ex.session_id,
            "student": ex.student,
            "topic": ex.topic,
            "exercise": ex.exercise,
            "expected": ex.expected,
            "state": ex.state,
            "anchor": ex.anchor,
            "answer": None if self.answer is None else {"text": self.answer.get("text"), "ts": self.answer.get("ts")},
            "evidence": evidence,
        }


def bases_of(ex: ExerciseState, snapshot: dict[str, Any]) -> list[str]:
    """The commits the student's diff may be against: the exercise's, when the student had it; else their HEAD."""
    return [str(c) for c in ((ex.anchor or {}).get("commit"), snapshot.get("commit")) if c]


def _snapshot(ex: ExerciseState, evidence_id: str | None) -> dict[str, Any] | None:
    """The evidence named, else the latest."""
    if evidence_id is None:
        return ex.evidence[-1] if ex.evidence else None
    for snapshot in ex.evidence:
        if snapshot.get("event_id") == evidence_id:
            return snapshot
    raise NotFound(f"exercise {ex.exercise_id} has no evidence {evidence_id!r}; 'colearner review {ex.exercise_id}' shows its evidence")


def _coach_exercise(inst: Instance, exercise_id: str) -> ExerciseState:
    require_role(inst, "coach", "review")
    ex = find_exercise(inst, exercise_id)
    if ex.coach != inst.identity:
        raise NotFound(f"exercise {ex.exercise_id} was assigned by {ex.coach!r}, not by you")
    return ex


@user_action
def review_exercise(inst: Instance, exercise_id: str, evidence_id: str | None = None) -> ExerciseReview:
    """The exercise's latest answer and its evidence (the latest, or ``evidence_id``), every file rebuilt."""
    ex = _coach_exercise(inst, exercise_id)
    snapshot = _snapshot(ex, evidence_id)
    changes = rebuild_changes(inst.root, snapshot, bases_of(ex, snapshot)) if snapshot is not None else []
    feedback = ex.latest_feedback
    reviewed = snapshot is not None and feedback is not None and feedback.get("ts", "") >= snapshot.get("ts", "")
    return ExerciseReview(ex, ex.responses[-1] if ex.responses else None, snapshot, reviewed, changes)


@dataclass(frozen=True)
class StudentWork:
    """One evidence file's change, with the exercise and the snapshot it is part of."""

    exercise: ExerciseState
    snapshot: dict[str, Any]
    change: FileChange


@user_action
def student_change(inst: Instance, exercise_id: str, path: str, evidence_id: str | None = None) -> StudentWork:
    """One evidence file of an exercise (of its latest evidence, or ``evidence_id``): its base and
    the student's version, or why not."""
    ex = _coach_exercise(inst, exercise_id)
    snapshot = _snapshot(ex, evidence_id)
    if snapshot is None:
        raise NotFound(f"exercise {ex.exercise_id} has no evidence yet; ask for some with 'colearner request-evidence'")
    try:
        wanted = lexical_repo_path(path)
    except ScopeError as exc:  # the message says what is wrong with the path
        raise InvalidArgument(str(exc)) from None
    found = rebuild_changes(inst.root, snapshot, bases_of(ex, snapshot), [wanted])
    if not found:
        names = ", ".join(one_line(f.get("path"), 100) for f in snapshot.get("files", [])[:10]) or "no file"
        raise NotFound(f"{one_line(wanted, 200)} is not in this evidence of exercise {ex.exercise_id} (it has {names})")
    return StudentWork(ex, snapshot, found[0])
