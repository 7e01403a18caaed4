"""Checkpoints of a ledger's write-ahead log, moved off the thread that writes.

SQLite in WAL mode copies the log back into the database (a checkpoint) once
the log passes ``wal_autocheckpoint`` pages, inside the commit that crossed
the line, and with ``synchronous=NORMAL`` that commit then waits for two
fsyncs. Receiving events writes ~1.5 KB a row, so a batch of 500 crossed the
default 1,000 pages every other batch, and the receive loop waited on the disk
(measured here: 65 µs an event in wall time for 18 µs of CPU). ``Checkpointer``
runs those checkpoints on a thread of its own with its own connection
(``PASSIVE``: it never blocks a writer or a reader); the writer's own
autocheckpoint stays on, at a higher mark, so the log stays bounded if the
thread falls behind.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

WRITER_AUTOCHECKPOINT_PAGES = 8000  # ~32 MB of log: reached only when the thread falls behind
ROWS_PER_CHECKPOINT = 1000  # event rows (received or own) written between two checkpoints (~400 pages)


class Checkpointer:
    """A thread that checkpoints ``path``'s log when told enough was written (started on first need)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._rows = 0
        self._wake = threading.Event()
        self._stopped = False
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def written(self, rows: int) -> None:
        """``rows`` were committed; checkpoint once enough have been since the last."""
        self._rows += rows
        if self._rows < ROWS_PER_CHECKPOINT:
            return
        self._rows = 0
        with self._lock:
            if self._stopped:
                return
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=f"checkpoint {self.path.name}", daemon=True)
                self._thread.start()
        self._wake.set()

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            thread = self._thread
        self._wake.set()
        if thread is not None:
            thread.join(timeout=30)

    def _run(self) -> None:
        try:
            db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        except sqlite3.Error:
            return  # the writer's own autocheckpoint still runs
        try:
            while True:
                self._wake.wait()
                self._wake.clear()
                if self._stopped:
                    return
                try:
                    db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error:
                    pass  # another process checkpoints, or the file went away: the next one will do
        finally:
            db.close()
