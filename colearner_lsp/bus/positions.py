"""Our read positions against the broker's log: seeking to them on connecting, and
noticing a broker that lost its memory.

A broker that lost its memory shows as a stored position past the log's end,
or a message at our position that is not the one we read there (``log_probe``
reads it back). Such a partition is read again from the start, peers are asked
to resend, and our own events on it are published again. A live loop watches
for it too: a log end that moves backwards, or simply time since the last check.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from aiokafka import TopicPartition

from .log_probe import digests_at
from .partitions import partition_for

if TYPE_CHECKING:
    from aiokafka import AIOKafkaConsumer

    from ..core.instance import Instance

log = logging.getLogger(__name__)

WATCH_EVERY_S = 1.0  # how often a live loop compares log ends with what it saw
VERIFY_EVERY_S = 30.0  # and probes its positions even when nothing looked wrong


class PositionCheck:
    """One bus's positions, checked against what the broker still holds."""

    def __init__(self, inst: Instance) -> None:
        self.inst = inst
        self.suspect_reset = True  # verify positions once on every (re)connection
        self._ends: dict[TopicPartition, int] = {}  # highest log end seen, per partition
        self._watched_at = self._verified_at = 0.0

    def start_reading(self, consumer: AIOKafkaConsumer, assigned: list[TopicPartition]) -> None:
        """On connecting: forget the log ends seen, seek each partition to its stored position."""
        self._ends = {}
        stored = self.inst.ledger.positions()
        for tp in assigned:
            offset, _ = stored.get((tp.topic, tp.partition), (0, None))
            consumer.seek(tp, offset)

    async def verify(self, consumer: AIOKafkaConsumer, assigned: list[TopicPartition]) -> list[str]:
        """Notice a broker that lost its memory; read such partitions from the start.

        A partition is judged lost when the message just before our stored
        position is gone or is not the one we read there (the log was refilled
        past it), or when it is empty although it held events of ours. Log end
        offsets cannot decide the first case alone: Tansu reports a high
        watermark of the last batch's base offset + 1.

        For each lost partition: read it again from the start, publish our own
        events keyed to it again (the broker acknowledged them, then forgot
        them), and ask peers for the tail of their streams (a lost tail shows
        no gap). Returns the partitions reset.
        """
        stored = self.inst.ledger.positions()
        wanted = {tp: stored[(tp.topic, tp.partition)] for tp in assigned if stored.get((tp.topic, tp.partition), (0, None))[0] > 0}
        seen = await digests_at(self.inst.config, {tp: offset - 1 for tp, (offset, _) in wanted.items()}) if wanted else {}
        reset = {tp for tp, (_, digest) in wanted.items() if seen.get(tp) is None or (digest and seen[tp] != digest)}
        reset |= await self._emptied_partitions(consumer, assigned, set(wanted))
        for tp in reset:
            self.inst.ledger.set_position(tp.topic, tp.partition, 0, None)
            consumer.seek(tp, 0)
        names = sorted(f"{tp.topic}[{tp.partition}]" for tp in reset)
        if reset:
            log.warning("the broker lost its log for %s; reading again from the start", ", ".join(names))
            self._republish_own({(tp.topic, tp.partition) for tp in reset})
            self.inst.request_missing(tail_check=True)
        self.suspect_reset = False
        self._verified_at = asyncio.get_running_loop().time()
        return names

    async def _emptied_partitions(
        self, consumer: AIOKafkaConsumer, assigned: list[TopicPartition], checked: set[TopicPartition]
    ) -> set[TopicPartition]:
        """Partitions we never read from that are empty although the broker acked our events there."""
        ours = {TopicPartition(topic, partition_for(student)) for topic, student in self.inst.ledger.own_streams_on(self.inst.identity)}
        candidates = [tp for tp in assigned if tp in ours and tp not in checked]
        if not candidates:
            return set()
        ends = await consumer.end_offsets(candidates)
        return {tp for tp in candidates if ends.get(tp, 0) == 0}

    def _republish_own(self, lost: set[tuple[str, int]]) -> None:
        students = {
            student for topic, student in self.inst.ledger.own_streams_on(self.inst.identity) if (topic, partition_for(student)) in lost
        }
        for student in students:
            self.inst.ledger.requeue(self.inst.identity, student, 1)

    async def watch(self, consumer: AIOKafkaConsumer, assigned: list[TopicPartition]) -> None:
        """In a live loop: verify positions when a log end moved backwards, or every so often."""
        now = asyncio.get_running_loop().time()
        if now - self._watched_at < WATCH_EVERY_S:
            return
        self._watched_at = now
        ends = await consumer.end_offsets(assigned)
        shrunk = [tp for tp, end in ends.items() if end < self._ends.get(tp, 0)]
        for tp, end in ends.items():
            self._ends[tp] = max(end, self._ends.get(tp, 0)) if not shrunk else end
        if shrunk or now - self._verified_at > VERIFY_EVERY_S:
            await self.verify(consumer, assigned)
