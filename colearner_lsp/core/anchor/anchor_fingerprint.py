"""An anchor's fingerprint: what the coach's instance keeps of the anchored lines, sent with
the exercise, from which ``anchors.relocate_anchor`` finds them again.

Hashes of the normalised lines (and of a few lines of context on each side), the enclosing
definitions' names, and for small anchors their text; zlib'd JSON in URL-safe base64 behind a
version prefix. Decoding is strict: a fingerprint comes over the wire.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

from colearner_lsp.core.anchor.anchor_text import (
    BLANK,
    TextIndex,
    block_end,
    block_hash,
    bracket_depth,
    index_of,
    line_key,
    lines_of,
    normalise,
    raw_context,
    tokens_of,
)

_PREFIX = "v1."
MAX_HASHED = 512  # longer anchors keep only the hashes of their first and last 256 lines
MAX_TEXT_LINES, MAX_TEXT_CHARS = 60, 2000  # anchors this small keep their text, for token alignment


@dataclass(frozen=True)
class Fingerprint:
    """What an anchor remembers of its lines (``head`` holds every line's hash unless ``tail`` is set)."""

    n: int  # number of anchored lines
    start: int  # 0-based line where it was anchored
    head: tuple[int, ...]
    tail: tuple[int, ...]  # hashes of the last lines, only for anchors longer than MAX_HASHED
    whole: int  # block_hash of all anchored lines
    texts: tuple[str, ...]  # normalised lines, only for small anchors
    before: tuple[tuple[int, int], ...]
    after: tuple[tuple[int, int], ...]
    names: tuple[str, ...]  # def/class names: the anchor's own header if it starts with one, then enclosing
    header: bool  # the first line is a def/class header
    block: bool  # the anchor is exactly one indentation block: follow the block's extent

    @classmethod
    def of(cls, index: TextIndex, s: int, e: int) -> Fingerprint:
        """Describe lines ``s..e`` (0-based, inclusive) of an indexed file."""
        norms, keys = index.norms[s : e + 1], index.keys[s : e + 1]
        n = e - s + 1
        head, tail = (keys, []) if n <= MAX_HASHED else (keys[: MAX_HASHED // 2], keys[-MAX_HASHED // 2 :])
        small = n <= MAX_TEXT_LINES and sum(map(len, norms)) <= MAX_TEXT_CHARS
        return cls(
            n=n,
            start=s,
            head=tuple(head),
            tail=tuple(tail),
            whole=block_hash(norms),
            texts=tuple(norms) if small else (),
            before=tuple(index.context(s - 1, -1)),
            after=tuple(index.context(e + 1, 1)),
            names=index.names(s),
            header=index.header(s) is not None,
            # Only a line that opens a block (not a call wrapped over lines) makes the anchor follow it.
            block=e > s and index.block_end(s) == e and (index.header(s) is not None or norms[0].endswith((":", "{"))),
        )

    def to_json(self) -> dict[str, Any]:
        """Compact JSON-ready form: short keys, hashes packed as base64 (4 characters a line)."""
        obj: dict[str, Any] = {"n": self.n, "s": self.start + 1, "h": _pack(self.head), "w": self.whole}
        if self.tail:
            obj["t"] = _pack(self.tail)
        if self.texts:
            obj["x"] = list(self.texts)
        obj["b"], obj["bd"] = _pack([k for k, _ in self.before]), [d for _, d in self.before]
        obj["a"], obj["ad"] = _pack([k for k, _ in self.after]), [d for _, d in self.after]
        if self.names:
            obj["g"] = list(self.names)
        obj["f"] = int(self.header) | int(self.block) << 1
        return obj

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Fingerprint:
        flags = int(obj.get("f", 0))
        return cls(
            n=int(obj["n"]),
            start=int(obj["s"]) - 1,
            head=_unpack(obj["h"]),
            tail=_unpack(obj.get("t", "")),
            whole=int(obj["w"]),
            texts=tuple(str(t) for t in obj.get("x", ())),
            before=tuple(zip(_unpack(obj.get("b", "")), map(int, obj.get("bd", ())))),
            after=tuple(zip(_unpack(obj.get("a", "")), map(int, obj.get("ad", ())))),
            names=tuple(str(g) for g in obj.get("g", ())),
            header=bool(flags & 1),
            block=bool(flags & 2),
        )

    @cached_property
    def line_tokens(self) -> list[list[str]]:
        """Tokens of each anchored line (small anchors only)."""
        return [tokens_of(t) for t in self.texts]

    @cached_property
    def depth(self) -> int:
        """Brackets the anchored text leaves open (small anchors only)."""
        return sum(bracket_depth(toks) for toks in self.line_tokens)

    @cached_property
    def units(self) -> list[Any]:
        """What alignment compares: tokens of the text for small anchors, line hashes otherwise."""
        if self.texts:
            return [tok for toks in self.line_tokens for tok in toks]
        return list(self.head + self.tail)

    @cached_property
    def unit_lines(self) -> list[int]:
        """For each unit, the anchor line (0-based, within the anchor) it comes from."""
        if self.texts:
            return [i for i, toks in enumerate(self.line_tokens) for _ in toks]
        return list(range(len(self.head))) + list(range(self.n - len(self.tail), self.n))

    @cached_property
    def nonblank(self) -> tuple[int, int]:
        """First and last non-blank lines of the anchor (0-based, within it)."""
        lines = sorted(set(self.unit_lines)) if self.texts else [i for i, k in zip(self.unit_lines, self.head + self.tail) if k != BLANK]
        return (lines[0], lines[-1]) if lines else (0, self.n - 1)

    def matches_at(self, lines: Sequence[str], p: int) -> bool:
        """True when the anchored text sits unchanged at line ``p``, among at least one of the lines
        that surrounded it (the fast path: no index of the whole file needed)."""
        if p < 0 or p + self.n > len(lines):
            return False
        window = lines[p : p + self.n]
        if [line_key(normalise(x)) for x in window[: len(self.head)]] != list(self.head):
            return False
        if block_hash([normalise(x) for x in window]) != self.whole:
            return False
        if self.block and block_end(lines, p) != p + self.n - 1:
            return False
        if not (self.before or self.after):
            return True
        # A generic line (``return decorator``) also sits unchanged in other places: the context
        # tells whether this is the anchored one; when it does not, the full search weighs them all.
        around = {k for k, _ in raw_context(lines, p - 1, -1) + raw_context(lines, p + self.n, 1)}
        return any(k in around for k, _ in self.before + self.after)


def _pack(keys: Sequence[int]) -> str:
    return base64.b64encode(b"".join(k.to_bytes(3, "big") for k in keys)).decode("ascii")


def _unpack(packed: str) -> tuple[int, ...]:
    raw = base64.b64decode(packed)
    return tuple(int.from_bytes(raw[i : i + 3], "big") for i in range(0, len(raw), 3))


def make_fingerprint(text: str, start_line: int, end_line: int) -> str:
    """Fingerprint lines ``start_line..end_line`` (1-based, inclusive) of ``text``, the whole file.

    Raises ValueError when the file is empty or the lines are out of range.
    """
    lines = lines_of(text)
    if not lines:
        raise ValueError("cannot anchor to an empty file")
    if start_line < 1:
        raise ValueError(f"start_line must be 1 or more (lines are 1-based), got {start_line}")
    if start_line > end_line:
        raise ValueError(f"start_line {start_line} is after end_line {end_line}")
    if end_line > len(lines):
        raise ValueError(f"end_line {end_line} is past the end of the file ({len(lines)} lines)")
    fp = Fingerprint.of(index_of(text), start_line - 1, end_line - 1)
    raw = json.dumps(fp.to_json(), separators=(",", ":"), ensure_ascii=True).encode("ascii")
    return _PREFIX + base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode("ascii").rstrip("=")


@lru_cache(maxsize=4096)
def decode_fingerprint(fingerprint: str) -> Fingerprint:
    if not isinstance(fingerprint, str) or not fingerprint.startswith(_PREFIX):
        raise ValueError("not an anchor fingerprint (expected one made by make_fingerprint, starting 'v1.')")
    body = fingerprint[len(_PREFIX) :]
    try:
        raw = zlib.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        return Fingerprint.from_json(json.loads(raw))
    except (binascii.Error, zlib.error, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"anchor fingerprint is damaged and cannot be read: {exc}") from None
