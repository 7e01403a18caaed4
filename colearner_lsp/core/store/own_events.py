"""The instance's own events in the ledger: appended with the next seq of their stream,
queued in the outbox until the broker has them, sent again from a seq when asked."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from ..protocol.events import now_ts
from .connection import LedgerConnection
from .rows import _INSERT_EVENT, Built, _event_row


class OwnEvents(LedgerConnection):
    def append_own(self, sender: str, student: str, builders: Sequence[Callable[[int], Built]]) -> list[dict[str, Any]]:
        """Append this instance's events about ``student`` and queue them, atomically.

        Each ``builder(seq)`` returns ``(signed envelope, topic)``, or with the
        envelope's JSON text as a third item when the signer wrote it; builders run
        inside the transaction so each event gets the next ``seq`` of the stream
        and no other process can take the same number.
        """
        return self.append_own_batch(
            sender, student, len(builders), lambda first, prev: [build(seq) for seq, build in enumerate(builders, first)]
        )

    def append_own_batch(
        self, sender: str, student: str, count: int, build: Callable[[int, str | None], list[Built]]
    ) -> list[dict[str, Any]]:
        """``append_own`` for a writer that does a batch at once: ``build(first_seq, prev)``
        returns the ``count`` events numbered ``first_seq``, ``first_seq + 1``, …, the
        first chained to the stream's last event (its hash ``prev``)."""
        out: list[dict[str, Any]] = []
        now = now_ts()
        with self._write() as db:
            row = db.execute("SELECT last_seq, last_hash FROM counters WHERE sender = ? AND student = ?", (sender, student)).fetchone()
            last, last_hash = (row[0], row[1]) if row else (0, None)
            rows = []
            batch = build(last + 1, last_hash)
            if len(batch) != count:
                raise ValueError(f"asked for {count} events, built {len(batch)}")
            for built in batch:
                envelope, topic = built[0], built[1]
                raw = built[2] if len(built) > 2 else json.dumps(envelope, separators=(",", ":"), ensure_ascii=False)
                wire, digest = (built[3], built[4]) if len(built) > 3 else (None, None)
                rows.append(_event_row(envelope, topic, 1, raw, wire, digest))
                out.append(envelope)
                last_hash = digest
            before = db.execute("SELECT coalesce(max(pos), 0) FROM events").fetchone()[0]
            db.executemany(_INSERT_EVENT, rows)
            # the write lock is ours, so the new rows are exactly those after ``before``
            db.execute("INSERT INTO outbox (pos, status, queued_at) SELECT pos, 'pending', ? FROM events WHERE pos > ?", (now, before))
            db.execute(
                "INSERT INTO counters (sender, student, last_seq, last_hash) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (sender, student) DO UPDATE SET last_seq = excluded.last_seq, last_hash = excluded.last_hash",
                (sender, student, last + len(rows), last_hash),
            )
        self._checkpoints.written(len(rows))  # own events too: their fsynced commits then never checkpoint inline
        return out

    def pending(self, limit: int = 1000) -> list[tuple[int, str, str, str]]:
        """Unsent own events, oldest first: ``(pos, topic, student, bytes as sent)``."""
        with self._lock:
            return self._db.execute(
                "SELECT e.pos, e.topic, e.student, coalesce(e.wire, e.raw) FROM outbox o JOIN events e USING (pos) "
                "WHERE o.status = 'pending' ORDER BY o.pos LIMIT ?",
                (limit,),
            ).fetchall()

    def outbox_length(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM outbox WHERE status = 'pending'").fetchone()[0])

    def mark_sent(self, positions: Sequence[int]) -> None:
        """The broker acknowledged these own events (by ``pos``, as ``pending`` gave them)."""
        now = now_ts()
        with self._write(redoable=True) as db:
            db.executemany(
                "UPDATE outbox SET status = 'sent', sent_at = ?, attempts = attempts + 1 WHERE pos = ?",
                [(now, pos) for pos in positions],
            )
            tips = (
                db.execute(
                    f"SELECT sender, student, max(seq) FROM events WHERE pos IN ({','.join('?' * len(positions))}) GROUP BY sender, student",
                    list(positions),
                ).fetchall()
                if positions
                else []
            )
        if tips:
            self.published.record(tips)

    def requeue(self, sender: str, student: str, from_seq: int, to_seq: int | None = None) -> int:
        """Queue own events ``from_seq..to_seq`` of one stream again (a peer asked for them),
        on to the next signed tip, so the reader can link what it gets."""
        upper = to_seq if to_seq is not None else 2**62
        with self._write() as db:
            if to_seq is not None:
                tip = db.execute(
                    # a tip is signed: sign_to_json writes its sig as the last member (an event
                    # kept without its bytes as sent is of wire v1, where each was signed)
                    "SELECT min(seq) FROM events WHERE sender = ? AND student = ? AND local = 1 AND seq >= ? "
                    'AND (wire IS NULL OR instr(CAST(wire AS TEXT), \',"sig":"\') > 0)',
                    (sender, student, to_seq),
                ).fetchone()[0]
                upper = tip if tip is not None else 2**62
            cur = db.execute(
                "UPDATE outbox SET status = 'pending' WHERE status = 'sent' AND pos IN "
                "(SELECT pos FROM events WHERE sender = ? AND student = ? AND local = 1 "
                "AND seq BETWEEN ? AND ?)",
                (sender, student, from_seq, upper),
            )
            return cur.rowcount

    def own_streams_on(self, sender: str) -> list[tuple[str, str]]:
        """``(topic, student)`` pairs where ``sender`` has events the broker acknowledged."""
        with self._lock:
            return self._db.execute(
                "SELECT DISTINCT e.topic, e.student FROM events e JOIN outbox o USING (pos) "
                "WHERE e.sender = ? AND e.local = 1 AND o.sent_at IS NOT NULL",
                (sender,),
            ).fetchall()

    def raise_counter(self, sender: str, student: str, seq: int) -> None:
        """Make the stream's next ``seq`` come after ``seq`` (it was published, the ledger forgot)."""
        with self._write() as db:
            db.execute(
                "INSERT INTO counters (sender, student, last_seq) VALUES (?, ?, ?) "
                "ON CONFLICT (sender, student) DO UPDATE SET last_seq = max(last_seq, excluded.last_seq)",
                (sender, student, seq),
            )

    def own_events_after(self, pos: int) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM events WHERE local = 1 AND pos > ?", (pos,)).fetchone()[0])

    def last_seq(self, sender: str, student: str) -> int:
        with self._lock:
            row = self._db.execute("SELECT last_seq FROM counters WHERE sender = ? AND student = ?", (sender, student)).fetchone()
            return row[0] if row else 0

    # ------------------------------------------------------------ chains

    def own_head(self, sender: str, student: str) -> tuple[int, str | None]:
        """Where our own stream's chain ends: its last seq and that event's hash."""
        with self._lock:
            row = self._db.execute(
                "SELECT last_seq, last_hash FROM counters WHERE sender = ? AND student = ?", (sender, student)
            ).fetchone()
        return (row[0], row[1]) if row else (0, None)
