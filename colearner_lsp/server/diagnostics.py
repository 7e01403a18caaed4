"""What the editor shows inline, as findings: diagnostics without LSP types.

The rule holds for every LSP client, not only VS Code:

- **one finding per exercise, at its anchor**: its state and the one next
  action, short (code ``exercise``; the coach's is ``review`` while an answer
  or evidence waits for them);
- **one per mistake on lines of its own** (code ``mistake``); a mistake on the
  exercise's own lines, or on no lines, is said in the exercise's finding;
- **each text said once**: a mistake's text appears in exactly one finding,
  and a finding points at another place (related information) only when that
  place is elsewhere.

Severity: hint or information for coaching; warning only where the student
must act on the coach's word (an exercise to revise, and its mistakes). The
source is always ``colearner`` and the code is the kind, so a client can
filter.

A :class:`Finding` is a file, 0-based lines (or "wherever the exercise's code
is now"), a severity, a message and the exercise it is about.
``student_findings`` derives them from an exercise's folded state (the
coach's side is ``coach_findings``); the :class:`DiagnosticStore` keeps them
per exercise and hands out, per file, what to publish; ``diagnostic_json`` is
the one place they become LSP diagnostics (and where ``one_line`` makes their
wire text visible).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from lsprotocol import types

from ..core.model.records import FeedbackRecord
from ..core.model.state import ExerciseState
from .anchor_tracker import Tracked
from .next_action import STUDENT_ACTION_TITLE, student_next

SOURCE = "colearner"
END_OF_LINE = 2**31 - 1  # LSP: a character past the line's end means the end of the line

# The codes (also ``data.kind``): what a client filters on.
EXERCISE = "exercise"  # an exercise at its anchor: state and next action (student; coach while the student has the turn)
REVIEW = "review"  # coach: an exercise whose answer or evidence waits for your review, at its anchor
MISTAKE = "mistake"  # a mistake of the latest feedback, on lines of its own (student: to fix; coach: you filed it)
EVIDENCE = "evidence"  # coach: a file of the student's unreviewed evidence, in another file of your checkout
KINDS = (EXERCISE, REVIEW, MISTAKE, EVIDENCE)

SEVERITY = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "information": types.DiagnosticSeverity.Information,
    "hint": types.DiagnosticSeverity.Hint,
}

AT_ANCHOR = None  # a finding or related location placed wherever the exercise's code is now

FOLDED_MISTAKES = 3  # mistake texts said in the exercise's finding; the hover lists the rest
POINTED_PLACES = 3  # places of mistakes elsewhere named in the exercise's finding


@dataclass(frozen=True)
class Related:
    path: str
    lines: tuple[int, int] | None  # 0-based first and last line; AT_ANCHOR: the exercise's current place
    message: str


@dataclass(frozen=True)
class Finding:
    """A diagnostic in the making, about one exercise.

    ``lines`` are 0-based and inclusive, or AT_ANCHOR: then the place is looked
    up in the anchor tracker when publishing (the exercise's anchor, or the
    ``place`` tracked for a mistake), so an edit that moves the code moves the
    diagnostic without rebuilding it.
    """

    path: str
    lines: tuple[int, int] | None
    severity: str
    message: str
    exercise_id: str
    kind: str  # one of KINDS
    related: tuple[Related, ...] = ()
    extra: tuple[tuple[str, Any], ...] = ()
    place: str | None = None  # with lines AT_ANCHOR: the tracked place it sits at (default: the exercise's anchor)

    @property
    def tracked_as(self) -> str:
        """The anchor tracker's key of the place this finding follows when it has no fixed lines."""
        return self.place or self.exercise_id

    def data(self) -> dict[str, Any]:
        return {"exercise_id": self.exercise_id, "kind": self.kind, **dict(self.extra)}


# Runs of ordinary whitespace fold to one space. Not ``str.split()``: it also
# takes separators and controls (U+001C, U+2028, …) for whitespace, and those
# must stay for ``one_line`` to show (``diagnostic_json`` applies it).
_SPACES = re.compile(r"[ \t\r\n]+")


def short(text: object, limit: int = 240) -> str:
    """Wire text folded to one short line (cut with "…"); still to be shown through ``one_line``."""
    one = _SPACES.sub(" ", str(text)).strip(" ")
    return one if len(one) <= limit else one[: limit - 1] + "…"


def sentence(text: str) -> str:
    """``text`` ending as a sentence does, so the next one can follow it."""
    return text if not text or text[-1] in ".!?…:" else text + "."


def short_id(exercise_id: str) -> str:
    """The part of an id a person reads (the topic says the rest)."""
    return exercise_id[:8]


def lost_note(t: Tracked | None) -> str:
    if t is None or t.range is not None:
        return ""
    seen = t.last_seen
    return f"The code this exercise pointed at has moved or been deleted (was {t.path}:{seen.start_line}-{seen.end_line}). "


def exercise_related(ex: ExerciseState, t: Tracked | None, who: str) -> tuple[Related, ...]:
    """A pointer from a finding elsewhere back to the exercise's code."""
    if t is None:
        return ()
    return (Related(t.path, AT_ANCHOR, f"exercise '{short(ex.topic, 60)}' ({short_id(ex.exercise_id)}) from {short(who, 60)}"),)


def safe_path(path: str) -> bool:
    """A repository-relative path a peer may name (no absolute path, no '..', nothing in .git)."""
    parts = str(path).replace("\\", "/").split("/")
    return bool(path) and not str(path).startswith("/") and ".." not in parts and ".git" not in parts and "\0" not in path


# ---------------------------------------------------------------- mistakes


@dataclass(frozen=True)
class Mistake:
    """One mistake of a feedback, with its place when it names a usable one."""

    text: str
    path: str | None = None
    lines: tuple[int, int] | None = None  # 0-based, inclusive

    @property
    def where(self) -> str:
        if self.path is None or self.lines is None:
            return ""
        first, last = self.lines
        return f"{self.path}:{first + 1}" + (f"-{last + 1}" if last > first else "")


def mistakes_of(feedback: FeedbackRecord | None) -> list[Mistake]:
    found = []
    for m in feedback.mistakes if feedback is not None else ():
        path, first = m.path, m.start_line
        if not path or not first or not safe_path(path):
            found.append(Mistake(m.text))  # no usable place: said at the exercise
            continue
        last = max(first, m.end_line or first)
        found.append(Mistake(m.text, path, (first - 1, last - 1)))
    return found


def on_exercise_lines(m: Mistake, t: Tracked | None) -> bool:
    """True when the mistake lies within the exercise's code as it is now."""
    if t is None or t.range is None or m.path != t.path or m.lines is None:
        return False
    return t.range.start_line - 1 <= m.lines[0] and m.lines[1] <= t.range.end_line - 1


def place_mistakes(
    feedback: FeedbackRecord | None, t: Tracked | None, can_mark: Callable[[str], bool] = lambda path: True
) -> tuple[list[Mistake], list[Mistake]]:
    """The feedback's mistakes split into (said at the exercise's anchor, marked on their own lines).

    A mistake goes to the anchor when it lies on the exercise's lines, names no
    usable place, or names a file that ``can_mark`` refuses (the coach's
    checkout may not have it)."""
    here, elsewhere = [], []
    for m in mistakes_of(feedback):
        if t is None or m.lines is None or m.path is None or on_exercise_lines(m, t) or not can_mark(m.path):
            here.append(m)
        else:
            elsewhere.append(m)
    return here, elsewhere


def mistakes_said(here: list[Mistake], elsewhere: list[Mistake], t: Tracked | None) -> str:
    """The anchor's sentence about mistakes: the texts of those it holds, the places of the others."""
    parts = []
    if here:
        shown = [
            short(m.text, 100) + (f" ({short(m.where, 60)})" if m.where and not on_exercise_lines(m, t) else "")
            for m in here[:FOLDED_MISTAKES]
        ]
        more = f"; {len(here) - FOLDED_MISTAKES} more (hover)" if len(here) > FOLDED_MISTAKES else ""
        parts.append(sentence(("Mistake: " if len(here) == 1 else "Mistakes: ") + "; ".join(shown) + more))
    if elsewhere:
        places = ", ".join(short(m.where, 60) for m in elsewhere[:POINTED_PLACES]) + (", …" if len(elsewhere) > POINTED_PLACES else "")
        parts.append(f"{len(elsewhere)} {'mistake' if len(elsewhere) == 1 else 'mistakes'} on other lines: {places}.")
    return " ".join(parts)


# ---------------------------------------------------------------- the student's findings


def student_severity(ex: ExerciseState) -> str:
    if ex.state == "revise":
        return "warning"  # the coach asked for a change
    if ex.state == "assigned" or ex.open_requests:
        return "information"  # a new exercise, or a request the coach waits on
    return "hint"  # in progress, or the coach's turn


def _student_message(ex: ExerciseState, t: Tracked | None, here: list[Mistake], elsewhere: list[Mistake]) -> str:
    topic, nxt, coach = short(ex.topic, 60), student_next(ex), short(ex.coach, 60)
    state = {
        "assigned": f"new from {coach}",
        "acknowledged": "in progress",
        "responded": f"answer sent, waiting for {coach}'s review",
        "revise": "to revise",
    }.get(ex.state, ex.state)
    head = f"{topic} · {state}"
    if nxt is not None:
        head += " · next: " + ("fix it, then Respond" if nxt == "respond" and ex.state == "revise" else STUDENT_ACTION_TITLE[nxt])
    details = []
    if ex.open_requests:
        request = ex.open_requests[0]
        more = f" (+{len(ex.open_requests) - 1} more)" if len(ex.open_requests) > 1 else ""
        paths = short(", ".join(request.paths), 80)
        details.append(sentence(f"{coach} asks for evidence on {paths}: {short(request.reason, 120)}{more}"))
    if ex.state == "revise":
        feedback = ex.latest_feedback
        details.append(sentence(f"{coach}: {short(feedback.next_step if feedback is not None else '', 120)}"))
        details.append(mistakes_said(here, elsewhere, t))
    elif not ex.open_requests and ex.state in ("assigned", "acknowledged"):
        details.append(short(ex.exercise, 120))
    detail = " ".join(d for d in details if d)
    return lost_note(t) + head + (f" — {detail}" if detail else "")


def student_findings(ex: ExerciseState, t: Tracked | None) -> list[Finding]:
    """Everything the student should see about one open exercise: its finding, and its mistakes elsewhere."""
    if ex.state == "passed" or t is None:
        return []
    here, elsewhere = place_mistakes(ex.latest_feedback, t) if ex.state == "revise" else ([], [])
    extra: tuple[tuple[str, Any], ...] = (("state", ex.state),)
    if ex.open_requests:
        extra += (("request_id", ex.open_requests[0].event_id),)
    found = [
        Finding(t.path, AT_ANCHOR, student_severity(ex), _student_message(ex, t, here, elsewhere), ex.exercise_id, EXERCISE, (), extra)
    ]
    related = exercise_related(ex, t, ex.coach)
    for m in elsewhere:
        message = f"{short(ex.topic, 60)} · mistake · next: fix it, then Respond — {short(m.text, 300)}"
        found.append(Finding(m.path or t.path, m.lines, "warning", message, ex.exercise_id, MISTAKE, related))
    return found


# ---------------------------------------------------------------- the store


@dataclass
class DiagnosticStore:
    """Findings per exercise, and which files each exercise has findings in."""

    by_exercise: dict[str, list[Finding]] = field(default_factory=dict)
    by_path: dict[str, dict[str, list[Finding]]] = field(default_factory=dict)

    def set(self, exercise_id: str, findings: Iterable[Finding]) -> set[str]:
        """Replace an exercise's findings; returns the files whose diagnostics changed."""
        findings = list(findings)
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
