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

import hashlib
import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, NamedTuple

from ..errors import LedgerDamaged
from ..protocol.events import now_ts
from .ledger_schema import SCHEMA, SCHEMA_VERSION, migrate
from .published import PublishedMarks
from .wal_checkpoint import WRITER_AUTOCHECKPOINT_PAGES, Checkpointer

# what an append_own builder returns: (opened envelope, topic[, its JSON text[, bytes as sent, their hash]])
Built = tuple[dict[str, Any], str] | tuple[dict[str, Any], str, str] | tuple[dict[str, Any], str, str, str, str]
Outcome = Literal["appended", "duplicate", "quarantined", "skipped", "held"]
# The quarantine is for people to see what was refused and why, not an archive a
# flood can grow: a prefix of each message, at most so many rows and bytes.
QUARANTINE_PREFIX_BYTES = 4096
QUARANTINE_MAX_ROWS = 1000
QUARANTINE_MAX_BYTES = 8 * 1_048_576  # messages kept whole for a retry count in full


class StoredEvent(NamedTuple):
    """One row of ``events`` as read back (a tuple: made straight from the row, which a replay does 100,000 times)."""

    pos: int
    event_id: str
    raw: str
    sender: str


class Incoming(NamedTuple):
    """One message read from the bus, already judged by the receiver (a tuple: two are made per
    message, and a frozen dataclass of these fields costs four times as much to make)."""

    raw: bytes
    topic: str | None = None
    partition: int | None = None
    offset: int | None = None
    envelope: dict[str, Any] | None = None  # set when accepted: its header's fields (the columns), as received or opened
    reason: str | None = None  # set when refused
    sender: str | None = None
    student: str | None = None
    skip: bool = False  # another student's message on a shared partition: only the position moves
    retry_session: str | None = None  # refused until this session is known (see receive.Verdict)
    seq: int | None = None  # its place in its stream (v2)
    opened: str | None = None  # an accepted event's opened form (JSON text), when ``raw`` is sealed
    hash: str | None = None  # of ``raw``: the chain's name for it
    hold: bool = False  # waits for a signed tip (kept in ``held``)
    tip: bool = False  # (when held) it is a signed tip itself
    duplicate: bool = False  # the chain already holds it
    linked: bool = False  # its chain was checked before (a quarantined message judged again)


class HeldStream(NamedTuple):
    low: int  # lowest seq held
    high: int  # highest seq held
    since: str  # when the oldest was read
    has_tip: bool  # a signed tip is among them (so an event before it is missing, or not the one it names)


@dataclass
class ChainChanges:
    """What a received batch did to the chains, stored with it (see ``Ledger.accept``)."""

    heads: dict[tuple[str, str], tuple[int, str]]  # peer streams' new heads: seq, hash
    released: list[tuple[str, str, str]]  # held events decided now: (sender, student, hash)
    forks: dict[tuple[str, str], str]  # streams found forked, and why


class Ledger:
    """A handle on one ledger file; safe to share between threads of one process."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
            owner_only(self.path)  # before the WAL exists: SQLite gives its side files the database's mode
            self._db.execute("PRAGMA journal_mode=WAL")
            # FULL: a commit survives an OS crash too, not only a killed process.
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA busy_timeout=30000")
            # received batches leave their checkpoints to a thread of their own (see wal_checkpoint)
            self._db.execute(f"PRAGMA wal_autocheckpoint={WRITER_AUTOCHECKPOINT_PAGES}")
            with self._write() as db:
                migrate(db, QUARANTINE_PREFIX_BYTES)
                for statement in SCHEMA.split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
                raise
            raise damaged(self.path, exc) from None
        owner_only(self.path)
        self.published = PublishedMarks(self.path.with_name("published.seq"))
        self._checkpoints = Checkpointer(self.path)

    def integrity(self) -> list[str]:
        """What ``PRAGMA quick_check`` finds wrong (empty when the file is sound)."""
        with self._lock:
            try:
                rows = [r[0] for r in self._db.execute("PRAGMA quick_check(20)")]
            except sqlite3.DatabaseError as exc:
                return [str(exc)]
        return [] if rows == ["ok"] else rows

    def close(self) -> None:
        self._checkpoints.stop()
        with self._lock:
            self._db.close()

    @contextmanager
    def _write(self, redoable: bool = False) -> Iterator[sqlite3.Connection]:
        """One write transaction, taking the write lock up front.

        ``redoable``: what it writes comes back by itself if an OS crash loses it
        (a received batch is read again from the stored position, which is lost
        with it; a lost 'sent' mark only sends an event again, and receivers drop
        the copy), so its commit skips the fsync (WAL with synchronous=NORMAL);
        the next full commit makes it durable too. Own events never skip it: a
        lost one could see its seq handed out again after it was published.
        """
        with self._lock:
            if redoable:
                self._db.execute("PRAGMA synchronous=NORMAL")
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                else:
                    self._db.execute("COMMIT")
            finally:
                if redoable:
                    self._db.execute("PRAGMA synchronous=FULL")

    # ------------------------------------------------------------ own events

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
        last: dict[tuple[str, int], Incoming] = {}  # the newest message of each partition
        rows, accepted = [], []
        quarantined = False
        with self._write(redoable=True) as db:
            for i, item in enumerate(batch):
                if item.topic is not None and item.partition is not None and item.offset is not None:
                    newest = last.get((item.topic, item.partition))
                    if newest is None or item.offset > newest.offset:  # type: ignore[operator]
                        last[(item.topic, item.partition)] = item
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
                if any(env["sender"] == own for env in appended):  # type: ignore[index]
                    self._adopt_own(db, before, now)
            if chains is not None:
                self._store_chains(db, chains, now)
            db.executemany(
                "INSERT INTO positions (topic, partition, next_offset, last_digest) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (topic, partition) DO UPDATE SET next_offset = excluded.next_offset, "
                "last_digest = excluded.last_digest",
                [(t, p, item.offset + 1, message_digest(item.raw)) for (t, p), item in last.items()],  # type: ignore[operator]
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

    def get_meta(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def delete_meta(self, key: str) -> None:
        with self._write() as db:
            db.execute("DELETE FROM meta WHERE key = ?", (key,))

    def set_meta(self, key: str, value: str) -> None:
        with self._write() as db:
            db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )


def _storable(text: str | None) -> str | None:
    """Text from the wire as SQLite can store it: a lone surrogate (valid in a JSON escape,
    not in UTF-8) written as its escape, so no message can fail the batch's transaction."""
    if text is None:
        return None
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def damaged(path: Path, exc: BaseException) -> LedgerDamaged:
    return LedgerDamaged(
        f"the ledger {path.parent.name}/{path.name} is damaged ({exc}); run 'colearner repair' to set it aside "
        "and rebuild it from the broker and your peers"
    )


def owner_only(path: Path) -> None:
    """The ledger and SQLite's side files, readable by their owner only (they hold every event)."""
    for candidate in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            os.chmod(candidate, 0o600)
        except FileNotFoundError:
            pass


def message_digest(raw: bytes) -> str:
    """What a read position remembers of the message before it (see ``positions``)."""
    return hashlib.sha1(raw).hexdigest()


_COLUMNS = "(event_id, session_id, student, sender, seq, event_type, ts, topic, local, raw, wire, hash)"
_INSERT_EVENT = f"INSERT INTO events {_COLUMNS} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
_INSERT_EVENT_OR_IGNORE = f"INSERT OR IGNORE INTO events {_COLUMNS} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"


def _event_row(
    env: dict[str, Any], topic: str, local: int, raw: str, wire: str | bytes | None = None, digest: str | None = None
) -> tuple[Any, ...]:
    return (
        env["event_id"],
        env["session_id"],
        env["student"],
        env["sender"],
        env["seq"],
        env["event_type"],
        env["ts"],
        topic,
        local,
        raw,
        wire,
        digest,
    )
