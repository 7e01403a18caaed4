"""The ledger's tables, and bringing a ledger written by an earlier version up to date.

What each table holds is said in ``ledger``'s docstring; this module only makes them.
"""

from __future__ import annotations

import sqlite3

from ..protocol.wire import event_hash

# Two tables the migration of an older ledger makes too.
# The outbox is keyed by the event's pos: an integer key is appended in place,
# where a TEXT event_id key would be one more random insert into a b-tree per event.
OUTBOX_TABLE = """CREATE TABLE IF NOT EXISTS outbox (
    pos       INTEGER PRIMARY KEY REFERENCES events (pos),
    status    TEXT NOT NULL CHECK (status IN ('pending', 'sent')),
    queued_at TEXT NOT NULL,
    sent_at   TEXT,
    attempts  INTEGER NOT NULL DEFAULT 0
)"""
# Peers' streams, kept per accepted batch rather than indexed per event: the
# live loop asks for gaps after every batch.
HEADS_TABLE = """CREATE TABLE IF NOT EXISTS heads (
    sender  TEXT NOT NULL,
    student TEXT NOT NULL,
    high    INTEGER NOT NULL,
    held    INTEGER NOT NULL,
    hash    TEXT,
    PRIMARY KEY (sender, student)
)"""
HELD_TABLE = """CREATE TABLE IF NOT EXISTS held (
    sender      TEXT NOT NULL,
    student     TEXT NOT NULL,
    hash        TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    tip         INTEGER NOT NULL,
    topic       TEXT,
    received_at TEXT NOT NULL,
    raw         BLOB NOT NULL,
    PRIMARY KEY (sender, student, hash)
)"""
FORKS_TABLE = """CREATE TABLE IF NOT EXISTS forks (
    sender   TEXT NOT NULL,
    student  TEXT NOT NULL,
    detail   TEXT NOT NULL,
    noted_at TEXT NOT NULL,
    PRIMARY KEY (sender, student)
)"""

EVENTS_TABLE = """CREATE TABLE IF NOT EXISTS events (
    -- rowid order is ledger order. Rows are never deleted, so no AUTOINCREMENT
    -- (which only guards against reuse after deletes, at a cost on every insert)
    pos        INTEGER PRIMARY KEY,
    event_id   TEXT NOT NULL,
    session_id TEXT NOT NULL,
    student    TEXT NOT NULL,
    sender     TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    event_type TEXT NOT NULL,
    ts         TEXT NOT NULL,
    topic      TEXT NOT NULL,
    local      INTEGER NOT NULL,
    raw        TEXT NOT NULL,
    wire       BLOB,
    hash       TEXT,
    UNIQUE (sender, event_id),
    UNIQUE (sender, student, seq)
)"""
QUARANTINE_TABLE = """CREATE TABLE IF NOT EXISTS quarantine (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at   TEXT NOT NULL,
    topic         TEXT,
    partition     INTEGER,
    "offset"      INTEGER,
    sender        TEXT,
    student       TEXT,
    reason        TEXT NOT NULL,
    digest        TEXT,
    size          INTEGER,
    -- set when the message may be judged again later (a session not known yet): raw is then whole
    retry_session TEXT,
    raw           BLOB NOT NULL
)"""

SCHEMA = f"""
{EVENTS_TABLE};
CREATE INDEX IF NOT EXISTS events_session ON events (session_id, pos);
{OUTBOX_TABLE};
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (status) WHERE status = 'pending';
{HEADS_TABLE};
{HELD_TABLE};
{FORKS_TABLE};
{QUARANTINE_TABLE};
CREATE INDEX IF NOT EXISTS quarantine_retry ON quarantine (retry_session) WHERE retry_session IS NOT NULL;
CREATE TABLE IF NOT EXISTS positions (
    topic       TEXT NOT NULL,
    partition   INTEGER NOT NULL,
    next_offset INTEGER NOT NULL,
    -- sha1 of the message just before next_offset: tells a broker that lost its
    -- log and refilled it past our position from the log we actually read
    last_digest TEXT,
    PRIMARY KEY (topic, partition)
);
CREATE TABLE IF NOT EXISTS counters (
    sender   TEXT NOT NULL,
    student  TEXT NOT NULL,
    last_seq INTEGER NOT NULL,
    last_hash TEXT,
    PRIMARY KEY (sender, student)
);
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""

SCHEMA_VERSION = 4


def migrate(db: sqlite3.Connection, quarantine_prefix_bytes: int) -> None:
    """Bring a ledger written by an earlier version to ``SCHEMA_VERSION``, keeping everything.

    Version 1 keyed the outbox by ``event_id`` and indexed every event for the
    peers' streams; version 2 keys the outbox by ``pos`` and keeps ``heads``;
    version 3 scopes ``event_id`` to its sender and bounds the quarantine;
    version 4 keeps each event's bytes as sent and its hash, and the chains' heads.
    """
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version >= SCHEMA_VERSION or not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'events'").fetchone():
        return
    if version < 3:
        _migrate_to_3(db, version, quarantine_prefix_bytes)
    _add_columns(db, "events", [("wire", "BLOB"), ("hash", "TEXT")])
    _add_columns(db, "heads", [("hash", "TEXT")])
    _add_columns(db, "counters", [("last_hash", "TEXT")])
    if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'heads'").fetchone():
        db.execute("UPDATE heads SET held = 0")  # heads are chains' ends now; gaps show as held events
    # v1 events were kept as received: their hash is that of their text, which the
    # first v2 event of the stream names as its prev
    for table, high, local in (("heads", "high", "local = 0"), ("counters", "last_seq", "local = 1")):
        if not db.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (table,)).fetchone():
            continue
        tips = db.execute(
            f"SELECT t.sender, t.student, e.raw FROM {table} t JOIN events e ON e.sender = t.sender AND e.student = t.student "
            f"AND e.seq = t.{high} WHERE e.{local}"
        ).fetchall()
        column = "hash" if table == "heads" else "last_hash"
        db.executemany(
            f"UPDATE {table} SET {column} = ? WHERE sender = ? AND student = ?",
            [(event_hash(raw.encode("utf-8")), sender, student) for sender, student, raw in tips],
        )


def _add_columns(db: sqlite3.Connection, table: str, columns: list[tuple[str, str]]) -> None:
    if not db.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (table,)).fetchone():
        return
    present = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
    for column, kind in columns:
        if column not in present:
            db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")


def _migrate_to_3(db: sqlite3.Connection, version: int, quarantine_prefix_bytes: int) -> None:
    if version < 2:
        columns = [row[1] for row in db.execute("PRAGMA table_info(outbox)")]
        if "event_id" in columns:
            db.execute("ALTER TABLE outbox RENAME TO outbox_v1")
            db.execute("DROP INDEX IF EXISTS outbox_pending")
            db.execute(OUTBOX_TABLE)
            db.execute(
                "INSERT INTO outbox (pos, status, queued_at, sent_at, attempts) "
                "SELECT e.pos, o.status, o.queued_at, o.sent_at, o.attempts FROM outbox_v1 o JOIN events e USING (event_id)"
            )
            db.execute("DROP TABLE outbox_v1")
        db.execute("DROP INDEX IF EXISTS events_streams")
        db.execute(HEADS_TABLE)
        db.execute(
            "INSERT OR REPLACE INTO heads (sender, student, high, held) "
            "SELECT sender, student, max(seq), count(*) FROM events WHERE local = 0 GROUP BY sender, student"
        )
    # version 3: a table-level UNIQUE cannot be dropped in SQLite, so the table is
    # made again with the same rows and positions (the outbox refers to them)
    db.execute("ALTER TABLE events RENAME TO events_v2")
    db.execute("DROP INDEX IF EXISTS events_session")
    db.execute(EVENTS_TABLE)
    db.execute(
        "INSERT INTO events (pos, event_id, session_id, student, sender, seq, event_type, ts, topic, local, raw) "
        "SELECT pos, event_id, session_id, student, sender, seq, event_type, ts, topic, local, raw FROM events_v2"
    )
    db.execute("DROP TABLE events_v2")
    if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'quarantine'").fetchone():
        quarantine_columns = {row[1] for row in db.execute("PRAGMA table_info(quarantine)")}
        for column, kind in (("digest", "TEXT"), ("size", "INTEGER"), ("retry_session", "TEXT")):
            if column not in quarantine_columns:
                db.execute(f"ALTER TABLE quarantine ADD COLUMN {column} {kind}")
        db.execute(
            "UPDATE quarantine SET size = length(raw), raw = substr(raw, 1, ?) WHERE size IS NULL",
            (quarantine_prefix_bytes,),
        )
