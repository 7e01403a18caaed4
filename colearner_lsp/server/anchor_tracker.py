"""Where each exercise's anchor sits now, per file, while the student (or coach) edits.

Two ways keep a range on its code:

- an editor's incremental change moves every range in that file with
  ``shift_range`` (cheap line arithmetic, exact while the edits are known);
- a file whose text changed without us seeing the edits (saved from another
  tool, a commit, a checkout) is searched again with ``relocate_anchor``, using
  the last known range as the hint.

A range whose code is gone is kept as *lost*, with the lines it was last seen
at, so the exercise is shown at the top of the file instead of disappearing.
Plain Python: no LSP types, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ..core.anchor.anchor_text import LINE_BREAKS
from ..core.anchor.anchors import LineRange, Relocation, TextEdit, relocate_anchor, shift_range
from ..core.protocol.events import Anchor

LIVE = "edited"  # a range carried by the editor's edits, not confirmed by a relocation


@dataclass
class Tracked:
    """One anchored exercise: its file, its fingerprint and where its code is now."""

    exercise_id: str
    path: str
    fingerprint: str
    original: LineRange
    range: LineRange | None
    status: str  # exact | moved | fuzzy | edited | lost
    last_seen: LineRange  # where the code was last known to be (for "was PATH:A-B")

    @property
    def lost(self) -> bool:
        return self.range is None

    def covers(self, first: int, last: int) -> bool:
        """True when 0-based lines ``first..last`` touch this range."""
        if self.range is None:
            return first == 0
        return first <= self.range.end_line - 1 and last >= self.range.start_line - 1


# What is placed: an exercise's anchor, or bare lines (a mistake's place, which has no fingerprint).
Placed = Anchor | LineRange


def anchor_lines(anchor: Placed) -> LineRange:
    start = max(1, anchor.start_line)
    return LineRange(start, max(start, anchor.end_line))


def _fingerprint(anchor: Placed) -> str:
    return anchor.fingerprint if isinstance(anchor, Anchor) else ""


def locate(anchor: Placed, text: str | None, hint: LineRange | None = None) -> Relocation:
    """Find an anchor's code in ``text`` (None: the file is missing)."""
    return _locate(_fingerprint(anchor), anchor_lines(anchor), text, hint)


def _locate(fingerprint: str, original: LineRange, text: str | None, hint: LineRange | None) -> Relocation:
    if text is None:
        return Relocation("lost", None, 0.0)
    if fingerprint:
        try:
            return relocate_anchor(fingerprint, text, hint)
        except ValueError:
            pass  # a damaged fingerprint: fall back to the lines as given
    lines = original if hint is None else hint
    total = max(1, text.count("\n") + (0 if text.endswith("\n") else 1))
    if lines.start_line > total:
        return Relocation("lost", None, 0.0)
    return Relocation("exact", LineRange(lines.start_line, min(lines.end_line, total)), 1.0)


class AnchorTracker:
    """Live anchor ranges, indexed by exercise and by file."""

    def __init__(self) -> None:
        self._by_id: dict[str, Tracked] = {}
        self._by_path: dict[str, dict[str, Tracked]] = {}

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, exercise_id: str) -> bool:
        return exercise_id in self._by_id

    def get(self, exercise_id: str) -> Tracked | None:
        return self._by_id.get(exercise_id)

    def place(self, exercise_id: str) -> tuple[int, int]:
        """0-based first and last line of an anchor now; line 0 when its code is lost (or it is not tracked)."""
        t = self._by_id.get(exercise_id)
        r = t.range if t is not None else None
        return (0, 0) if r is None else (r.start_line - 1, r.end_line - 1)

    def in_path(self, path: str) -> list[Tracked]:
        return list(self._by_path.get(path, {}).values())

    def paths(self) -> list[str]:
        return list(self._by_path)

    def __iter__(self) -> Iterator[Tracked]:
        return iter(list(self._by_id.values()))

    def add(self, exercise_id: str, path: str, anchor: Placed, found: Relocation) -> Tracked:
        """Start tracking an anchor at the place ``found`` says (replacing any earlier entry)."""
        self.remove(exercise_id)
        original = anchor_lines(anchor)
        tracked = Tracked(
            exercise_id=exercise_id,
            path=path,
            fingerprint=_fingerprint(anchor),
            original=original,
            range=found.range,
            status=found.status,
            last_seen=found.range or original,
        )
        self._by_id[exercise_id] = tracked
        self._by_path.setdefault(path, {})[exercise_id] = tracked
        return tracked

    def remove(self, exercise_id: str) -> Tracked | None:
        tracked = self._by_id.pop(exercise_id, None)
        if tracked is not None:
            in_file = self._by_path.get(tracked.path, {})
            in_file.pop(exercise_id, None)
            if not in_file:
                self._by_path.pop(tracked.path, None)
        return tracked

    def apply_edits(self, path: str, edits: Iterable[TextEdit]) -> list[str]:
        """Carry every range in ``path`` through the edits, in order; returns the exercises that moved."""
        moved: set[str] = set()
        in_file = list(self._by_path.get(path, {}).values())
        for edit in edits:
            # Most ranges lie wholly above or below a keystroke: they stay, or move by the lines it
            # added or removed. ``shift_range`` (which says the same for them) handles the rest.
            delta = edit.start_line + len(LINE_BREAKS.split(edit.new_text)) - 1 - edit.end_line
            for t in in_file:
                r = t.range
                if r is None or edit.start_line > r.end_line:  # the edit starts below the range (edit lines are 0-based)
                    continue
                if edit.end_line < r.start_line - 1:  # the edit ends on a line above the range
                    if delta == 0:
                        continue
                    new: LineRange | None = LineRange(r.start_line + delta, r.end_line + delta)
                else:
                    new = shift_range(r, edit)
                    if new == r:
                        continue
                moved.add(t.exercise_id)
                if new is None:
                    t.range, t.status = None, "lost"
                else:
                    t.range, t.last_seen, t.status = new, new, LIVE
        return sorted(moved)

    def apply_relocation(self, exercise_id: str, found: Relocation, keep_live: bool = False) -> bool:
        """Take a relocation's answer; returns True when the range or status changed.

        With ``keep_live`` (the file is open and its edits were followed) a range
        carried by the edits wins over a fuzzy or failed search: the student is
        rewriting that code, which is no reason to lose the exercise.
        """
        t = self._by_id.get(exercise_id)
        if t is None:
            return False
        if keep_live and t.range is not None and found.status in ("fuzzy", "lost"):
            return False
        before = (t.range, t.status)
        t.range, t.status = found.range, found.status
        if found.range is not None:
            t.last_seen = found.range
        return before != (t.range, t.status)

    def relocate_path(self, path: str, text: str | None, keep_live: bool = False) -> list[str]:
        """Search ``text`` again for every anchor in ``path``; returns the exercises that changed."""
        changed = []
        for t in self.in_path(path):
            found = relocate(t, text)
            if self.apply_relocation(t.exercise_id, found, keep_live):
                changed.append(t.exercise_id)
        return changed


def relocate(t: Tracked, text: str | None) -> Relocation:
    """Search for a tracked anchor's code in ``text``, starting from where it was last seen."""
    return _locate(t.fingerprint, t.original, text, t.range or t.last_seen)
