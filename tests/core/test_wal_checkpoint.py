"""``wal_checkpoint``: a ledger's log is copied back into its database by a thread of its own."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from colearner_lsp.core.store.wal_checkpoint import ROWS_PER_CHECKPOINT, Checkpointer


def test_the_thread_checkpoints_once_enough_rows_were_written_and_stops(tmp_path: Path) -> None:
    path = tmp_path / "l.db"
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA wal_autocheckpoint=0")  # only the thread checkpoints here
    db.execute("CREATE TABLE t (x TEXT)")
    db.executemany("INSERT INTO t VALUES (?)", [("x" * 1000,) for _ in range(2000)])
    before = path.stat().st_size
    checkpoints = Checkpointer(path)
    checkpoints.written(ROWS_PER_CHECKPOINT - 1)
    time.sleep(0.2)
    assert path.stat().st_size == before  # not yet: too few rows
    checkpoints.written(1)
    deadline = time.monotonic() + 10
    while path.stat().st_size == before and time.monotonic() < deadline:
        time.sleep(0.02)
    assert path.stat().st_size > before + 1_000_000  # the log's pages are in the database now
    checkpoints.stop()
    assert checkpoints._thread is not None and not checkpoints._thread.is_alive()
    checkpoints.written(ROWS_PER_CHECKPOINT)  # after stop: nothing starts again
    assert not checkpoints._thread.is_alive()
    assert db.execute("SELECT count(*) FROM t").fetchone() == (2000,)
