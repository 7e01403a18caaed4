"""``colearner --offline inbox`` read from ``learning.json`` when that is the ledger's state.

Opening an instance folds the whole ledger through the event models (pydantic:
most of the command's start-up, bench/bench_cli.py). ``learning.json`` already
holds the folded state, written with the ledger position it reflects; when the
ledger has nothing past that position, no recovery is pending and the
configuration is older than the file, the inbox is that state plus the outbox
count, read with ``json`` and ``sqlite3`` alone. Anything else (no file, another
schema, a ledger that moved on, a file that does not parse) returns None and the
command opens the instance as usual, so this is only ever a shortcut to the same
output (tests/cli/test_startup.py compares both).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

CONFIG_DIR = ".colearner"
# The ledger schema this reading knows (core/store/ledger.py SCHEMA_VERSION; a test keeps them equal).
LEDGER_SCHEMA = 4
SNAPSHOT_KEYS = ("written_at", "ledger_pos")


def inbox_from_snapshot(start: Path) -> dict[str, Any] | None:
    """The ``inbox --json`` data from ``learning.json``, or None when it may not be the ledger's state."""
    root = next((d for d in (start, *start.parents) if (d / CONFIG_DIR / "agent.yaml").is_file()), None)
    if root is None:
        return None
    folder = root / CONFIG_DIR
    learning, ledger = folder / "learning.json", folder / "ledger.sqlite"
    try:
        if (folder / "agent.yaml").stat().st_mtime_ns > learning.stat().st_mtime_ns:
            return None  # a peer trusted or a setting changed since: the state may read differently
        data = json.loads(learning.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("ledger_pos"), int) or not ledger.is_file():
        return None
    try:
        db = sqlite3.connect(f"{ledger.as_uri()}?mode=ro", uri=True, timeout=2)
        try:
            if db.execute("PRAGMA user_version").fetchone()[0] != LEDGER_SCHEMA:
                return None
            last = db.execute("SELECT coalesce(max(pos), 0) FROM events").fetchone()[0]
            recovering = db.execute("SELECT 1 FROM meta WHERE key = 'recovery'").fetchone() is not None
            waiting = db.execute("SELECT count(*) FROM outbox WHERE status = 'pending'").fetchone()[0]
        finally:
            db.close()
    except sqlite3.Error:
        return None
    if last != data["ledger_pos"] or recovering:
        return None
    for key in SNAPSHOT_KEYS:
        data.pop(key, None)
    data["outbox"] = waiting
    return data
