"""Anchors: an exercise pinned to lines of a file, found again after the file changed.

A coach anchors an exercise to lines ``start_line..end_line`` (1-based, inclusive)
of a file at a commit.  The wire anchor carries those numbers and a *fingerprint*
made by :func:`make_fingerprint`; the student's instance keeps the range in step
with each edit (:func:`shift_range`) and, when its text may have diverged (another
commit, a reopened file), finds the code again with :func:`relocate_anchor`.

Fingerprint format (opaque to everyone else, stable across machines)::

    "v1." + urlsafe-base64 without padding ( zlib ( compact JSON ) )

The JSON (see ``Fingerprint.to_json``) holds the line count and original start,
24-bit crc32 hashes of every whitespace-normalised line (the first and last 256
only, for ranges longer than 512 lines), a hash of the whole block, the
normalised text of short ranges (up to 60 lines and 2000 characters), hashes of
three non-blank lines of context on each side, up to three enclosing def/class
names, and whether the range starts with a def/class line and whether it is
exactly one indentation block.  It stays under 4 KB for any range.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from colearner_lsp.core.anchor.anchor_fingerprint import decode_fingerprint
from colearner_lsp.core.anchor.anchor_match import find_block
from colearner_lsp.core.anchor.anchor_text import (
    LINE_BREAKS,
    index_of,
    lines_of,
)

# Below this score the best candidate is taken for different code: the anchor is lost.
# Chosen on real release histories with bench/bench_anchors.py (its --lost-below option tries others).
LOST_BELOW = 0.5


@dataclass(frozen=True)
class LineRange:
    """Lines ``start_line..end_line`` of a file, 1-based and inclusive."""

    start_line: int
    end_line: int

    def __post_init__(self) -> None:
        if self.start_line < 1:
            raise ValueError(f"start_line must be 1 or more (lines are 1-based), got {self.start_line}")
        if self.end_line < self.start_line:
            raise ValueError(f"start_line {self.start_line} is after end_line {self.end_line}")


@dataclass(frozen=True)
class Relocation:
    """Where an anchor's code is now.

    ``exact``: same text at the same lines; ``moved``: same text elsewhere; ``fuzzy``:
    the best match, with edits; ``lost``: nothing similar enough (``range`` is None).
    ``score`` is 1.0 for exact and moved, else the match confidence (0..1).
    """

    status: Literal["exact", "moved", "fuzzy", "lost"]
    range: LineRange | None
    score: float


@dataclass(frozen=True)
class TextEdit:
    """One LSP incremental change: replace ``(start_line, start_char)``..``(end_line, end_char)``
    (0-based, end exclusive, like an LSP Range) with ``new_text``."""

    start_line: int
    start_char: int
    end_line: int
    end_char: int
    new_text: str

    def __post_init__(self) -> None:
        if min(self.start_line, self.start_char, self.end_line, self.end_char) < 0:
            raise ValueError(f"edit positions must not be negative: {self}")
        if (self.start_line, self.start_char) > (self.end_line, self.end_char):
            raise ValueError(f"edit starts at {self.start_line}:{self.start_char}, after its end {self.end_line}:{self.end_char}")


def relocate_anchor(fingerprint: str, text: str, hint: LineRange | None = None) -> Relocation:
    """Find the fingerprinted code in ``text`` (the file as it is now).

    ``hint`` is where the code was last seen; it is checked first (fast path) and,
    among equally good matches, the nearest one wins.  Without a hint the anchor's
    original lines play that part.  Raises ValueError for a malformed fingerprint.
    """
    fp = decode_fingerprint(fingerprint)
    lines = lines_of(text)
    if not lines:
        return Relocation("lost", None, 0.0)
    near = hint.start_line - 1 if hint is not None else fp.start
    if fp.matches_at(lines, near):
        return Relocation("exact", LineRange(near + 1, near + fp.n), 1.0)
    match = find_block(fp, index_of(text), near)
    if match is None or match.score < LOST_BELOW:
        return Relocation("lost", None, round(match.score, 4) if match else 0.0)
    found = LineRange(match.start + 1, match.end + 1)
    if match.identical:
        return Relocation("exact" if match.start == near else "moved", found, 1.0)
    return Relocation("fuzzy", found, round(match.score, 4))


def shift_range(r: LineRange, edit: TextEdit) -> LineRange | None:
    """Carry ``r`` through one incremental edit, the way an editor's marker moves.

    The range spans from the start of its first line to the start of the line after
    it.  Text inserted exactly at its start pushes it down (lines inserted above);
    text inserted exactly after its end stays outside; an edit inside grows or
    shrinks it; an edit overlapping an edge moves that edge to the edit; text
    replacing exactly the range becomes the range.  Returns None when the range's
    lines are all deleted, or replaced together with text around them.
    """
    parts = LINE_BREAKS.split(edit.new_text)
    inserted_end = (
        edit.start_line + len(parts) - 1,
        (edit.start_char if len(parts) == 1 else 0) + len(parts[-1]),
    )
    begin, end = (edit.start_line, edit.start_char), (edit.end_line, edit.end_char)

    def carry(pos: tuple[int, int], pushed_by_insert: bool) -> tuple[int, int]:
        if pos < begin or (pos == begin and not (begin == end and pushed_by_insert)):
            return pos
        if pos < end:  # inside the replaced text: the range's start keeps the replacement, its end takes it
            return begin if pushed_by_insert else inserted_end
        line, char = pos
        if line == end[0]:
            return inserted_end[0], inserted_end[1] + char - end[1]
        return line + inserted_end[0] - end[0], char

    first, after = (r.start_line - 1, 0), (r.end_line, 0)  # after: start of the line after the range
    if begin <= first and after <= end and (begin, end) != (first, after):
        return None  # the range went with a larger span of text
    start = carry(first, pushed_by_insert=True)
    stop = carry(after, pushed_by_insert=False)
    last = stop[0] if stop[1] > 0 else stop[0] - 1
    if last < start[0]:
        return None
    return LineRange(start[0] + 1, last + 1)
