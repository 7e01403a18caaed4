"""A wire event's header, checked: fast for what colearner writers send, by the models for the rest.

``events.WireEnvelope`` (pydantic) is the schema of a header and the only
source of its refusal reasons. Validating it costs ~18 µs an event, more than
the rest of the header rules together, so ``read_header`` first tries
``_canonical``: a hand-written check that accepts a header only in the exact
form a colearner writer produces (canonical UUIDs and time, exact JSON types,
ASCII where a writer writes base64, every bound of the model). Whatever it does not accept, valid in another
spelling or hostile, goes to the model, which accepts it (normalised) or
raises the error the receiver quotes. So the fast check may only ever be
stricter than the model, never more lenient, and it never writes a reason of
its own; tests/core/test_wire_header.py holds the two to that, on valid and on
hostile headers.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from .event_types import PAYLOADS
from .events import MAX_SEQ, WireEnvelope, parse_ts, parse_wire

__all__ = ["WireHeader", "read_header"]


class WireHeader(NamedTuple):
    """Every envelope field but the payload, checked (what anyone with broker access sees)."""

    v: int
    ts: str
    actor: str
    session_id: str
    event_type: str
    event_id: str
    sender: str
    student: str
    seq: int
    prev: str | None
    sig: str | None


def read_header(data: dict[str, Any]) -> WireHeader:
    """The checked header of a decoded message (raises pydantic.ValidationError, as ``parse_wire``)."""
    fast = _canonical(data)
    if fast is not None:
        return fast
    env = parse_wire(data)
    return WireHeader(
        env.v, env.ts, env.actor, env.session_id, env.event_type, env.event_id, env.sender, env.student, env.seq, env.prev, env.sig
    )


# The model's rules, spelled for the canonical form only (each names the model's bound it stands for).
_IDENTITY = r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}"  # events.IDENTITY_PATTERN
_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"  # events.CANONICAL_UUID
# The header's texts joined by "|", which none of them may hold, checked by one regex: one call
# instead of one per field (each ~1 µs here). The separator fixes how many parts there are, so no
# part can reach into the next: ts, session, event id, sender, student, prev ("" for null), readers.
_TEXTS = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z"  # events.CANONICAL_TS, ASCII digits
    rf"\|{_UUID}\|{_UUID}\|{_IDENTITY}\|{_IDENTITY}\|(?:[0-9a-f]{{64}})?(?:\|{_IDENTITY}){{1,16}}"  # prev: events.HASH_PATTERN
)
_KEYS = frozenset(WireEnvelope.model_fields) - {"sig"}
_KEYS_SIGNED = _KEYS | {"sig"}
_SEALED_KEYS = frozenset({"nonce", "sealed", "keys"})
_ACTORS = frozenset({"coach", "student"})
MAX_SIG_CHARS = 128
NONCE_CHARS = 32
WRAP_CHARS = 64
MIN_SEALED_CHARS, MAX_SEALED_CHARS = 24, 1_500_000
MAX_READERS = 16
HASH_CHARS = 64


def _canonical(d: Any) -> WireHeader | None:
    """The header when ``d`` is one in a writer's own form, every value of its exact type and
    within the model's bounds; None for anything else (then the model decides)."""
    if type(d) is not dict:
        return None
    keys = d.keys()
    if keys == _KEYS:
        sig = None
    elif keys == _KEYS_SIGNED:
        sig = d["sig"]
        if type(sig) is not str or len(sig) > MAX_SIG_CHARS or not sig.isascii():
            return None
    else:
        return None
    v, ts, actor, session_id, event_type = d["v"], d["ts"], d["actor"], d["session_id"], d["event_type"]
    event_id, sender, student, seq, prev = d["event_id"], d["sender"], d["student"], d["seq"], d["prev"]
    sealed = d["payload"]
    if not (
        type(v) is int
        and v == 2
        and type(actor) is str
        and actor in _ACTORS
        and type(event_type) is str
        and event_type in PAYLOADS
        and type(seq) is int
        and 1 <= seq <= MAX_SEQ
        and (prev is None or (type(prev) is str and len(prev) == HASH_CHARS))
        and type(sealed) is dict
        and sealed.keys() == _SEALED_KEYS
    ):
        return None
    wraps = sealed["keys"]
    if type(wraps) is not dict or not 1 <= len(wraps) <= MAX_READERS or not _sealed_texts(sealed["nonce"], sealed["sealed"], wraps):
        return None
    try:
        joined = "|".join((ts, session_id, event_id, sender, student, prev or "", *wraps))
    except TypeError:  # one of them is not text
        return None
    # The parts are told apart by the separator: a text holding one would shift every later
    # part into its neighbour's place (a reader name "coach|x" matching as two), so the count
    # of separators must be exactly the number of joins.
    if joined.count("|") != 5 + len(wraps) or not _TEXTS.fullmatch(joined):
        return None
    try:
        parse_ts(ts)  # the shape is right; the date and time must exist too
    except ValueError:
        return None
    return WireHeader(v, ts, actor, session_id, event_type, event_id, sender, student, seq, prev, sig)


def _sealed_texts(nonce: Any, sealed: Any, wraps: dict[Any, Any]) -> bool:
    """``events.Sealed``'s bounds on its texts: a nonce, a ciphertext, one wrapped key per reader."""
    if type(nonce) is not str or len(nonce) != NONCE_CHARS or not nonce.isascii():
        return False
    if type(sealed) is not str or not MIN_SEALED_CHARS <= len(sealed) <= MAX_SEALED_CHARS or not sealed.isascii():
        return False
    for wrap in wraps.values():
        if type(wrap) is not str or len(wrap) != WRAP_CHARS or not wrap.isascii():
            return False
    return True
