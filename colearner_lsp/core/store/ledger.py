"""The append-only local ledger (SQLite in WAL mode).

One file holds everything an instance must not lose:

- ``events``: every event it wrote or accepted, in the order it learned of them;
  ``(sender, event_id)`` is unique (a redelivery is a no-op) and so is
  ``(sender, student, seq)``. Identity is scoped to the sender: an ``event_id``
  is only a sender's own name for its event, so a copy of another sender's id
  can never take that event's place;
- ``outbox``: which of its own events still wait for the broker's ack;
- ``quarantine``: messages refused, with the reason, sender, digest and a
  prefix of the bytes, bounded in rows and bytes (oldest dropped first, still
  counted);
- ``positions``: the next Kafka offset to read per topic-partition, written in
  the same transaction as the events read from it;
- ``counters``: the instance's own ``seq``, one counter per student stream;
- ``heads``: per peer stream, the head of its chain: the highest ``seq`` accepted
  and the hash of that event as sent (the next one must name it as ``prev``);
- ``held``: peers' events read but not yet reached by a signed tip (wire v2,
  see ``chain``), kept whole until one links them, bounded per stream;
- ``forks``: streams found with two signed events at one place (nothing more is
  applied from them).

An event is kept twice: ``raw``, its opened form (the envelope with the
plaintext payload; the fold reads it), and ``wire``, its bytes as sent, with
their ``hash`` (sent again as they are; the chain can be checked again later).

A ``seq`` numbers what one sender wrote about one student (the Kafka key), since
that stream is what a receiver sees: a student never reads the coach's events
for other students, so a coach-wide counter would look full of gaps to it.

Several processes of one instance (the CLI and a running language server) may
share the file: writes take SQLite's write lock up front (``BEGIN IMMEDIATE``)
so two of them never hand out the same ``seq``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from ..protocol.events import now_ts
from .own_events import OwnEvents
from .quarantine import Quarantine
from .rows import (
    _INSERT_EVENT_OR_IGNORE,
    ChainChanges,
    HeldStream,
    Incoming,
    Outcome,
    StoredEvent,
    _event_row,
    message_digest,
)

__all__ = ["ChainChanges", "HeldStream", "Incoming", "Ledger", "Outcome", "StoredEvent"]


class Ledger(OwnEvents, Quarantine):
    """The ledger: its connection (``connection``), its own events (``own_events``), what it
    refused (``quarantine``), and here what it received: peers' events, their chains and
    read positions, and reading everything back."""

    def heads(self) -> dict[tuple[str, str], tuple[int, str | None]]:
        """Peers' streams: ``(sender, student) → (seq, hash)`` of the last event accepted."""
        with self._lock:
            rows = self._db.execute("SELECT sender, student, high, hash FROM heads").fetchall()
        return {(sender, student): (high, digest) for sender, student, high, digest in rows}

    def accepted_hash(self, sender: str, student: str, seq: int) -> str | None:
        with self._lock:
            row = self._db.execute(
                "SELECT hash FROM events WHERE sender = ? AND student = ? AND seq = ?", (sender, student, seq)
            ).fetchone()
        return row[0] if row else None

    def held(self, sender: str, student: str) -> list[Incoming]:
        """A stream's events waiting for a signed tip, as they were read."""
        with self._lock:
            rows = self._db.execute(
                "SELECT topic, raw FROM held WHERE sender = ? AND student = ? ORDER BY seq", (sender, student)
            ).fetchall()
        return [Incoming(raw=bytes(raw), topic=topic) for topic, raw in rows]

    def held_streams(self) -> dict[tuple[str, str], HeldStream]:
        """Streams with events held, and what is held of each."""
        with self._lock:
            rows = self._db.execute(
                "SELECT sender, student, min(seq), max(seq), min(received_at), max(tip) FROM held GROUP BY sender, student"
            ).fetchall()
        return {(sender, student): HeldStream(low, high, at, bool(tip)) for sender, student, low, high, at, tip in rows}

    def forks(self) -> dict[tuple[str, str], str]:
        """Streams found forked (two signed events at one place), and why."""
        with self._lock:
            rows = self._db.execute("SELECT sender, student, detail FROM forks").fetchall()
        return {(sender, student): detail for sender, student, detail in rows}

    # ------------------------------------------------------------ received events

    def accept(self, batch: Sequence[Incoming], own: str | None = None, chains: ChainChanges | None = None) -> list[Outcome]:
        """Store a batch read from the bus in ONE transaction: accepted events,
        quarantined and held messages, the chains' heads and the new read positions together.

        ``own`` is this instance's identity: its own events read back that the
        ledger does not hold (it was lost or restored from an older copy) are
        stored as its own again, already sent, and the stream's counter moves
        past them so no ``seq`` is handed out twice.
        """
        now = now_ts()
        outcomes: list[Outcome] = ["skipped"] * len(batch)
        last: dict[tuple[str, int], tuple[int, Incoming]] = {}  # the newest message of each partition, by its offset
        rows, accepted = [], []
        quarantined = False
        with self._write(redoable=True) as db:
            for i, item in enumerate(batch):
                if item.topic is not None and item.partition is not None and item.offset is not None:
                    newest = last.get((item.topic, item.partition))
                    if newest is None or item.offset > newest[0]:
                        last[(item.topic, item.partition)] = (item.offset, item)
                if item.skip:
                    continue
                if item.duplicate:
                    outcomes[i] = "duplicate"
                    continue
                if item.hold:
                    self._hold(db, item, now)
                    outcomes[i] = "held"
                    continue
                if item.envelope is None:
                    self._quarantine(db, item, item.reason or "refused", now)
                    outcomes[i] = "quarantined"
                    quarantined = True
                else:
                    local = 1 if own is not None and item.envelope["sender"] == own else 0
                    if item.opened is None:
                        rows.append(_event_row(item.envelope, item.topic or "", local, item.raw.decode("utf-8")))
                    else:
                        rows.append(_event_row(item.envelope, item.topic or "", local, item.opened, item.raw.decode("utf-8"), item.hash))
                    accepted.append(i)
            if rows:
                before = db.execute("SELECT coalesce(max(pos), 0) FROM events").fetchone()[0]
                changes = db.total_changes
                db.executemany(_INSERT_EVENT_OR_IGNORE, rows)
                if db.total_changes - changes == len(rows):  # the usual case: every one is new
                    for i in accepted:
                        outcomes[i] = "appended"
                else:
                    quarantined |= self._classify(db, batch, accepted, before, outcomes, now)
                appended = [batch[i].envelope for i in accepted if outcomes[i] == "appended"]
                if any(env is not None and env["sender"] == own for env in appended):
                    self._adopt_own(db, before, now)
            if chains is not None:
                self._store_chains(db, chains, now)
            db.executemany(
                "INSERT INTO positions (topic, partition, next_offset, last_digest) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (topic, partition) DO UPDATE SET next_offset = excluded.next_offset, "
                "last_digest = excluded.last_digest",
                [(t, p, offset + 1, message_digest(item.raw)) for (t, p), (offset, item) in last.items()],
            )
            if quarantined:
                self._bound_quarantine(db)
        self._checkpoints.written(len(rows))
        return outcomes

    @staticmethod
    def _hold(db: sqlite3.Connection, item: Incoming, now: str) -> None:
        db.execute(
            "INSERT OR IGNORE INTO held (sender, student, hash, seq, tip, topic, received_at, raw) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (item.sender, item.student, item.hash, item.seq, int(item.tip), item.topic, now, item.raw),
        )

    @staticmethod
    def _store_chains(db: sqlite3.Connection, chains: ChainChanges, now: str) -> None:
        db.executemany("DELETE FROM held WHERE sender = ? AND student = ? AND hash = ?", chains.released)
        db.executemany(
            "INSERT INTO heads (sender, student, high, held, hash) VALUES (?, ?, ?, 0, ?) ON CONFLICT (sender, student) "
            "DO UPDATE SET high = excluded.high, held = 0, hash = excluded.hash WHERE excluded.high > heads.high",
            [(sender, student, seq, digest) for (sender, student), (seq, digest) in chains.heads.items()],
        )
        db.executemany(
            "INSERT OR IGNORE INTO forks (sender, student, detail, noted_at) VALUES (?, ?, ?, ?)",
            [(sender, student, detail, now) for (sender, student), detail in chains.forks.items()],
        )

    @staticmethod
    def _adopt_own(db: sqlite3.Connection, before: int, now: str) -> None:
        """Own events just stored from the bus: sent already, and their seqs taken."""
        db.execute(
            "INSERT INTO outbox (pos, status, queued_at, sent_at) SELECT pos, 'sent', ?, ? FROM events WHERE pos > ? AND local = 1",
            (now, now, before),
        )
        # the hash goes with the highest seq (SQLite takes the bare column from the max's row)
        db.execute(
            "INSERT INTO counters (sender, student, last_seq, last_hash) SELECT sender, student, max(seq), hash FROM events "
            "WHERE pos > ? AND local = 1 GROUP BY sender, student "
            "ON CONFLICT (sender, student) DO UPDATE SET last_hash = CASE WHEN excluded.last_seq > last_seq "
            "THEN excluded.last_hash ELSE last_hash END, last_seq = max(last_seq, excluded.last_seq)",
            (before,),
        )

    def _classify(
        self, db: sqlite3.Connection, batch: Sequence[Incoming], accepted: list[int], before: int, outcomes: list[Outcome], now: str
    ) -> bool:
        """Some of a batch were not inserted: tell redeliveries from a ``seq`` taken by another event.

        A redelivery is the same sender's event under the same id; another
        sender's event with that id is a different event (ids are per sender).
        Returns whether anything was quarantined.
        """
        seen: set[tuple[str, str]] = set()
        quarantined = False
        for i in accepted:
            env = batch[i].envelope
            assert env is not None
            key = (env["sender"], env["event_id"])
            row = db.execute("SELECT pos FROM events WHERE sender = ? AND event_id = ?", key).fetchone()
            if row is not None and row[0] > before and key not in seen:
                outcomes[i] = "appended"
            elif row is not None:
                outcomes[i] = "duplicate"
            else:
                reason = f"seq {env['seq']} of sender {env['sender']!r} for student {env['student']!r} is already taken by another event"
                self._quarantine(db, batch[i], reason, now)
                outcomes[i] = "quarantined"
                quarantined = True
            seen.add(key)
        return quarantined

    def positions(self) -> dict[tuple[str, int], tuple[int, str | None]]:
        """``(topic, partition) → (next offset, digest of the message before it)``."""
        with self._lock:
            rows = self._db.execute("SELECT topic, partition, next_offset, last_digest FROM positions").fetchall()
        return {(t, p): (o, d) for t, p, o, d in rows}

    def set_position(self, topic: str, partition: int, next_offset: int, last_digest: str | None = None) -> None:
        with self._write() as db:
            db.execute(
                "INSERT INTO positions (topic, partition, next_offset, last_digest) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (topic, partition) DO UPDATE SET next_offset = excluded.next_offset, "
                "last_digest = excluded.last_digest",
                (topic, partition, next_offset, last_digest),
            )

    def missing_seqs(self, sender: str, student: str) -> list[tuple[int, int]]:
        """Gaps in what we read of one peer's stream: ``[(from, to), …]``, ``to`` inclusive.

        Events are accepted in chain order, so a gap is what lies between the
        stream's head and the events held past it (or between two of those)."""
        with self._lock:
            head = self._db.execute("SELECT high FROM heads WHERE sender = ? AND student = ?", (sender, student)).fetchone()
            held = [
                r[0]
                for r in self._db.execute("SELECT DISTINCT seq FROM held WHERE sender = ? AND student = ? ORDER BY seq", (sender, student))
            ]
        gaps: list[tuple[int, int]] = []
        expected = (head[0] if head else 0) + 1
        for seq in held:
            if seq > expected:
                gaps.append((expected, seq - 1))
            expected = max(expected, seq + 1)
        return gaps

    def streams(self) -> list[tuple[str, str, int]]:
        """Peers' streams we hold: ``(sender, student, highest seq)`` (the chain's head)."""
        with self._lock:
            return self._db.execute("SELECT sender, student, high FROM heads").fetchall()

    # ------------------------------------------------------------ reading

    def events_after(self, pos: int = 0, limit: int | None = None, text: bool = True) -> list[StoredEvent]:
        """Rows past ``pos``, in ledger order; ``text=False`` leaves ``raw`` empty (see ``event_text``)."""
        column = "raw" if text else "''"  # an empty text in its place
        sql = f"SELECT pos, event_id, {column}, sender FROM events WHERE pos > ? ORDER BY pos"
        args: tuple[Any, ...] = (pos,)
        if limit is not None:
            sql += " LIMIT ?"
            args += (limit,)
        with self._lock:
            return list(map(StoredEvent._make, self._db.execute(sql, args)))

    def event_text(self, pos: int) -> str:
        """The opened form (JSON) of the event at ``pos``."""
        with self._lock:
            row = self._db.execute("SELECT raw FROM events WHERE pos = ?", (pos,)).fetchone()
        return str(row[0]) if row else ""

    def events_as_sent(self, pos: int = 0) -> list[tuple[str, str, int, str, str | None]]:
        """Events' bytes as sent (wire v2) and their hashes, in ledger order:
        ``(sender, student, seq, wire text, hash)``; to send again or check a chain again."""
        with self._lock:
            rows = self._db.execute(
                "SELECT sender, student, seq, coalesce(wire, raw), hash FROM events WHERE pos > ? ORDER BY pos", (pos,)
            ).fetchall()
        return [
            (sender, student, seq, wire if isinstance(wire, str) else bytes(wire).decode("utf-8"), digest)
            for sender, student, seq, wire, digest in rows
        ]

    def session_events(self, session_id: str) -> list[StoredEvent]:
        with self._lock:
            rows = self._db.execute(
                "SELECT pos, event_id, raw, sender FROM events WHERE session_id = ? ORDER BY pos", (session_id,)
            ).fetchall()
        return list(map(StoredEvent._make, rows))

    def event_count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM events").fetchone()[0])

    def quarantined(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                'SELECT id, received_at, topic, partition, "offset", sender, student, reason, coalesce(size, length(raw)), '
                "digest, retry_session FROM quarantine ORDER BY id"
            ).fetchall()
        keys = ("id", "received_at", "topic", "partition", "offset", "sender", "student", "reason", "size", "digest", "waits_for_session")
        return [dict(zip(keys, r)) for r in rows]
