"""Raw aiokafka figures on the embedded broker: the floor other benchmarks
(colearner's bus, outbox, sync) are compared against.

Run: ``python -m bench.kafka_baseline [--messages 10000] [--size 1024]``.
Latencies are returned in seconds; the report prints milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from colearner_lsp.bus.broker import EmbeddedBroker


def _payload(size: int) -> bytes:
    return b"x" * size


async def raw_roundtrip_latencies(
    bootstrap: str,
    n: int,
    *,
    size: int = 1024,
    warmup: int = 20,
    topic: str | None = None,
) -> list[float]:
    """Seconds from ``send_and_wait`` (acks=all) until ``getone`` returns it.

    One key, so every message goes to one partition, which the consumer is
    assigned directly (no group). ``fetch_max_wait_ms=10`` because with the
    default 500 ms an empty fetch parked at the broker occasionally adds
    ~250 ms to a round trip. The first ``warmup`` round trips (connections,
    first fetch) are not counted.
    """
    topic = topic or f"bench.roundtrip.{uuid.uuid4().hex[:8]}"
    value, key = _payload(size), b"bench"
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, fetch_max_wait_ms=10)
    await producer.start()
    await consumer.start()
    try:
        # The first send creates the topic and tells us the key's partition.
        first = await producer.send_and_wait(topic, value, key=key)
        tp = TopicPartition(topic, first.partition)
        consumer.assign([tp])
        consumer.seek(tp, first.offset + 1)

        latencies: list[float] = []
        for i in range(warmup + n):
            started = time.perf_counter()
            await producer.send_and_wait(topic, value, key=key)
            await consumer.getone()
            if i >= warmup:
                latencies.append(time.perf_counter() - started)
        return latencies
    finally:
        await consumer.stop()
        await producer.stop()


async def produce_messages(bootstrap: str, topic: str, n: int, size: int = 1024) -> None:
    """Pre-load ``topic`` with ``n`` keyed messages (spread over partitions)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    try:
        value = _payload(size)
        pending = [await producer.send(topic, value, key=b"key-%d" % (i % 16)) for i in range(n)]
        await asyncio.gather(*pending)
    finally:
        await producer.stop()


async def _partitions(bootstrap: str, topic: str) -> list[int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        [info] = await admin.describe_topics([topic])
        return sorted(p["partition"] for p in info["partitions"])
    finally:
        await admin.close()


async def raw_consume_rate(bootstrap: str, topic: str, n: int) -> float:
    """Messages per second to read ``n`` pre-produced messages of ``topic``.

    Partitions are assigned directly and read from the beginning; the clock
    starts after the consumer connected, so it measures fetching only.
    """
    tps = [TopicPartition(topic, p) for p in await _partitions(bootstrap, topic)]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)

        started = time.perf_counter()
        seen = 0
        while seen < n:
            batch = await consumer.getmany(timeout_ms=1000)
            if not batch:
                raise TimeoutError(f"only {seen} of {n} messages in {topic!r}")
            seen += sum(len(records) for records in batch.values())
        return seen / (time.perf_counter() - started)
    finally:
        await consumer.stop()


def _percentile(sorted_values: list[float], q: float) -> float:
    index = min(len(sorted_values) - 1, round(q * (len(sorted_values) - 1)))
    return sorted_values[index]


async def _report(bootstrap: str, messages: int, size: int) -> None:
    in_order = [x * 1000 for x in await raw_roundtrip_latencies(bootstrap, messages, size=size)]
    ms = sorted(in_order)
    print(
        f"round trip, {messages} x {size} B: p50 {_percentile(ms, 0.50):.2f} ms, "
        f"p99 {_percentile(ms, 0.99):.2f} ms, max {ms[-1]:.2f} ms, "
        f"mean {statistics.fmean(ms):.2f} ms"
    )
    # Tansu's fetch gets slower as a partition accumulates batches (one per
    # send_and_wait here), so show the start and the end of the run apart.
    window = max(1, min(1000, messages // 10))
    first, last = sorted(in_order[:window]), sorted(in_order[-window:])
    print(
        f"  first {window}: p50 {_percentile(first, 0.5):.2f} ms, "
        f"p99 {_percentile(first, 0.99):.2f} ms; "
        f"last {window}: p50 {_percentile(last, 0.5):.2f} ms, "
        f"p99 {_percentile(last, 0.99):.2f} ms"
    )
    topic = f"bench.consume.{uuid.uuid4().hex[:8]}"
    await produce_messages(bootstrap, topic, messages, size)
    rate = await raw_consume_rate(bootstrap, topic, messages)
    print(f"consume, {messages} x {size} B from the beginning: {rate:,.0f} msg/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--size", type=int, default=1024, help="value size in bytes")
    args = parser.parse_args()
    with EmbeddedBroker() as broker:
        print(f"embedded broker on {broker.bootstrap}")
        asyncio.run(_report(broker.bootstrap, args.messages, args.size))


if __name__ == "__main__":
    main()
