"""Run a module (the language server) and report what holds its event loop.

    python bench/stall_probe.py OUT.txt -m colearner_lsp serve

A request waits for whatever callback the loop is running when it arrives, so
the latency goals are lost in the callbacks that run long, not in the average.
cProfile spreads a whole run's time over functions; this names the callbacks
that ran longer than a threshold (5 ms; ``COLEARNER_STALL_MS`` to change it) and,
by sampling the loop's thread every millisecond while such a callback runs,
where inside it the time went. The report is rewritten every few seconds and at
exit, so a server killed at the end still leaves one. SIGUSR1 closes a phase:
what was seen so far goes to OUT.<n>.txt (n = 1, 2, ...) and the counts start
again, so a bench can report its phases apart.

A bench tool, not part of the product: it patches asyncio's ``Handle._run``.
"""

from __future__ import annotations

import asyncio.events
import gc
import os
import runpy
import signal
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from types import FrameType
from typing import Any

THRESHOLD_S = float(os.environ.get("COLEARNER_STALL_MS", "5")) / 1000
SAMPLE_S = 0.001
WRITE_EVERY_S = 5.0
DEPTH = 8  # frames of a sampled stack kept, innermost first


def label(handle: asyncio.events.Handle) -> str:
    """What a callback is: a task's coroutine, or the function called."""
    callback: Any = getattr(handle, "_callback", None)
    owner = getattr(callback, "__self__", None)
    if isinstance(owner, asyncio.Task):
        coro = owner.get_coro()
        return f"task {getattr(coro, '__qualname__', coro)}"
    return getattr(callback, "__qualname__", repr(callback))


def stack_of(frame: FrameType | None) -> tuple[str, ...]:
    names = []
    while frame is not None and len(names) < DEPTH:
        code = frame.f_code
        names.append(f"{Path(code.co_filename).stem}.{code.co_qualname}:{frame.f_lineno}")
        frame = frame.f_back
    return tuple(names)


class StallProbe:
    def __init__(self, out: Path) -> None:
        self.out = out
        self.started: float | None = None  # when the running callback began
        self.slow: Counter[str] = Counter()
        self.slow_s: Counter[str] = Counter()
        self.longest: dict[str, float] = {}
        self.durations: list[float] = []
        self.samples: Counter[tuple[str, ...]] = Counter()
        self.loop_thread = threading.get_ident()
        self.phase = 0
        self.collections: dict[int, list[float]] = {}  # generation → durations of the collector's passes
        self._collecting_since = 0.0

    def reset(self) -> None:
        self.slow, self.slow_s, self.longest = Counter(), Counter(), {}
        self.durations, self.samples = [], Counter()
        self.collections = {}

    def close_phase(self, *_: object) -> None:
        self.phase += 1
        self.write(self.out.with_name(f"{self.out.stem}.{self.phase}{self.out.suffix}"))
        self.reset()

    def install(self) -> None:
        original = asyncio.events.Handle._run
        probe = self

        def _run(handle: asyncio.events.Handle) -> None:
            probe.started = time.perf_counter()
            try:
                original(handle)
            finally:
                took = time.perf_counter() - probe.started
                probe.started = None
                if took > THRESHOLD_S:
                    name = label(handle)
                    probe.slow[name] += 1
                    probe.slow_s[name] += took
                    probe.longest[name] = max(took, probe.longest.get(name, 0.0))
                    probe.durations.append(took)

        asyncio.events.Handle._run = _run  # type: ignore[method-assign]
        threading.Thread(target=self._sample, daemon=True, name="stall-probe").start()
        signal.signal(signal.SIGUSR1, self.close_phase)
        gc.callbacks.append(self._collecting)

    def _collecting(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._collecting_since = time.perf_counter()
        else:
            self.collections.setdefault(info["generation"], []).append(time.perf_counter() - self._collecting_since)

    def _sample(self) -> None:
        wrote = time.perf_counter()
        while True:
            time.sleep(SAMPLE_S)
            started = self.started
            now = time.perf_counter()
            if started is not None and now - started > THRESHOLD_S:
                self.samples[stack_of(sys._current_frames().get(self.loop_thread))] += 1
            if now - wrote > WRITE_EVERY_S:
                self.write()
                wrote = now

    def write(self, to: Path | None = None) -> None:
        lines = [f"callbacks over {THRESHOLD_S * 1000:.0f} ms: {len(self.durations)}"]
        if self.durations:
            ranked = sorted(self.durations)
            lines.append(f"  their p50 {ranked[len(ranked) // 2] * 1000:.1f} ms, max {ranked[-1] * 1000:.1f} ms")
        for name, count in self.slow.most_common(15):
            lines.append(f"  {count:5d} x {name}: {self.slow_s[name] * 1000 / count:.1f} ms mean, {self.longest[name] * 1000:.1f} ms max")
        for generation, took in sorted(self.collections.items()):
            lines.append(f"garbage collections of generation {generation}: {len(took)}, longest {max(took) * 1000:.1f} ms")
        lines.append(f"\nsampled stacks inside them (every {SAMPLE_S * 1000:.0f} ms, innermost first):")
        for stack, count in self.samples.most_common(25):
            lines.append(f"{count:6d}  " + "\n        <- ".join(stack))
        (to or self.out).write_text("\n".join(lines) + "\n")


def main() -> None:
    if len(sys.argv) < 4 or sys.argv[2] != "-m":
        raise SystemExit("usage: stall_probe.py OUT.txt -m MODULE [ARGS...]")
    out, module, args = Path(sys.argv[1]), sys.argv[3], sys.argv[4:]
    probe = StallProbe(out)
    probe.install()
    sys.argv = [module, *args]
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    finally:
        probe.write()


if __name__ == "__main__":
    main()
