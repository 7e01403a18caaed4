"""What the ledger refused, kept for people to see (bounded in rows and bytes), and the
messages refused only until their session is known, judged again once it is."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Sequence

from .connection import LedgerConnection
from .rows import QUARANTINE_MAX_BYTES, QUARANTINE_MAX_ROWS, QUARANTINE_PREFIX_BYTES, Incoming, _storable


class Quarantine(LedgerConnection):
    def _quarantine(self, db: sqlite3.Connection, item: Incoming, reason: str, now: str) -> None:
        sender, student, reason = _storable(item.sender), _storable(item.student), _storable(reason) or "refused"
        # Whole only when it may be judged again (signed by a rostered peer, who
        # is also bounded by the caps below); else the head, for people to read.
        keep = item.raw if item.retry_session is not None else item.raw[:QUARANTINE_PREFIX_BYTES]
        db.execute(
            'INSERT INTO quarantine (received_at, topic, partition, "offset", sender, student, reason, digest, size, '
            "retry_session, raw) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                now,
                item.topic,
                item.partition,
                item.offset,
                sender,
                student,
                reason,
                hashlib.sha256(item.raw).hexdigest(),
                len(item.raw),
                item.retry_session,
                keep,
            ),
        )

    @staticmethod
    def _bound_quarantine(db: sqlite3.Connection) -> None:
        """Drop the oldest quarantined messages past the caps; they stay counted."""
        # Messages waiting to be judged again (a session not known yet) are not dropped: they
        # passed their chain and its signature, so only a rostered peer's own stream makes them,
        # and a flood of junk must not push a real event out before its session arrives.
        dropped = db.execute(
            "DELETE FROM quarantine WHERE id IN (SELECT id FROM quarantine WHERE retry_session IS NULL ORDER BY id DESC LIMIT -1 OFFSET ?)",
            (QUARANTINE_MAX_ROWS,),
        ).rowcount
        dropped += db.execute(
            "DELETE FROM quarantine WHERE id IN (SELECT id FROM (SELECT id, sum(length(raw)) OVER "
            "(ORDER BY id DESC) AS kept FROM quarantine WHERE retry_session IS NULL) WHERE kept > ?)",
            (QUARANTINE_MAX_BYTES,),
        ).rowcount
        if dropped:
            db.execute(
                "INSERT INTO meta (key, value) VALUES ('quarantine_dropped', ?) ON CONFLICT (key) "
                "DO UPDATE SET value = CAST(value AS INTEGER) + excluded.value",
                (dropped,),
            )

    def quarantine_dropped(self) -> int:
        """Quarantined messages dropped to keep the quarantine bounded (oldest first)."""
        value = self.get_meta("quarantine_dropped")
        return int(value) if value else 0

    def retryable(self, session_ids: Sequence[str]) -> list[tuple[int, Incoming]]:
        """Quarantined messages that wait for one of ``session_ids`` to be known: ``(id, message)``."""
        if not session_ids:
            return []
        with self._lock:
            rows = self._db.execute(
                f"SELECT id, topic, partition, raw FROM quarantine WHERE retry_session IN ({','.join('?' * len(session_ids))}) ORDER BY id",
                list(session_ids),
            ).fetchall()
        return [(row_id, Incoming(raw=bytes(raw), topic=topic, linked=True)) for row_id, topic, partition, raw in rows]

    def release(self, quarantine_ids: Sequence[int]) -> None:
        """Take messages out of the quarantine (they were judged again)."""
        with self._write() as db:
            db.executemany("DELETE FROM quarantine WHERE id = ?", [(i,) for i in quarantine_ids])
