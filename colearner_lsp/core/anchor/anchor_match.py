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
from collections.abc import Iterable
from dataclasses import dataclass

from colearner_lsp.core.anchor.alignment import Alignment
from colearner_lsp.core.anchor.anchor_fingerprint import Fingerprint
from colearner_lsp.core.anchor.anchor_text import BLANK, TextIndex, block_hash

COMMON = 8  # a line found more often than this in the file does not vote for a position
MAX_COPIES = 50  # identical copies weighed, nearest first; beyond that the block is too generic to tell
OFFSETS = 3  # voted positions examined (the hint's position is examined too)
NEAR_REACH = 25  # lines searched on each side of where the anchor was last seen
EDGE_LINES = 8  # how many end lines are tried for each start line
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
            consider(p, e, Alignment(fp, index, p, e + 1).body(p, e))
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
            consider(s, e, Alignment(fp, index, s, e + 1).body(s, e))
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


def _windows(fp: Fingerprint, index: TextIndex, lo: int, hi: int) -> list[tuple[int, int, float]]:
    """Candidate (start, end, body) in lines ``lo..hi-1``: ranges between well-matched lines,
    or, for a block anchor, whole indentation blocks."""
    al = Alignment(fp, index, lo, hi)
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
        return al.body(s, e) if lo <= s and e < hi else Alignment(fp, index, s, e + 1).body(s, e)

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
