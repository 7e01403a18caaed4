"""Reading messages back, to tell whether the broker still holds what we read.

With every read position the ledger stores the sha1 of the message just
before it; ``positions.PositionCheck.verify`` asks ``digests_at`` what sits at
those offsets now. The probe is a throwaway consumer of its own: it never
touches the bus's consumer or positions, so it lives apart from the bus.
"""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import OffsetOutOfRangeError

from ..core.config import AgentConfig
from ..core.store.ledger import message_digest
from .connection import connection_options


async def digests_at(config: AgentConfig, offsets: dict[TopicPartition, int]) -> dict[TopicPartition, str]:
    """sha1 of the message at each offset; absent where the log no longer reaches it."""
    probe = AIOKafkaConsumer(
        group_id=None, enable_auto_commit=False, auto_offset_reset="none", fetch_max_wait_ms=20, **connection_options(config)
    )
    await probe.start()
    found: dict[TopicPartition, str] = {}
    gone: set[TopicPartition] = set()
    loop = asyncio.get_running_loop()
    try:
        probe.assign(list(offsets))
        for tp, offset in offsets.items():
            probe.seek(tp, offset)
        deadline = loop.time() + 3.0
        while len(found) + len(gone) < len(offsets) and loop.time() < deadline:
            try:
                batch = await probe.getmany(timeout_ms=200)
            except OffsetOutOfRangeError as exc:
                lost = set(exc.args[0]) if exc.args and isinstance(exc.args[0], dict) else set(offsets) - set(found)
                gone |= lost
                probe.pause(*lost)
                continue
            for tp, records in batch.items():
                for r in records:
                    if r.offset == offsets[tp]:
                        found[tp] = message_digest(r.value or b"")
                    elif r.offset > offsets[tp] and tp not in found:
                        found[tp] = ""  # another message sits where ours was
                if tp in found:
                    probe.pause(tp)
    finally:
        await probe.stop()
    return found
