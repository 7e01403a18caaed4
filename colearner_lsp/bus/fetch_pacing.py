"""How long a fetch may wait at the broker: eagerly short while a conversation is going
on, lazily long when idle.

Tansu does not wake a waiting fetch on a produce: it looks for data when
the fetch arrives, then after half the wait left, and so on, answering
at the first look that finds some (or when the wait runs out). So the
wait bounds delivery latency: its first half can pass unnoticed.

- hot, for HOT_WINDOW_S after something was sent or applied (a reply, the
  rest of a batch of assignments): 1 ms; Tansu looks at 0 and ~1 ms (its
  timer's grain), so a message waits ~1 ms. This costs ~20% of a core
  here and as much in the broker, while it lasts;
- active, until ACTIVE_WINDOW_S: 5 ms, a message waits up to ~3 ms; ~10% + 10%;
- idle: 100 ms; ~1% + 2%.

A real Kafka wakes a waiting fetch at once, and loses nothing either way.
aiokafka reads the wait from its fetcher on every request.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aiokafka import AIOKafkaConsumer

HOT_FETCH_WAIT_MS, HOT_WINDOW_S = 1, 2.0
ACTIVE_FETCH_WAIT_MS, ACTIVE_WINDOW_S = 5, 30.0
IDLE_FETCH_WAIT_MS = 100


class FetchPacer:
    """Sets a live loop's consumer's fetch wait, by time since the last traffic."""

    def __init__(self) -> None:
        self._traffic_at = -1e9  # no conversation yet: fetch lazily

    def pace(self, consumer: AIOKafkaConsumer | None, traffic: bool) -> None:
        """After a loop turn: ``traffic`` when it sent or applied something."""
        now = asyncio.get_running_loop().time()
        if traffic:
            self._traffic_at = now
        fetcher = getattr(consumer, "_fetcher", None)
        if fetcher is not None and hasattr(fetcher, "_fetch_max_wait_ms"):
            quiet = now - self._traffic_at
            hot, active = quiet < HOT_WINDOW_S, quiet < ACTIVE_WINDOW_S
            fetcher._fetch_max_wait_ms = HOT_FETCH_WAIT_MS if hot else ACTIVE_FETCH_WAIT_MS if active else IDLE_FETCH_WAIT_MS
