"""What an instance's ledger lacks, got back: its own lost events, and peers' it never got.

Two ways a ledger falls short, and what is done about each:

- its own history is lost (the ledger was lost, truncated, restored from an older copy
  or made anew by ``colearner repair``): writes wait until the bus has read this
  instance's own events back from the broker, and peers are then asked for what the
  broker no longer holds (``complete_recovery``);
- a peer's stream has a gap, a tail that never came or held events whose signed tip
  does not link: the peer is asked to publish it again (``request_missing``), and a
  peer's request of the same kind is answered by queueing our events again
  (``_answer_resync_requests``). Both are rate-limited per stream.

``Instance`` has these methods.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from .errors import LedgerBehind
from .protocol.event_types import Payload
from .protocol.events import NO_SESSION, EnvelopeBase, ResyncRequest, now_ts, parse_ts
from .store.ledger import Ledger

RESYNC_EVERY_S = 5.0  # do not ask for the same gap more often than this
HELD_TOO_LONG_S = 10.0  # events held this long without their signed tip are asked for again


@dataclass(frozen=True)
class Recovery:
    own_events: int  # own events read back from the broker into the ledger
    resync_requests: int  # requests sent to peers for what the broker no longer has

    def describe(self) -> str:
        return (
            f"recovered the ledger: {self.own_events} of your own event(s) read back from Kafka; "
            f"{self.resync_requests} request(s) sent to peers for what Kafka no longer holds"
        )


class LedgerRecovery:
    """The instance's recovery of a lost ledger, and its resync requests asked and answered."""

    # the instance's, read here
    ledger: Ledger
    _lock: threading.RLock
    _pos: int

    @property
    def identity(self) -> str:
        raise NotImplementedError

    def emit(
        self,
        session_id: str,
        student: str,
        payloads: Payload | Sequence[Payload],
        event_ids: dict[int, str] | None = None,
    ) -> list[EnvelopeBase]:
        raise NotImplementedError

    def __init__(self) -> None:
        # when each request was last sent or answered, so that neither repeats within RESYNC_EVERY_S
        self._asked: dict[tuple[str, str, int], float] = {}
        self._answered: dict[tuple[str, int, int | None], float] = {}

    # ------------------------------------------------------------ recovery

    def _notice_lost_history(self) -> None:
        """Compare the ledger with what this instance published (``published.seq``).

        A ledger behind it was lost, truncated or restored from an older copy:
        its counters would hand out seqs peers already hold. Until the bus has
        read this instance's own events back from the broker (``complete_recovery``),
        nothing is written.
        """
        if self.recovering:
            return
        marks = self._published_marks()
        if any(self.ledger.last_seq(self.identity, student) < seq for student, seq in marks.items()):
            self._begin_recovery(marks)

    def start_rebuild(self) -> None:
        """A ledger made anew by ``colearner repair``: recover like a lost one, marks or not."""
        self._begin_recovery(self._published_marks())

    def _published_marks(self) -> dict[str, int]:
        """Per student stream, the highest seq of ours the broker acknowledged."""
        return {student: seq for (sender, student), seq in self.ledger.published.read().items() if sender == self.identity}

    def _begin_recovery(self, published: dict[str, int]) -> None:
        self.ledger.set_meta("recovery", json.dumps({"since_pos": self._pos, "published": published, "at": now_ts()}))

    @property
    def recovering(self) -> bool:
        """Whether writes wait for this instance's own events to be read back from the broker."""
        return self.ledger.get_meta("recovery") is not None

    def complete_recovery(self) -> Recovery | None:
        """The bus read every partition to its end: own events are back, counters are past
        every published seq, peers are asked to resend what the broker no longer has."""
        text = self.ledger.get_meta("recovery")
        if text is None:
            return None
        plan = json.loads(text)
        with self._lock:
            for student, seq in plan.get("published", {}).items():
                self.ledger.raise_counter(self.identity, student, int(seq))
            recovered = self.ledger.own_events_after(int(plan.get("since_pos", 0)))
            self.ledger.delete_meta("recovery")
        asked = self.request_missing(tail_check=True)
        return Recovery(own_events=recovered, resync_requests=len(asked))

    def refuse_while_recovering(self) -> None:
        if self.recovering:
            raise LedgerBehind(
                "this instance's ledger holds less than it published (it was lost, truncated or restored "
                "from an older copy); nothing is written until its own events are read back from Kafka: "
                "run 'colearner sync' (or any command) with Kafka reachable"
            )

    # ------------------------------------------------------------ resync

    def _answer_resync_requests(self, new: list[EnvelopeBase]) -> None:
        """Queue our events again for the peers that asked, once per stream per batch.

        Requests for one stream are merged (the lowest ``from_seq``, the widest
        end), and the same request is not answered again within
        ``RESYNC_EVERY_S``: a flood of requests costs one requeue, not one each.
        """
        wanted: dict[str, tuple[int, int | None]] = {}
        for event in new:
            p = event.payload
            if not isinstance(p, ResyncRequest) or p.sender != self.identity:
                continue
            first, last = wanted.get(event.student, (p.from_seq, p.to_seq))
            wider = None if last is None or p.to_seq is None else max(last, p.to_seq)
            wanted[event.student] = (min(first, p.from_seq), wider)
        now = time.monotonic()
        for student, (first, last) in wanted.items():
            key = (student, first, last)
            if now - self._answered.get(key, -1e9) < RESYNC_EVERY_S:
                continue
            self._answered[key] = now
            self.ledger.requeue(self.identity, student, first, last)

    def request_missing(self, tail_check: bool = False, settled_s: float = 0.0) -> list[EnvelopeBase]:
        """Ask peers to publish again what we are missing.

        A gap inside a stream is always asked for. With ``tail_check`` (after the
        broker lost its memory) every stream is also asked for what may follow
        the last event we hold, since a lost tail shows no gap. ``settled_s``: held
        events count only once they waited that long (a live reader: a batch spans
        topics, and another topic's part of it may simply come in the next poll).
        """
        sent: list[EnvelopeBase] = []
        if self.recovering:
            return sent  # a request is an event of ours: it waits for our seqs to be known
        now = time.monotonic()
        held = self.ledger.held_streams()
        heads = {(sender, student): high for sender, student, high in self.ledger.streams()}
        for sender, student in sorted(set(heads) | set(held)):
            if sender == self.identity:
                continue
            high = heads.get((sender, student), 0)
            wanted: list[tuple[int, int | None]] = [(a, b) for a, b in self.ledger.missing_seqs(sender, student)]
            waiting = held.get((sender, student))
            if waiting is not None and _age_s(waiting.since) < settled_s:
                wanted, waiting = [], None
            if waiting is not None and not wanted:  # (a gap's resend runs on to a tip by itself)
                if waiting.has_tip:  # all there, but a signed tip does not link: one is not the event it names
                    wanted.append((high + 1, waiting.high))
                elif _age_s(waiting.since) > HELD_TOO_LONG_S:  # their signed tip never came
                    wanted.append((high + 1, None))
            if tail_check:
                wanted.append((high + 1, None))
            for first, last in wanted:
                key = (sender, student, first)
                if now - self._asked.get(key, -1e9) < RESYNC_EVERY_S:
                    continue
                self._asked[key] = now
                sent += self.emit(NO_SESSION, student, ResyncRequest(sender=sender, from_seq=first, to_seq=last))
        return sent


def _age_s(ts: str) -> float:
    try:
        return (datetime.now(UTC) - parse_ts(ts)).total_seconds()
    except ValueError:
        return 0.0
