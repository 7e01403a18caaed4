"""The ledger's SQLite connection: opened (WAL, owner only, migrated), one write
transaction at a time, its integrity, its meta values. ``Ledger`` is built on it."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .ledger_schema import SCHEMA, SCHEMA_VERSION, migrate
from .published import PublishedMarks
from .rows import QUARANTINE_PREFIX_BYTES, damaged, owner_only
from .wal_checkpoint import WRITER_AUTOCHECKPOINT_PAGES, Checkpointer


class LedgerConnection:
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
