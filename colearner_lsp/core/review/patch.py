"""The shared diff read back: one patch per file, and a patch applied to the file it was made from.

The student's instance writes the diff (``evidence_diff``): git's own unified
diff of the shared files, at most ``MAX_DIFF_CHARS`` long, a line saying how
many files were left out when it had to stop. It came over the wire, so it is
read here as hostile text: hunks are read by their line counts (a line that
does not fit is an error, not a guess), names are unquoted the way git quotes
them, and applying is exact (no fuzz): the base is the very file the diff was
made from, so any mismatch means the diff is not the student's change.

Text, not bytes: the student's instance decodes git's diff as UTF-8 (with
replacement), so a file that is not UTF-8 cannot be rebuilt exactly; the
caller finds that out by comparing the result with the student's blob id.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

# git's header lines, in the order a file's patch may carry them.
_HUNK = re.compile(r"@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_INDEX = re.compile(r"index ([0-9a-f]{4,64})\.\.([0-9a-f]{4,64})(?: \d{6})?")
_LEFT_OUT = re.compile(r"(?m)^# (\d+) more file diff\(s\) left out")  # at a line's start: a hunk's lines never are
NO_NEWLINE = "\\ No newline at end of file"
MAX_HUNK_LINES = 10_000_000  # a count past any file the diff could carry


class PatchError(ValueError):
    """A diff that cannot be read, or does not apply; the message says where."""


@dataclass(frozen=True)
class Hunk:
    old_start: int
    old_count: int
    lines: tuple[str, ...]  # each " ", "-" or "+" and the line's text without its newline; NO_NEWLINE marks the one before


@dataclass(frozen=True)
class FilePatch:
    """One file's patch as git wrote it. ``old_path`` is None for a new file, ``new_path`` for a deleted one."""

    old_path: str | None
    new_path: str | None
    old_blob: str  # git's abbreviated blob ids from the "index" line; "" when there is none
    new_blob: str
    binary: bool  # "Binary files … differ": the diff carries no content
    hunks: tuple[Hunk, ...]
    text: str  # the patch as it was sent

    @property
    def path(self) -> str:
        """The name the file has now (for a deleted file, the name it had)."""
        return self.new_path or self.old_path or ""


@dataclass(frozen=True)
class SharedDiff:
    """A snapshot's diff read into patches; ``left_out`` counts the files cut at the size limit."""

    patches: dict[str, FilePatch]  # by FilePatch.path
    left_out: int
    broken: dict[str, str]  # path (or "#n" when no name could be read) -> why its patch cannot be read


def read_diff(diff: str, wanted: Collection[str] | None = None) -> SharedDiff:
    """Split a shared diff into its files' patches (only those of the ``wanted`` paths, when given:
    the others' hunks are not even read). A patch that cannot be read is kept out with its reason."""
    patches: dict[str, FilePatch] = {}
    broken: dict[str, str] = {}
    left_out = 0
    chunks = re.split(r"(?m)^(?=diff --git )", diff)
    for n, chunk in enumerate(chunks):
        if not chunk.startswith("diff --git "):
            continue
        cut = _LEFT_OUT.search(chunk)
        if cut is not None:
            left_out = int(cut.group(1))
            chunk = chunk[: cut.start()]
        if wanted is not None and (_name_guess(chunk) or "") not in wanted and not _ambiguous(chunk):
            continue
        try:
            patch = read_patch(chunk)
        except PatchError as exc:
            broken[_name_guess(chunk) or f"#{n}"] = str(exc)
            continue
        if wanted is None or patch.path in wanted:
            patches[patch.path] = patch
    if left_out == 0:
        cut = _LEFT_OUT.match(chunks[0]) if chunks else None
        left_out = int(cut.group(1)) if cut else 0
    return SharedDiff(patches, left_out, broken)


def read_patch(text: str) -> FilePatch:
    """One file's patch, from its ``diff --git`` line to the end of its last hunk."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    first = lines[0]
    old, new = _names_of_diff_line(first[len("diff --git ") :])
    old_blob = new_blob = ""
    binary = False
    minus = plus = None
    i = 1
    while i < len(lines) and not lines[i].startswith("@@"):
        line = lines[i]
        if line.startswith("rename from "):
            old = _unquote(line[len("rename from ") :])
        elif line.startswith("rename to "):
            new = _unquote(line[len("rename to ") :])
        elif line.startswith("new file mode "):
            old = None
        elif line.startswith("deleted file mode "):
            new = None
        elif (m := _INDEX.fullmatch(line)) is not None:
            old_blob, new_blob = m.group(1), m.group(2)
        elif line.startswith("Binary files "):
            binary = True
        elif line.startswith("--- "):
            minus = _side(line[4:], "a/")
        elif line.startswith("+++ "):
            plus = _side(line[4:], "b/")
        elif not line.startswith(("old mode ", "new mode ", "similarity index ", "dissimilarity index ", "copy from ", "copy to ")):
            raise PatchError(f"line {i + 1} of the patch is not a git diff header: {line[:80]!r}")
        i += 1
    if minus is not None or plus is not None:  # the ---/+++ names are unambiguous; they win
        old = None if minus == "" else minus if minus is not None else old
        new = None if plus == "" else plus if plus is not None else new
    if old is None and new is None:
        raise PatchError("the patch names no file")
    hunks: list[Hunk] = []
    while i < len(lines):
        hunk, i = _read_hunk(lines, i)
        hunks.append(hunk)
    if binary and hunks:
        raise PatchError("a binary patch with text hunks")
    return FilePatch(old, new, old_blob, new_blob, binary, tuple(hunks), text)


def _read_hunk(lines: list[str], i: int) -> tuple[Hunk, int]:
    m = _HUNK.match(lines[i])
    if m is None:
        raise PatchError(f"line {i + 1} of the patch should start a hunk (@@ -a,b +c,d @@): {lines[i][:80]!r}")
    old_start, new_start = int(m.group(1)), int(m.group(3))
    old_count = int(m.group(2)) if m.group(2) is not None else 1
    new_count = int(m.group(4)) if m.group(4) is not None else 1
    if max(old_start, old_count, new_start, new_count) > MAX_HUNK_LINES:
        raise PatchError(f"hunk at line {i + 1} names a line past any file ({lines[i][:80]!r})")
    body: list[str] = []
    old_left, new_left = old_count, new_count
    i += 1
    while old_left > 0 or new_left > 0 or (i < len(lines) and lines[i] == NO_NEWLINE):
        if i >= len(lines):
            raise PatchError(f"the patch ends inside a hunk ({old_left} old and {new_left} new line(s) missing)")
        line = lines[i]
        kind = line[:1]
        if line == NO_NEWLINE:
            if not body or body[-1] == NO_NEWLINE:
                raise PatchError(f"line {i + 1}: '{NO_NEWLINE}' follows no line")
        elif kind == " " and old_left > 0 and new_left > 0:
            old_left, new_left = old_left - 1, new_left - 1
        elif kind == "-" and old_left > 0:
            old_left -= 1
        elif kind == "+" and new_left > 0:
            new_left -= 1
        else:
            raise PatchError(f"line {i + 1} of the patch does not fit its hunk: {line[:80]!r}")
        body.append(line)
        i += 1
    return Hunk(old_start, old_count, tuple(body)), i


def apply_patch(base: str, patch: FilePatch) -> str:
    """The file ``patch`` makes of ``base`` (the text it was made from); PatchError where it does not fit."""
    if patch.binary:
        raise PatchError("the diff of a binary file carries no content")
    old = _lines(base)
    out: list[str] = []
    at = 0  # next line of ``old`` not yet copied
    for hunk in patch.hunks:
        start = hunk.old_start - 1 if hunk.old_count else hunk.old_start  # a count of 0 inserts after that line
        if start < at or start > len(old):
            raise PatchError(f"the hunk at old line {hunk.old_start} lies outside the file or before the one above it")
        out += old[at:start]
        at = start
        for n, line in enumerate(hunk.lines):
            if line == NO_NEWLINE:
                continue
            ends = n + 1 < len(hunk.lines) and hunk.lines[n + 1] == NO_NEWLINE
            text = line[1:] + ("" if ends else "\n")
            if line[0] in " -":
                if at >= len(old) or old[at] != text:
                    raise PatchError(f"line {at + 1} of the base is not the one the diff was made against")
                at += 1
            if line[0] in " +":
                out.append(text)
    out += old[at:]
    return "".join(out)


def _lines(text: str) -> list[str]:
    """Lines with their "\\n" (only "\\n" ends a line in a diff; "\\r" stays part of it)."""
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    return lines + ([parts[-1]] if parts[-1] else [])


# ---------------------------------------------------------------- names


_ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}


def _unquote(name: str) -> str:
    """A name as git writes it in a header: as is, or C-quoted with octal bytes (core.quotePath)."""
    if not name.startswith('"'):
        return name
    if len(name) < 2 or not name.endswith('"'):
        raise PatchError(f"a quoted name without its closing quote: {name[:80]!r}")
    out = bytearray()
    body = name[1:-1]
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == '"':
            raise PatchError(f"a quote inside a quoted name: {name[:80]!r}")
        if ch != "\\":
            out += ch.encode("utf-8", "surrogateescape")
            i += 1
            continue
        nxt = body[i + 1 : i + 2]
        if nxt in _ESCAPES:
            out.append(_ESCAPES[nxt])
            i += 2
        elif re.fullmatch(r"[0-3][0-7]{2}", body[i + 1 : i + 4]):
            out.append(int(body[i + 1 : i + 4], 8))
            i += 4
        else:
            raise PatchError(f"an unknown escape in a quoted name: {name[:80]!r}")
    return out.decode("utf-8", "surrogateescape")


def _side(raw: str, prefix: str) -> str:
    """The name on a ---/+++ line without its a/ or b/; "" for /dev/null."""
    raw = raw[:-1] if raw.endswith("\t") else raw  # git marks where a name with spaces ends
    if raw == "/dev/null":
        return ""
    name = _unquote(raw)
    if not name.startswith(prefix):
        raise PatchError(f"a file name without its {prefix} prefix: {raw[:80]!r}")
    return name[len(prefix) :]


def _names_of_diff_line(rest: str) -> tuple[str | None, str | None]:
    """The two names of ``diff --git a/X b/Y``. Unquoted names with spaces are ambiguous unless
    equal; then the other header lines (rename, ---/+++) must say them, and None is returned."""
    if rest.startswith('"'):
        end = _closing_quote(rest)
        old, tail = _unquote(rest[: end + 1]), rest[end + 2 :]
    elif rest.endswith('"') and ' "b/' in rest:
        old, _, tail = rest.partition(' "b/')
        tail = '"b/' + tail
    else:
        half = (len(rest) - 1) // 2
        if len(rest) % 2 == 1 and rest[half] == " " and rest[2:half] == rest[half + 3 :]:
            old, tail = rest[:half], rest[half + 1 :]
        elif rest.count(" b/") == 1:
            old, _, tail = rest.partition(" b/")
            tail = "b/" + tail
        else:
            return None, None
    new = _unquote(tail) if tail.startswith('"') else tail
    if not old.startswith("a/") or not new.startswith("b/"):
        return None, None
    return old[2:], new[2:]


def _closing_quote(text: str) -> int:
    i = 1
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == '"':
            return i
        i += 1
    raise PatchError(f"a quoted name without its closing quote: {text[:80]!r}")


def _ambiguous(chunk: str) -> bool:
    """Whether a patch's first line may not name its file (a rename, unquoted names with spaces):
    then its other header lines must be read to know whose it is."""
    first = chunk.split("\n", 1)[0]
    try:
        old, new = _names_of_diff_line(first[len("diff --git ") :])
    except PatchError:
        return True
    return old is None or new is None or old != new


def _name_guess(chunk: str) -> str | None:
    """The file a patch that cannot be read is about, when its first line says it plainly."""
    try:
        old, new = _names_of_diff_line(chunk.split("\n", 1)[0][len("diff --git ") :])
    except PatchError:
        return None
    return new or old
