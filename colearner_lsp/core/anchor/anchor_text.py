"""The text model behind anchors: lines as an editor numbers them, their normalised forms,
hashes and tokens, indentation blocks and enclosing def/class names, indexed per file.

Plain text in, no knowledge of anchors' wire format or of how they are searched for.
"""

from __future__ import annotations

import re
import zlib
from collections import defaultdict
from collections.abc import Callable, Sequence
from functools import lru_cache

CONTEXT_LINES = 3  # informative lines remembered on each side of an anchor

_HEADER = re.compile(r"[ \t]*(?:async[ \t]+)?(?:def|class|function|func|fn)[ \t]+([A-Za-z_$][\w$]*)")
# Brace languages (Java, C/C++, JS/TS, PHP, C#): a declaration of a type, or of a function or method
# (words for modifiers and a return type, then a name and its opening parenthesis).  Lines that end
# a statement, assign, call a member or start with a control word are not declarations.
_MODIFIERS = (
    r"(?:(?:export|default|public|private|protected|internal|static|final|abstract|sealed|async|override|"
    r"virtual|inline|synchronized|native|readonly|declare|constexpr|explicit|extern|partial|open|data)[ \t]+)*"
)
_TYPE_DECL = re.compile(
    _MODIFIERS + r"[ \t]*(?:class|interface|enum|struct|namespace|trait|record|object|union)"
    r"[ \t]+([A-Za-z_$][\w$]*)"
)
_FUNC_DECL = re.compile(
    r"[ \t]*(?:@\w+(?:\([^)]*\))?[ \t]+)*(?:template[ \t]*<[^>]*>[ \t]*)?"
    + _MODIFIERS
    + r"(?:[\w$<>\[\],.:*&?]+[ \t]+[*&]*)*?(?:[\w$]+::)*(~?[A-Za-z_$][\w$]*)[ \t]*\("
)
# JavaScript/TypeScript: a function given a name by assignment or as a property
# (``Route.prototype.dispatch = function(req) {``, ``const load = async (url) => {``, ``parse: function (s) {``),
# named by what it is assigned to, the whole member path, unless the function has a name of its own.
_ASSIGNED_FUNC = re.compile(
    r"[ \t]*(?:export[ \t]+)?(?:(?:const|let|var|static|readonly|public|private|protected)[ \t]+)*"
    r"([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*)[ \t]*[=:][ \t]*(?:async[ \t]+)?"
    r"(?:function\b[ \t]*\*?[ \t]*([A-Za-z_$][\w$]*)?[ \t]*\(|(?:\([^()]*\)|[A-Za-z_$][\w$]*)[ \t]*(?::[^=()]*)?=>)"
)
_NOT_DECL = frozenset(
    "if elif else for foreach while do switch case return raise throw yield await new assert with "
    "try catch finally del not and or in is print lambda import from as except sizeof typeof "
    "delete instanceof goto echo using".split()
)
_CLOSER = re.compile(r"[ \t]*[)\]}]")
_TOKEN = re.compile(r"\w+|[^\w\s]")
LINE_BREAKS = re.compile(r"\r\n|\r|\n")  # what LSP counts as line breaks


def normalise(line: str) -> str:
    # Whitespace and quote style are formatting (a formatter changes them wholesale), not code.
    return " ".join(line.split()).replace("'", '"')


def line_key(norm: str) -> int:
    # crc32, not hash(): fingerprints are compared on other machines, in other processes.
    return zlib.crc32(norm.encode("utf-8", "surrogatepass")) & 0xFFFFFF


def tokens_of(norm: str) -> list[str]:
    """Words and single punctuation marks: what short anchors are aligned by."""
    return _TOKEN.findall(norm)


def bracket_depth(tokens: Sequence[str]) -> int:
    """Brackets opened minus brackets closed."""
    return sum(1 if t in "([{" else -1 if t in ")]}" else 0 for t in tokens)


def block_hash(norms: Sequence[str]) -> int:
    return zlib.crc32("\n".join(norms).encode("utf-8", "surrogatepass"))


BLANK = line_key("")


@lru_cache(maxsize=8)
def lines_of(text: str) -> tuple[str, ...]:
    """Lines as an editor numbers them: \\n, \\r\\n and \\r break lines; a final break ends the last line."""
    lines = LINE_BREAKS.split(text) if "\r" in text else text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return tuple(lines)


def header_of(line: str) -> str | None:
    """The name a line declares: a Python/JS/Go/Rust ``def``/``class``/``function``, a type in a brace
    language, or a function or method whose signature opens there (``public int size() {``,
    ``void Foo::bar(int x) const``, ``async load(url) {``); None for any other line."""
    m = _HEADER.match(line)
    if m:
        return m.group(1)
    if len(line) > 400:
        return None
    if "function" in line or "=>" in line:
        m = _ASSIGNED_FUNC.match(line)
        if m:
            return m.group(2) or m.group(1)
    if len(line) > 400 or "{" not in line and not line.rstrip().endswith((")", "(", ",")):
        return None
    m = _TYPE_DECL.match(line)
    if m:
        return m.group(1)
    m = _FUNC_DECL.match(line)
    if m is None or m.group(1) in _NOT_DECL:
        return None
    before, rest = line[: m.start(1)], line[m.end() :]
    words = before.split()
    if words and (words[0] in _NOT_DECL or before.rstrip().endswith((".", "->", "="))):
        return None
    tail = rest.rstrip()
    if tail.endswith((";", ":")) or "=>" in rest or "function" in rest or "=" in before:
        return None
    if not words and not tail.endswith("{"):
        return None  # a bare call wrapped over lines, not ``name(args) {`` (a JS method)
    if not words and re.search(r"[\"'`]", rest):
        return None  # describe("...", ...) {: a call with a literal, not a declaration
    return m.group(1)


def _indent(line: str) -> int:
    return len(line[: len(line) - len(line.lstrip())].expandtabs(8))


def block_end(lines: Sequence[str], i: int, braces: Callable[[int], tuple[int, int, bool]] | None = None) -> int:
    """Last line of the block headed by line ``i`` (``i`` when nothing is under it).

    A line that opens a ``{`` it does not close (or whose next line is a lone ``{``, Allman style)
    heads the lines up to the brace that closes it: brace languages do not have to be indented as
    they nest (a ``#if 0`` at the margin inside a function, an unindented namespace).  Otherwise,
    or when no closing brace comes within BRACE_REACH lines, the indentation says: a line back at
    the header's indentation that starts with a closing bracket still belongs to it (``) -> int:``
    after a wrapped signature, ``}`` in C-like code).  ``braces`` gives a line's brace counts (see
    ``brace_counts``), cached by an index; without it they are counted here.
    """
    count = braces or (lambda j: brace_counts(lines[j]))
    end = _brace_end(lines, i, count)
    return _indent_end(lines, i) if end is None else end


BRACE_REACH = 5000  # lines a block's closing brace is looked for, beyond which indentation decides

# What a line's braces are counted without: string literals and comments (a ``"{"`` or ``// }``).
# A block comment left open at the end of a line is reported so the count can stop there.
_CODE_NOISE = re.compile(r""""(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`(?:[^`\\]|\\.)*`|//.*|/\*.*?(?:\*/|$)""")


def brace_counts(line: str) -> tuple[int, int, bool]:
    """(``{`` not closed on the line, ``}`` closing braces opened before it, whether the line is an
    Allman opening brace alone) for a line of code, strings and comments left out."""
    if "{" not in line and "}" not in line:
        return 0, 0, False
    code = _CODE_NOISE.sub(" ", line) if len(line) <= 2000 else line[:2000]
    if "}" not in code:
        return code.count("{"), 0, code.strip() == "{"
    if "{" not in code:
        return 0, code.count("}"), False
    depth = lowest = 0
    for ch in code:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            lowest = min(lowest, depth)
    return depth - lowest, -lowest, code.strip() == "{"


def _brace_end(lines: Sequence[str], i: int, count: Callable[[int], tuple[int, int, bool]]) -> int | None:
    opened, _, _ = count(i)
    start = i
    if not opened:  # an Allman brace on the next line opens this header's block
        nxt = next((j for j in range(i + 1, min(len(lines), i + 3)) if lines[j].strip()), None)
        if nxt is None or not count(nxt)[2]:
            return None
        start, opened = nxt, 1
    depth = opened
    for j in range(start + 1, min(len(lines), start + BRACE_REACH)):
        op, closed, _ = count(j)
        if not (op or closed):
            continue
        if closed >= depth:
            return j
        depth += op - closed
    return None


def _indent_end(lines: Sequence[str], i: int) -> int:
    base, last = _indent(lines[i]), i
    for j in range(i + 1, len(lines)):
        line = lines[j]
        if not line.strip():
            continue
        ind = _indent(line)
        if ind > base or (ind == base and (_CLOSER.match(line) or (j == i + 1 and line.strip() == "{"))):
            last = j
        else:
            break
    return last


class TextIndex:
    """A file's lines, their normalised forms and hashes, where each hash occurs, and lazily
    computed per-line facts (tokens, enclosing names)."""

    def __init__(self, lines: tuple[str, ...]) -> None:
        self.lines = lines
        # normalise() and line_key() spelled out for the whole file at once: this is most of the cost
        # of relocating in a large file, and the calls alone would double it.
        norms = [" ".join(line.split()) for line in lines]
        if any("'" in norm for norm in norms):
            norms = [norm.replace("'", '"') for norm in norms]
        crc = zlib.crc32
        self.norms = norms
        self.keys = [crc(norm.encode("utf-8", "surrogatepass")) & 0xFFFFFF for norm in norms]
        positions: defaultdict[int, list[int]] = defaultdict(list)
        for i, k in enumerate(self.keys):
            positions[k].append(i)
        self.positions = dict(positions)
        self._tokens: dict[int, list[str]] = {}
        self._outer: dict[int, tuple[str, ...]] = {}
        self._headed: dict[str, list[int]] | None = None
        self._header: dict[int, str | None] = {}
        self._braces: dict[int, tuple[int, int, bool]] = {}
        self._block_end: dict[int, int] = {}

    def tokens(self, i: int) -> list[str]:
        if i not in self._tokens:
            self._tokens[i] = tokens_of(self.norms[i])
        return self._tokens[i]

    def braces(self, i: int) -> tuple[int, int, bool]:
        if i not in self._braces:
            self._braces[i] = brace_counts(self.lines[i])
        return self._braces[i]

    def block_end(self, i: int) -> int:
        """``block_end`` of line ``i``, remembered: candidates share their headers."""
        if i not in self._block_end:
            self._block_end[i] = block_end(self.lines, i, self.braces)
        return self._block_end[i]

    def header(self, i: int) -> str | None:
        if i not in self._header:
            self._header[i] = header_of(self.lines[i])
        return self._header[i]

    def headed(self, name: str) -> list[int]:
        """The lines heading a def/class named ``name`` (found on first use, for the whole file)."""
        if self._headed is None:
            found: defaultdict[str, list[int]] = defaultdict(list)
            for i in range(len(self.lines)):
                own = self.header(i)
                if own is not None:
                    found[own].append(i)
            self._headed = dict(found)
        return self._headed.get(name, [])

    def names(self, i: int) -> tuple[str, ...]:
        """Up to three def/class names: the one line ``i`` heads, if any, then the enclosing ones."""
        own = self.header(i)
        return ((own,) if own else ()) + self._enclosing(i)[: 2 if own else 3]

    def _enclosing(self, i: int) -> tuple[str, ...]:
        # Memoised through the parent line, so a class's many methods share one upward scan.
        if i not in self._outer:
            threshold = _indent(self.lines[i]) if self.norms[i] else 1 << 30
            parent = None
            if threshold > 0:  # nothing encloses a line at the left margin
                parent = next(
                    (j for j in range(i - 1, max(-1, i - 5000), -1) if self.norms[j] and _indent(self.lines[j]) < threshold),
                    None,
                )
            if parent is None:
                self._outer[i] = ()
            else:
                name = self.header(parent)
                self._outer[i] = (((name,) if name else ()) + self._enclosing(parent))[:3]
        return self._outer[i]

    def context(self, i: int, step: int) -> list[tuple[int, int]]:
        """Context lines from line ``i`` on, walking by ``step`` (see ``walk_context``)."""
        return walk_context(i, step, len(self.keys), self.tokens, self.keys.__getitem__)


def walk_context(i: int, step: int, size: int, tokens: Callable[[int], Sequence[str]], key: Callable[[int], int]) -> list[tuple[int, int]]:
    """Up to CONTEXT_LINES (key, distance) pairs of informative lines (3 tokens or more: not a
    blank, a bracket or a docstring quote) from line ``i`` on, walking by ``step``; ``tokens`` and
    ``key`` give a line's tokens and hash."""
    out: list[tuple[int, int]] = []
    j = i
    while 0 <= j < size and len(out) < CONTEXT_LINES and abs(j - i) < 40:
        if len(tokens(j)) >= 3:
            out.append((key(j), abs(j - i) + 1))
        j += step
    return out


def raw_context(lines: Sequence[str], i: int, step: int) -> list[tuple[int, int]]:
    """``walk_context`` over lines that are not indexed (a few lines are normalised, not the file)."""
    return walk_context(i, step, len(lines), lambda j: tokens_of(normalise(lines[j])), lambda j: line_key(normalise(lines[j])))


@lru_cache(maxsize=4)
def index_of(text: str) -> TextIndex:
    """The index of ``text``, cached: a server relocates every anchor of a file against the same text."""
    return TextIndex(lines_of(text))
