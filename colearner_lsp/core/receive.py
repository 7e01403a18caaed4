"""Judging a message read from the bus: accept it, or say why not.

This is the one boundary every message crosses before anything else touches
it, and the one place the security rules of the design live: the message must
be strict, bounded JSON (``strict_json``), match its schema (whose numbers and
strings are bounded too), carry a valid signature of a pinned peer whose role
may write that event type, and concern this instance (a student's own events;
on a coach, a rostered student's own sessions, which the coach opened).
Anything else is refused with a reason and goes to the quarantine; the caller
keeps going (``Instance.receive`` also turns an exception while judging into a
refusal of that message, so nothing here can stop the reader).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pydantic import ValidationError

from .config import AgentConfig
from .display import one_line
from .events import NO_SESSION, EnvelopeBase, parse_event
from .signing import parse_public_key, raw_public_key, signature_valid, signed_as_received, signed_message
from .strict_json import MAX_MESSAGE_BYTES, Refused, decode

__all__ = ["MAX_MESSAGE_BYTES", "Claim", "Verdict", "conclude", "examine", "judge", "refuse"]

MAX_REASON_CHARS = 300


@dataclass(frozen=True)
class Verdict:
    envelope: dict[str, Any] | None
    event: EnvelopeBase | None
    reason: str | None
    # Refused only because this coach does not know the session yet (its own
    # session start may come later in a recovery): judged again once it does.
    retry_session: str | None = None

    @property
    def accepted(self) -> bool:
        return self.reason is None


def refuse(reason: str, envelope: dict[str, Any] | None = None, retry_session: str | None = None) -> Verdict:
    """A refusal; the reason is shown to people, so it is made one visible line (it may quote the wire)."""
    return Verdict(envelope, None, one_line(reason, MAX_REASON_CHARS), retry_session)


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
    try:
        data = decode(raw)
    except Refused as exc:
        return refuse(str(exc))
    if not isinstance(data, dict):
        return refuse(f"not a JSON object (found {type(data).__name__})")
    try:
        event = parse_event(data)
    except ValidationError as exc:
        err = exc.errors(include_url=False, include_input=False)[0]
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


def conclude(claim: Claim, signature_ok: bool, config: AgentConfig, session_students: dict[str, str] | None = None) -> Verdict:
    """The rules from the signature on, once it has been checked."""
    event, data = claim.event, claim.envelope
    if not signature_ok and claim.as_received:
        # signed as the spec says (canonical JSON) but sent in another layout
        canonical = signed_message(data)
        signature_ok = canonical is not None and signature_valid(canonical, claim.public_key)
    if not signature_ok:
        return refuse(_bad_signature(event), data)
    if event.actor not in event.payload.writers:  # declared with its payload class
        return refuse(f"a {event.actor} may not send {event.event_type}", data)

    if config.role == "student":
        if event.student != config.identity:
            return refuse(f"{event.event_type} concerns another student ({event.student!r})", data)
    else:
        if event.actor == "student":
            if event.sender != event.student:
                return refuse(f"student {event.sender!r} wrote about another student ({event.student!r})", data)
            if session_students is not None and event.session_id != NO_SESSION:
                known = session_students.get(event.session_id)
                if known is None:
                    return refuse(
                        f"student {event.sender!r} wrote {event.event_type} into session {event.session_id}, which this coach never opened",
                        data,
                        retry_session=event.session_id,
                    )
                if known != event.student:
                    return refuse(f"student {event.sender!r} wrote into {known!r}'s session {event.session_id}", data)
    return Verdict(data, event, None)


def _bad_signature(event: EnvelopeBase) -> str:
    return f"bad signature on {event.event_type} {event.event_id} from {event.sender!r}"


@lru_cache(maxsize=256)
def _public_key_bytes(text: str) -> bytes:
    return raw_public_key(parse_public_key(text))
