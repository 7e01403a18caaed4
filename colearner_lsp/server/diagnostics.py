"""What the student sees inline: one finding per exercise, mistake and evidence request.

A :class:`Finding` is a diagnostic without LSP types: a file, 0-based lines (or
"wherever the exercise's code is now"), a severity, a message and the exercise
it is about. ``student_findings`` derives them from an exercise's folded state;
the :class:`DiagnosticStore` keeps them per exercise and hands out, per file,
what to publish; ``diagnostic_json`` is the one place they become LSP
diagnostics.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from lsprotocol import types

from ..core.state import ExerciseState
from .anchor_tracker import Tracked

SOURCE = "colearner"
END_OF_LINE = 2**31 - 1  # LSP: a character past the line's end means the end of the line

SEVERITY = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "information": types.DiagnosticSeverity.Information,
    "hint": types.DiagnosticSeverity.Hint,
}
STATE_SEVERITY = {"assigned": "information", "acknowledged": "hint", "responded": "hint", "revise": "warning"}


AT_ANCHOR = None  # a finding or related location placed wherever the exercise's code is now


@dataclass(frozen=True)
class Related:
    path: str
    lines: tuple[int, int] | None  # 0-based first and last line; AT_ANCHOR: the exercise's current place
    message: str


@dataclass(frozen=True)
class Finding:
    """A diagnostic in the making, about one exercise.

    ``lines`` are 0-based and inclusive, or AT_ANCHOR: then the place is looked
    up in the anchor tracker when publishing, so an edit that moves the code
    moves the diagnostic without rebuilding it.
    """

    path: str
    lines: tuple[int, int] | None
    severity: str
    message: str
    exercise_id: str
    kind: str  # exercise | mistake | evidence_request | review | evidence
    related: tuple[Related, ...] = ()
    extra: tuple[tuple[str, Any], ...] = ()

    def data(self) -> dict[str, Any]:
        return {"exercise_id": self.exercise_id, "kind": self.kind, **dict(self.extra)}


# Runs of ordinary whitespace fold to one space. Not ``str.split()``: it also
# takes separators and controls (U+001C, U+2028, …) for whitespace, and those
# must stay for ``one_line`` to show (``diagnostic_json`` applies it).
_SPACES = re.compile(r"[ \t\r\n]+")


def short(text: str, limit: int = 240) -> str:
    one = _SPACES.sub(" ", str(text)).strip(" ")
    return one if len(one) <= limit else one[: limit - 1] + "…"


def lost_note(t: Tracked | None) -> str:
    if t is None or t.range is not None:
        return ""
    seen = t.last_seen
    return f"The code this exercise pointed at has moved or been deleted (was {t.path}:{seen.start_line}-{seen.end_line}). "


def exercise_related(ex: ExerciseState, t: Tracked | None, who: str) -> tuple[Related, ...]:
    if t is None:
        return ()
    return (Related(t.path, AT_ANCHOR, f"exercise '{ex.topic}' ({ex.exercise_id[:8]}) from {who}"),)


def _main_message(ex: ExerciseState) -> str:
    what = f"'{ex.topic}': {short(ex.exercise)} — Expected: {short(ex.expected, 160)}"
    if ex.state == "assigned":
        return f"{ex.coach} assigned {what}. Acknowledge it to start (code action: Acknowledge)."
    if ex.state == "acknowledged":
        return f"Exercise {what}. Respond when done (code action: Respond)."
    if ex.state == "responded":
        return f"Exercise '{ex.topic}': answer sent; waiting for {ex.coach}'s review."
    feedback = ex.latest_feedback or {}
    mistakes = "; ".join(short(m.get("text", ""), 120) for m in feedback.get("mistakes", []))
    told = f" Mistakes: {mistakes}." if mistakes else ""
    return (
        f"Revise '{ex.topic}': {short(feedback.get('next_step', 'see the feedback'), 200)}.{told} "
        "Fix it and respond again (code action: Respond)."
    )


def student_findings(ex: ExerciseState, t: Tracked | None) -> list[Finding]:
    """Everything the student should see about one open exercise."""
    if ex.state == "passed" or t is None:
        return []
    related = exercise_related(ex, t, ex.coach)
    found = [
        Finding(t.path, AT_ANCHOR, STATE_SEVERITY.get(ex.state, "information"), lost_note(t) + _main_message(ex),
                ex.exercise_id, "exercise", related, (("state", ex.state),))
    ]
    feedback = ex.latest_feedback
    if ex.state == "revise" and feedback:
        found += _mistakes(ex, feedback, related)
    for request in ex.open_requests:
        message = (
            f"{ex.coach} asks for evidence on '{ex.topic}': {', '.join(request['paths'])} — {short(request['reason'], 200)}. "
            "Code action: Answer evidence request (shares a snapshot of the matching files the scope allows)."
        )
        found.append(Finding(t.path, AT_ANCHOR, "information", message, ex.exercise_id, "evidence_request", related,
                             (("request_id", request["event_id"]),)))
    return found


def _mistakes(ex: ExerciseState, feedback: dict[str, Any], related: tuple[Related, ...]) -> list[Finding]:
    found = []
    for m in feedback.get("mistakes", []):
        path, first = m.get("path"), m.get("start_line")
        if not path or not first or not safe_path(path):
            continue
        last = max(first, m.get("end_line") or first)
        message = f"Mistake in '{ex.topic}': {short(m.get('text', ''), 300)} — next: {short(feedback.get('next_step', ''), 160)}"
        found.append(Finding(path, (first - 1, last - 1), "warning", message, ex.exercise_id, "mistake", related))
    return found


def safe_path(path: str) -> bool:
    """A repository-relative path a peer may name (no absolute path, no '..', nothing in .git)."""
    parts = str(path).replace("\\", "/").split("/")
    return bool(path) and not str(path).startswith("/") and ".." not in parts and ".git" not in parts and "\0" not in path


@dataclass
class DiagnosticStore:
    """Findings per exercise, and which files each exercise has findings in."""

    by_exercise: dict[str, list[Finding]] = field(default_factory=dict)
    by_path: dict[str, dict[str, list[Finding]]] = field(default_factory=dict)

    def set(self, exercise_id: str, findings: list[Finding]) -> set[str]:
        """Replace an exercise's findings; returns the files whose diagnostics changed."""
        old = self.by_exercise.pop(exercise_id, [])
        touched = {f.path for f in old}
        for path in touched:
            self.by_path.get(path, {}).pop(exercise_id, None)
        if findings:
            self.by_exercise[exercise_id] = findings
            for f in findings:
                self.by_path.setdefault(f.path, {}).setdefault(exercise_id, []).append(f)
        return set() if old == findings else touched | {f.path for f in findings}

    def for_path(self, path: str) -> list[Finding]:
        return [f for fs in self.by_path.get(path, {}).values() for f in fs]

    def paths(self) -> list[str]:
        return [p for p, by in self.by_path.items() if by]

    def for_exercise(self, exercise_id: str) -> list[Finding]:
        return list(self.by_exercise.get(exercise_id, []))
