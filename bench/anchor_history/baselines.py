"""The baselines the anchor relocation is compared with.

* keep-line: the anchor keeps its line numbers (what a stored line range does on its own).
* git-diff: each end of the range is carried through the hunks of ``git diff -U0`` between two
  commits (git's histogram algorithm: on the bench's history it places hunks a little better than
  the default one, so the baseline is the stronger of the two).  A line in an unchanged region
  shifts by the hunks above it.  A line inside a changed hunk is treated generously: a start goes
  to the first new line of the hunk, an end to its last; a deleted hunk sends a start to the line
  after the deletion and an end to the line before it.  The range is lost when its ends cross.
* git-diff (hunk start): the same, except that a line inside a changed hunk goes to the hunk's
  first new line whichever end it is, and is lost when the hunk only deleted lines.

The bench applies both git-diff kinds step by step (one release's diff after another, as an
editor's marker would move) and in one diff from the anchor's first version to the current one.
"""

from __future__ import annotations

import re
from pathlib import Path

from anchor_history.history import git

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@", re.M)


def keep_lines(start: int, end: int, new_length: int) -> tuple[int, int] | None:
    if start > new_length:
        return None
    return start, min(end, new_length)


def diff_hunks(repo: Path, old: str, new: str, path: str) -> list[tuple[int, int, int, int]]:
    out = git(repo, "diff", "-U0", "--no-color", "--no-ext-diff", "--diff-algorithm=histogram", old, new, "--", path)
    return [(int(a), int(b) if b else 1, int(c), int(d) if d else 1) for a, b, c, d in _HUNK.findall(out)]


def _carry(hunks: list[tuple[int, int, int, int]], line: int, is_start: bool, strict: bool) -> int | None:
    delta = 0
    for a, b, c, d in hunks:
        if b and a <= line < a + b:  # inside a changed hunk
            if strict:
                return c if d else None
            if d:
                return c if is_start else c + d - 1
            return c + 1 if is_start else c
        next_old = a + b if b else a + 1  # first old line after the hunk
        if line < next_old:
            break
        delta = (c + d if d else c + 1) - next_old
    return line + delta


def diff_map(hunks: list[tuple[int, int, int, int]], start: int, end: int, new_length: int, strict: bool = False) -> tuple[int, int] | None:
    s, e = _carry(hunks, start, True, strict), _carry(hunks, end, False, strict)
    if s is None or e is None or min(e, new_length) < s or s > new_length:
        return None
    return s, min(e, new_length)
