"""Benchmark: the language server (``colearner serve``) in one run on the embedded broker.

    python bench/bench_lsp.py                       # 200 deliveries, 10,000 exercises
    python bench/bench_lsp.py --deliveries 50 --exercises 2000   # quicker

Figures (p50 / p99):

- delivery: from the coach's assign (``actions.assign_exercise`` + ``KafkaBus.publish``)
  until the student's server has sent ``publishDiagnostics`` naming the exercise,
  beside the raw aiokafka round trip (send_and_wait → getone) on the same broker;
- code action and hover, with 10,000 exercises in the student's ledger (100 anchors
  in the file asked about); again while the coach keeps assigning from a process of its own
  (events arrive, are judged, folded and shown, learning.json is rewritten), and again beside
  another CPU-bound process;
- didChange → publishDiagnostics on a 10,000-line file holding 500 anchors (each
  change inserts or removes a line at the top, so every anchor moves), at a fast
  typist's pace (one change per 50 ms) and, for reference, in bursts.

Goals: delivery p99 <= 2 x raw p99 + 5 ms; code action and hover p99 <= 10 ms;
didChange p99 <= 20 ms. The server is timed through a bare JSON client
(bench/lsp_raw.py) so that a typed client's conversions are not counted.

``--profile DIR`` runs each student server under cProfile (DIR/student-delivery.prof,
DIR/student-editing.prof) and prints where its time went; the latencies of such a
run are inflated by the profiler, so read them only against each other.
``--stalls DIR`` runs them under ``bench/stall_probe.py`` instead, which names the
event-loop callbacks that ran over 5 ms and samples where their time went, per phase
(DIR/student-editing.<n>.txt: 1 the catch-up, 2 requests, 3 while exercises arrive, 4 beside a CPU hog, 5 editing).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # colearner_lsp when not installed

from pygls.uris import from_fs_path  # noqa: E402

from bench.kafka_baseline import raw_roundtrip_latencies  # noqa: E402
from bench.lsp_raw import RawClient  # noqa: E402
from colearner_lsp.bus.broker import EmbeddedBroker  # noqa: E402
from colearner_lsp.bus.kafka_bus import KafkaBus  # noqa: E402
from colearner_lsp.core import actions  # noqa: E402
from colearner_lsp.core.anchor.anchor_fingerprint import make_fingerprint  # noqa: E402
from colearner_lsp.core.anchor.anchoring import head_commit  # noqa: E402
from colearner_lsp.core.identity import init_instance, trust_peer  # noqa: E402
from colearner_lsp.core.instance import Instance  # noqa: E402
from colearner_lsp.core.protocol.events import Anchor, ExerciseAssigned, new_id  # noqa: E402

FUNCTION = "def f{n}(items):\n    total = 0\n    for item in items:\n        total += item * {n}\n    return total\n"
BIG = "big.py"
BIG_LINES, BIG_ANCHORS = 10_000, 500
PER_FILE = 100  # anchors in each of the other files
EMIT_BATCH = 500
ARRIVING_PAUSE_S = 0.015  # between requests while exercises arrive
TYPING_PAUSE_S = 0.05


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.email=b@example.com", "-c", "user.name=b", *args], cwd=cwd, check=True, capture_output=True)


def source(functions: int) -> str:
    return "".join(FUNCTION.format(n=n) for n in range(functions))


def make_pair(base: Path, bootstrap: str, modules: int) -> tuple[Path, Path, list[str]]:
    """A coach repository (``modules`` files of PER_FILE functions, and big.py) and the student's clone."""
    coach, student = base / "coach", base / "student"
    coach.mkdir()
    git(coach, "init", "-q", "-b", "main")
    names = [f"pkg/mod{i:03d}.py" for i in range(modules)]
    for name in names:
        (coach / name).parent.mkdir(exist_ok=True)
        (coach / name).write_text(source(PER_FILE))
    (coach / BIG).write_text(source(BIG_LINES // 5))
    git(coach, "add", "-A")
    git(coach, "commit", "-q", "-m", "bench code")
    git(base, "clone", "-q", str(coach), str(student))
    _, coach_key = init_instance(coach, "coach", "carol", bootstrap)
    _, student_key = init_instance(student, "student", "sam", bootstrap)
    trust_peer(coach, "sam", student_key)
    trust_peer(student, "carol", coach_key)
    return coach, student, names


def ms(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000

    return at(0.50), at(0.99)


class StudentServer:
    """``colearner serve`` in the student's repository, and what it publishes."""

    def __init__(self, root: Path, profile: Path | None = None, stalls: Path | None = None) -> None:
        self.root = root
        self.profile = profile  # where cProfile writes the server's statistics, if wanted
        self.stalls = stalls  # where the stall probe writes its report, if wanted
        self.latest: dict[str, dict[str, Any]] = {}  # uri → last publishDiagnostics params
        self.first_seen: dict[str, float] = {}  # exercise id → arrival of the first diagnostic naming it
        self.statuses: list[dict[str, Any]] = []
        self.changed = asyncio.Event()
        self.opened: set[str] = set()

    async def start(self) -> float:
        """Start and initialize; returns seconds until the first status (the instance opened, exercises shown)."""
        started = time.perf_counter()
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
        profiled: tuple[str, ...] = ("-m", "cProfile", "-o", str(self.profile)) if self.profile else ()
        if self.stalls:
            profiled = (str(Path(__file__).with_name("stall_probe.py")), str(self.stalls))
        self.client = await RawClient.start(sys.executable, *profiled, "-m", "colearner_lsp", "serve", cwd=str(self.root), env=env)
        self.client.listeners.append(self._heard)
        await self.client.initialize(self.uri(""))
        await self.until(lambda: self.statuses)
        return time.perf_counter() - started

    def close_phase(self) -> None:
        """Tell the stall probe (if it runs) that a phase of the bench ended."""
        if self.stalls:
            self.client.process.send_signal(signal.SIGUSR1)

    def uri(self, rel: str) -> str:
        return from_fs_path(str(self.root / rel)) or ""

    def _heard(self, method: str, params: Any, arrived: float) -> None:
        if method == "textDocument/publishDiagnostics":
            self.latest[params["uri"]] = {**params, "arrived": arrived}
            for d in params["diagnostics"]:
                self.first_seen.setdefault(d["data"]["exercise_id"], arrived)
        elif method == "colearner/status":
            self.statuses.append(params)
        self.changed.set()

    async def until(self, check, timeout: float = 120.0) -> None:  # type: ignore[no-untyped-def]
        deadline = time.perf_counter() + timeout
        while not check():
            self.changed.clear()
            left = deadline - time.perf_counter()
            if left <= 0:
                raise TimeoutError("the server did not get there in time")
            try:
                await asyncio.wait_for(self.changed.wait(), left)
            except TimeoutError:
                pass

    def open(self, rel: str) -> None:
        if rel in self.opened:  # a second didOpen of an open document is a protocol error
            return
        self.opened.add(rel)
        text = (self.root / rel).read_text()
        self.client.notify(
            "textDocument/didOpen", {"textDocument": {"uri": self.uri(rel), "languageId": "python", "version": 1, "text": text}}
        )


async def delivery(
    coach: Instance, server: StudentServer, session_id: str, names: list[str], n: int, warmup: int = 10
) -> dict[str, list[float]]:
    """Per assignment: the whole delivery, and its parts (the coach's action; its publish, acks=all)."""
    bus = KafkaBus(coach)
    await bus.connect()
    times: dict[str, list[float]] = {"delivery": [], "action": [], "publish": []}
    try:
        for i in range(warmup + n):
            first = 1 + 5 * (i // len(names) % PER_FILE)
            started = time.perf_counter()
            exercise_id = actions.assign_exercise(
                coach,
                session_id,
                topic="loops",
                exercise=f"exercise {i}",
                expected="a loop",
                path=names[i % len(names)],
                start_line=first,
                end_line=first + 4,
            )
            acted = time.perf_counter()
            await bus.publish()
            published = time.perf_counter()
            await server.until(lambda: exercise_id in server.first_seen, timeout=30)
            if i >= warmup:
                times["delivery"].append(server.first_seen[exercise_id] - started)
                times["action"].append(acted - started)
                times["publish"].append(published - acted)
    finally:
        await bus.close()
    return times


def bulk_assign(coach: Instance, session_id: str, names: list[str], total: int) -> list[str]:
    """``total`` signed assignments (100 per module file, 500 in big.py) appended in batches, as the coach's instance writes them."""
    commit = head_commit(coach.root)
    places: list[tuple[str, int]] = [(BIG, 1 + 20 * k) for k in range(BIG_ANCHORS)]
    for name in names:
        places += [(name, 1 + 5 * k) for k in range(PER_FILE)]
    places = places[:total]
    texts = {p: (coach.root / p).read_text() for p, _ in places}
    payloads = []
    for path, first in places:
        anchor = Anchor(
            path=path, start_line=first, end_line=first + 4, commit=commit, fingerprint=make_fingerprint(texts[path], first, first + 4)
        )
        payloads.append(
            ExerciseAssigned(
                topic="loops",
                exercise=f"explain {path}:{first}",
                expected="a clear answer",
                tests=["pytest -q"],
                exercise_id=new_id(),
                anchor=anchor,
            )
        )
    ids = []
    for start in range(0, len(payloads), EMIT_BATCH):
        coach.emit(session_id, "sam", payloads[start : start + EMIT_BATCH])
        ids += [p.exercise_id or "" for p in payloads[start : start + EMIT_BATCH]]
    return ids


async def publish_all(coach: Instance) -> None:
    bus = KafkaBus(coach)
    await bus.connect()
    try:
        await bus.publish()
    finally:
        await bus.close()


async def requests(server: StudentServer, rel: str, n: int, pause: float = 0.0) -> tuple[list[float], list[float]]:
    """Code action and hover latencies on anchored lines of ``rel`` (open in the editor), ``pause`` s apart."""
    uri = server.uri(rel)
    server.open(rel)
    await server.until(lambda: uri in server.latest)
    diagnostics = server.latest[uri]["diagnostics"]
    lines = sorted({d["range"]["start"]["line"] for d in diagnostics})
    acting, hovering = [], []
    rng = random.Random(7)
    for _ in range(n):
        line = rng.choice(lines) + rng.randrange(5)
        here = [d for d in diagnostics if d["range"]["start"]["line"] <= line <= d["range"]["end"]["line"]]
        point = {"line": line, "character": 0}
        started = time.perf_counter()
        actions_ = await server.client.request(
            "textDocument/codeAction",
            {"textDocument": {"uri": uri}, "range": {"start": point, "end": point}, "context": {"diagnostics": here}},
        )
        acting.append(time.perf_counter() - started)
        assert actions_, f"no code action at line {line}"
        started = time.perf_counter()
        shown = await server.client.request("textDocument/hover", {"textDocument": {"uri": uri}, "position": point})
        hovering.append(time.perf_counter() - started)
        assert shown, f"no hover at line {line}"
        if pause:
            await asyncio.sleep(pause)
    return acting, hovering


async def keep_assigning(coach: Instance, session_id: str, names: list[str], stop: asyncio.Event, every_s: float = 0.05) -> int:
    """Assign and publish one exercise every ``every_s`` until ``stop`` (files other than the one asked about)."""
    bus = KafkaBus(coach)
    await bus.connect()
    sent = 0
    try:
        while not stop.is_set():
            path = names[1 + sent % (len(names) - 1)] if len(names) > 1 else BIG
            actions.assign_exercise(
                coach, session_id, topic="loops", exercise=f"more {sent}", expected="a loop", path=path, start_line=1, end_line=5
            )
            await bus.publish()
            sent += 1
            try:
                await asyncio.wait_for(stop.wait(), every_s)
            except TimeoutError:
                pass
    finally:
        await bus.close()
    return sent


async def requests_while_assigning(
    server: StudentServer, coach: Instance, session_id: str, names: list[str], n: int
) -> tuple[list[float], list[float], int]:
    """Requests while the coach keeps assigning, from a process of its own as a coach's machine
    would: assigning in this process would stall the loop that times the answers (git, signing
    and the ledger's fsync take 5-15 ms per exercise), and count the bench's stall as the server's."""
    child = subprocess.Popen(
        [sys.executable, __file__, "--stream-assignments", str(coach.root), session_id, *names],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdin is not None and child.stdout is not None
    try:
        assert await asyncio.to_thread(child.stdout.readline) == "streaming\n", "the assigning process did not start"
        await asyncio.sleep(0.5)  # the stream is flowing before the first request
        # Spaced out, so that the requests span ~100 arrivals and several rewrites of learning.json.
        acting, hovering = await requests(server, names[0], n, ARRIVING_PAUSE_S)
    finally:
        child.stdin.close()  # its end of the stream: it stops and says how many it sent
        out = await asyncio.to_thread(child.stdout.read)
        child.wait(timeout=30)
    return acting, hovering, int(out.split()[-1])


def stream_assignments(coach_root: Path, session_id: str, names: list[str]) -> None:
    """The child of ``requests_while_assigning``: assign every 50 ms until stdin closes."""
    coach = Instance.open(coach_root)

    async def go() -> int:
        stop = asyncio.Event()
        asyncio.get_running_loop().add_reader(sys.stdin.fileno(), stop.set)  # readable at EOF
        print("streaming", flush=True)
        return await keep_assigning(coach, session_id, names, stop)

    try:
        print(asyncio.run(go()), flush=True)
    finally:
        coach.close()


async def requests_beside_a_cpu_hog(server: StudentServer, rel: str, n: int) -> tuple[list[float], list[float]]:
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        await asyncio.sleep(0.5)
        return await requests(server, rel, n)
    finally:
        hog.kill()
        hog.wait()


async def edits(server: StudentServer, n: int, pause: float) -> list[float]:
    """didChange → the publishDiagnostics of that version, on big.py."""
    uri = server.uri(BIG)
    server.open(BIG)
    await server.until(lambda: len(server.latest.get(uri, {}).get("diagnostics", ())) == BIG_ANCHORS)
    version = server.latest[uri].get("version") or 1
    latencies = []
    for i in range(n):
        version += 1
        change = {"range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}, "text": "\n"}
        if i % 2:
            change = {"range": {"start": {"line": 0, "character": 0}, "end": {"line": 1, "character": 0}}, "text": ""}
        started = time.perf_counter()
        server.client.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version}, "contentChanges": [change]})
        await server.until(lambda: (server.latest[uri].get("version") or 0) >= version, timeout=10)
        latencies.append(server.latest[uri]["arrived"] - started)
        first = min(d["range"]["start"]["line"] for d in server.latest[uri]["diagnostics"])
        assert first == (1 if i % 2 == 0 else 0), f"anchor at line {first} after change {i}"
        await asyncio.sleep(pause)
    return latencies


def report(name: str, values: list[float], goal_ms: float | None = None) -> bool:
    p50, p99 = ms(values)
    over = sum(1 for v in values if goal_ms is not None and v * 1000 > goal_ms)
    verdict = (
        "" if goal_ms is None else ("  ok" if p99 <= goal_ms else f"  MISSED (goal p99 <= {goal_ms:.1f} ms; {over}/{len(values)} over)")
    )
    print(f"{name:<52} p50 {p50:7.2f} ms   p99 {p99:7.2f} ms{verdict}")
    return goal_ms is None or p99 <= goal_ms


def print_profile(path: Path, top: int = 20) -> None:
    """Where a profiled server spent its time: functions by own time, then colearner's by cumulative time."""
    import pstats

    stats = pstats.Stats(str(path))
    print(f"\n--- {path.name}: by own time ---")
    stats.sort_stats("tottime").print_stats(top)
    print(f"--- {path.name}: colearner_lsp by cumulative time (imports left out) ---")
    stats.sort_stats("cumulative").print_stats(r"colearner_lsp.*\((?!<module>)", top)


async def run(
    base: Path, bootstrap: str, deliveries: int, exercises: int, samples: int, profile: Path | None = None, stalls: Path | None = None
) -> bool:
    modules = max(1, (exercises - BIG_ANCHORS) // PER_FILE)
    coach_root, student_root, names = make_pair(base, bootstrap, modules)
    coach = Instance.open(coach_root)
    session_id = actions.start_session(coach, "sam")
    await publish_all(coach)

    server = StudentServer(
        student_root, profile / "student-delivery.prof" if profile else None, stalls / "student-delivery.txt" if stalls else None
    )
    await server.start()
    await server.until(lambda: server.statuses[-1]["broker"] == "connected")
    gc.freeze()
    gc.disable()  # the harness's collector, not the server's: see below
    raw = await raw_roundtrip_latencies(bootstrap, deliveries)
    parts = await delivery(coach, server, session_id, names, deliveries)
    delivered = parts["delivery"]
    await server.client.close()
    gc.enable()

    took = time.perf_counter()
    ids = bulk_assign(coach, session_id, names, exercises)
    await publish_all(coach)
    print(f"{len(ids):,} exercises assigned and published in {time.perf_counter() - took:.1f} s")
    server = StudentServer(
        student_root, profile / "student-editing.prof" if profile else None, stalls / "student-editing.txt" if stalls else None
    )
    startup = await server.start()
    await server.until(lambda: ids[-1] in server.first_seen, timeout=600)
    print(
        f"student server: first status after {startup:.2f} s; all {len(ids) + deliveries + 10:,} exercises shown after "
        f"{server.first_seen[ids[-1]] - took:.1f} s (Kafka delivery of the bulk included)"
    )

    # The harness holds the coach's 10,000 exercises too: keep its own collector from pausing the
    # timings. Freezing them is not enough: the messages it parses meanwhile make a full collection
    # every ~2.7 s that took 10-15 ms, and the didChange each one fell on was counted that much
    # slower (the server's callback for it took its usual ~5 ms). Nothing it makes is a cycle.
    gc.collect()
    gc.freeze()
    gc.disable()
    server.close_phase()
    acting, hovering = await requests(server, names[0], samples)
    server.close_phase()
    busy_acting, busy_hovering, streamed = await requests_while_assigning(server, coach, session_id, names, samples)
    server.close_phase()
    hog_acting, hog_hovering = await requests_beside_a_cpu_hog(server, names[0], samples)
    server.close_phase()
    typing = await edits(server, samples, TYPING_PAUSE_S)
    burst = await edits(server, min(samples, 100), 0.0)
    await server.client.close()
    gc.enable()

    raw_p99 = ms(raw)[1]
    print()
    report("raw aiokafka round trip (send_and_wait -> getone)", raw)
    ok = report(f"delivery: assign -> student's publishDiagnostics (n={len(delivered)})", delivered, 2 * raw_p99 + 5)
    print(f"{'':<52} ratio to raw: p50 {ms(delivered)[0] / ms(raw)[0]:.2f}x, p99 {ms(delivered)[1] / raw_p99:.2f}x")
    report("  of which the coach's assign_exercise (git, sign, ledger)", parts["action"])
    report("  of which the coach's publish (acks=all)", parts["publish"])
    rest = [d - a - p for d, a, p in zip(delivered, parts["action"], parts["publish"])]
    report("  of which the student's receive -> publishDiagnostics", rest)
    ok &= report(f"code action, {len(ids):,} exercises in the ledger", acting, 10)
    ok &= report(f"hover, {len(ids):,} exercises in the ledger", hovering, 10)
    ok &= report(f"code action while exercises arrive ({streamed} at 20/s)", busy_acting, 10)
    ok &= report("hover while exercises arrive", busy_hovering, 10)
    ok &= report("code action beside a CPU-bound process", hog_acting, 10)
    ok &= report("hover beside a CPU-bound process", hog_hovering, 10)
    ok &= report(f"didChange -> diagnostics, {BIG_LINES:,} lines, {BIG_ANCHORS} anchors", typing, 20)
    report("  the same, changes back to back (throttled bursts)", burst)
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (other processes share them)")
    coach.close()
    if profile:
        for name in ("student-delivery.prof", "student-editing.prof"):
            print_profile(profile / name)
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=200)
    parser.add_argument("--exercises", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=300, help="code action, hover and didChange samples")
    parser.add_argument("--profile", type=Path, metavar="DIR", help="run the student servers under cProfile, statistics into DIR")
    parser.add_argument("--stalls", type=Path, metavar="DIR", help="run the student servers under bench/stall_probe.py, reports into DIR")
    parser.add_argument("--stream-assignments", nargs="+", metavar="ARG", help=argparse.SUPPRESS)  # the coach's process
    args = parser.parse_args()
    if args.stream_assignments:
        root, session_id, *names = args.stream_assignments
        stream_assignments(Path(root), session_id, names)
        return
    for wanted in (args.profile, args.stalls):
        if wanted:
            wanted.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="colearner-bench-") as tmp, EmbeddedBroker() as broker:
        base = Path(tmp)
        os.environ["COLEARNER_KEY_DIR"] = str(base / "keys")
        os.environ.pop("COLEARNER_BOOTSTRAP", None)
        print(f"embedded broker on {broker.bootstrap}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        ok = asyncio.run(run(base, broker.bootstrap, args.deliveries, args.exercises, args.samples, args.profile, args.stalls))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
