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

from ..actions.rules import find_exercise, require_role, user_action
from ..display import one_line
from ..errors import InvalidArgument, NotFound, ScopeError
from ..instance import Instance
from ..model.records import EvidenceRecord, ResponseRecord, anchor_json
from ..model.state import ExerciseState
from ..sharing.repo_paths import lexical_repo_path
from .versions import FileChange, rebuild_changes


def unreviewed_evidence(ex: ExerciseState) -> EvidenceRecord | None:
    """The latest snapshot, unless feedback came after it."""
    if not ex.evidence:
        return None
    latest = ex.evidence[-1]
    feedback = ex.latest_feedback
    if feedback and feedback.ts >= latest.ts:
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
        files = tuple(f.path for f in snapshot.snapshot.files) if snapshot is not None else ()
        answer = ex.responses[-1].text if ex.responses else ""
        anchor: dict[str, Any] | None = None
        if ex.anchor is not None:
            anchor = {"path": ex.anchor.path, "start_line": ex.anchor.start_line, "end_line": ex.anchor.end_line}
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
    answer: ResponseRecord | None  # the latest response
    evidence: EvidenceRecord | None  # the evidence reviewed here
    reviewed: bool  # feedback came after that evidence
    changes: list[FileChange]

    def as_json(self) -> dict[str, Any]:
        ex, record = self.exercise, self.evidence
        evidence = None
        if record is not None:
            snap = record.snapshot
            evidence = {
                "event_id": record.event_id,
                "ts": record.ts,
                "commit": snap.commit,
                "branch": snap.branch,
                "dirty": snap.dirty,
                "summary": snap.summary,
                "withheld": snap.withheld,
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
            "anchor": anchor_json(ex.anchor),
            "answer": None if self.answer is None else {"text": self.answer.text, "ts": self.answer.ts},
            "evidence": evidence,
        }


def bases_of(ex: ExerciseState, evidence: EvidenceRecord) -> list[str]:
    """The commits the student's diff may be against: the exercise's, when the student had it; else their HEAD."""
    return [c for c in (ex.anchor.commit if ex.anchor is not None else "", evidence.snapshot.commit) if c]


def _evidence(ex: ExerciseState, evidence_id: str | None) -> EvidenceRecord | None:
    """The evidence named, else the latest."""
    if evidence_id is None:
        return ex.evidence[-1] if ex.evidence else None
    for evidence in ex.evidence:
        if evidence.event_id == evidence_id:
            return evidence
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
    evidence = _evidence(ex, evidence_id)
    changes = rebuild_changes(inst.root, evidence.to_json(), bases_of(ex, evidence)) if evidence is not None else []
    feedback = ex.latest_feedback
    reviewed = evidence is not None and feedback is not None and feedback.ts >= evidence.ts
    return ExerciseReview(ex, ex.responses[-1] if ex.responses else None, evidence, reviewed, changes)


@dataclass(frozen=True)
class StudentWork:
    """One evidence file's change, with the exercise and the snapshot it is part of."""

    exercise: ExerciseState
    evidence: EvidenceRecord
    change: FileChange


@user_action
def student_change(inst: Instance, exercise_id: str, path: str, evidence_id: str | None = None) -> StudentWork:
    """One evidence file of an exercise (of its latest evidence, or ``evidence_id``): its base and
    the student's version, or why not."""
    ex = _coach_exercise(inst, exercise_id)
    evidence = _evidence(ex, evidence_id)
    if evidence is None:
        raise NotFound(f"exercise {ex.exercise_id} has no evidence yet; ask for some with 'colearner request-evidence'")
    try:
        wanted = lexical_repo_path(path)
    except ScopeError as exc:  # the message says what is wrong with the path
        raise InvalidArgument(str(exc)) from None
    found = rebuild_changes(inst.root, evidence.to_json(), bases_of(ex, evidence), [wanted])
    if not found:
        names = ", ".join(one_line(f.path, 100) for f in evidence.snapshot.files[:10]) or "no file"
        raise NotFound(f"{one_line(wanted, 200)} is not in this evidence of exercise {ex.exercise_id} (it has {names})")
    return StudentWork(ex, evidence, found[0])
