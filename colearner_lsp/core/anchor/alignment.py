"""Aligning an anchor's lines with a stretch of the file: patience-diff pairs of unique lines,
and the stretches between them matched token by token (short anchors) or by line hashes.

``anchor_match`` asks an ``Alignment`` how much of the anchor a candidate range holds.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Sequence
from difflib import SequenceMatcher

from colearner_lsp.core.anchor.anchor_fingerprint import Fingerprint
from colearner_lsp.core.anchor.anchor_text import TextIndex, bracket_depth

# A body score: Dice over units (extra lines cost), recall of units, share of the anchor's lines spanned.
B_DICE, B_RECALL, B_SPAN = 0.5, 0.25, 0.25
UNBALANCED = 0.1  # a body leaving a bracket open (or closing one) the anchor did not


def patience_pairs(mine: Sequence[int], theirs: Sequence[int], strong: Sequence[bool]) -> list[tuple[int, int]]:
    """Pairs (i, j) of equal lines: those unique on both sides and ``strong`` (a lone ``)`` or
    ``else:`` says too little to anchor anything), kept in a common order (longest increasing run,
    as in patience diff), each extended over the equal lines around it."""
    count_mine: defaultdict[int, int] = defaultdict(int)
    count_theirs: defaultdict[int, int] = defaultdict(int)
    for k in mine:
        count_mine[k] += 1
    where: dict[int, int] = {}
    for j, k in enumerate(theirs):
        count_theirs[k] += 1
        where[k] = j
    unique = [(i, where[k]) for i, k in enumerate(mine) if count_mine[k] == 1 and count_theirs.get(k) == 1 and strong[where[k]]]
    # Longest increasing subsequence of j over pairs sorted by i (patience sorting).
    tails: list[int] = []  # index into unique of the smallest tail of each run length
    tail_js: list[int] = []
    back: list[int] = [-1] * len(unique)
    for n, (_, j) in enumerate(unique):
        pos = bisect_left(tail_js, j)
        back[n] = tails[pos - 1] if pos else -1
        tails[pos : pos + 1] = [n]
        tail_js[pos : pos + 1] = [j]
    chain: list[tuple[int, int]] = []
    n = tails[-1] if tails else -1
    while n >= 0:
        chain.append(unique[n])
        n = back[n]
    chain.reverse()
    paired = dict(chain)
    used = set(paired.values())
    for i, j in chain:  # extend each anchor over equal neighbours, both ways
        for step in (1, -1):
            a, b = i + step, j + step
            while 0 <= a < len(mine) and 0 <= b < len(theirs) and a not in paired and b not in used and mine[a] == theirs[b]:
                paired[a] = b
                used.add(b)
                a, b = a + step, b + step
    return sorted(paired.items())


class Alignment:
    """The anchor aligned with file lines ``lo..hi-1``.  Per line: how many of the anchor's units it
    matched, how many it has, and the first and last anchor lines those matches came from.

    Lines are paired patience-diff style: lines unique in both sides anchor the alignment (so a
    near-duplicate block next door cannot capture the repeated ``)`` or ``return`` lines), runs of
    equal lines extend them.  The stretches between are then aligned token by token for short
    anchors (a word diff: an edited or re-wrapped line still lines up with what it became), or by
    line hashes for long ones."""

    def __init__(self, fp: Fingerprint, index: TextIndex, lo: int, hi: int) -> None:
        self.fp, self.lo = fp, lo
        size = hi - lo
        self._hits, self.first, self.last = [0] * size, [0] * size, [0] * size
        mine, region = list(fp.head + fp.tail), index.keys[lo:hi]
        pairs = patience_pairs(mine, region, [len(index.tokens(j)) >= 3 for j in range(lo, hi)])
        for i, j in pairs:
            self._hit(j, fp.unit_lines[i] if not fp.texts else i, len(fp.line_tokens[i]) if fp.texts else 1)
        # The stretches between paired lines; the outer ones reach only a little beyond the pairs.
        bounds = [(-1, -1)] + pairs + [(len(mine), size)]
        for (i0, j0), (i1, j1) in zip(bounds, bounds[1:]):
            if i1 - i0 < 2 or j1 - j0 < 2:
                continue
            if pairs and i0 < 0:
                j0 = max(j0, j1 - 1 - (4 * (i1 - i0 - 1) + 8))
            if pairs and i1 == len(mine):
                j1 = min(j1, j0 + 1 + 4 * (i1 - i0 - 1) + 8)
            # Before the first pair, equal candidates are taken nearest it (a generic ``template<typename T>``
            # just above the anchored code, not the same line further up).
            self._fill(fp, index, i0 + 1, i1, j0 + 1, j1, nearest_last=bool(pairs) and i0 < 0)
        totals = [len(index.tokens(j)) if fp.texts else 1 for j in range(lo, hi)]
        hits = self._hits
        self.matched_lines = [lo + j for j in range(size) if hits[j]]
        # Lines mostly made of the anchor's units: a range may start or end there, not on a line
        # that only shares a bracket or a common word with it.
        self.good = [lo + j for j in range(size) if hits[j] and 2 * hits[j] >= totals[j]]
        self._matched, self._total, self._depth = [0], [0], [0]
        for j, (m, t) in enumerate(zip(hits, totals)):
            self._matched.append(self._matched[-1] + m)
            self._total.append(self._total[-1] + t)
            self._depth.append(self._depth[-1] + (bracket_depth(index.tokens(lo + j)) if fp.texts else 0))

    def before_edges(self, good: list[int]) -> list[int]:
        """Lines just above well-matched lines that matched less of their own text, but only units
        from earlier anchor lines: an anchored line since rewritten, at the anchor's edge."""
        lo = self.lo
        return [g - 1 for g in good if g - 1 >= lo and self._hits[g - 1 - lo] and self.last[g - 1 - lo] < self.first[g - lo]]

    def after_edges(self, good: list[int]) -> list[int]:
        """The same below well-matched lines: units from later anchor lines only."""
        lo, size = self.lo, len(self._hits)
        return [g + 1 for g in good if g + 1 - lo < size and self._hits[g + 1 - lo] and self.first[g + 1 - lo] > self.last[g - lo]]

    def balance(self, s: int, e: int, hi: int, reach: int = 12) -> tuple[int, int]:
        """Widen ``s..e`` until it leaves as many brackets open as the anchor did: a statement
        re-wrapped over more lines is taken whole, up to its closing bracket."""

        def depth(a: int, b: int) -> int:
            return self._depth[b - self.lo + 1] - self._depth[a - self.lo]

        want = self.fp.depth
        e2 = e
        while depth(s, e2) > want and e2 + 1 < min(hi, e + reach):
            e2 += 1
        s2 = s
        while depth(s2, e2) < want and s2 - 1 >= max(self.lo, s - reach):
            s2 -= 1
        return (s2, e2) if depth(s2, e2) == want else (s, e)

    def _fill(self, fp: Fingerprint, index: TextIndex, i1: int, i2: int, j1: int, j2: int, nearest_last: bool = False) -> None:
        """Align anchor lines ``i1..i2-1`` with region lines ``j1..j2-1`` (both relative); with
        ``nearest_last``, of equally good alignments the one nearest the stretch's end wins."""
        if not fp.texts:
            part = SequenceMatcher(None, list((fp.head + fp.tail)[i1:i2]), [index.keys[self.lo + j] for j in range(j1, j2)])
            for blk in part.get_matching_blocks():
                for k in range(blk.size):
                    self._hit(j1 + blk.b + k, fp.unit_lines[i1 + blk.a + k], 1)
            return
        mine = [(tok, i) for i in range(i1, i2) for tok in fp.line_tokens[i]]
        theirs = [(tok, j) for j in range(j1, j2) for tok in index.tokens(self.lo + j)]
        if nearest_last:  # difflib breaks ties towards the start: align the reversed sequences
            mine.reverse()
            theirs.reverse()
        # difflib's "popular element" heuristic only where the stretch is big enough to need it.
        big = len(mine) * len(theirs) > 250_000
        matcher = SequenceMatcher(None, [t for t, _ in mine], [t for t, _ in theirs], autojunk=big)
        hits = sorted((theirs[blk.b + k][1], mine[blk.a + k][1]) for blk in matcher.get_matching_blocks() for k in range(blk.size))
        for j, line in hits:
            self._hit(j, line, 1)

    def _hit(self, j: int, line: int, count: int) -> None:
        if not self._hits[j]:
            self.first[j] = line
        self._hits[j] += count
        self.last[j] = line

    def body(self, s: int, e: int) -> float:
        """Similarity of lines ``s..e`` to the anchor: half Dice over units (extra lines cost),
        a quarter recall of units, a quarter the share of the anchor's lines the range spans
        (so lines inserted inside an anchor, or an anchored statement re-wrapped, stay in)."""
        units = len(self.fp.units)
        i, j = s - self.lo, e - self.lo + 1
        m, w = self._matched[j] - self._matched[i], self._total[j] - self._total[i]
        if not units or not m:
            return 0.0
        if not self.fp.texts:
            w = min(w, units)  # a long anchor only kept its first and last lines
        inside = self.matched_lines[bisect_left(self.matched_lines, s) : bisect_right(self.matched_lines, e)]
        first, last = self.fp.nonblank
        span = (self.last[inside[-1] - self.lo] - self.first[inside[0] - self.lo] + 1) / (last - first + 1)
        body = B_DICE * 2.0 * m / (units + w) + B_RECALL * m / units + B_SPAN * min(span, 1.0)
        if self.fp.texts and self._depth[j] - self._depth[i] != self.fp.depth:
            body -= UNBALANCED  # it leaves a bracket open (or closes one) that the anchor did not
        return body
