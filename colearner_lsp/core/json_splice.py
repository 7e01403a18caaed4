"""JSON text put together around pieces encoded earlier, byte for byte as ``json.dumps`` writes the whole.

``learning.json`` holds every exercise. Encoding all of them whenever one changed
cost ~0.4 s of CPU at 10,000 exercises: on a worker thread, but holding the GIL
that the editor's requests wait for, every second while events arrive. So each
exercise's text is kept (``Encoded``) and only what changed is encoded again;
``dump_parts`` writes the document around the kept pieces (through the containers
marked ``Spliced``), with ``json.dumps``'s
separators and indentation (``ensure_ascii=False``), so that the file reads the
same as if it had been encoded whole. A raw line break never occurs inside JSON
text except between its tokens, so a piece is indented by adding spaces after
each of its line breaks.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Encoded:
    """A value's JSON text, indented for the nesting ``level`` it is written at."""

    text: str
    level: int


@dataclass(frozen=True, slots=True)
class Spliced:
    """A dict or list written piece by piece, because it holds ``Encoded`` values (or ``Spliced``
    ones that do); every other container is encoded whole, at ``json.dumps``'s speed."""

    items: dict[Any, Any] | list[Any]


def _dumps(value: Any, indent: int | None) -> str:
    return json.dumps(value, indent=indent, ensure_ascii=False)


def _at_level(text: str, indent: int | None, level: int) -> str:
    return text.replace("\n", "\n" + " " * (indent * level)) if indent and level else text


def _key(key: Any) -> str:
    """A dict key as JSON writes it: always a string."""
    if isinstance(key, str):
        return key
    if isinstance(key, bool) or key is None:
        return {True: "true", False: "false", None: "null"}[key]
    if isinstance(key, int | float):
        return json.dumps(key)
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")


def encode_at(value: Any, indent: int | None, level: int) -> Encoded:
    """``value`` encoded as ``json.dumps(..., indent=indent)`` writes it ``level`` containers deep."""
    return Encoded(_at_level(_dumps(value, indent), indent, level), level)


def dump_parts(value: Any, indent: int | None, level: int = 0) -> Iterator[str]:
    """The pieces of ``json.dumps(value, indent=indent, ensure_ascii=False)``, where ``Spliced``
    containers hold ``Encoded`` values (each made for the level it sits at) or more ``Spliced``
    ones; anything else is left to ``json.dumps`` whole."""
    if isinstance(value, Encoded):
        if value.level != level:
            raise ValueError(f"a piece encoded for level {value.level} sits at level {level}")
        yield value.text
        return
    if not isinstance(value, Spliced) or not value.items:
        yield _at_level(_dumps(value.items if isinstance(value, Spliced) else value, indent), indent, level)
        return
    items = value.items
    opening, closing = ("{", "}") if isinstance(items, dict) else ("[", "]")
    newline = "" if indent is None else "\n" + " " * (indent * (level + 1))
    separator = ", " if indent is None else ","
    yield opening
    if isinstance(items, dict):
        for n, (key, item) in enumerate(items.items()):
            yield ((separator + newline) if n else newline) + _dumps(_key(key), None) + ": "
            yield from dump_parts(item, indent, level + 1)
    else:
        for n, item in enumerate(items):
            yield (separator + newline) if n else newline
            yield from dump_parts(item, indent, level + 1)
    yield ("" if indent is None else "\n" + " " * (indent * level)) + closing
