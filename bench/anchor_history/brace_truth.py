"""Ground truth for anchors in brace languages (JavaScript, TypeScript, Java, C/C++), CSS and markup,
comparing the anchor's first version of a file with a later one directly.

The files are read with pygments' lexers (comments dropped), not with anything of the product's.
Every ``{ ... }`` pair is a block; its *header* is the code since the previous ``;``, ``{``, ``}``
(or the ``(``/``,`` of a call around it).  A header naming a function, method, class, interface,
enum, struct or namespace makes the block a *definition* named by the chain of enclosing
definitions (``Outer.method``); in CSS every rule is a definition named by its selector.  Leading
annotations (``@Override``) are not part of a definition, as decorators are not in Python's ``ast``.
Three rules keep a header to its own statement: in JavaScript and TypeScript a line break ends a
statement without ``;`` when the next line starts with a name that cannot continue it (automatic
semicolon insertion: ``exports.wetag = make({ weak: true })`` is not part of the next line's
``exports.normalizeType = function(type){``); a function assigned to a member is named by the whole
member path (``res.sendfile = function`` defines ``res.sendfile``, not a free ``sendfile``); an SCSS
``@mixin``/``@function`` is named by its name, not by its parameter list.

Four kinds of anchor (``draw``):

* ``def``, a whole definition: the **name rule**.  Its truth is the one definition of the same
  qualified name in the later version; when the name is gone, the one definition under a new name
  of the same sort with a body at least 60% similar line by line (difflib) is it, *renamed*; none:
  *deleted* (the truth is "lost"); several: left out.  Duplicated names (overloads) are left out.
* ``block`` (a control block inside a definition: ``if``, ``for``, ``try``...), ``body`` (3 to 8
  consecutive lines inside a definition, bracket-balanced) and ``line`` (one line of code): the
  **line rule**, within the enclosing definition found again by its name (or the whole file
  outside any).  An end line maps to the one line of identical text (whitespace aside) when that
  text is unique in both versions of the definition; an edited line maps by position, when the
  nearest identically-mapped lines above and below it are as far apart in both versions (the lines
  between them were edited in place, none added or removed).  A line is *deleted* when its text is
  found nowhere in the later definition, no line of the later file keeps 40% of its tokens
  (difflib ratio), and no position maps it.  A region is deleted when every line of it is (its
  definition deleted, or by the line rule).  A definition is not taken for deleted while a
  definition of the same short name is found elsewhere in the file (it may have moved).  Anything else (a line that moved among duplicates, a neighbourhood that grew)
  is left out and counted, not guessed.
"""

from __future__ import annotations

import random
import zlib
from collections import Counter
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from pygments.lexers import CppLexer, get_lexer_for_filename
from pygments.token import Comment, Keyword, Name, Number, Punctuation, String, Text

_CONTROL = {
    "if",
    "else",
    "for",
    "foreach",
    "while",
    "do",
    "switch",
    "try",
    "catch",
    "finally",
    "with",
    "synchronized",
    "return",
    "case",
    "default",
    "static",
    "=>",
    "new",
    "throw",
    "await",
    "yield",
}
_SORTS = {"class", "interface", "enum", "struct", "namespace", "union", "trait", "record", "module", "object"}
_CSS = (".css", ".scss", ".less")
_ASI = (".js", ".mjs", ".cjs", ".ts", ".tsx", ".vue")  # where a line break can end a statement
# Words that carry a statement on to the next line, so no semicolon is inserted before them.
_CONTINUES = {"extends", "implements", "instanceof", "in", "of", "as", "satisfies", "keyof"}


@dataclass
class Outline:
    """One version of a file: lines, code tokens per line, definitions and control blocks."""

    lines: list[str]
    tokens: list[list[str]]
    defs: dict[str, list[tuple[int, int, str]]]  # qualified name -> [(start, end, sort)], 1-based
    blocks: list[tuple[int, int, str]]  # control blocks: (start, end, enclosing qualified name)
    inner: list[str]  # per line (0-based): the innermost enclosing definition's name, "" outside
    depth: list[int]  # bracket depth at the start of each line
    _norms: list[str] = field(default_factory=list)

    @property
    def norms(self) -> list[str]:
        if not self._norms:
            self._norms = [" ".join(x.split()) for x in self.lines]
        return self._norms

    def span(self, q: str) -> tuple[int, int]:
        """Lines of the container ``q`` ("" is the whole file)."""
        return (1, len(self.lines)) if not q else self.defs[q][0][:2]


def _lexer(path: str):
    return CppLexer() if path.endswith(".h") else get_lexer_for_filename(path, stripnl=False, ensurenl=False)


def outline(path: str, text: str) -> Outline | None:
    """None when the file does not lex into balanced braces (no reliable truth)."""
    lines = text.split("\n")
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line) + 1)
    toks: list[tuple[int, str, object]] = []  # (line, value, type) of code tokens
    line = 0
    for pos, ttype, value in _lexer(path).get_tokens_unprocessed(text):
        while starts[line + 1] <= pos:
            line += 1
        if ttype in Comment or ttype in Text or not value.strip():
            continue
        toks.append((line, value.strip(), ttype))
    css = path.endswith(_CSS)
    asi = path.endswith(_ASI)
    per_line: list[list[str]] = [[] for _ in lines]
    depth = [0] * (len(lines) + 1)
    defs: dict[str, list[tuple[int, int, str]]] = {}
    blocks: list[tuple[int, int, str]] = []
    inner = [""] * len(lines)
    stack: list[tuple[int, str, int, str]] = []  # (start line, qualified name or "", token index, sort)
    d, last_line = 0, -1
    for n, (ln, value, ttype) in enumerate(toks):
        while last_line < ln:
            last_line += 1
            depth[last_line] = d
        per_line[ln].append(value)
        if value in ("(", "[") or value == "{":
            d += 1
        elif value in (")", "]", "}"):
            d -= 1
        if value == "{" and ttype in Punctuation or (value == "{" and css):
            start, name, sort = _header(toks, n, css, asi)
            outer = next((q for _, q, _, _ in reversed(stack) if q), "")
            q = f"{outer}.{name}" if outer and name else name
            stack.append((start, q if name else "", n, sort if name else ("" if css else "block")))
        elif value == "}" and (ttype in Punctuation or css):
            if not stack:
                return None
            start, q, _, sort = stack.pop()
            outer = next((q2 for _, q2, _, _ in reversed(stack) if q2), "")
            if q:
                defs.setdefault(q, []).append((start + 1, ln + 1, sort))
                for i in range(start, ln + 1):
                    if not inner[i] or len(q) > len(inner[i]):
                        inner[i] = q
            elif sort == "block":
                blocks.append((start + 1, ln + 1, outer))
    if stack:
        return None
    for i in range(last_line + 1, len(lines) + 1):
        depth[i] = d
    return Outline(lines, per_line, defs, blocks, inner, depth)


def _header(toks: list, n: int, css: bool, asi: bool = False) -> tuple[int, str, str]:
    """(first line, name or "", sort) of the header of the ``{`` at token ``n``.

    In JavaScript a line break ends a statement that has no ``;`` when the next line cannot carry
    it on (automatic semicolon insertion): ``exports.wetag = make({ weak: true })`` and the
    ``exports.normalizeType = function(type){`` on the next line are two statements.  In CSS,
    parentheses hold no blocks, so an unbalanced one (a mixin's arguments) does not end a header."""
    balance, i = 0, n - 1
    while i >= 0:
        if asi and balance == 0 and i + 1 < n and toks[i][0] < toks[i + 1][0] and _ends_statement(toks[i], toks[i + 1]):
            break
        v = toks[i][1]
        if v in (")", "]"):
            balance += 1
        elif v in ("(", "["):
            if balance == 0 and not css:
                break
            balance = max(0, balance - 1)
        elif balance == 0 and (v in (";", "{", "}") or (v == "," and not css)):
            break
        i -= 1
    head = toks[i + 1 : n]
    while head and (head[0][1].startswith("@") and not css and head[0][2] in Name.Decorator):
        head = head[1:]  # an annotation: @Override, @Nullable(...)
        if head and head[0][1] == "(":
            depth = 0
            while head:
                depth += (head[0][1] == "(") - (head[0][1] == ")")
                head = head[1:]
                if depth == 0:
                    break
    if not head:
        return toks[n][0], "", ""
    first = head[0][0]
    values = [v for _, v, _ in head]
    if css:
        if values[0] in ("@mixin", "@function") and len(values) > 1:
            return first, f"{values[0]} {values[1]}", "rule"  # named by its name, not its parameters
        return first, " ".join(values), "rule"
    if values[0] in _CONTROL or (len(values) > 1 and values[0] == "}" and values[1] == "else"):
        return first, "", ""
    for k, v in enumerate(values[:-1]):
        if v in _SORTS and _is_name(values[k + 1]):
            return first, values[k + 1], "class"
        if v == "function" and _is_name(values[k + 1]):
            return first, values[k + 1], "function"
    if "(" in values:
        k = values.index("(")
        name = _qualified(values, k)
        if name and name not in _CONTROL and "=" not in values[: k - 1] and values[0] not in ("new", "return"):
            return first, name, "function"
        if "=" in values[:k] or ":" in values[:k]:  # foo = function (...), foo: (...) =>
            j = max(idx for idx in range(k) if values[idx] in ("=", ":"))
            if j > 0 and _is_name(values[j - 1]) and ("function" in values or "=>" in values):
                return first, _member_path(values, j - 1), "function"
    return first, "", ""


def _ends_statement(last: tuple, first: tuple) -> bool:
    """A line ending in ``last`` ends its statement before a line starting with ``first`` (JS's rule,
    for the common case: a value or a closing bracket, then a name that cannot continue it)."""
    value, ttype = last[1], last[2]
    closes = value in (")", "]") or ttype in Name or ttype in String or ttype in Number
    return closes and (first[2] in Name or first[2] in Keyword) and _is_name(first[1]) and first[1] not in _CONTINUES


def _is_name(v: str) -> bool:
    return v.replace("$", "_").replace("_", "a").isalnum() and not v[0].isdigit() and v not in _CONTROL


def _member_path(values: list[str], j: int) -> str:
    """The name at ``j`` with the members before it: ``res.sendfile = function`` defines
    ``res.sendfile``, not a free function ``sendfile``."""
    parts = [values[j]]
    while j >= 2 and values[j - 1] == "." and _is_name(values[j - 2]):
        parts.insert(0, values[j - 2])
        j -= 2
    return ".".join(parts)


def _qualified(values: list[str], k: int) -> str:
    """The name called or declared just before the ``(`` at ``k``: ``bar``, ``Foo::bar``, ``~Foo``."""
    j = k - 1
    if j < 0 or not _is_name(values[j]) or values[j] == "function":
        return ""
    parts = [values[j]]
    while j >= 2 and values[j - 1] in ("::", "~"):
        if values[j - 1] == "~":
            parts[0] = "~" + parts[0]
            break
        parts.insert(0, values[j - 2])
        j -= 2
    return "::".join(parts)


@dataclass(frozen=True)
class Anchor:
    kind: str  # "def", "block", "body" or "line"
    name: str  # qualified name of the definition, or of the container ("" for the file)
    start: int  # 1-based inclusive
    end: int


def draw(src: Outline, per_kind: int, seed: str, css: bool) -> list[Anchor]:
    rng = random.Random(zlib.crc32(seed.encode()))
    unique = sorted(q for q, spans in src.defs.items() if len(spans) == 1 and spans[0][1] - spans[0][0] < 200)
    out = [Anchor("def", q, *src.defs[q][0][:2]) for q in rng.sample(unique, min(per_kind, len(unique)))]
    containers = {q for q, spans in src.defs.items() if len(spans) == 1} | {""}
    blocks = [b for b in src.blocks if b[2] in containers and b[1] - b[0] < 30]
    out += [Anchor("block", q, s, e) for s, e, q in rng.sample(blocks, min(per_kind, len(blocks)))]
    code = [i for i in range(len(src.lines)) if len(src.tokens[i]) >= 3 and src.inner[i] in containers]
    for i in rng.sample(code, min(per_kind, len(code))):
        out.append(Anchor("line", src.inner[i], i + 1, i + 1))
    for i in rng.sample(code, min(per_kind, len(code))):
        q, e = src.inner[i], i
        while e + 1 < len(src.lines) and src.inner[e + 1] == q and (e - i < 2 or src.depth[e + 1] != src.depth[i]):
            e += 1
            if e - i >= 8:
                break
        if e - i < 8 and src.depth[e + 1] == src.depth[i] and e > i and src.tokens[e] and src.tokens[e][0] not in ")]}":
            out.append(Anchor("body", q, i + 1, e + 1))
    return out


def truth(a: Anchor, src: Outline, dst: Outline) -> tuple[str, tuple[int, int] | None] | None:
    """(change, where the anchor's code is in ``dst``, None when deleted); None when unknown."""
    if a.kind == "def":
        got = _by_name(a.name, src, dst)
        if got is None or got == "ambiguous":
            return None
        return got if got[0] in ("deleted", "renamed") else (_change(src, dst, (a.start, a.end), got[1]), got[1])
    if a.name:
        got = _by_name(a.name, src, dst)
        if got is None or got == "ambiguous" or got[0] == "renamed":
            return None
        if got[0] == "deleted":  # its lines are gone too, unless the same text lives on elsewhere
            gone = all(_gone(src.tokens[i - 1], dst) for i in range(a.start, a.end + 1) if src.tokens[i - 1])
            return ("deleted", None) if gone else None
    cs, ce = src.span(a.name)
    ds, de = dst.span(a.name)
    old = src.norms[cs - 1 : ce]
    new = dst.norms[ds - 1 : de]
    ends = [_map_line(a.start - cs, old, new, src, dst, cs), _map_line(a.end - cs, old, new, src, dst, cs)]
    if all(e == "deleted" for e in ends):
        inside = [_map_line(i - cs, old, new, src, dst, cs) for i in range(a.start, a.end + 1) if src.tokens[i - 1]]
        return ("deleted", None) if all(e == "deleted" for e in inside) else None
    if any(not isinstance(e, int) for e in ends) or ends[1] < ends[0]:
        return None
    b = (ds + ends[0], ds + ends[1])
    return _change(src, dst, (a.start, a.end), b), b


def _change(src: Outline, dst: Outline, a: tuple[int, int], b: tuple[int, int]) -> str:
    if src.norms[a[0] - 1 : a[1]] != dst.norms[b[0] - 1 : b[1]]:
        return "edited"
    return "in place" if a == b else "shifted"


def _by_name(q: str, src: Outline, dst: Outline):
    news = dst.defs.get(q, [])
    if len(news) == 1:
        return "same", news[0][:2]
    if news:
        return "ambiguous"
    s, e, sort = src.defs[q][0]
    body = src.norms[s:e]
    similar = [
        span
        for nq, spans in dst.defs.items()
        if nq not in src.defs
        for span in spans
        if span[2] == sort and SequenceMatcher(None, body, dst.norms[span[0] : span[1]]).ratio() >= 0.6
    ]
    if len(similar) == 1:
        return "renamed", similar[0][:2]
    short = q.rsplit(".", 1)[-1]
    if not similar and any(nq.rsplit(".", 1)[-1] == short for nq in dst.defs):
        return "ambiguous"  # a definition of that name elsewhere may be this one, moved
    return ("deleted", None) if not similar else "ambiguous"


def _map_line(i: int, old: list[str], new: list[str], src: Outline, dst: Outline, cs: int):
    """Line ``i`` of the old container in the new one: an index, "deleted", or None (unknown)."""
    n_old, n_new, where = Counter(old), Counter(new), {}
    for k, x in enumerate(new):
        where.setdefault(x, k)
    if old[i] and n_old[old[i]] == 1 and n_new[old[i]] == 1:
        return where[old[i]]
    if old[i] in n_new:
        return None  # unchanged but among duplicates
    above = next((k for k in range(i - 1, -1, -1) if old[k] and n_old[old[k]] == 1 and n_new[old[k]] == 1), None)
    below = next((k for k in range(i + 1, len(old)) if old[k] and n_old[old[k]] == 1 and n_new[old[k]] == 1), None)
    up = -1 if above is None else where[old[above]]
    down = len(new) if below is None else where[old[below]]
    above, below = -1 if above is None else above, len(old) if below is None else below
    if below - above == down - up and (above >= 0 or below < len(old)):
        return up + i - above
    return "deleted" if _gone(src.tokens[cs - 1 + i], dst) else None


def _gone(toks: list[str], dst: Outline) -> bool:
    """No line of ``dst`` keeps 40% of these tokens (a line of 3 tokens or more)."""
    return len(toks) >= 3 and not any(_similar(toks, t) for t in dst.tokens if t)


def _similar(a: list[str], b: list[str]) -> bool:
    """difflib ratio of the two token lists of at least 0.4 (a cheap bound is checked first)."""
    common = sum((Counter(a) & Counter(b)).values()) if set(a) & set(b) else 0
    if 2 * common < 0.4 * (len(a) + len(b)):
        return False
    return SequenceMatcher(None, a, b).ratio() >= 0.4
