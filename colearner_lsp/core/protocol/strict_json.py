"""Decoding a message value as strict, bounded JSON: the first step of the receive boundary.

``json.loads`` alone lets hostile bytes through in ways that stop a reader or
change meaning: an integer of thousands of digits raises ``ValueError`` (not a
``JSONDecodeError``), arrays nested tens of thousands deep raise
``RecursionError``, ``NaN`` and ``1e999`` become floats no schema expects, and
a duplicated key silently keeps its last value (so two readers of the same
bytes could disagree on what was signed). ``decode`` refuses all of these with
``Refused`` and a short reason; it never raises anything else.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import orjson

MAX_MESSAGE_BYTES = 1_000_000
MAX_DEPTH = 16  # an event nests 5 deep (envelope → payload → files → file → field)
MAX_INT_DIGITS = 19  # beyond any bound of the schema; the schema then checks the real range
_CHEAP_DEPTH = MAX_DEPTH + 1  # fewer brackets than this cannot nest deeper than MAX_DEPTH: no walk needed


class Refused(ValueError):
    """The value is not strict, bounded JSON; ``str(exc)`` says why in one line."""


class _DuplicateKey(ValueError):
    pass


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return obj


def _int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise Refused(f"an integer of {len(text)} digits (at most {MAX_INT_DIGITS})")
    return int(text)


def _float(text: str) -> float:
    if len(text) > 64:
        raise Refused(f"a number written with {len(text)} characters")
    value = float(text)
    if not math.isfinite(value):
        raise Refused(f"the number {text[:20]} is out of range")
    return value


def _constant(name: str) -> Any:
    raise Refused(f"not valid UTF-8 JSON ({name} is not a JSON number)")


_DECODER = json.JSONDecoder(object_pairs_hook=_object, parse_int=_int, parse_float=_float, parse_constant=_constant)


def decode(raw: bytes) -> Any:
    """The JSON value ``raw`` holds, or ``Refused`` naming the first rule it breaks."""
    if len(raw) > MAX_MESSAGE_BYTES:
        raise Refused(f"message of {len(raw)} bytes is over the {MAX_MESSAGE_BYTES}-byte limit")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Refused(f"not valid UTF-8 JSON (UnicodeDecodeError at byte {exc.start})") from None
    try:
        value = _DECODER.decode(text)
    except Refused:
        raise
    except _DuplicateKey as exc:
        raise Refused(f"the key {str(exc)[:60]!r} appears twice in one object") from None
    except json.JSONDecodeError as exc:
        raise Refused(f"not valid UTF-8 JSON (JSONDecodeError: {exc.msg} at line {exc.lineno} column {exc.colno})") from None
    except RecursionError:
        raise Refused(f"nested deeper than {MAX_DEPTH} levels") from None
    except (ValueError, TypeError, OverflowError, MemoryError) as exc:
        raise Refused(f"not valid UTF-8 JSON ({exc.__class__.__name__})") from None
    # Deeper than the interpreter's stack was refused above, as a RecursionError of
    # the C decoder, before much was built. Between that and MAX_DEPTH the decoded
    # value is walked, container by container, but only when its text holds enough
    # brackets to nest that deep (counted at C speed; strings may hold brackets too).
    if text.count("[") + text.count("{") >= _CHEAP_DEPTH and _deeper_than(value, MAX_DEPTH):
        raise Refused(f"nested deeper than {MAX_DEPTH} levels")
    # A \ud800-style escape decodes to a lone surrogate, which is no text: UTF-8 (the ledger,
    # a terminal) cannot hold it. Looked for only when the text has such an escape.
    if ("\\ud" in text or "\\uD" in text) and _has_lone_surrogate(value):
        raise Refused("a string holds a lone surrogate (\\ud800-\\udfff), which is not text")
    return value


def _has_lone_surrogate(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether containers nest more than ``limit`` deep in ``value`` (a decoded JSON value)."""
    if not isinstance(value, (dict, list)):
        return False
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def decode_as_written(raw: bytes, write: Callable[[Any], bytes]) -> Any:
    """``decode``, fast for bytes laid out exactly as ``write`` writes what they hold.

    A colearner writer sends compact JSON in one layout; for those bytes a C
    parser (orjson) and writing the value back are a proof of strictness: the
    same bytes again means no key appeared twice (the value has each once) and
    every number is one the writer can write. Anything else, hostile or merely
    laid out another way, takes ``decode``'s careful path, so this is only ever
    faster, never more lenient (``write`` may raise: that too takes the careful path).
    """
    if len(raw) <= MAX_MESSAGE_BYTES and raw.count(b"[") + raw.count(b"{") < _CHEAP_DEPTH:
        try:
            value = orjson.loads(raw)
            if write(value) == raw:
                return value
        except Exception:  # noqa: BLE001, S110 - not in the writer's layout: judged the careful way
            pass
    return decode(raw)


def write_compact(value: Any) -> bytes:
    """How payloads are written inside their seal: compact JSON in the value's own key order."""
    return orjson.dumps(value)
