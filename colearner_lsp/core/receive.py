"""Judging a message read from the bus: accept it, or say why not.

This is the one place the security rules of the design live: the message must be
JSON, match its schema, carry a valid signature of a pinned peer whose role may
write that event type, and concern this instance (a student's own events; on a
coach, a rostered student's own sessions). Anything else is refused with a
reason and goes to the quarantine; the caller keeps going.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pydantic import ValidationError

from .config import AgentConfig
from .events import WRITERS, EnvelopeBase, parse_event
from .signing import parse_public_key, raw_public_key, signature_valid, signed_as_received, signed_message

MAX_MESSAGE_BYTES = 1_000_000


@dataclass(frozen=True)
class Verdict:
    envelope: dict[str, Any] | None
    event: EnvelopeBase | None
    reason: str | None

    @property
    def accepted(self) -> bool:
        return self.reason is None


def refuse(reason: str, envelope: dict[str, Any] | None = None) -> Verdict:
    return Verdict(None, None, reason) if envelope is None else Verdict(envelope, None, reason)


@dataclass(frozen=True)
class Claim:
    """A message that passed every rule checked before its signature.

    ``signed`` (signature and signed bytes, see ``signing.signed_message``) is
    checked against ``public_key`` apart, so a big batch can be checked in bulk.
    """

    envelope: dict[str, Any]
    event: EnvelopeBase
    signed: bytes
    public_key: bytes
    as_received: bool = False  # ``signed`` taken from the message's own bytes (see signing.signed_as_received)


def judge(
    raw: bytes,
    config: AgentConfig,
    own_public_key: str,
    session_students: dict[str, str] | None = None,
) -> Verdict:
    """Decide whether ``raw`` may be applied by the instance ``config`` describes.

    ``own_public_key`` checks events that claim to be this instance's own (they
    come back on the shared ``events`` topic).
    ``session_students`` maps the coach's known sessions to their students, so a
    student cannot write into another student's session.
    """
    claim = examine(raw, config, own_public_key)
    if isinstance(claim, Verdict):
        return claim
    return conclude(claim, signature_valid(claim.signed, claim.public_key), config, session_students)


def examine(raw: bytes, config: AgentConfig, own_public_key: str) -> Verdict | Claim:
    """The rules up to the signature: a refusal, or the claim whose signature decides."""
    if len(raw) > MAX_MESSAGE_BYTES:
        return refuse(f"message of {len(raw)} bytes is over the {MAX_MESSAGE_BYTES}-byte limit")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return refuse(f"not valid UTF-8 JSON ({exc.__class__.__name__}: {str(exc)[:120]})")
    if not isinstance(data, dict):
        return refuse(f"not a JSON object (found {type(data).__name__})")
    try:
        event = parse_event(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        return refuse(f"fails the schema at '{loc}': {err['msg']}", data)

    if event.sig is None:
        return refuse(f"unsigned {event.event_type} from {event.sender!r}", data)
    if event.sender == config.identity:
        if event.actor != config.role:
            return refuse(f"{event.sender!r} is this instance's own name but wrote as {event.actor}", data)
        public_text = own_public_key
    else:
        peer = config.peers.get(event.sender)
        if peer is None:
            return refuse(
                f"{event.event_type} signed by {event.sender!r}, who is not trusted here "
                f"(pin their key with 'colearner trust {event.sender} KEY')",
                data,
            )
        if peer.role != event.actor:
            return refuse(f"{event.sender!r} is a trusted {peer.role} but wrote as {event.actor}", data)
        public_text = peer.public_key
    key = _public_key_bytes(public_text)
    signed = signed_as_received(data, raw)
    if signed is not None:
        return Claim(data, event, signed, key, as_received=True)
    signed = signed_message(data)
    if signed is None:
        return refuse(_bad_signature(event), data)
    return Claim(data, event, signed, key)


def conclude(
    claim: Claim, signature_ok: bool, config: AgentConfig, session_students: dict[str, str] | None = None
) -> Verdict:
    """The rules from the signature on, once it has been checked."""
    event, data = claim.event, claim.envelope
    if not signature_ok and claim.as_received:
        # signed as the spec says (canonical JSON) but sent in another layout
        canonical = signed_message(data)
        signature_ok = canonical is not None and signature_valid(canonical, claim.public_key)
    if not signature_ok:
        return refuse(_bad_signature(event), data)
    if event.actor not in WRITERS[event.event_type]:
        return refuse(f"a {event.actor} may not send {event.event_type}", data)

    if config.role == "student":
        if event.student != config.identity:
            return refuse(f"{event.event_type} concerns another student ({event.student!r})", data)
    else:
        if event.actor == "student":
            if event.sender != event.student:
                return refuse(f"student {event.sender!r} wrote about another student ({event.student!r})", data)
            known = (session_students or {}).get(event.session_id)
            if known is not None and known != event.student:
                return refuse(f"student {event.sender!r} wrote into {known!r}'s session {event.session_id}", data)
    return Verdict(data, event, None)


def _bad_signature(event: EnvelopeBase) -> str:
    return f"bad signature on {event.event_type} {event.event_id} from {event.sender!r}"


@lru_cache(maxsize=256)
def _public_key_bytes(text: str) -> bytes:
    return raw_public_key(parse_public_key(text))
