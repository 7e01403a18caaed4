"""The dashboard's clock: a fixed ``now`` and a cache of parsed event times.

``metrics`` and ``blockers`` both age events against the same ``now``; the
clock lives apart so that ``blockers``, which ``metrics`` imports, need not
import ``metrics`` back.
"""

from __future__ import annotations

from datetime import UTC, datetime

from ..protocol.events import parse_ts

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class _Clock:
    """``now`` and a cache of parsed event times (the same strings recur a lot)."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self._cache: dict[str, datetime] = {}

    def parse(self, ts: str | None) -> datetime:
        if not ts:
            return _EPOCH
        value = self._cache.get(ts)
        if value is None:
            value = self._cache[ts] = _utc(parse_ts(ts))
        return value

    def age(self, ts: str) -> float:
        return max(0.0, (self.now - self.parse(ts)).total_seconds())

    def seconds(self, start: str, end: str) -> float:
        return (self.parse(end) - self.parse(start)).total_seconds()


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
