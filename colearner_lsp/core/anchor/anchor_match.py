"""Finding an anchor's lines again in changed text: the search behind ``relocate_anchor``.

0-based inclusive line indices here, no wire dataclasses.  It works on any text file:

* lines are compared by a 24-bit hash of their normalised form (whitespace and
  quote style do not count), so re-indenting or reformatting does not break a match;
* short anchors also keep their text and are aligned token by token, so a
  statement re-wrapped over several lines, or edited in place, still matches;
* candidate places come from exact copies of the block and from votes of its
  rarer lines and context lines (like patience diff's unique lines);
* two structural hints, harmless outside Python: the chain of enclosing
  ``def``/``class`` names, and whether the anchor is exactly one indentation
  block (a whole function, a whole ``if``), whose extent it then follows;
* an anchor on a whole definition is also looked for by name: the one definition
  under the same name and enclosing names is that definition, however rewritten
  (an anchor made once is searched for again after every commit, long after its
  text has drifted from the fingerprint).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import TYPE_CHECKING

from colearner_lsp.core.anchor.anchor_text import BLANK, TextIndex, block_hash, bracket_depth

if TYPE_CHECKING:
    from colearner_lsp.core.anchor.anchors import Fingerprint

COMMON = 8  # a line found more often than this in the file does not vote for a position
MAX_COPIES = 50  # identical copies weighed, nearest first; beyond that the block is too generic to tell
OFFSETS = 3  # voted positions examined (the hint's position is examined too)
NEAR_REACH = 25  # lines searched on each side of where the anchor was last seen
EDGE_LINES = 8  # how many end lines are tried for each start line
# A body score: Dice over units (extra lines cost), recall of units, share of the anchor's lines spanned.
B_DICE, B_RECALL, B_SPAN = 0.5, 0.25, 0.25
UNBALANCED = 0.1
TOP_WINDOWS = 5  # windows of a region, best body first, whose context and names are weighed
W_BODY, W_CONTEXT, W_NAME = 0.7, 0.2, 0.1  # weights of the evidence, renormalised over what is present
SURE = 0.9  # an identical copy scoring this much (context and names agree) ends the search
# A whole definition found again under its own name, inside the same enclosing definitions, and the
# only one so named there, is the same definition however much its body was rewritten: its score is
# at least this (above anchors.LOST_BELOW: a fuzzy match, not a lost one); better matches still win.
NAMED = 0.55
# What a definition matched under another name, its own name gone from the file, must score beyond
# a plain match to be taken for the renamed definition rather than lost (bench/bench_anchors.py).
RENAMED_PENALTY = 0.1


@dataclass(frozen=True)
class Match:
    start: int  # 0-based, inclusive
    end: int
    score: float  # 0..1: body similarity weighted with context and name agreement
    identical: bool  # the anchored text, unchanged


def find_block(fp: Fingerprint, index: TextIndex, near: int) -> Match | None:
    """Best placement of the anchored lines in ``index``, whatever its score; None when nothing resembles them.

    ``near`` (0-based) is where the code was last seen: its neighbourhood is always searched,
    and of equally good places the closest wins.
    """
    if not index.keys:
        return None
    found: dict[tuple[int, int], Match] = {}

    def consider(s: int, e: int, body: float, identical: bool = False) -> None:
        m = Match(s, e, _score(fp, index, s, e, body), identical)
        if (s, e) not in found or identical or m.score > found[(s, e)].score:
            found[(s, e)] = m

    for p in _exact_copies(fp, index, near):
        e = _follow_block(fp, index, p, p + fp.n - 1)
        if e == p + fp.n - 1:
            consider(p, e, 1.0, identical=True)
        else:  # the block grew or shrank around unchanged lines
            consider(p, e, _Alignment(fp, index, p, e + 1).body(p, e))
    best = _best(found.values(), near)
    if best is not None and best.identical and best.score >= SURE:
        return best
    for lo, hi in _regions(fp, index, near):
        windows = sorted(_windows(fp, index, lo, hi), key=lambda w: -w[2])
        for s, e, body in windows[:TOP_WINDOWS]:
            consider(s, e, body)
    named = _same_definition(fp, index)
    if named is not None:
        s, e = named
        if (s, e) not in found:
            consider(s, e, _Alignment(fp, index, s, e + 1).body(s, e))
        m = found[(s, e)]
        found[(s, e)] = Match(s, e, max(m.score, NAMED), m.identical)
    best = _best(found.values(), near)
    if best is not None and not best.identical and named is None and _renamed(fp, index, best.start):
        # A whole definition whose name is gone, matched by a declaration of another name: a
        # rename only when most of it survives; otherwise it was deleted and that is its look-alike.
        best = Match(best.start, best.end, best.score - RENAMED_PENALTY, False)
    return best


def _renamed(fp: Fingerprint, index: TextIndex, s: int) -> bool:
    """The anchor is a whole definition, no definition of its name is left, and ``s`` declares
    another name."""
    if not (fp.header and fp.block and fp.names) or index.headed(fp.names[0]):
        return False
    own = index.header(s)
    return own is not None and own != fp.names[0]


def _same_definition(fp: Fingerprint, index: TextIndex) -> tuple[int, int] | None:
    """For an anchor on a whole def/class: the definition now heading a block under the same name
    and the same enclosing names, when there is exactly one."""
    if not (fp.header and fp.block and fp.names):
        return None
    same = [s for s in index.headed(fp.names[0]) if index.names(s) == fp.names]
    if len(same) != 1:
        return None
    s = same[0]
    e = index.block_end(s)
    return (s, e) if e > s else None


def _best(matches: Iterable[Match], near: int) -> Match | None:
    return min(matches, key=lambda m: (-round(m.score, 9), abs(m.start - near)), default=None)


def _follow_block(fp: Fingerprint, index: TextIndex, s: int, e: int) -> int:
    """For block anchors, the end is wherever the block headed by ``s`` ends now."""
    if fp.block:
        end = index.block_end(s)
        if end > s:
            return end
    return e


def _exact_copies(fp: Fingerprint, index: TextIndex, near: int) -> list[int]:
    """Start lines of unchanged copies of the anchor, nearest to ``near`` first, at most MAX_COPIES."""
    rarest: list[int] = []
    at = -1
    for i, k in enumerate(fp.head):
        where = index.positions.get(k)
        if where is None:
            return []
        if at < 0 or len(where) < len(rarest):
            rarest, at = where, i
    head, tail, n = list(fp.head), list(fp.tail), fp.n
    out: list[int] = []
    for p in sorted((q - at for q in rarest), key=lambda p: abs(p - near)):
        if p < 0 or p + n > len(index.keys) or index.keys[p : p + len(head)] != head:
            continue
        if tail and index.keys[p + n - len(tail) : p + n] != tail:
            continue
        if block_hash(index.norms[p : p + n]) == fp.whole:
            out.append(p)
            if len(out) == MAX_COPIES:
                break
    return out


def _regions(fp: Fingerprint, index: TextIndex, near: int) -> list[tuple[int, int]]:
    """Stretches of the file worth aligning the anchor with: around the start lines voted for by the
    anchor's rarer lines and its context (patience-diff style), and around ``near``."""
    votes: defaultdict[int, float] = defaultdict(float)

    def cast(k: int, at: int, weight: float) -> None:
        where = index.positions.get(k)
        if k == BLANK or where is None or len(where) > COMMON:
            return
        for q in where:
            votes[q - at] += weight / len(where)

    for i, k in enumerate(fp.head):
        cast(k, i, 1.0)
    for j, k in enumerate(fp.tail):
        cast(k, fp.n - len(fp.tail) + j, 1.0)
    for k, d in fp.before:
        cast(k, -d, 0.5)
    for k, d in fp.after:
        cast(k, fp.n - 1 + d, 0.5)
    # Short anchors are aligned token by token, and a re-wrapped statement can take many more lines.
    slack = max(10, fp.n) if fp.texts else min(max(4, fp.n // 3), 300)
    picked: list[int] = []
    for o, _ in sorted(votes.items(), key=lambda kv: (-kv[1], abs(kv[0] - near))):
        if all(abs(o - p) > slack for p in picked):
            picked.append(o)
            if len(picked) == OFFSETS:
                break
    last = len(index.keys)
    out = [(max(0, o - slack), min(last, o + fp.n + slack)) for o in picked]
    reach = max(slack, NEAR_REACH)  # the code was last seen at ``near``: look around it more widely
    out.append((max(0, near - reach), min(last, near + fp.n + reach)))
    return [(lo, hi) for lo, hi in out if lo < hi]


def _patience(mine: Sequence[int], theirs: Sequence[int], strong: Sequence[bool]) -> list[tuple[int, int]]:
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


class _Alignment:
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
        pairs = _patience(mine, region, [len(index.tokens(j)) >= 3 for j in range(lo, hi)])
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


def _windows(fp: Fingerprint, index: TextIndex, lo: int, hi: int) -> list[tuple[int, int, float]]:
    """Candidate (start, end, body) in lines ``lo..hi-1``: ranges between well-matched lines,
    or, for a block anchor, whole indentation blocks."""
    al = _Alignment(fp, index, lo, hi)
    good = al.good or al.matched_lines
    if not good:
        return []
    first, last = fp.nonblank
    if not fp.texts:  # long anchor: its extent is settled by the first and last matched lines
        starts, ends = good[:EDGE_LINES], good[-EDGE_LINES:]
    else:
        starts, ends = good + al.before_edges(good), sorted(set(good + al.after_edges(good)))
    starts = [_over_blanks(index, s, -1, first) for s in starts]
    if fp.header:  # the def/class line may have been re-wrapped or renamed: look just above
        starts += [h for s in starts if (h := _header_above(index, s, fp.names[0])) is not None]

    def body(s: int, e: int) -> float:  # a header found above, or a block, may reach past the region
        return al.body(s, e) if lo <= s and e < hi else _Alignment(fp, index, s, e + 1).body(s, e)

    out = []
    if fp.block:
        heads = [s for s in set(starts) if index.norms[s] and index.block_end(s) > s]
        if fp.header and any(index.header(s) for s in heads):  # a def stays a def
            heads = [s for s in heads if index.header(s)]
        out = [(s, e, body(s, e)) for s in heads for e in (index.block_end(s),)]
        if out:
            return out
    longest = 2 * fp.n + 10
    for s in set(starts):
        within = ends[bisect_left(ends, s) : bisect_right(ends, s + longest)]
        for e in within[-EDGE_LINES:]:
            s2, e2 = al.balance(s, e, hi) if fp.texts else (s, e)
            out.append((s2, _over_blanks(index, e2, 1, fp.n - 1 - last), body(s2, e2)))
    return out


def _over_blanks(index: TextIndex, i: int, step: int, count: int) -> int:
    while count and 0 <= i + step < len(index.keys) and index.keys[i + step] == BLANK:
        i, count = i + step, count - 1
    return i


def _header_above(index: TextIndex, s: int, name: str, reach: int = 30) -> int | None:
    """The nearest def/class line at or above ``s`` named ``name`` (a signature can be wrapped over
    many lines), or else the nearest declaration within 3 lines above ``s`` (a renamed one: when
    ``s`` itself declares something else, such as a renamed struct's first method, it is the one
    above that is the anchored declaration)."""
    renamed = None
    for j in range(s, max(-1, s - reach), -1):
        own = index.header(j)
        if own == name:
            return j
        if own and renamed is None and 0 < s - j <= 3:
            renamed = j
    if renamed is None and index.header(s):
        return s
    return renamed


def _score(fp: Fingerprint, index: TextIndex, s: int, e: int, body: float) -> float:
    """Body similarity weighted with the context lines above/below and the enclosing names."""
    parts = [(W_BODY, body)]
    for mine, theirs in ((fp.before, index.context(s - 1, -1)), (fp.after, index.context(e + 1, 1))):
        if mine:
            keys = {k for k, _ in theirs}
            parts.append((W_CONTEXT / 2, sum(k in keys for k, _ in mine) / len(mine)))
    if fp.names:
        their_names = index.names(s)
        agree = sum(a == b for a, b in zip(fp.names, their_names))
        parts.append((W_NAME, agree / len(fp.names)))
    return sum(w * v for w, v in parts) / sum(w for w, _ in parts)
