"""Benchmark: the Kafka bus end to end on the embedded broker, in one run.

    python bench/bench_bus.py                  # 10,000 progress events
    python bench/bench_bus.py --events 2000    # quicker

Figures:

- delivery, student → coach: the student's instance emits N progress events
  (``Instance.emit``, signed, in the ledger) and publishes them; then the
  coach's ``KafkaBus`` reads, judges (schema, Ed25519 signature, roster),
  stores and folds them. Measured: applied events per second at the coach,
  from its first poll to the N-th event applied (connection set-up excluded).
- the same messages read by a bare aiokafka consumer (same broker, same topic,
  same run, same fetch settings, nothing done with them): the ratio of the two
  rates says what colearner's receiving costs over Kafka itself.
- CLI-to-CLI latency of one assignment: from starting ``colearner assign`` (a
  new Python process: start-up, sync, sign, publish) until the student's live
  bus loop (``KafkaBus.run()``, as in the language server) applied it; and,
  separately, until a new ``colearner inbox`` process shows it.

- where the coach's time per event goes, stage by stage (wire v2): the same
  messages decoded, their headers validated, hashed, linked to their tips
  (one signature per batch), opened, their payloads validated, stored and
  folded, each stage timed alone over all of them; and the writer's cost of
  sealing, chaining and signing, against the same events left in plain JSON.

Goals: >= 30,000 applied events/s and a ratio >= 0.3. Prints figures only.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # colearner_lsp when not installed

from aiokafka import AIOKafkaConsumer, TopicPartition  # noqa: E402

from colearner_lsp.bus.broker import EmbeddedBroker  # noqa: E402
from colearner_lsp.bus.connection import connection_options  # noqa: E402
from colearner_lsp.bus.kafka_bus import KafkaBus  # noqa: E402
from colearner_lsp.bus.partitions import partition_for  # noqa: E402
from colearner_lsp.core import actions  # noqa: E402
from colearner_lsp.core.identity import init_instance, trust_peer  # noqa: E402
from colearner_lsp.core.instance import Instance  # noqa: E402
from colearner_lsp.core.protocol.events import ProgressUpdate  # noqa: E402

APPLIED_GOAL = 30_000
RATIO_GOAL = 0.3
EMIT_BATCH = 500
SAMPLE = "def total(items):\n    s = 0\n    for i in items:\n        s += i\n    return s\n"


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def make_pair(base: Path, bootstrap: str) -> tuple[Path, Path]:
    coach, student = base / "coach", base / "student"
    coach.mkdir()
    git(coach, "init", "-q", "-b", "main")
    git(coach, "-c", "user.email=c@example.com", "-c", "user.name=c", "commit", "-q", "--allow-empty", "-m", "start")
    (coach / "total.py").write_text(SAMPLE)
    git(coach, "add", "total.py")
    git(coach, "-c", "user.email=c@example.com", "-c", "user.name=c", "commit", "-q", "-m", "code")
    git(base, "clone", "-q", str(coach), str(student))
    _, coach_key = init_instance(coach, "coach", "carol", bootstrap)
    _, student_key = init_instance(student, "student", "sam", bootstrap)
    trust_peer(coach, "sam", student_key)
    trust_peer(student, "carol", coach_key)
    return coach, student


async def sync(inst: Instance) -> None:
    bus = KafkaBus(inst)
    try:
        await bus.sync(timeout=60)
    finally:
        await bus.close()


async def coach_apply_rate(coach: Instance, n: int) -> tuple[float, float, float]:
    """Seconds for the coach's bus to apply ``n`` waiting events; events/s; and events per CPU second
    of this process (what the coach itself spent, whatever else the machine ran)."""
    bus = KafkaBus(coach)
    await bus.connect()
    await bus.verify_positions()
    applied = 0
    started, cpu = time.perf_counter(), time.process_time()
    try:
        while applied < n:
            applied += len(await bus.poll(timeout_ms=200))
        took, cpu = time.perf_counter() - started, time.process_time() - cpu
    finally:
        await bus.close()
    return took, n / took, n / cpu


async def raw_rate(coach: Instance, topic: str, partition: int, n: int) -> tuple[float, float]:
    """A bare aiokafka consumer, same settings as the bus, reading the same ``n`` messages."""
    options = connection_options(coach.config)
    consumer = AIOKafkaConsumer(
        group_id=None,
        enable_auto_commit=False,
        fetch_max_wait_ms=20,
        max_partition_fetch_bytes=2_097_152,
        **options,  # type: ignore[arg-type]
    )
    await consumer.start()
    tp = TopicPartition(topic, partition)
    try:
        consumer.assign([tp])
        consumer.seek(tp, 0)
        seen = 0
        started, cpu = time.perf_counter(), time.process_time()
        while seen < n:
            batch = await consumer.getmany(tp, timeout_ms=200, max_records=500)
            seen += sum(len(r) for r in batch.values())
        return seen / (time.perf_counter() - started), seen / (time.process_time() - cpu)
    finally:
        await consumer.stop()


def cli(cwd: Path, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "colearner_lsp", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
    )
    return result.stdout.strip().splitlines()[-1]


def assignment_latency(coach_root: Path, student_root: Path, session_id: str, rounds: int) -> tuple[list[float], list[float]]:
    """CLI assign → the student's live loop applied it; CLI assign → a new ``inbox`` shows it."""
    student = Instance.open(student_root)
    arrived: dict[str, float] = {}

    def on_applied(events: list) -> None:
        for e in events:
            if e.event_type == "exercise_assigned":
                arrived[e.payload.exercise_id] = time.perf_counter()

    bus = KafkaBus(student, on_applied=on_applied)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(bus.run(idle_ms=50),), daemon=True)
    thread.start()
    to_loop: list[float] = []
    to_inbox: list[float] = []
    try:
        deadline = time.monotonic() + 30
        while not bus.connected and time.monotonic() < deadline:
            time.sleep(0.05)
        for i in range(rounds):
            started = time.perf_counter()
            exercise_id = cli(
                coach_root,
                "assign",
                session_id,
                "--topic",
                f"t{i}",
                "--exercise",
                "e",
                "--expected",
                "x",
                "--file",
                "total.py",
                "--lines",
                "2-4",
            )
            while exercise_id not in arrived and time.perf_counter() - started < 30:
                time.sleep(0.002)
            to_loop.append(arrived[exercise_id] - started)
        loop.call_soon_threadsafe(bus.stop)
        thread.join(30)
        for i in range(rounds):
            started = time.perf_counter()
            exercise_id = cli(
                coach_root,
                "assign",
                session_id,
                "--topic",
                f"u{i}",
                "--exercise",
                "e",
                "--expected",
                "x",
                "--file",
                "total.py",
                "--lines",
                "2-4",
            )
            inbox = subprocess.run(
                [sys.executable, "-m", "colearner_lsp", "inbox", "--json"], cwd=student_root, capture_output=True, text=True, check=True
            ).stdout
            assert exercise_id in inbox
            to_inbox.append(time.perf_counter() - started)
    finally:
        if thread.is_alive():
            loop.call_soon_threadsafe(bus.stop)
            thread.join(30)
    return to_loop, to_inbox


def per_event_us(work, items) -> float:  # type: ignore[no-untyped-def]
    """CPU µs per item of ``work`` (CPU time: other processes share the machine), with the cyclic
    GC paused as the receive path pauses it for a batch (else its collections land on whichever
    stage allocates most)."""
    gc.collect()
    gc.disable()
    try:
        started = time.process_time()
        work(items)
        return (time.process_time() - started) / len(items) * 1e6
    finally:
        gc.enable()


def stage_costs(coach: Instance, student: Instance, n: int) -> None:
    """Each stage of receiving, timed alone over the student's ``n`` messages as sent."""
    from colearner_lsp.core.model.fold import apply_event
    from colearner_lsp.core.model.state import State
    from colearner_lsp.core.protocol import receive as rcv
    from colearner_lsp.core.protocol.chain import Link, link
    from colearner_lsp.core.protocol.events import open_event, parse_wire
    from colearner_lsp.core.protocol.opened import assemble, validate_payloads
    from colearner_lsp.core.protocol.sealing import open_sealed, shared_key
    from colearner_lsp.core.protocol.strict_json import decode, decode_as_written, write_compact
    from colearner_lsp.core.protocol.wire import event_hash, header_bytes
    from colearner_lsp.core.protocol.wire_header import read_header

    sent = [wire.encode() for sender, _, _, wire, _ in student.ledger.events_as_sent(0) if sender == "sam"][-n:]
    data = [decode(raw) for raw in sent]
    claims = [rcv.examine(raw, coach.config, coach.public_key) for raw in sent]
    assert all(isinstance(c, rcv.Claim) for c in claims)
    key = shared_key(coach.key, claims[0].public_key)  # type: ignore[union-attr]
    links = [Link(c.header.seq, c.header.prev, c.hash, c.signed is not None, len(c.raw), c) for c in claims]  # type: ignore[union-attr]
    headers = [c.header for c in claims]  # type: ignore[union-attr]
    plains = [decode(open_sealed(d["payload"], header_bytes(d), coach.identity, key)) for d in data]
    events = [open_event(h, p) for h, p in zip(headers, plains)]
    as_sent = rcv._as_sent
    stages = {
        "decode (strict JSON, the careful path)": lambda xs: [decode(x) for x in xs],
        "decode (as written: orjson and back)": lambda xs: [decode_as_written(x, as_sent) for x in xs],
        "header schema (the pydantic model alone)": lambda xs: [parse_wire(d) for d in data],
        "header check (as received: fast path, else the model)": lambda xs: [read_header(d) for d in data],
        "hash (BLAKE2b-256)": lambda xs: [event_hash(x) for x in xs],
        "examine (every header rule: decode as written, check, hash)": lambda xs: [
            rcv.examine(x, coach.config, coach.public_key) for x in xs
        ],
        "chain + one signature per batch": lambda xs: link(
            "s", (links[0].seq - 1, links[0].prev), links, lambda one: rcv.tip_signature_ok(one.ref), lambda seq: None
        ),
        "open (unwrap key + XChaCha20-Poly1305) + decode": lambda xs: [
            decode_as_written(open_sealed(d["payload"], header_bytes(d), coach.identity, key), write_compact) for d in data
        ],
        "payload schema, one event at a time (model_validate)": lambda xs: [open_event(h, p) for h, p in zip(headers, plains)],  # type: ignore[arg-type]
        "payload schema, a batch per type + assembled event": lambda xs: [
            assemble(h, p)
            for h, p in zip(headers, validate_payloads("progress_update", plains))  # type: ignore[arg-type]
        ],
        "fold": lambda xs: [apply_event(state, e) for e in events],
    }
    print("  where the coach's time per event goes (each stage alone, over the same messages; CPU µs, GC paused):")
    for name, work in stages.items():
        state = State()  # noqa: F841 - read by the fold stage
        print(f"    {name:<52} {per_event_us(work, sent):6.1f} µs")


def writer_costs(student: Instance, session_id: str, n: int) -> None:
    """What sealing, chaining and signing cost the writer per event, against plain JSON of the same payloads."""
    from colearner_lsp.core.protocol.events import new_id, now_ts, payload_dict
    from colearner_lsp.core.protocol.wire import write_stream

    payloads = [payload_dict(ProgressUpdate(confidence={"reading": i % 100 / 100})) for i in range(n)]
    headers = [
        {
            "ts": now_ts(),
            "actor": "student",
            "session_id": session_id,
            "event_type": "progress_update",
            "event_id": new_id(),
            "sender": "sam",
            "student": "sam",
        }
        for _ in range(n)
    ]
    readers = student._readers(session_id, "sam")
    import json

    plain = per_event_us(lambda xs: [json.dumps({**h, "payload": p}, separators=(",", ":")) for h, p in zip(headers, payloads)], headers)
    sealed = per_event_us(lambda xs: write_stream(headers, payloads, 1, None, readers, student.key), headers)
    print(f"  writer: sealed, chained and signed per batch {sealed:.1f} µs/event; plain JSON of the same {plain:.1f} µs/event")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5, help="assignments timed for the latency")
    parser.add_argument("--profile", action="store_true", help="cProfile the coach's receiving; print the top 25")
    args = parser.parse_args()
    n = args.events

    with tempfile.TemporaryDirectory(prefix="colearner-bench-") as tmp, EmbeddedBroker() as broker:
        base = Path(tmp)
        os.environ["COLEARNER_KEY_DIR"] = str(base / "keys")
        os.environ["COLEARNER_BOOTSTRAP"] = broker.bootstrap
        coach_root, student_root = make_pair(base, broker.bootstrap)
        coach, student = Instance.open(coach_root), Instance.open(student_root)
        session_id = actions.start_session(coach, "sam")
        asyncio.run(sync(coach))
        asyncio.run(sync(student))
        print(f"embedded broker on {broker.bootstrap}; {n:,} progress events, student → coach")

        started = time.perf_counter()
        for i in range(0, n, EMIT_BATCH):
            student.emit(
                session_id, "sam", [ProgressUpdate(confidence={"reading": (i + j) % 100 / 100}) for j in range(min(EMIT_BATCH, n - i))]
            )
        emitted = time.perf_counter() - started
        started = time.perf_counter()
        asyncio.run(sync(student))
        published = time.perf_counter() - started
        print(f"  student: emitted (signed, in the ledger) at {n / emitted:,.0f}/s; published and read back at {n / published:,.0f}/s")

        if args.profile:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            profiler.enable()
        took, rate, rate_cpu = asyncio.run(coach_apply_rate(coach, n))
        if args.profile:
            profiler.disable()
            pstats.Stats(profiler).sort_stats(os.environ.get("BENCH_SORT", "cumulative")).print_stats(25)
        assert coach.state.events_applied >= n
        raw, raw_cpu = asyncio.run(raw_rate(coach, coach.config.topics.progress, partition_for("sam"), n))
        load = os.getloadavg()[0]
        print(
            f"  coach applied {n:,} in {took:.2f}s: {rate:,.0f} events/s (goal {APPLIED_GOAL:,}) "
            f"{'ok' if rate >= APPLIED_GOAL else 'MISSED'}; per CPU second of the coach: {rate_cpu:,.0f}/s"
        )
        print(
            f"  bare aiokafka read of the same messages: {raw:,.0f} msg/s ({raw_cpu:,.0f} per CPU second); "
            f"ratio {rate / raw:.2f} (goal {RATIO_GOAL}) {'ok' if rate / raw >= RATIO_GOAL else 'MISSED'}; "
            f"by CPU {rate_cpu / raw_cpu:.2f}; load average {load:.1f} on {os.cpu_count()} CPUs"
        )

        stage_costs(coach, student, n)
        writer_costs(student, session_id, n)

        to_loop, to_inbox = assignment_latency(coach_root, student_root, session_id, args.rounds)
        print(f"CLI-to-CLI latency of one assignment, {args.rounds} rounds:")
        print(
            f"  'colearner assign' started → student's live bus loop applied it: median {statistics.median(to_loop) * 1000:.0f} ms, "
            f"max {max(to_loop) * 1000:.0f} ms"
        )
        print(
            f"  'colearner assign' started → a new 'colearner inbox' printed it (two processes in turn): median "
            f"{statistics.median(to_inbox) * 1000:.0f} ms, max {max(to_inbox) * 1000:.0f} ms"
        )


if __name__ == "__main__":
    main()
