"""What the coach sees inline: a trace of every open exercise they set, by the same rule as the student.

- At each anchor, one finding: ``review`` (information) while an answer or
  new evidence waits for the coach, with the answer, the evidence files of the
  anchor's own file and those missing from the coach's checkout folded in;
  otherwise ``exercise``: a hint while the student has the turn, information
  while the coach's ``revise`` is open (its mistakes on the anchor's lines
  said there).
- The mistakes of an open ``revise`` that lie elsewhere, each on its lines
  (``mistake``, information), in files the coach's checkout has: the mark
  stays where the coach filed it until the student answers again.
- Each other file of the student's unreviewed evidence, marked at its top as
  matching the coach's file or not (``evidence``, information).

Nothing is published for paths that do not exist in the coach's checkout:
those are named at the anchor instead.
"""

from __future__ import annotations

from typing import Any

from ..core.model.records import EvidenceRecord
from ..core.model.state import ExerciseState
from ..core.protocol.events import EvidenceFile
from .anchor_tracker import Tracked
from .coach_review import MATCH_TEXT, LocalBlobs, match_of, unreviewed_evidence
from .diagnostics import (
    AT_ANCHOR,
    EVIDENCE,
    EXERCISE,
    MISTAKE,
    REVIEW,
    Finding,
    Mistake,
    exercise_related,
    lost_note,
    mistakes_said,
    place_mistakes,
    safe_path,
    sentence,
    short,
)

NAMED_FILES = 5  # files of a snapshot named in the anchor's finding


def coach_findings(ex: ExerciseState, t: Tracked | None, blobs: LocalBlobs) -> list[Finding]:
    """The anchor's finding, the filed mistakes elsewhere and the evidence files of one open exercise."""
    if ex.state == "passed":
        return []
    snapshot = unreviewed_evidence(ex)
    evidence_here, evidence_elsewhere = _evidence(ex, t, snapshot, blobs)
    here, elsewhere = place_mistakes(ex.latest_feedback, t, lambda p: blobs.sha(p) is not None) if ex.state == "revise" else ([], [])
    found: list[Finding] = []
    if t is not None:
        found.append(_anchor_finding(ex, t, snapshot, evidence_here, here, elsewhere))
    related = exercise_related(ex, t, ex.student)
    for m in elsewhere:
        message = f"{short(ex.topic, 60)} · {short(ex.student, 60)} · mistake you filed, waiting for the revision — {short(m.text, 300)}"
        found.append(Finding(m.path or "", m.lines, "information", message, ex.exercise_id, MISTAKE, related, (("student", ex.student),)))
    for path, file, match in evidence_elsewhere:
        message = (
            f"{short(ex.topic, 60)} · {short(ex.student, 60)}'s evidence: {short(path, 200)} ({short(file.status, 20)}) {MATCH_TEXT[match]}"
        )
        found.append(
            Finding(
                path,
                (0, 0),
                "information",
                message,
                ex.exercise_id,
                EVIDENCE,
                related,
                (
                    ("student", ex.student),
                    ("match", match),
                    ("path", path),
                    ("evidence_id", snapshot.event_id if snapshot is not None else None),
                ),
            )
        )
    return found


def _anchor_finding(
    ex: ExerciseState, t: Tracked, snapshot: EvidenceRecord | None, evidence_here: list[str], here: list[Mistake], elsewhere: list[Mistake]
) -> Finding:
    topic, who = short(ex.topic, 60), short(ex.student, 60)
    details = []
    if ex.state == "responded" and ex.responses:
        again = " again" if ex.revise_count else ""
        head = f"{topic} · {who} answered{again} · next: Pass or Request revision"
        details.append(sentence(short(ex.responses[-1].text, 200)))
    elif snapshot is not None:
        head = f"{topic} · {who} sent evidence · next: look at it"
    elif ex.state == "revise":
        head = f"{topic} · {who} · revising"
    else:
        head = f"{topic} · {who} · " + ("not acknowledged yet" if ex.state == "assigned" else "working on it")
    if evidence_here:
        details.append("Evidence: " + "; ".join(evidence_here) + ".")
    if ex.state == "revise":
        feedback = ex.latest_feedback
        details.append(sentence(f"You asked: {short(feedback.next_step if feedback is not None else '', 120)}"))
        details.append(mistakes_said(here, elsewhere, t))
    if ex.open_requests and ex.state != "responded":
        details.append(f"Waiting for evidence on {short(', '.join(ex.open_requests[0].paths), 80)}.")
    waiting_for_you = ex.state == "responded" or snapshot is not None
    kind = REVIEW if waiting_for_you else EXERCISE
    severity = "information" if waiting_for_you or ex.state == "revise" else "hint"
    detail = " ".join(d for d in details if d)
    extra: tuple[tuple[str, Any], ...] = (("state", ex.state), ("student", who))
    if snapshot is not None:
        extra += (("evidence_id", snapshot.event_id),)
    return Finding(t.path, AT_ANCHOR, severity, lost_note(t) + head + (f" — {detail}" if detail else ""), ex.exercise_id, kind, (), extra)


def _evidence(
    ex: ExerciseState, t: Tracked | None, snapshot: EvidenceRecord | None, blobs: LocalBlobs
) -> tuple[list[str], list[tuple[str, EvidenceFile, str]]]:
    """The snapshot's files: (phrases for the anchor, (path, file, match) for other files of the checkout)."""
    if snapshot is None:
        return [], []
    here: list[str] = []
    absent: list[str] = []
    elsewhere = []
    for file in snapshot.snapshot.files:
        path = file.path
        if not safe_path(path):
            continue
        match = match_of(file, blobs.sha(path))
        if match == "missing":
            absent.append(path)
        elif t is not None and path == t.path:
            here.append(f"{short(path, 200)} {MATCH_TEXT[match]}")
        else:
            elsewhere.append((path, file, match))
    if absent and t is not None:
        named = ", ".join(short(p, 100) for p in absent[:NAMED_FILES]) + (
            f" and {len(absent) - NAMED_FILES} more" if len(absent) > NAMED_FILES else ""
        )
        here.append(f"{named} {'is' if len(absent) == 1 else 'are'} not in your checkout")
    return here, elsewhere
