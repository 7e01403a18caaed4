"""Ground truth for anchors drawn from one version of a Python file, in any later version, from
``ast`` alone.  The two versions are compared directly, however many versions lie between them.

Two kinds of anchor are drawn (``draw``) from the first version:

* whole definitions: a def/class, from its ``def``/``class`` line to its last line.  Its truth is
  the definition with the same qualified name in the later version.  When that name is gone, the
  definition counts as *renamed* (itself or a class around it) if exactly one definition of the same
  kind whose qualified name is new has a body at least 60% similar line by line (difflib over
  whitespace-normalised lines: this one case leans on a similarity measure), as *deleted* (the
  truth is "lost") if none has, and is left out when several have.
* inside bodies: a run of consecutive sibling statements inside a function, grown until it spans 3
  lines or more (at most 8).  Each end statement is mapped into the same function of the later
  version by its exact AST (position-free ``ast.dump``, unique in both functions), or, when it was
  edited, by position (same statement path, and the siblings' statement types unchanged).  Runs
  whose ends cannot be mapped either way, or whose function is no longer there under its name, are
  left out (``truth`` returns None) and counted, not guessed.

Names that occur twice in a file (property setters, conditional defs) are left out too.
"""

from __future__ import annotations

import ast
import random
import zlib
from collections import defaultdict
from dataclasses import dataclass, field
from difflib import SequenceMatcher

_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef)


def _definitions(tree: ast.AST) -> dict[str, list[ast.AST]]:
    found: defaultdict[str, list[ast.AST]] = defaultdict(list)

    def walk(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, _DEFS):
                found[prefix + child.name].append(child)
                walk(child, f"{prefix}{child.name}.")
            else:
                walk(child, prefix)

    walk(tree, "")
    return found


def _statements(fn: ast.AST) -> list[tuple[tuple, ast.stmt, list[ast.stmt]]]:
    """(path, statement, sibling list) for every statement of a function, not entering nested defs."""
    out: list[tuple[tuple, ast.stmt, list[ast.stmt]]] = []

    def walk(body: list[ast.stmt], path: tuple) -> None:
        for i, st in enumerate(body):
            here = path + (i,)
            out.append((here, st, body))
            if isinstance(st, _DEFS):
                continue
            for part in ("body", "orelse", "finalbody"):
                sub = getattr(st, part, None)
                if isinstance(sub, list) and sub and isinstance(sub[0], ast.stmt):
                    walk(sub, here + (part,))
            for group in ("handlers", "cases"):
                for j, clause in enumerate(getattr(st, group, None) or ()):
                    walk(clause.body, here + (group, j))

    walk(fn.body, ())
    return out


def _norm_lines(lines: list[str], start: int, end: int) -> list[str]:
    return [" ".join(x.split()) for x in lines[start - 1 : end]]


def _span(node: ast.AST) -> tuple[int, int]:
    return node.lineno, node.end_lineno


@dataclass
class Parsed:
    """One version of a file: its lines, and its definitions by qualified name."""

    lines: list[str]
    defs: dict[str, list[ast.AST]]
    _dumps: dict = field(default_factory=dict)

    def dumps(self, q: str) -> list[tuple[ast.stmt, str]]:
        """Every statement of the function named ``q`` with its position-free ``ast.dump``."""
        if q not in self._dumps:
            self._dumps[q] = [(st, ast.dump(st)) for _, st, _ in _statements(self.defs[q][0])]
        return self._dumps[q]


def parse(text: str) -> Parsed | None:
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return None
    return Parsed(text.splitlines(), dict(_definitions(tree)))


@dataclass(frozen=True)
class Anchor:
    """An anchor drawn from one version of a file."""

    kind: str  # "def" (whole definition) or "body" (statements inside a function)
    name: str  # qualified name of the definition (for "body": of the function holding it)
    start: int  # 1-based inclusive
    end: int
    first: tuple = ()  # "body": statement paths (as built by _statements) of its first and last statements
    last: tuple = ()


def draw(source: Parsed, per_kind: int, seed: str) -> tuple[list[Anchor], int]:
    """Up to ``per_kind`` anchors of each kind from ``source``; also the number left out."""
    rng = random.Random(zlib.crc32(seed.encode()))
    unique = sorted(q for q, nodes in source.defs.items() if len(nodes) == 1)
    out = [Anchor("def", q, *_span(source.defs[q][0])) for q in rng.sample(unique, min(per_kind, len(unique)))]
    runs = [
        (q, path, st, siblings)
        for q in unique
        if isinstance(source.defs[q][0], _FUNCS)
        for path, st, siblings in _statements(source.defs[q][0])
    ]
    left_out = 0
    for q, path, st, siblings in rng.sample(runs, min(per_kind, len(runs))):
        i = path[-1]
        last = st
        while last.end_lineno - st.lineno + 1 < 3 and i + 1 < len(siblings):
            if siblings[i + 1].end_lineno - st.lineno + 1 > 8:
                break
            i += 1
            last = siblings[i]
        if last.end_lineno - st.lineno + 1 > 8:
            left_out += 1
            continue
        out.append(Anchor("body", q, st.lineno, last.end_lineno, path, path[:-1] + (i,)))
    return out, left_out


def truth(anchor: Anchor, source: Parsed, target: Parsed) -> tuple[str, tuple[int, int] | None] | None:
    """(change, where the anchor's code is in ``target``) for an anchor drawn from ``source``;
    the place is None when the code was deleted.  None when there is no reliable ground truth."""
    a = (anchor.start, anchor.end)

    def change_of(b: tuple[int, int]) -> str:
        if _norm_lines(source.lines, *a) != _norm_lines(target.lines, *b):
            return "edited"
        return "in place" if a == b else "shifted"

    old_fn = source.defs[anchor.name][0]
    news = target.defs.get(anchor.name, [])
    if anchor.kind == "def":
        if news:
            if len(news) > 1:
                return None
            b = _span(news[0])
            return change_of(b), b
        similar = _similar_new_defs(old_fn, source.lines, source.defs, target.defs, target.lines)
        if len(similar) == 1:
            return "renamed", _span(similar[0])
        return ("deleted", None) if not similar else None
    if len(news) != 1 or not isinstance(news[0], _FUNCS):
        return None
    olds, new_dumps = source.dumps(anchor.name), target.dumps(anchor.name)
    first_new = _map_statement(_node_at(old_fn, anchor.first), anchor.first, old_fn, news[0], olds, new_dumps)
    last_new = _map_statement(_node_at(old_fn, anchor.last), anchor.last, old_fn, news[0], olds, new_dumps)
    if first_new is None or last_new is None or last_new.end_lineno < first_new.lineno:
        return None
    b = (first_new.lineno, last_new.end_lineno)
    return change_of(b), b


def _node_at(fn: ast.AST, path: tuple) -> ast.stmt:
    return _siblings_at(fn, path)[path[-1]]


def _similar_new_defs(node, old_lines, old_defs, new_defs, new_lines) -> list[ast.AST]:
    """Definitions under a qualified name new in this version, of the same kind, with a similar body."""
    body = _norm_lines(old_lines, node.lineno + 1, node.end_lineno)
    out = []
    for nq, nodes in new_defs.items():
        if nq in old_defs:
            continue
        for other in nodes:
            if isinstance(other, ast.ClassDef) != isinstance(node, ast.ClassDef):
                continue
            theirs = _norm_lines(new_lines, other.lineno + 1, other.end_lineno)
            if SequenceMatcher(None, body, theirs).ratio() >= 0.6:
                out.append(other)
    return out


def _map_statement(st: ast.stmt, path: tuple, old_fn: ast.AST, new_fn: ast.AST, olds: list, news: list) -> ast.stmt | None:
    """Where statement ``st`` (at ``path`` in ``old_fn``) is in ``new_fn``; ``olds`` and ``news``
    are the two functions' statements with their dumps."""
    dump = next(d for s, d in olds if s is st)
    same = [s for s, d in news if d == dump]
    if sum(d == dump for _, d in olds) == 1 and len(same) == 1:
        return same[0]
    if same:  # unchanged but ambiguous: no reliable truth
        return None
    old_siblings, new_siblings = _siblings_at(old_fn, path), _siblings_at(new_fn, path)
    if old_siblings is None or new_siblings is None:
        return None
    if [type(s) for s in old_siblings] != [type(s) for s in new_siblings]:
        return None
    return new_siblings[path[-1]]


def _siblings_at(fn: ast.AST, path: tuple) -> list[ast.stmt] | None:
    """The statement list holding the statement at ``path`` (as built by _statements)."""
    body = fn.body
    steps = list(path[:-1])
    try:
        while steps:
            node = body[steps.pop(0)]
            field = steps.pop(0)
            if field in ("handlers", "cases"):
                body = getattr(node, field)[steps.pop(0)].body
            else:
                body = getattr(node, field)
    except (IndexError, AttributeError, TypeError):
        return None
    return body if isinstance(body, list) and len(body) > path[-1] else None
