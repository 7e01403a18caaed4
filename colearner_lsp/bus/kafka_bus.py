"""The Kafka bus: an adapter that moves an ``Instance``'s events over aiokafka.

- Publishing drains the ledger's outbox with ``acks=all``, keyed by student; an
  event is marked sent only once the broker acknowledged it.
- Reading assigns partitions directly (no consumer group, so no join delay): a
  coach reads every partition, a student only those its key maps to. What is
  read is judged and stored with its read position in one ledger transaction.
- A broker that lost its memory is noticed (a stored position past the log's
  end, or a message at our position that is not the one we read there); the
  partition is read again from the start, peers are asked to resend, and our
  own events on it are published again.
- A live loop (``run``) watches for that too: a log end that moves backwards,
  a failed request, or simply time since the last check.

Connection settings and failure diagnosis are in ``connection``; which
partitions are read in ``partitions``; checking the positions against the
broker's log in ``positions`` (reading a message back, in ``log_probe``); how
long a live loop's fetch waits at the broker in ``fetch_pacing``.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from ..core.instance import Instance
from ..core.protocol.events import EnvelopeBase
from ..core.store.ledger import Incoming
from .connection import BrokerUnreachable, connection_options, diagnose, explain
from .fetch_pacing import ACTIVE_FETCH_WAIT_MS, FetchPacer
from .partitions import PARTITIONS, partitions_to_read
from .positions import PositionCheck

log = logging.getLogger(__name__)
# The bus reports connection trouble itself (``last_error``, ``BrokerUnreachable``);
# aiokafka's own retries must not reach a terminal through logging's last resort.
# An application that configures logging still receives them (they propagate).
logging.getLogger("aiokafka").addHandler(logging.NullHandler())

BATCH = 500
# While staying live (``run``), a batch is judged this many messages at a time (~0.2 ms
# each) with the event loop let through between: an editor's request waits ~5 ms at most.
LIVE_SLICE = 32
# A live reader asks for what it holds without a linking tip only after this long:
# one batch spans topics, and the rest of it is usually in the next poll.
HELD_SETTLE_S = 1.0
GAPS_EVERY_S = 5.0  # a live loop asks for missing events when new ones arrived, else this often (the query reads every stream)


@dataclass
class SyncReport:
    published: int = 0
    received: int = 0
    applied: int = 0
    duplicates: int = 0
    quarantined: int = 0
    held: int = 0  # read, waiting for the signed tip of their batch
    resets: list[str] = field(default_factory=list)
    polled: int = 0  # messages the last poll returned
    recovered: str | None = None  # what recovering a lost or older ledger did, for the user


class KafkaBus:
    """Connects one ``Instance`` to Kafka. ``sync()`` for one-shot use, ``run()`` to stay live."""

    def __init__(
        self,
        inst: Instance,
        on_applied: Callable[[list[EnvelopeBase]], None] | None = None,
        on_status: Callable[[bool], None] | None = None,
    ) -> None:
        self.inst = inst
        self.on_applied = on_applied
        self.on_status = on_status
        self.connected = False
        self._producer: AIOKafkaProducer | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self._assigned: list[TopicPartition] = []
        self._positions = PositionCheck(inst)
        self._pacer = FetchPacer()
        self._gaps_at = 0.0
        self._stopping = asyncio.Event()
        self.last_error: str | None = None
        self.turns = 0  # loop turns that went through: the language server's supervisor watches it

    # ------------------------------------------------------------ connection

    async def connect(self, timeout: float = 10.0) -> None:
        """Connect producer and consumer, create topics, assign partitions."""
        try:
            await asyncio.wait_for(self._connect(), timeout)
        except (TimeoutError, KafkaError, OSError, ssl.SSLError) as exc:
            await self.close()
            message = await diagnose(self.inst.config) or explain(exc, self.inst.config)
            self._set_connected(False, message)
            raise BrokerUnreachable(message) from None
        self._set_connected(True, None)

    async def _connect(self) -> None:
        options = connection_options(self.inst.config)
        await self._ensure_topics(options)
        self._producer = AIOKafkaProducer(acks="all", linger_ms=0, max_batch_size=1_048_576, **options)
        await self._producer.start()
        self._consumer = AIOKafkaConsumer(
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=ACTIVE_FETCH_WAIT_MS,
            max_partition_fetch_bytes=2_097_152,
            **options,
        )
        await self._consumer.start()
        self._assigned = partitions_to_read(self.inst)
        self._consumer.assign(self._assigned)
        self._positions.start_reading(self._consumer, self._assigned)

    async def _ensure_topics(self, options: dict[str, object]) -> None:
        admin = AIOKafkaAdminClient(**options)
        await admin.start()
        try:
            existing = set(await admin.list_topics())
            wanted = [t for t in self.inst.topics() if t not in existing]
            if wanted:
                try:
                    await admin.create_topics([NewTopic(t, PARTITIONS, 1) for t in wanted])
                except TopicAlreadyExistsError:
                    pass
        finally:
            await admin.close()

    async def close(self) -> None:
        self.inst.flush_learning_json()
        for client in (self._producer, self._consumer):
            if client is not None:
                try:
                    await client.stop()
                except Exception:  # closing after a failure must not raise a second one
                    log.debug("error while closing a Kafka client", exc_info=True)
        self._producer = self._consumer = None
        self._positions.suspect_reset = True  # whoever connects next verifies the stored positions again
        self._set_connected(False, self.last_error)

    def _set_connected(self, connected: bool, error: str | None) -> None:
        changed = connected != self.connected
        self.connected, self.last_error = connected, error
        if changed and self.on_status:
            self.on_status(connected)

    # ------------------------------------------------------------ positions

    async def verify_positions(self) -> list[str]:
        """Notice a broker that lost its memory; read such partitions from the start (``PositionCheck.verify``).

        Returns the partitions reset.
        """
        assert self._consumer is not None
        return await self._positions.verify(self._consumer, self._assigned)

    # ------------------------------------------------------------ moving events

    async def publish(self) -> int:
        """Send the outbox, oldest first; returns how many the broker acknowledged."""
        assert self._producer is not None
        sent = 0
        while True:
            pending = self.inst.ledger.pending(BATCH)
            if not pending:
                return sent
            try:
                futures = [
                    await self._producer.send(topic, value=raw.encode("utf-8"), key=student.encode("utf-8"))
                    for _, topic, student, raw in pending
                ]
                await asyncio.gather(*futures)
            except KafkaError:
                self._positions.suspect_reset = True
                raise
            self.inst.ledger.mark_sent([pos for pos, *_ in pending])
            sent += len(pending)

    async def poll(self, timeout_ms: int = 100, report: SyncReport | None = None, slice_size: int | None = None) -> list[EnvelopeBase]:
        """Read what is waiting on our partitions, judge it, store it; returns newly applied events.

        ``slice_size``: judge and store at most that many at a time, letting the event loop
        run in between (the language server answers requests while a batch arrives)."""
        assert self._consumer is not None
        batches = await self._consumer.getmany(*self._assigned, timeout_ms=timeout_ms, max_records=BATCH)
        messages: list[Incoming] = []
        me = self.inst.identity.encode("utf-8")
        student = self.inst.role == "student"
        for tp, records in batches.items():
            topic, partition = tp.topic, tp.partition
            for r in records:
                skip = student and r.key is not None and r.key != me
                messages.append(Incoming(r.value or b"", topic, partition, r.offset, skip=skip))
        if report is not None:
            report.polled = len(messages)
        applied: list[EnvelopeBase] = []
        step = slice_size or len(messages) or 1
        for start in range(0, len(messages), step):
            if start:
                await asyncio.sleep(0)
            part = messages[start : start + step]
            # On the event loop, not a worker thread: the server's handlers read the folded state
            # without the instance's lock, and a fold (a session folded again) must not run beside them.
            result = self.inst.receive(part)
            if report is not None:
                report.received += sum(1 for m in part if not m.skip)
                report.duplicates += result.outcomes.count("duplicate")
                report.quarantined += result.outcomes.count("quarantined")
                report.held += result.outcomes.count("held")
                report.applied += len(result.applied)
            if result.applied and self.on_applied:
                self.on_applied(result.applied)
            applied += result.applied
        return applied

    async def caught_up(self) -> bool:
        """Whether our positions reached the log ends (as far as Tansu's high watermark tells)."""
        assert self._consumer is not None
        ends = await self._consumer.end_offsets(self._assigned)
        for tp in self._assigned:
            if await self._consumer.position(tp) < ends.get(tp, 0):
                return False
        return True

    async def sync(self, timeout: float = 15.0) -> SyncReport:
        """Publish the outbox and apply everything waiting, then return (``colearner sync``).

        A broker that fails in the middle (it restarted, a request timed out)
        is reconnected to until ``timeout``; then ``BrokerUnreachable``.
        """
        report = SyncReport()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            try:
                await self._sync_once(report, deadline)
                return report
            except KafkaError as exc:
                self._positions.suspect_reset = True
                await self.close()
                if loop.time() >= deadline:
                    message = await diagnose(self.inst.config) or explain(exc, self.inst.config)
                    self._set_connected(False, message)
                    raise BrokerUnreachable(message) from None
                log.info("Kafka failed during sync (%s); connecting again", exc)
                await asyncio.sleep(0.2)

    async def _sync_once(self, report: SyncReport, deadline: float) -> None:
        loop = asyncio.get_running_loop()
        if self._producer is None:
            await self.connect(timeout=max(1.0, min(deadline - loop.time(), 10.0)))
        report.resets += [name for name in await self.verify_positions() if name not in report.resets]
        for _ in range(3):  # resync requests and answers may need a second round
            report.published += await self.publish()
            # Tansu's high watermark can sit inside the last batch, so "caught
            # up" also needs a poll that found nothing new.
            while loop.time() < deadline:
                await self.poll(timeout_ms=50, report=report)
                if report.polled == 0 and await self.caught_up():
                    self._finish_recovery(report)
                    break
            if self.inst.request_missing() == [] and self.inst.ledger.outbox_length() == 0:
                break
        report.published += await self.publish()
        self.inst.flush_learning_json()

    def _finish_recovery(self, report: SyncReport | None = None) -> None:
        """Every partition was read to its end: a ledger being recovered now holds our own events."""
        if not self.inst.recovering:
            return
        recovery = self.inst.complete_recovery()
        if recovery is not None:
            log.warning("%s", recovery.describe())
            if report is not None:
                report.recovered = recovery.describe()

    async def run(self, idle_ms: int = 100) -> None:
        """Stay connected: publish and apply continuously, reconnecting with backoff."""
        backoff = 0.2
        while not self._stopping.is_set():
            try:
                if self._producer is None:
                    await self.connect()
                    backoff = 0.2
                if self._positions.suspect_reset:
                    await self.verify_positions()
                sent = await self.publish()
                polled = SyncReport()
                applied = await self.poll(timeout_ms=idle_ms, report=polled, slice_size=LIVE_SLICE)
                if self.inst.recovering and polled.polled == 0 and await self.caught_up():
                    self._finish_recovery()
                self._pacer.pace(self._consumer, bool(sent or applied))
                if self.inst.learning_json_due(idle=not applied):
                    # on a thread: encoding a big state must not stall the editor's requests
                    await asyncio.to_thread(self.inst.flush_learning_json)
                assert self._consumer is not None
                await self._positions.watch(self._consumer, self._assigned)
                self.inst.refresh()  # the CLI may have written to the same ledger
                now = asyncio.get_running_loop().time()
                if applied or now - self._gaps_at > GAPS_EVERY_S:
                    self._gaps_at = now
                    self.inst.request_missing(settled_s=HELD_SETTLE_S)
                self.turns += 1
            except (TimeoutError, BrokerUnreachable, KafkaError, OSError) as exc:
                if isinstance(exc, BrokerUnreachable):
                    self._set_connected(False, str(exc))
                else:
                    log.info("Kafka failed (%s); connecting again", exc)
                    self._set_connected(False, explain(exc, self.inst.config))
                    await self.close()
                self._positions.suspect_reset = True
                try:
                    await asyncio.wait_for(self._stopping.wait(), backoff)
                except TimeoutError:
                    pass
                backoff = min(backoff * 2, 5.0)
        await self.close()

    def stop(self) -> None:
        self._stopping.set()
