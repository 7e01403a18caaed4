"""Helpers for end-to-end bus tests: live bus loops and the convergence check
every fault test ends with (waiting is ``tests.waiting.until``).

``BusLoop`` runs ``KafkaBus(inst).run()`` for some instances in a background
thread (one event loop), as the language server does. ``BusProcess`` runs the
same loop in a child process that a test can SIGKILL.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from colearner_lsp.bus.kafka_bus import KafkaBus
from colearner_lsp.core.instance import NO_SESSION, Instance
from colearner_lsp.core.protocol.events import ProgressUpdate

REPO = Path(__file__).resolve().parents[2]


class BusLoop:
    """``KafkaBus.run()`` for each instance, in one background event loop."""

    def __init__(self, *instances: Instance, on_applied: Callable[[list], None] | None = None) -> None:
        self.buses = [KafkaBus(i, on_applied=on_applied) for i in instances]
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._main, daemon=True)
        self.errors: list[BaseException] = []

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)

        async def all_buses() -> None:
            results = await asyncio.gather(*(b.run(idle_ms=50) for b in self.buses), return_exceptions=True)
            self.errors.extend(r for r in results if isinstance(r, BaseException))

        self.loop.run_until_complete(all_buses())
        self.loop.close()

    def start(self) -> BusLoop:
        self.thread.start()
        return self

    def stop(self, timeout: float = 30) -> None:
        if self.loop.is_closed():
            return
        for bus in self.buses:
            self.loop.call_soon_threadsafe(bus.stop)
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "bus loop did not stop"
        assert not self.errors, f"bus loop failed: {self.errors!r}"

    def __enter__(self) -> BusLoop:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


BUS_SCRIPT = """
import asyncio, sys
from colearner_lsp.bus.kafka_bus import KafkaBus
from colearner_lsp.core.instance import Instance
asyncio.run(KafkaBus(Instance.open(sys.argv[1])).run(idle_ms=50))
"""


class BusProcess:
    """The same loop in a child process, to be killed like a crashed instance."""

    def __init__(self, root: Path, env: dict[str, str] | None = None) -> None:
        self.root = root
        self.env = {**(env or os.environ), "PYTHONPATH": str(REPO)}
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = root.parent / f"bus-{root.name}.log"

    def start(self) -> BusProcess:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", BUS_SCRIPT, str(self.root)],
                cwd=self.root,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        return self

    def kill(self) -> None:
        """SIGKILL: no cleanup runs, as when a machine loses power."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self) -> BusProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# ---------------------------------------------------------------- ledgers


def session_event_ids(inst: Instance, session_id: str) -> list[str]:
    return [row.event_id for row in inst.ledger.session_events(session_id)]


def count_of(inst: Instance, session_id: str) -> int:
    return len(inst.ledger.session_events(session_id))


def session_state(inst: Instance, session_id: str) -> dict[str, Any]:
    """One session's folded state as JSON, from a fresh look at the ledger."""
    inst.refresh()
    [session] = [s for s in inst.state.to_json()["sessions"] if s["session_id"] == session_id]
    return session


def assert_converged(coach: Instance, student: Instance, session_id: str, expected: int | None = None) -> None:
    """Nothing lost, nothing twice: both ledgers hold the same events of the
    session, each exactly once, and fold to the same state."""
    coach_ids, student_ids = session_event_ids(coach, session_id), session_event_ids(student, session_id)
    twice = {e: n for e, n in (Counter(coach_ids) + Counter(student_ids)).items() if n != 2}
    assert not twice, f"events not held exactly once on each side: {list(twice.items())[:5]}"
    assert set(coach_ids) == set(student_ids)
    if expected is not None:
        assert len(coach_ids) == expected
    coach_state, student_state = session_state(coach, session_id), session_state(student, session_id)
    differing = sorted(k for k in coach_state.keys() | student_state.keys() if coach_state.get(k) != student_state.get(k))
    assert not differing, f"the two sides fold the session differently in {differing}"
    # No own event stays unsent, and neither side reads anything it refused.
    assert coach.ledger.outbox_length() == 0 and student.ledger.outbox_length() == 0


def emit_progress(student: Instance, session_id: str, n: int, start: int = 0) -> None:
    """``n`` progress events through the same path the CLI uses (``Instance.emit``)."""
    student.emit(
        session_id,
        student.identity,
        [ProgressUpdate(confidence={"reading": round((start + i) % 100 / 100, 2)}) for i in range(n)],
    )


def plumbing(inst: Instance) -> int:
    """How many resync requests the instance holds (delivery plumbing, outside sessions)."""
    return count_of(inst, NO_SESSION)


def dump(obj: Any) -> str:
    return json.dumps(obj, indent=1, sort_keys=True)[:3000]
