"""Messages an attacker (or a misbehaving peer) could put on a topic, as wire v2 bytes.

- ``sealed_message``: a well-formed v2 event signed by any key, sealed to any
  readers, at any place of a stream; nothing is recorded anywhere. Past seq 1
  its ``prev`` is, unless given, a hash no reader holds, so the message stands
  alone: judged on its own signed tip, nothing linked to it.
- ``own_event``: an event of an instance's own, with any payload (not checked
  against its model), written into its ledger as the next of its stream, so it
  goes out with the outbox and the instance's chain continues past it: what a
  rostered peer who modified their client would send.
- ``forged_next``: a copy of an instance's last message with changes, placed next
  in its stream (the chain links it) but with the old signature: a forgery.
"""

from __future__ import annotations

import json
import uuid
from typing import Any, Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from colearner_lsp.core.config import TopicsConfig
from colearner_lsp.core.instance import Instance, _raw_key
from colearner_lsp.core.protocol.events import now_ts
from colearner_lsp.core.protocol.sealing import seal, shared_key
from colearner_lsp.core.protocol.signing import canonical_json, public_key_text, sign_to_json
from colearner_lsp.core.protocol.wire import event_hash, header_bytes, write_stream


def readers_for(key: Ed25519PrivateKey, names_and_keys: dict[str, str]) -> dict[str, bytes]:
    """The ``write_stream`` readers for ``key`` writing to these (name → public key text)."""
    return {name: shared_key(key, _raw_key(public)) for name, public in names_and_keys.items()}


UNKNOWN_PREV = "0" * 64  # the hash of no event anyone wrote
ASSIGNMENTS, FEEDBACK, PROGRESS, EVENTS = (lambda t: (t.assignments, t.feedback, t.progress, t.events))(TopicsConfig())


def sealed_message(
    key: Ed25519PrivateKey,
    readers: dict[str, str],
    event_type: str,
    payload: Any,
    *,
    sender: str,
    student: str,
    actor: str,
    session_id: str,
    seq: int = 1,
    prev: str | None | Literal["unless given"] = "unless given",
    sign: bool = True,
    **header: Any,
) -> bytes:
    """One v2 message; ``readers`` maps reader names to their public key text (``key``'s own is not added).

    Unless given, ``prev`` is None at seq 1 (the first event of a stream links to nothing), else ``UNKNOWN_PREV``.
    """
    if prev == "unless given":
        prev = None if seq == 1 else UNKNOWN_PREV
    envelope: dict[str, Any] = {
        "v": 2,
        "ts": now_ts(),
        "actor": actor,
        "session_id": session_id,
        "event_type": event_type,
        "event_id": str(uuid.uuid4()),
        "sender": sender,
        "student": student,
        "seq": seq,
        "prev": prev,
        **header,
    }
    plaintext = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    envelope["payload"] = seal(plaintext, header_bytes(envelope), readers_for(key, readers))
    return (sign_to_json(envelope, key)[1] if sign else canonical_json(envelope).decode()).encode()


def instance_readers(inst: Instance, student: str, session_id: str) -> dict[str, str]:
    """Who ``inst`` seals an event about ``student`` to, as names → public key texts."""
    names = set(inst._readers(session_id, student))
    return {n: inst.public_key if n == inst.identity else inst.config.peers[n].public_key for n in names}


def own_event(
    inst: Instance, student: str, session_id: str, event_type: str, payload: Any, topic: str | None = None, **header: Any
) -> dict[str, Any]:
    """Write an event of ``inst``'s own with ``payload`` as it is (any JSON, unchecked) and
    ``header`` fields overriding the envelope's; it goes out with the outbox."""
    readers = inst._readers(session_id, student)
    topic = topic or inst.topic(event_type)

    def build(first_seq: int, prev: str | None) -> list[Any]:
        base = {"ts": now_ts(), "actor": inst.role, "session_id": session_id, "event_type": event_type, "event_id": str(uuid.uuid4())}
        base.update({"sender": inst.identity, "student": student})
        extra = {k: v for k, v in header.items() if k not in ("seq", "prev")}
        [w] = write_stream([{**base, **extra}], [payload], header.get("seq", first_seq), header.get("prev", prev), readers, inst.key)
        return [(w.opened, topic, json.dumps(w.opened), w.wire, w.hash)]

    [written] = inst.ledger.append_own_batch(inst.identity, student, 1, build)
    return written


def last_sent(inst: Instance, student: str) -> tuple[dict[str, Any], str]:
    """``inst``'s last message about ``student`` as sent, and its hash."""
    rows = [r for r in inst.ledger.events_as_sent(0) if r[0] == inst.identity and r[1] == student]
    sender, _, _, wire, digest = max(rows, key=lambda r: r[2])
    return json.loads(wire), digest or event_hash(wire.encode())


def forged_next(inst: Instance, student: str, **changes: Any) -> bytes:
    """``inst``'s last message about ``student``, changed and placed next in the stream, its old signature kept."""
    data, digest = last_sent(inst, student)
    data.update(seq=data["seq"] + 1, prev=digest, event_id=str(uuid.uuid4()))
    data.update(changes)
    if "sig" not in data:
        data["sig"] = sign_to_json({k: v for k, v in data.items() if k != "sig"}, Ed25519PrivateKey.generate())[0]["sig"]
    return laid_out(data)


def laid_out(data: dict[str, Any]) -> bytes:
    """``data`` in a writer's layout (canonical JSON, a tip's sig as its last member), its sig kept as it is."""
    body = canonical_json({k: v for k, v in data.items() if k != "sig"})
    return body if data.get("sig") is None else body[:-1] + b',"sig":"' + data["sig"].encode() + b'"}'


def stranger_key() -> tuple[Ed25519PrivateKey, str]:
    key = Ed25519PrivateKey.generate()
    return key, public_key_text(key)
