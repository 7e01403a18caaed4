"""Judging a message read from the bus: accept it, or say why not.

This is the one boundary every message crosses before anything else touches
it, and the one place the security rules of the design live. In order:

1. ``examine``: strict, bounded JSON (``strict_json``) of wire v2 whose header
   matches its schema, from a pinned peer (or this instance) in its role, who
   may write that event type, about this instance (a student's own events; on
   a coach, a student's events about herself);
2. its stream's chain (``chain``, driven by ``intake``): linked by a validly
   signed tip to what was accepted before;
3. ``open_claim``: its payload opens for this instance and matches its type's
   schema; ``conclude``: on a coach, it goes into a session the coach opened
   with that student.

Anything else is refused with a reason and goes to the quarantine; the caller
keeps going (``intake`` also turns an exception while judging into a
refusal of that message, so nothing here can stop the reader).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, NamedTuple

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import ValidationError

from ..display import one_line
from .event_types import PAYLOADS, Payload
from .events import NO_SESSION, EnvelopeBase
from .opened import assemble, validate_payloads
from .reader import Reader
from .sealing import CannotOpen, open_sealed, shared_key
from .signing import parse_public_key, public_key_text, raw_public_key, signature_valid, signed_as_received
from .strict_json import MAX_MESSAGE_BYTES, Refused, decode_as_written, write_compact
from .wire import WIRE_VERSION, event_hash, header_bytes
from .wire_header import WireHeader, read_header

__all__ = [
    "MAX_MESSAGE_BYTES",
    "Claim",
    "Unsealed",
    "Verdict",
    "conclude",
    "examine",
    "judge_alone",
    "open_claim",
    "opened",
    "opened_event",
    "opened_text",
    "refuse",
    "session_refusal",
    "tip_signature_ok",
    "unseal",
]

MAX_REASON_CHARS = 300


# NamedTuples, not frozen dataclasses: a few are made per message, and a frozen
# dataclass costs ~6 µs to make (each field set through object.__setattr__), a tuple ~1.5.
class Verdict(NamedTuple):
    envelope: dict[str, Any] | None
    event: EnvelopeBase | None
    reason: str | None
    # Refused only because this coach does not know the session yet (its own
    # session start may come later in a recovery): judged again once it does.
    retry_session: str | None = None
    opened_text: str | None = None  # an accepted event's opened form as the ledger keeps it (JSON)

    @property
    def accepted(self) -> bool:
        return self.reason is None


def refuse(reason: str, envelope: dict[str, Any] | None = None, retry_session: str | None = None) -> Verdict:
    """A refusal; the reason is shown to people, so it is made one visible line (it may quote the wire)."""
    return Verdict(envelope, None, one_line(reason, MAX_REASON_CHARS), retry_session)


class Claim(NamedTuple):
    """A message whose header passed every rule (wire v2): a trusted sender in its
    role, concerning this instance; its payload still sealed.

    Its chain decides next (see ``chain``): ``signed`` (signature and signed
    bytes, taken from the message as received) is None on an event that is not a
    tip; ``public_key`` is the sender's, raw.
    """

    envelope: dict[str, Any]
    header: WireHeader
    raw: bytes
    hash: str
    public_key: bytes
    signed: bytes | None


def examine(raw: bytes, config: Reader, own_public_key: str) -> Verdict | Claim:
    """The rules a message's header must pass: a refusal, or the claim its chain decides."""
    try:
        data = decode_as_written(raw, _as_sent)
    except Refused as exc:
        return refuse(str(exc))
    if not isinstance(data, dict):
        return refuse(f"not a JSON object (found {type(data).__name__})")
    version = data.get("v", 1)
    if version != WIRE_VERSION:
        shown = version if isinstance(version, int) and not isinstance(version, bool) else type(version).__name__
        return refuse(f"a wire v{shown} message (its payload not sealed); this instance reads wire v{WIRE_VERSION} only", data)
    try:
        header = read_header(data)
    except ValidationError as exc:
        err = exc.errors(include_url=False, include_input=False)[0]
        loc = ".".join(str(p) for p in err["loc"])
        return refuse(f"fails the schema at '{loc}': {err['msg']}", data)
    if (header.seq == 1) != (header.prev is None):
        return refuse(f"seq {header.seq} with prev {'missing' if header.prev is None else 'set'}: only seq 1 starts a stream", data)

    if header.sender == config.identity:
        if header.actor != config.role:
            return refuse(f"{header.sender!r} is this instance's own name but wrote as {header.actor}", data)
        public_text = own_public_key
    else:
        peer = config.peers.get(header.sender)
        if peer is None:
            return refuse(
                f"{header.event_type} from {header.sender!r}, who is not trusted here "
                f"(pin their key with 'colearner trust {header.sender} KEY')",
                data,
            )
        if peer.role != header.actor:
            return refuse(f"{header.sender!r} is a trusted {peer.role} but wrote as {header.actor}", data)
        public_text = peer.public_key
    if header.actor not in PAYLOADS[header.event_type].writers:  # declared with its payload class
        return refuse(f"a {header.actor} may not send {header.event_type}", data)
    if config.role == "student" and header.student != config.identity:
        return refuse(f"{header.event_type} concerns another student ({header.student!r})", data)
    if config.role == "coach" and header.actor == "student" and header.sender != header.student:
        return refuse(f"student {header.sender!r} wrote about another student ({header.student!r})", data)
    key = _public_key_bytes(public_text)
    digest = event_hash(raw)
    if header.sig is None:
        return Claim(data, header, raw, digest, key, None)
    # The chain names an event by the hash of its bytes, so a tip's signature must cover those
    # very bytes: the same object laid out anew (a replay in other whitespace) would otherwise
    # be a second signed event at its place, a fork anyone could cause.
    signed = signed_as_received(data, raw)
    if signed is None:
        return refuse(
            f"{header.event_type} {header.event_id} from {header.sender!r} is not laid out as it was signed (its sig must close its bytes)",
            data,
        )
    return Claim(data, header, raw, digest, key, signed)


def tip_signature_ok(claim: Claim) -> bool:
    """Whether a tip's signature over its bytes as received is valid."""
    if claim.signed is None:
        return False
    try:
        return signature_valid(claim.signed, claim.public_key)
    except Exception:  # noqa: BLE001 - a signature that cannot be checked is not valid
        return False


class Unsealed(NamedTuple):
    """A linked claim whose payload opened and decoded; its payload model still to check."""

    claim: Claim
    header_bytes: bytes  # the header's canonical JSON, the seal's associated data
    plaintext: bytes  # strict JSON in its writer's layout (proven by ``decode_as_written``)
    value: Any


def unseal(claim: Claim, identity: str, shared: bytes) -> Unsealed | Verdict:
    """Open a linked event's payload (``shared``: the key between this instance and its
    sender) and decode it as strict JSON: what ``opened`` checks next, or why not."""
    data, header = claim.envelope, claim.header
    associated = header_bytes(data)
    try:
        plaintext = open_sealed(data["payload"], associated, identity, shared)
    except CannotOpen as exc:
        return refuse(f"{header.event_type} {header.event_id} from {header.sender!r} cannot be opened: {exc}", data)
    try:
        value = decode_as_written(plaintext, write_compact)
        written = write_compact(value)  # the same bytes, unless it took the careful path: then as the ledger keeps it
    except Refused as exc:
        return refuse(f"the payload of {header.event_type} {header.event_id}: {exc}", data)
    except orjson.JSONEncodeError:
        return refuse(f"the payload of {header.event_type} {header.event_id} holds a number out of range", data)
    return Unsealed(claim, associated, written, value)


def opened(unsealed: Unsealed, payload: Payload | Exception) -> Verdict:
    """The opened event of ``unsealed`` whose payload its model checked (``validate_payloads``), or why not."""
    event = opened_event(unsealed, payload)
    if isinstance(event, Verdict):
        return event
    envelope = {k: v for k, v in unsealed.claim.envelope.items() if k != "sig"}
    envelope["payload"] = unsealed.value
    return Verdict(envelope, event, None, opened_text=opened_text(unsealed))


def opened_event(unsealed: Unsealed, payload: Payload | Exception) -> EnvelopeBase | Verdict:
    """``opened``'s event alone (the receive path's batches need no opened dict): the event, or why not."""
    if isinstance(payload, Payload):
        return assemble(unsealed.claim.header, payload)
    data, header = unsealed.claim.envelope, unsealed.claim.header
    if not isinstance(payload, ValidationError):
        return refuse(f"could not be examined ({payload.__class__.__name__}: {payload})", data)
    err = payload.errors(include_url=False, include_input=False)[0]
    loc = ".".join([header.event_type, "payload", *(str(p) for p in err["loc"])])
    return refuse(f"fails the schema at '{loc}': {err['msg']}", data)


def opened_text(unsealed: Unsealed) -> str:
    """The opened form as the ledger keeps it: the header's canonical JSON with the payload's bytes added."""
    return (unsealed.header_bytes[:-1] + b',"payload":' + unsealed.plaintext + b"}").decode("utf-8")


def open_claim(claim: Claim, identity: str, shared: bytes) -> Verdict:
    """``unseal`` and ``opened``, for one event: the opened event, or why not."""
    unsealed = unseal(claim, identity, shared)
    if isinstance(unsealed, Verdict):
        return unsealed
    return opened(unsealed, validate_payloads(claim.header.event_type, [unsealed.value])[0])


def judge_alone(raw: bytes, config: Reader, key: Ed25519PrivateKey, session_students: dict[str, str] | None = None) -> Verdict:
    """Every rule on one message whose place in its stream is not in question (the
    chain is ``intake``'s): its header, its own signature as a tip, its payload opened
    with ``key`` (this instance's) and checked, and a coach's session rule."""
    claim = examine(raw, config, public_key_text(key))
    if isinstance(claim, Verdict):
        return claim
    if claim.signed is None:
        return refuse(f"unsigned {claim.header.event_type} from {claim.header.sender!r} (no signed tip links it)", claim.envelope)
    if not tip_signature_ok(claim):
        return refuse(_bad_signature(claim.header), claim.envelope)
    try:
        shared = shared_key(key, claim.public_key)
    except CannotOpen as exc:
        return refuse(f"cannot be opened: {exc}", claim.envelope)
    return conclude(open_claim(claim, config.identity, shared), config, session_students)


def conclude(verdict: Verdict, config: Reader, session_students: dict[str, str] | None = None) -> Verdict:
    """The rule on an opened event that depends on what this coach knows: a student
    writes only into a session the coach opened with her."""
    if verdict.event is None or not verdict.accepted:
        return verdict
    refusal = session_refusal(verdict.event, verdict.envelope or {}, config, session_students)
    return verdict if refusal is None else refusal


def session_refusal(event: EnvelopeBase, data: dict[str, Any], config: Reader, session_students: dict[str, str] | None) -> Verdict | None:
    """``conclude``'s rule on one event: None when it holds, else the refusal."""
    if config.role != "coach" or event.actor != "student" or session_students is None or event.session_id == NO_SESSION:
        return None
    known = session_students.get(event.session_id)
    if known is None:
        return refuse(
            f"student {event.sender!r} wrote {event.event_type} into session {event.session_id}, which this coach never opened",
            data,
            retry_session=event.session_id,
        )
    if known != event.student:
        return refuse(f"student {event.sender!r} wrote into {known!r}'s session {event.session_id}", data)
    return None


def _as_sent(value: dict[str, Any]) -> bytes:
    """How a writer lays out an event (see ``wire``): canonical JSON, a tip's ``sig`` as its last member."""
    sig = value.get("sig")
    body = orjson.dumps({k: v for k, v in value.items() if k != "sig"} if "sig" in value else value, option=orjson.OPT_SORT_KEYS)
    return body if sig is None else body[:-1] + b',"sig":"' + sig.encode() + b'"}'


def _bad_signature(event: WireHeader) -> str:
    return f"bad signature on {event.event_type} {event.event_id} from {event.sender!r}"


@lru_cache(maxsize=256)
def _public_key_bytes(text: str) -> bytes:
    return raw_public_key(parse_public_key(text))
