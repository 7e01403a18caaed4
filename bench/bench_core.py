"""Benchmark: the core's throughput on a ledger of 100,000 events.

    python bench/bench_core.py                 # 100,000 events across 100 sessions
    python bench/bench_core.py --events 20000  # quicker

Figures, in events (or operations) per second:

- append: ``Ledger.append_own`` in batches of 500 (as the bus batches) of
  envelopes signed beforehand; then with the Ed25519 signature made inside the
  builder (``sign_to_json``), on one thread and split over two as
  ``Instance.emit`` does for a big batch, so the two costs separate;
- accept: ``Ledger.accept`` of received events in batches of 500;
- replay: what ``Instance.refresh`` does from zero: read every row from SQLite,
  parse it (``parse_stored``), ``apply_event``, with Python's cyclic GC paused;
  the same with the GC running, and with every check of ``validate_json``;
  a whole ``Instance`` opened on the ledger; then each part alone (SQLite
  read, parse, fold on parsed events);
- sign and verify: ``sign_envelope`` / ``verify_envelope`` of a typical event.

Goals: replay >= 100,000 events/s, append >= 20,000 events/s. Each figure is
given by wall-clock time and by the process's CPU time, which is the fairer
one on a shared machine. Prints figures only; it asserts nothing. Everything
runs in a temporary folder.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # colearner_lsp when not installed

from cryptography.hazmat.primitives import serialization  # noqa: E402
from nacl.signing import SigningKey  # noqa: E402

from colearner_lsp.core.config import AgentConfig  # noqa: E402
from colearner_lsp.core.instance import Instance  # noqa: E402
from colearner_lsp.core.model import lifecycle  # noqa: E402
from colearner_lsp.core.model.fold import apply_event  # noqa: E402
from colearner_lsp.core.model.state import State  # noqa: E402
from colearner_lsp.core.protocol.events import EVENT_ADAPTER, parse_stored  # noqa: E402
from colearner_lsp.core.protocol.sealing import shared_key  # noqa: E402
from colearner_lsp.core.protocol.signing import generate_key, raw_public_key, sign_envelope, verify_envelope  # noqa: E402
from colearner_lsp.core.protocol.wire import write_stream  # noqa: E402
from colearner_lsp.core.store.ledger import Incoming, Ledger  # noqa: E402

APPEND_GOAL = 20_000
REPLAY_GOAL = 100_000
BATCH = 500
TOPIC_OF = {
    "learning_plan": "colearner.assignments.v1",
    "exercise_assigned": "colearner.assignments.v1",
    "scope_policy": "colearner.assignments.v1",
    "evidence_request": "colearner.assignments.v1",
    "assessment_feedback": "colearner.feedback.v1",
    "progress_update": "colearner.progress.v1",
    "exercise_acknowledged": "colearner.progress.v1",
    "exercise_response": "colearner.progress.v1",
    "evidence_snapshot": "colearner.progress.v1",
    "session_lifecycle": "colearner.events.v1",
}
TOPICS = ["repo overview", "dependency graph", "handlers", "tests", "retries", "config"]


# ---------------------------------------------------------------- a realistic event mix


class SessionScript:
    """One coaching session's events in the order its two sides write them.

    The coach keeps three exercises in flight and assigns a new one whenever one
    passes, until the session's budget is spent; then the last ones pass and the
    session is done. The student acknowledges, reports progress often, answers,
    sometimes attaches evidence. Lifecycle moves are the ones the actions write.
    """

    def __init__(self, student: str, rng: random.Random) -> None:
        self.student, self.rng = student, rng
        self.stage = "init"
        self.states: dict[str, str] = {}
        self.out: list[tuple[str, str, dict[str, Any]]] = []  # (sender, event_type, payload)

    def emit(self, sender: str, event_type: str, payload: dict[str, Any]) -> None:
        self.out.append((sender, event_type, payload))

    def move(self, sender: str, event_type: str, grade: str | None = None) -> None:
        to = lifecycle.automatic_move(self.stage, list(self.states.values()), event_type, grade)
        if to is not None:
            self.emit(sender, "session_lifecycle", {"from": self.stage, "to": to, "reason": event_type})
            self.stage = to

    def assign(self) -> str:
        exercise_id, topic = str(uuid.uuid4()), self.rng.choice(TOPICS)
        if self.stage == "review":
            self.emit("coach", "session_lifecycle", {"from": "review", "to": "practice", "reason": "new exercise assigned"})
            self.stage = "practice"
        self.states[exercise_id] = "assigned"
        self.emit(
            "coach",
            "exercise_assigned",
            {
                "topic": topic,
                "exercise": f"Explain how {topic} works in this service.",
                "expected": "A short note.",
                "tests": ["pytest -q tests/"],
                "exercise_id": exercise_id,
                "step_id": f"step-{TOPICS.index(topic) + 1}",
                "anchor": {
                    "path": "src/service/handler.py",
                    "start_line": 40,
                    "end_line": 58,
                    "commit": "0123456789abcdef0123456789abcdef01234567",
                    "fingerprint": "v1." + "x" * 120,
                },
            },
        )
        self.states[exercise_id] = "acknowledged"
        self.emit(self.student, "exercise_acknowledged", {"exercise_id": exercise_id})
        self.move(self.student, "exercise_acknowledged")
        return exercise_id

    def work(self, exercise_id: str) -> None:
        rng = self.rng
        for _ in range(rng.randint(3, 6)):
            self.emit(self.student, "progress_update", {"completed": [], "confidence": {rng.choice(TOPICS): round(rng.random(), 2)}})
        if rng.random() < 0.3:
            self.emit(
                self.student,
                "evidence_snapshot",
                {
                    "exercise_id": exercise_id,
                    "commit": "0123456789abcdef0123456789abcdef01234567",
                    "branch": "main",
                    "dirty": True,
                    "summary": "2 files",
                    "withheld": 0,
                    "files": [
                        {"path": f"src/service/f{i}.py", "blob_sha": "ab" * 20, "size": 900, "lines": 40, "status": "modified"}
                        for i in range(2)
                    ],
                },
            )
        self.states[exercise_id] = "responded"
        self.emit(self.student, "exercise_response", {"exercise_id": exercise_id, "response": "It retries three times, then gives up."})
        self.move(self.student, "exercise_response")

    def grade(self, exercise_id: str, grade: str) -> None:
        self.states[exercise_id] = "passed" if grade == "pass" else "revise"
        self.emit(
            "coach",
            "assessment_feedback",
            {
                "grade": grade,
                "mistakes": [] if grade == "pass" else ["missed the backoff"],
                "next_step": "read the tests",
                "confidence_delta": 0.1 if grade == "pass" else -0.1,
                "exercise_id": exercise_id,
            },
        )
        self.move("coach", "assessment_feedback", grade)

    def build(self, budget: int) -> list[tuple[str, str, dict[str, Any]]]:
        steps = [{"id": f"step-{i}", "topic": t, "status": "next"} for i, t in enumerate(TOPICS, 1)]
        self.emit("coach", "session_lifecycle", {"to": "init", "reason": "session opened"})
        self.emit("coach", "learning_plan", {"goals": ["onboard to service X"], "plan": steps})
        self.move("coach", "learning_plan")
        self.emit(
            "coach",
            "scope_policy",
            {"allow": ["src/**", "tests/**"], "deny": ["secrets/**"], "share": "hashes", "max_files": 50, "version": 1},
        )
        in_flight = [self.assign() for _ in range(3)]
        done_steps = 0
        while in_flight:
            for exercise_id in in_flight:
                if self.states[exercise_id] != "responded":
                    self.work(exercise_id)
            for exercise_id in list(in_flight):
                grade = "pass" if self.rng.random() < 0.6 else "revise"
                self.grade(exercise_id, grade)
                if grade == "pass":
                    in_flight.remove(exercise_id)
                    if len(self.out) < budget:
                        in_flight.append(self.assign())
            if done_steps < len(steps) and self.rng.random() < 0.2:
                self.emit(self.student, "progress_update", {"completed": [steps[done_steps]["id"]], "confidence": {}})
                done_steps += 1
        return self.out


def make_events(total: int, sessions: int, seed: int = 7) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """``total`` envelopes (unsigned) of ``sessions`` interleaved sessions, in creation order; and the keys."""
    rng = random.Random(seed)
    keys = {"coach": generate_key()}
    scripts = []
    for i in range(sessions):
        student = f"student-{i:03d}"
        keys[student] = generate_key()
        script = SessionScript(student, rng).build(total // sessions)
        scripts.append((str(uuid.uuid4()), student, script[::-1]))  # reversed: pop() takes the next one
    clock = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    seqs: dict[tuple[str, str], int] = defaultdict(int)
    events = []
    while scripts and len(events) < total:
        i = rng.randrange(len(scripts))
        session_id, student, script = scripts[i]
        sender, event_type, payload = script.pop()
        if not script:
            scripts[i] = scripts[-1]
            scripts.pop()
        seqs[(sender, student)] += 1
        clock += timedelta(milliseconds=rng.randint(1, 5000))
        events.append(
            {
                "ts": clock.isoformat(timespec="microseconds").replace("+00:00", "Z"),
                "actor": "coach" if sender == "coach" else "student",
                "session_id": session_id,
                "event_type": event_type,
                "payload": payload,
                "event_id": str(uuid.uuid4()),
                "sender": sender,
                "student": student,
                "seq": seqs[(sender, student)],
            }
        )
    return events, keys


# ---------------------------------------------------------------- measuring


class Timing:
    """Wall-clock and CPU seconds of one run: on a shared machine the CPU time
    tells what the code costs, the wall time what a user would wait."""

    def __init__(self, wall: float, cpu: float) -> None:
        self.wall, self.cpu = wall, cpu


def clock(fn: Callable[[], Any]) -> tuple[Timing, Any]:
    w0, c0 = time.perf_counter(), time.process_time()
    result = fn()
    return Timing(time.perf_counter() - w0, time.process_time() - c0), result


def best_of(fn: Callable[[], Any], runs: int) -> tuple[Timing, Any]:
    results = [clock(fn) for _ in range(runs)]
    wall = min(t.wall for t, _ in results)
    cpu = min(t.cpu for t, _ in results)
    return Timing(wall, cpu), results[-1][1]


def rate(label: str, count: int, t: Timing, goal: int | None = None, unit: str = "events/s") -> None:
    wall, cpu = count / t.wall, count / max(t.cpu, 1e-9)
    verdict = ""
    if goal is not None:
        verdict = f"   goal >= {goal:,}: wall {'met' if wall >= goal else 'MISSED'}, cpu {'met' if cpu >= goal else 'MISSED'}"
    print(f"  {label:<62} {wall:>9,.0f} {unit} wall {cpu:>9,.0f} cpu  ({count:,} in {t.wall:.2f} s){verdict}")


def by_stream(envelopes: list[dict[str, Any]]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    streams: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for env in envelopes:
        streams[(env["sender"], env["student"])].append(env)
    return streams


def bench_append(folder: Path, events: list[dict[str, Any]], keys: dict[str, Any], signed: list[dict[str, Any]]) -> None:
    """Each stream's events appended in batches of 500, as an instance writes its own."""

    def append_all(ledger: Ledger, streams: dict[tuple[str, str], list[dict[str, Any]]], sign: bool) -> None:
        for (sender, student), envs in streams.items():
            key = keys[sender]
            readers = {name: shared_key(key, raw_public_key(keys[name].public_key())) for name in {sender, student} if name in keys}
            for start in range(0, len(envs), BATCH):
                chunk = envs[start : start + BATCH]
                if not sign:
                    ledger.append_own(sender, student, [lambda seq, env=env: (env, TOPIC_OF[env["event_type"]]) for env in chunk])
                    continue

                def build(first: int, prev: str | None, chunk: list[dict[str, Any]] = chunk) -> list[tuple[Any, ...]]:
                    headers = [{k: v for k, v in env.items() if k not in ("payload", "seq", "sig", "v", "prev")} for env in chunk]
                    written = write_stream(headers, [env["payload"] for env in chunk], first, prev, readers, key)
                    return [(w.opened, TOPIC_OF[w.opened["event_type"]], json.dumps(w.opened), w.wire, w.hash) for w in written]

                ledger.append_own_batch(sender, student, len(chunk), build)

    streams = by_stream(events)
    batches = sum((len(v) + BATCH - 1) // BATCH for v in streams.values())
    print(f"  {len(streams)} streams (sender, student), {batches} batches of {len(events) / batches:.0f} events on average")
    for label, envs, sign in [
        ("append_own, pre-signed", signed, False),
        ("append_own, sealed, chained and signed per batch inside (as Instance.emit)", events, True),
    ]:
        ledger = Ledger(folder / f"append-{sign}.sqlite")
        timing, _ = clock(lambda: append_all(ledger, by_stream(envs), sign))
        rate(label, len(envs), timing, APPEND_GOAL)
        ledger.close()
    # What one commit costs on this disk (synchronous=FULL: an fsync per commit).
    ledger = Ledger(folder / "commits.sqlite")
    n = 50
    timing, _ = clock(lambda: [ledger.set_meta("k", str(i)) for i in range(n)])
    print(
        f"  one empty commit (fsync): {timing.wall / n * 1000:.1f} ms wall, so {batches} batches wait "
        f"{timing.wall / n * batches:.2f} s on the disk"
    )
    ledger.close()


def bench_accept(path: Path, signed: list[dict[str, Any]]) -> Ledger:
    incoming = [
        Incoming(
            raw=json.dumps(env, separators=(",", ":")).encode(),
            topic=TOPIC_OF[env["event_type"]],
            partition=0,
            offset=i,
            envelope=env,
            sender=env["sender"],
            student=env["student"],
        )
        for i, env in enumerate(signed)
    ]
    ledger = Ledger(path)

    def accept_all() -> None:
        for start in range(0, len(incoming), BATCH):
            ledger.accept(incoming[start : start + BATCH])

    timing, _ = clock(accept_all)
    rate("Ledger.accept of received events (batches of 500)", len(incoming), timing)
    timing, _ = clock(accept_all)
    rate("Ledger.accept, the same again (all duplicates)", len(incoming), timing)
    return ledger


def open_instance(ledger: Ledger) -> Any:
    """What a CLI command or the server pays at start: ``Instance`` folds the whole
    ledger (keeping each session's events for late arrivals) and writes learning.json."""
    root = ledger.path.parent / "instance"
    (root / ".colearner").mkdir(parents=True, exist_ok=True)
    config = AgentConfig(identity="coach", role="coach", key_file=str(root / "unused.pem"))
    inst = Instance(root, config, generate_key(), ledger)
    return inst.state


def bench_replay(ledger: Ledger, runs: int) -> None:
    n = ledger.event_count()

    def replay(parse: Callable[[str], Any] = parse_stored) -> State:
        """The loop of Instance.refresh from zero (without its bookkeeping and learning.json)."""
        state = State()
        for row in ledger.events_after(0):
            apply_event(state, parse(row.raw))
        return state

    def paused(fn: Callable[[], Any]) -> Callable[[], Any]:
        def run() -> Any:
            gc.disable()  # as Instance.refresh does when it folds from zero
            try:
                return fn()
            finally:
                gc.enable()

        return run

    rate("replay: SQLite read + parse_stored + apply_event", n, best_of(paused(replay), runs)[0], REPLAY_GOAL)
    rate("  the same with the cyclic GC running", n, best_of(replay, runs)[0], REPLAY_GOAL)
    rate(
        "  the same parsing with validate_json (every check)",
        n,
        best_of(paused(lambda: replay(EVENT_ADAPTER.validate_json)), runs)[0],
        REPLAY_GOAL,
    )
    rate("  Instance opened on the ledger (+ bookkeeping, learning.json)", n, best_of(lambda: open_instance(ledger), runs)[0])
    rate("  SQLite read alone (events_after(0))", n, best_of(lambda: ledger.events_after(0), runs)[0])
    rows = ledger.events_after(0)
    rate("  parse_stored alone", n, best_of(lambda: [parse_stored(r.raw) and None for r in rows], runs)[0])
    rate("  validate_json alone", n, best_of(lambda: [EVENT_ADAPTER.validate_json(r.raw) and None for r in rows], runs)[0])
    parsed = [parse_stored(r.raw) for r in rows]

    def fold_only() -> State:
        state = State()
        for event in parsed:
            apply_event(state, event)
        return state

    timing, state = best_of(fold_only, runs)
    rate("  fold alone (apply_event on parsed events)", n, timing)
    stages: dict[str, int] = defaultdict(int)
    for s in state.sessions.values():
        stages[s.stage] += 1
    print(f"  -> {len(state.sessions)} sessions, {len(state.exercises):,} exercises, stages {dict(sorted(stages.items()))}")


def bench_learning_json(ledger: Ledger, runs: int) -> None:
    """Writing the coach's learning.json: every exercise encoded, against after one exercise changed
    (each exercise's text is kept between writes), and json.dump of the same document as a baseline."""
    root = ledger.path.parent / "learning"
    (root / ".colearner").mkdir(parents=True, exist_ok=True)
    config = AgentConfig(identity="coach", role="coach", key_file=str(root / "unused.pem"))
    inst = Instance(root, config, generate_key(), ledger)
    n = len(inst.state.exercises)
    some = next(iter(inst.state.exercises))
    path = root / ".colearner" / "learning.json"

    def anew() -> None:
        inst._learning_pieces.clear()
        inst.learning_changed(set())
        inst.flush_learning_json()

    def after_one_change() -> None:
        inst.learning_changed({some})
        inst.flush_learning_json()

    def whole_json_dump() -> None:
        data = json.loads(path.read_text(encoding="utf-8"))
        started = time.perf_counter(), time.process_time()
        with open(root / "baseline.json", "w", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False)
            fh.flush()
            os.fsync(fh.fileno())
        timings.append(Timing(time.perf_counter() - started[0], time.process_time() - started[1]))

    every, _ = best_of(anew, runs)
    one, _ = best_of(after_one_change, runs)
    timings: list[Timing] = []
    for _ in range(runs):
        whole_json_dump()
    baseline = Timing(min(t.wall for t in timings), min(t.cpu for t in timings))
    print(f"  the coach's learning.json: {n:,} exercises, {path.stat().st_size / 1e6:.1f} MB")
    for label, t in (
        ("json.dump of the whole document (baseline)", baseline),
        ("every exercise encoded", every),
        ("after one exercise changed", one),
    ):
        print(
            f"  {label:<62} {t.wall * 1000:>8.1f} ms wall {t.cpu * 1000:>8.1f} ms cpu  ({baseline.cpu / max(t.cpu, 1e-9):.1f}x the baseline's cpu)"
        )
    inst.close()


def bench_signatures(events: list[dict[str, Any]], keys: dict[str, Any], count: int) -> None:
    sample = events[:count]
    key = keys["coach"]
    timing, signed = clock(lambda: [sign_envelope(e, key) for e in sample])
    rate("sign_envelope (canonical JSON + Ed25519)", len(sample), timing, unit="ops/s")
    public = key.public_key()
    timing, ok = clock(lambda: [verify_envelope(e, public) for e in signed])
    if not all(ok):
        raise SystemExit("a signature did not verify")
    rate("verify_envelope (canonical JSON + Ed25519)", len(signed), timing, unit="ops/s")
    raw = [json.dumps(e).encode() for e in sample]
    timing, _ = clock(lambda: [key.sign(r) for r in raw])
    rate("  Ed25519 sign alone, cryptography", len(raw), timing, unit="ops/s")
    seed = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    sodium = SigningKey(seed)
    timing, _ = clock(lambda: [sodium.sign(r) for r in raw])
    rate("  Ed25519 sign alone, libsodium (what sign_envelope uses)", len(raw), timing, unit="ops/s")
    sigs = [key.sign(r) for r in raw]
    timing, _ = clock(lambda: [public.verify(sig, r) for sig, r in zip(sigs, raw)])
    rate("  Ed25519 verify alone, cryptography", len(raw), timing, unit="ops/s")
    timing, _ = clock(lambda: [sodium.verify_key.verify(r, sig) for sig, r in zip(sigs, raw)])
    rate("  Ed25519 verify alone, libsodium (what verify_envelope uses)", len(raw), timing, unit="ops/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--sessions", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3, help="replay runs; the best is shown")
    args = parser.parse_args()

    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (figures are per process, single-threaded)")
    t0 = time.perf_counter()
    events, keys = make_events(args.events, args.sessions)
    signed = [sign_envelope(e, keys[e["sender"]]) for e in events]
    mix: dict[str, int] = defaultdict(int)
    for e in events:
        mix[e["event_type"]] += 1
    print(f"{len(events):,} events across {args.sessions} sessions, made and signed in {time.perf_counter() - t0:.1f} s")
    print("  mix: " + ", ".join(f"{t} {c / len(events):.0%}" for t, c in sorted(mix.items(), key=lambda kv: -kv[1])))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        print("append")
        bench_append(folder, events, keys, signed)
        print("accept")
        ledger = bench_accept(folder / "received.sqlite", signed)
        # Replay as a freshly started CLI or server would: without the bench's
        # own 100,000 envelopes in memory, which every full GC pass would walk.
        sample = events[:20_000]
        del events, signed
        gc.collect()
        print("replay")
        bench_replay(ledger, args.runs)
        print("learning.json")
        bench_learning_json(ledger, args.runs)
        ledger.close()
    print("signatures")
    bench_signatures(sample, keys, len(sample))


if __name__ == "__main__":
    main()
