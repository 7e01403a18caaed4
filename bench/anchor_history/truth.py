"""Ground truth for anchors between two versions of a Python file, from ``ast`` alone.

Two kinds of anchor are drawn from the old version:

* whole definitions: a def/class, from its ``def``/``class`` line to its last line.  Its truth is
  the definition with the same qualified name in the new version.  When that name is gone, the
  definition counts as *renamed* (itself or a class around it) if exactly one definition of the same
  kind whose qualified name is new has a body at least 60% similar line by line (difflib over
  whitespace-normalised lines: this one case leans on a similarity measure), as *deleted* (the
  truth is "lost") if none has, and is left out when several have.
* inside bodies: a run of consecutive sibling statements inside a function, grown until it spans 3
  lines or more (at most 8).  Each end statement is mapped into the same function of the new
  version by its exact AST (position-free ``ast.dump``, unique in both functions), or, when it was
  edited, by position (same statement path, and the siblings' statement types unchanged).  Runs
  whose ends cannot be mapped either way are left out and counted, not guessed.

Names that occur twice in a file (property setters, conditional defs) are left out too.
"""

from __future__ import annotations

import ast
import random
import zlib
from collections import Counter, defaultdict
from dataclasses import dataclass
from difflib import SequenceMatcher

_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef)


@dataclass(frozen=True)
class Case:
    kind: str  # "def" (whole definition) or "body" (statements inside a function)
    change: str  # "in place", "shifted", "edited", "renamed", "deleted"
    start: int  # the anchor in the old version, 1-based inclusive
    end: int
    truth: tuple[int, int] | None  # where it is in the new version; None: it should be lost


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
            for field in ("body", "orelse", "finalbody"):
                sub = getattr(st, field, None)
                if isinstance(sub, list) and sub and isinstance(sub[0], ast.stmt):
                    walk(sub, here + (field,))
            for field in ("handlers", "cases"):
                for j, part in enumerate(getattr(st, field, None) or ()):
                    walk(part.body, here + (field, j))

    walk(fn.body, ())
    return out


def _norm_lines(lines: list[str], start: int, end: int) -> list[str]:
    return [" ".join(x.split()) for x in lines[start - 1 : end]]


def _span(node: ast.AST) -> tuple[int, int]:
    return node.lineno, node.end_lineno


def cases_for(old_text: str, new_text: str, per_kind: int, seed: str) -> tuple[list[Case], int]:
    """Anchors drawn from ``old_text`` with their truth in ``new_text``; also the number left out."""
    try:
        old_tree, new_tree = ast.parse(old_text), ast.parse(new_text)
    except SyntaxError:
        return [], 0
    old_lines, new_lines = old_text.splitlines(), new_text.splitlines()
    old_defs, new_defs = _definitions(old_tree), _definitions(new_tree)
    unique_old = sorted(q for q, nodes in old_defs.items() if len(nodes) == 1)
    rng = random.Random(zlib.crc32(seed.encode()))

    def change_of(a: tuple[int, int], b: tuple[int, int]) -> str:
        if _norm_lines(old_lines, *a) != _norm_lines(new_lines, *b):
            return "edited"
        return "in place" if a == b else "shifted"

    cases: list[Case] = []
    left_out = 0
    for q in rng.sample(unique_old, min(per_kind, len(unique_old))):
        node = old_defs[q][0]
        a = _span(node)
        if q in new_defs:
            if len(new_defs[q]) == 1:
                b = _span(new_defs[q][0])
                cases.append(Case("def", change_of(a, b), *a, b))
            continue
        similar = _similar_new_defs(node, old_lines, old_defs, new_defs, new_lines)
        if len(similar) == 1:
            cases.append(Case("def", "renamed", *a, _span(similar[0])))
        elif not similar:
            cases.append(Case("def", "deleted", *a, None))
        else:
            left_out += 1

    runs = []
    for q in unique_old:
        node = old_defs[q][0]
        if isinstance(node, _FUNCS) and len(new_defs.get(q, ())) == 1:
            for path, st, siblings in _statements(node):
                runs.append((q, path, st, siblings))
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
        new_fn = new_defs[q][0]
        first_new = _map_statement(st, path, old_defs[q][0], new_fn)
        last_path = path[:-1] + (i,)
        last_new = _map_statement(last, last_path, old_defs[q][0], new_fn)
        if first_new is None or last_new is None or last_new.end_lineno < first_new.lineno:
            left_out += 1
            continue
        a, b = (st.lineno, last.end_lineno), (first_new.lineno, last_new.end_lineno)
        cases.append(Case("body", change_of(a, b), *a, b))
    return cases, left_out


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


def _map_statement(st: ast.stmt, path: tuple, old_fn: ast.AST, new_fn: ast.AST) -> ast.stmt | None:
    dump = ast.dump(st)
    old_dumps = Counter(ast.dump(s) for _, s, _ in _statements(old_fn))
    same = [s for _, s, _ in _statements(new_fn) if ast.dump(s) == dump]
    if old_dumps[dump] == 1 and len(same) == 1:
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
