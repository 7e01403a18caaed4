"""``colearner review`` as text: the queue of answers waiting, and one exercise's answer, evidence and diff.

Coloured on a terminal (the diff's added lines green, removed red, hunks
cyan), plain when piped or when ``NO_COLOR`` is set. Everything the student
sent (answer, names, the diff itself) came over the wire: each line goes
through ``visible``/``one_line`` before any colour is put around it, so an
escape sequence in the diff is shown, never obeyed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..core.display import one_line, visible
from ..core.review.versions import FileChange, display_diff
from ..core.review.work import ExerciseReview, Waiting

_STYLE = {"add": "32", "remove": "31", "hunk": "36", "head": "1", "dim": "2", "warn": "33"}
SOURCE_TEXT = {
    "diff": "rebuilt from the shared diff",
    "blob": "the student's blob, from your repository",
}


class _Paint:
    def __init__(self, colour: bool) -> None:
        self.colour = colour

    def __call__(self, style: str, text: str) -> str:
        return f"\x1b[{_STYLE[style]}m{text}\x1b[0m" if self.colour and text else text


def render_queue(waiting: Sequence[Waiting], colour: bool = False) -> str:
    """One line per answer waiting: since when, student, exercise (short id), topic, files."""
    paint = _Paint(colour)
    if not waiting:
        return "no answer is waiting for your review\n"
    rows = [
        (
            short_ts(w.waiting_since),
            one_line(w.student, 40),
            w.exercise_id[:8],
            one_line(w.topic, 40),
            _files(w.files),
        )
        for w in waiting
    ]
    heads = ("waiting since", "student", "exercise", "topic", "files")
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(heads[:4])]
    lines = [f"{len(waiting)} answer{'' if len(waiting) == 1 else 's'} waiting for your review, oldest first", ""]
    lines.append(paint("head", "  ".join(h.ljust(widths[i]) if i < 4 else h for i, h in enumerate(heads))))
    for row in rows:
        lines.append("  ".join(cell.ljust(widths[i]) if i < 4 else cell for i, cell in enumerate(row)).rstrip())
    lines += ["", paint("dim", "colearner review EXERCISE shows the answer, its evidence and the student's change")]
    return "\n".join(lines) + "\n"


def _files(files: Sequence[str], shown: int = 3) -> str:
    if not files:
        return "—"
    names = ", ".join(one_line(f, 80) for f in files[:shown])
    return names + (f" and {len(files) - shown} more" if len(files) > shown else "")


def render_review(review: ExerciseReview, colour: bool = False) -> str:
    """The exercise, the latest answer, the evidence summary with each file's state, then each file's diff."""
    paint = _Paint(colour)
    ex = review.exercise
    anchor = ex.anchor
    lines = [
        paint("head", f"exercise {ex.exercise_id[:8]} · {one_line(ex.topic, 80)} · {one_line(ex.student, 60)} · {one_line(ex.state, 20)}"),
        *_indented(visible(ex.exercise)),
    ]
    if anchor is not None:
        lines.append(f"  at {one_line(anchor.path, 200)}:{anchor.start_line}-{anchor.end_line}")
    lines.append("")
    if review.answer is None:
        lines.append("no answer yet")
    else:
        lines.append(paint("head", f"answer ({short_ts(review.answer.ts)}):"))
        lines += _indented(visible(review.answer.text))
    lines.append("")
    if review.evidence is None:
        lines.append("no evidence attached")
        return "\n".join(lines) + "\n"
    snap = review.evidence.snapshot
    when = short_ts(review.evidence.ts)
    lines.append(paint("head", f"evidence ({when}): {one_line(snap.summary, 300)}"))
    state = f"commit {one_line(snap.commit[:12])} on {one_line(snap.branch, 80)}"
    lines.append(f"  {state}" + (", with uncommitted changes" if snap.dirty else ""))
    if review.reviewed:
        lines.append(paint("dim", "  (sent before your latest feedback)"))
    for change in review.changes:
        lines.append(f"  {_file_line(change, paint)}")
    for change in review.changes:
        lines += ["", *_diff_lines(change, paint)]
    return "\n".join(lines) + "\n"


def _file_line(change: FileChange, paint: _Paint) -> str:
    what = one_line(change.status, 20)
    notes = "; ".join(one_line(n, 200) for n in change.notes)
    state = SOURCE_TEXT.get(change.source or "", "") if change.rebuilt else paint("warn", "cannot be shown")
    return "  ".join(part for part in (one_line(change.path, 200), what, notes, state) if part)


def _diff_lines(change: FileChange, paint: _Paint) -> list[str]:
    diff = display_diff(change)
    if diff is None:
        head = paint("head", f"{one_line(change.path, 200)}:")
        return [f"{head} {paint('warn', 'the student' + chr(39) + 's version cannot be shown:')} {one_line(change.reason or '', 600)}"]
    out = []
    for raw in diff.split("\n")[:-1] if diff.endswith("\n") else diff.split("\n"):
        line = visible(raw)
        if raw.startswith(("diff --git", "--- ", "+++ ", "index ", "new file", "deleted file", "rename ", "similarity", "Binary")):
            out.append(paint("head", line))
        elif raw.startswith("@@"):
            out.append(paint("hunk", line))
        elif raw.startswith("+"):
            out.append(paint("add", line))
        elif raw.startswith("-"):
            out.append(paint("remove", line))
        else:
            out.append(line)
    if not change.rebuilt:
        out.append(paint("warn", f"(the student's version cannot be rebuilt from this: {one_line(change.reason or '', 600)})"))
    return out


def _indented(text: str) -> list[str]:
    return ["  " + line for line in text.splitlines()] or ["  "]


def short_ts(ts: str) -> str:
    """``2026-01-31T12:00:00.123456Z`` → ``2026-01-31 12:00Z``."""
    date, _, time = ts.partition("T")
    return one_line(f"{date} {time[:5]}Z") if time else one_line(ts)


def review_json(review: ExerciseReview) -> dict[str, Any]:
    """``--json``: the review as ``as_json`` gives it, each file with the diff the text view prints."""
    data = review.as_json()
    if data["evidence"] is not None:
        for entry, change in zip(data["evidence"]["files"], review.changes):
            entry["diff"] = display_diff(change)
    return data
