"""Judging a batch read from the bus (wire v2): headers, chains, payloads.

``receive`` judges one message at a time; a chain links messages of one
stream across batches. This drives both: examine every header, link each
stream's claims (with the events held for it from earlier batches) to its
signed tips, then open and conclude what was linked, in stream order. The
result is what ``Ledger.accept`` stores in one transaction: one ``Incoming``
per message read (accepted, held, duplicate, refused or skipped), the held
events decided now, and the streams' new heads.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .config import AgentConfig
from .protocol.chain import Link, link
from .protocol.events import NO_SESSION, EnvelopeBase
from .protocol.opened import validate_payloads
from .protocol.receive import (
    Claim,
    Unsealed,
    Verdict,
    examine,
    opened_event,
    opened_text,
    refuse,
    session_refusal,
    tip_signature_ok,
    unseal,
)
from .protocol.sealing import CannotOpen, shared_key
from .protocol.wire import event_hash
from .store.ledger import ChainChanges, Incoming, Ledger

# A peer's seq this far past the head of its stream is refused: far more than any
# gap a lost broker leaves in a class, and each would be held until a resync.
MAX_SEQ_AHEAD = 100_000


def safely(step: Callable[..., Any], *args: Any) -> Any:
    """One step of judging a message; whatever goes wrong refuses that message, never the batch."""
    try:
        return step(*args)
    except Exception as exc:  # noqa: BLE001 - by design: no message stops the reader
        return refuse(f"could not be examined ({exc.__class__.__name__}: {exc})")


@dataclass
class Judged:
    """A judged batch: ``items`` for the ledger, each with the index of the message it
    stands for (None for a held event decided now; every message has exactly one),
    the chains' changes, and the events accepted."""

    items: list[tuple[int | None, Incoming]]
    chains: ChainChanges
    events: list[EnvelopeBase] = field(default_factory=list)


class Intake:
    """Judges batches for one instance (its configuration, key and ledger)."""

    def __init__(self, config: AgentConfig, key: Ed25519PrivateKey, public_key: str, ledger: Ledger) -> None:
        self.config = config
        self.key = key
        self.public_key = public_key
        self.ledger = ledger

    def judge(self, messages: Sequence[Incoming], students: dict[str, str] | None) -> Judged:
        """``students``: on a coach, the sessions it opened and their students (grows as
        the coach's own session starts are read back, e.g. while recovering)."""
        judged = Judged(items=[], chains=ChainChanges(heads={}, released=[], forks={}))
        streams: dict[tuple[str, str], list[tuple[int, Claim]]] = {}
        for i, message in enumerate(messages):
            if message.skip:
                judged.items.append((i, message))
                continue
            claim = safely(examine, message.raw, self.config, self.public_key)
            if isinstance(claim, Verdict):
                judged.items.append((i, self._item(message, claim)))
            elif message.linked:  # its chain was checked when it was first read
                self._open([(i, message, claim)], students, judged)
            else:
                streams.setdefault((claim.header.sender, claim.header.student), []).append((i, claim))
        if streams:
            held_streams, heads, forks = self.ledger.held_streams(), self.ledger.heads(), self.ledger.forks()
            for stream, claims in streams.items():
                self._link_stream(stream, claims, messages, stream in held_streams, heads, forks.get(stream), students, judged)
        return judged

    # ------------------------------------------------------------ one stream

    def _link_stream(
        self,
        stream: tuple[str, str],
        claims: list[tuple[int, Claim]],
        messages: Sequence[Incoming],
        has_held: bool,
        heads: dict[tuple[str, str], tuple[int, str | None]],
        forked: str | None,
        students: dict[str, str] | None,
        judged: Judged,
    ) -> None:
        """Link one stream's new claims and held events; what is linked is opened in stream order."""
        sender, student = stream
        own = sender == self.config.identity
        head = self.ledger.own_head(sender, student) if own else heads.get(stream, (0, None))
        # a Link's ref: (message index or None if held, the message, its claim)
        links: list[Link] = []
        # held events first: a new copy of one is then the duplicate, and the held row stays
        for message in self.ledger.held(sender, student) if has_held else []:
            again = safely(examine, message.raw, self.config, self.public_key)
            if isinstance(again, Claim):
                links.append(_link_of(again, (None, message, again)))
            else:  # no longer acceptable (its sender untrusted since): refused now
                judged.chains.released.append((sender, student, event_hash(message.raw)))
                judged.items.append((None, self._item(message, again)))
        for i, claim in claims:
            if not own and claim.header.seq > head[0] + MAX_SEQ_AHEAD:
                reason = (
                    f"seq {claim.header.seq} of {sender!r} for {student!r} is more than {MAX_SEQ_AHEAD} ahead of "
                    f"the last accepted ({head[0]}); it comes again once the events before it arrive"
                )
                judged.items.append((i, self._item(messages[i], refuse(reason, claim.envelope))))
            else:
                links.append(_link_of(claim, (i, messages[i], claim)))
        result = link(
            f"{sender!r} for {student!r}",
            head,
            links,
            lambda one: tip_signature_ok(one.ref[2]),
            lambda seq: self.ledger.accepted_hash(sender, student, seq),
            forked,
        )
        if result.fork is not None and forked is None:
            judged.chains.forks[stream] = result.fork
        if not own and result.head[0] > head[0] and result.head[1] is not None:
            judged.chains.heads[stream] = (result.head[0], result.head[1])

        def decided(one: Link, item: Incoming) -> None:
            i, _, claim = one.ref
            if i is None:
                judged.chains.released.append((sender, student, claim.hash))
            judged.items.append((i, item))

        for one in result.duplicates:
            decided(one, _with(one.ref[1], duplicate=True))
        for one, reason in result.refused:
            decided(one, self._item(one.ref[1], refuse(reason, one.ref[2].envelope)))
        for one in result.held:
            i, message, claim = one.ref
            if i is not None:  # newly held; one held before stays where it is
                judged.items.append(
                    (i, _with(message, hold=True, tip=one.signed, hash=claim.hash, seq=claim.header.seq, sender=sender, student=student))
                )
        for one in result.accepted:
            if one.ref[0] is None:
                judged.chains.released.append((sender, student, one.ref[2].hash))
        self._open([one.ref for one in result.accepted], students, judged)

    # ------------------------------------------------------------ one event

    def _open(self, linked: list[tuple[int | None, Incoming, Claim]], students: dict[str, str] | None, judged: Judged) -> None:
        """Open linked events and conclude them, in stream order: the ledger's item for each.

        Their payloads are checked by type, a batch at a time (``validate_payloads``). This
        runs for every accepted event, so each step is inlined (a refusal still per message)."""
        identity, key = self.config.identity, self.key
        unsealed: list[Unsealed | Verdict] = []
        by_type: dict[str, list[int]] = {}  # event type → places in ``unsealed``
        for n, (_, _, claim) in enumerate(linked):
            try:
                one = unseal(claim, identity, shared_key(key, claim.public_key))
            except CannotOpen as exc:
                one = refuse(f"cannot be opened: {exc}", claim.envelope)
            except Exception as exc:  # noqa: BLE001 - by design: no message stops the reader
                one = refuse(f"could not be examined ({exc.__class__.__name__}: {exc})", claim.envelope)
            unsealed.append(one)
            if type(one) is Unsealed:
                by_type.setdefault(claim.header.event_type, []).append(n)
        payloads: list[Any] = [None] * len(linked)
        for event_type, places in by_type.items():
            values = [one.value for n in places if isinstance(one := unsealed[n], Unsealed)]
            for n, payload in zip(places, validate_payloads(event_type, values), strict=True):
                payloads[n] = payload
        for (i, message, claim), one, payload in zip(linked, unsealed, payloads, strict=True):
            if isinstance(one, Verdict):
                judged.items.append((i, self._item(message, one)))
                continue
            event = self._concluded(one, payload, students)
            if isinstance(event, Verdict):
                judged.items.append((i, self._item(message, event)))
            else:
                judged.items.append((i, self._accepted(message, claim, event, opened_text(one), students, judged)))

    def _concluded(self, one: Unsealed, payload: Any, students: dict[str, str] | None) -> EnvelopeBase | Verdict:
        """The event of an opened payload its model checked, under the coach's session rule; or why not."""
        try:
            event = opened_event(one, payload)
            if isinstance(event, Verdict):
                return event
            return session_refusal(event, one.claim.envelope, self.config, students) or event
        except Exception as exc:  # noqa: BLE001 - by design: no message stops the reader
            return refuse(f"could not be examined ({exc.__class__.__name__}: {exc})", one.claim.envelope)

    def _accepted(
        self, message: Incoming, claim: Claim, event: EnvelopeBase, text: str, students: dict[str, str] | None, judged: Judged
    ) -> Incoming:
        """The ledger's item for an accepted event (``envelope``: its header fields, the ledger's columns)."""
        judged.events.append(event)
        if students is not None and event.session_id != NO_SESSION and event.actor == "coach" and event.sender == self.config.identity:
            students.setdefault(event.session_id, event.student)
        return Incoming(
            raw=message.raw,
            topic=message.topic,
            partition=message.partition,
            offset=message.offset,
            envelope=claim.envelope,
            sender=event.sender,
            student=event.student,
            opened=text,
            hash=claim.hash,
            seq=event.seq,
        )

    @staticmethod
    def _item(message: Incoming, verdict: Verdict) -> Incoming:
        env = verdict.envelope or {}
        return _with(
            message,
            reason=verdict.reason,
            sender=str(env.get("sender"))[:200] if env.get("sender") else None,
            student=str(env.get("student"))[:200] if env.get("student") else None,
            retry_session=verdict.retry_session,
        )


def _link_of(claim: Claim, ref: Any) -> Link:
    return Link(claim.header.seq, claim.header.prev, claim.hash, claim.signed is not None, len(claim.raw), ref)


def _with(message: Incoming, **changes: Any) -> Incoming:
    return message._replace(**changes)
