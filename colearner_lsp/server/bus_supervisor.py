"""Keeps the language server's Kafka loop alive, and says so when it is not.

``KafkaBus.run`` rides out what a broker does (it reconnects with backoff), but
anything else that escapes it (a ledger another process damaged, a bug) would
end the loop for good while the editor still showed "connected". The
supervisor restarts the loop after a growing pause, counts the restarts, keeps
the last failure as one visible line for ``colearner/status``, and tells the
user once per streak of failures: a fault that persists does not raise a
message every few seconds, and one that comes back after the loop ran well for
a while is news again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from ..core.display import one_line

log = logging.getLogger(__name__)

FIRST_PAUSE_S = 0.5
LONGEST_PAUSE_S = 30.0
STREAK_ENDS_AFTER_S = 60.0  # a failure this long after the previous one starts a new streak
ERROR_CHARS = 300


class Loop(Protocol):
    """What the supervisor needs of the bus (``KafkaBus``)."""

    turns: int

    async def run(self) -> None: ...

    async def close(self) -> None: ...

    def stop(self) -> None: ...


@dataclass(frozen=True)
class BusHealth:
    """What ``colearner/status`` says about the loop."""

    state: str  # "running": its last turn went through; "failing": it failed and has not completed a turn since
    restarts: int
    error: str | None  # the last failure, one line; kept after recovery so the tooltip can say what happened

    def as_status(self) -> dict[str, Any]:
        return {"state": self.state, "restarts": self.restarts, "error": self.error}


class BusSupervisor:
    def __init__(
        self,
        bus: Loop,
        on_change: Callable[[], None],
        tell_user: Callable[[str], None],
        first_pause_s: float = FIRST_PAUSE_S,
    ) -> None:
        self.bus = bus
        self._on_change = on_change
        self._tell_user = tell_user
        self._first_pause_s = first_pause_s
        self._stopping = asyncio.Event()
        self.restarts = 0
        self.error: str | None = None
        self._turns_at_failure: int | None = None
        self._failed_at: float | None = None

    def health(self) -> BusHealth:
        failing = self._turns_at_failure is not None and self.bus.turns == self._turns_at_failure
        return BusHealth("failing" if failing else "running", self.restarts, self.error)

    def stop(self) -> None:
        self._stopping.set()
        self.bus.stop()

    async def run(self) -> None:
        pause = self._first_pause_s
        while not self._stopping.is_set():
            try:
                await self.bus.run()
                return  # stopped on purpose
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # anything at all: the editor must not lose its bus for the session
                now = asyncio.get_running_loop().time()
                new_streak = self._failed_at is None or now - self._failed_at > STREAK_ENDS_AFTER_S
                if new_streak:
                    pause = self._first_pause_s
                self._failed_at = now
                self.error = one_line(f"{type(exc).__name__}: {exc}", ERROR_CHARS)
                self._turns_at_failure = self.bus.turns
                log.error("the Kafka loop failed; restarting it in %.1f s", pause, exc_info=exc)
                await self._close_quietly()
                if new_streak:
                    self._tell_user(
                        f"colearner: receiving and sending stopped ({self.error}). It restarts by itself; "
                        "events wait in the outbox meanwhile. If it keeps failing, run 'colearner doctor' in a terminal."
                    )
                self._on_change()
            try:
                await asyncio.wait_for(self._stopping.wait(), pause)
            except TimeoutError:
                pass
            pause = min(pause * 2, LONGEST_PAUSE_S)
            self.restarts += 1
            self._on_change()

    async def _close_quietly(self) -> None:
        try:
            await self.bus.close()
        except Exception:  # what failed may fail again while closing; the restart opens anew
            log.debug("closing the failed Kafka loop failed too", exc_info=True)
