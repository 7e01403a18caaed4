"""What the coach sees inline: answers waiting for review and the evidence behind them.

Each file a student's latest (not yet reviewed) evidence snapshot names shows
up in the coach's own checkout, marked by comparing the student's git blob id
with the coach's file: it *matches*, *differs*, or is *not available* here.
Files the coach does not have are listed on the exercise's anchor instead, so
nothing is published for paths that do not exist locally.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..core.evidence import EvidenceError, blob_sha_of
from ..core.state import ExerciseState
from .anchor_tracker import Tracked
from .diagnostics import AT_ANCHOR, Finding, exercise_related, lost_note, safe_path, short

MATCH_TEXT = {
    "matches": "matches your checkout",
    "differs": "differs from your checkout",
    "missing": "is not available in your checkout",
}


class LocalBlobs:
    """Git blob ids of the coach's files, recomputed only when a file's mtime or size changes."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._cache: dict[str, tuple[int, int, str]] = {}

    def sha(self, path: str) -> str | None:
        target = self.root / path
        try:
            info = os.stat(target)
        except (FileNotFoundError, NotADirectoryError):
            return None
        if not os.path.isfile(target):
            return None
        cached = self._cache.get(path)
        if cached and cached[:2] == (info.st_mtime_ns, info.st_size):
            return cached[2]
        try:
            sha = blob_sha_of(target)
        except (OSError, EvidenceError):
            return None
        self._cache[path] = (info.st_mtime_ns, info.st_size, sha)
        return sha


def match_of(file: dict[str, Any], local: str | None) -> str:
    if local is None:
        return "missing"
    return "matches" if file.get("blob_sha") == local else "differs"


def unreviewed_evidence(ex: ExerciseState) -> dict[str, Any] | None:
    """The latest snapshot, unless feedback came after it."""
    if not ex.evidence:
        return None
    latest = ex.evidence[-1]
    feedback = ex.latest_feedback
    if feedback and feedback.get("ts", "") >= latest.get("ts", ""):
        return None
    return latest


def coach_findings(ex: ExerciseState, t: Tracked | None, blobs: LocalBlobs) -> list[Finding]:
    """The review and evidence findings of one exercise, in the coach's checkout."""
    if ex.state == "passed":
        return []
    related = exercise_related(ex, t, ex.student)
    found: list[Finding] = []
    if ex.state == "responded" and ex.responses and t is not None:
        answer = short(ex.responses[-1].get("text", ""), 300)
        message = (
            f"{lost_note(t)}{ex.student} responded to '{ex.topic}': {answer} — review it "
            "(code actions: Pass, Request revision, Request more evidence)."
        )
        found.append(Finding(t.path, AT_ANCHOR, "information", message, ex.exercise_id, "review", related,
                             (("student", ex.student),)))
    snapshot = unreviewed_evidence(ex)
    if snapshot is not None:
        found += _evidence_findings(ex, t, snapshot, blobs, related)
    return found


def _evidence_findings(ex: ExerciseState, t: Tracked | None, snapshot: dict[str, Any], blobs: LocalBlobs, related) -> list[Finding]:  # type: ignore[no-untyped-def]
    found: list[Finding] = []
    absent: list[str] = []
    who = f"Evidence from {ex.student} for '{ex.topic}' ({ex.exercise_id[:8]})"
    for file in snapshot.get("files", []):
        path = file.get("path", "")
        if not safe_path(path):
            continue
        match = match_of(file, blobs.sha(path))
        if match == "missing":
            absent.append(path)
            continue
        where = AT_ANCHOR if t is not None and path == t.path else (0, 0)
        message = f"{who}: {path} ({file.get('status', 'changed')}) {MATCH_TEXT[match]}."
        found.append(Finding(path, where, "information", message, ex.exercise_id, "evidence", related,
                             (("student", ex.student), ("match", match), ("path", path), ("evidence_id", snapshot.get("event_id")))))
    if absent and t is not None:
        message = f"{who}: {', '.join(absent)} {'is' if len(absent) == 1 else 'are'} not available in your checkout."
        found.append(Finding(t.path, AT_ANCHOR, "information", message, ex.exercise_id, "evidence", related,
                             (("student", ex.student), ("match", "missing"), ("paths", tuple(absent)))))
    return found
