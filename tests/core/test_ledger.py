"""The SQLite ledger: idempotent by event_id, one seq per stream, outbox, positions
written with the events, a quarantine, and no damage when the process is killed."""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from colearner_lsp.core.protocol.events import parse_event
from colearner_lsp.core.protocol.signing import (
    generate_key,
    parse_public_key,
    public_key_text,
    save_private_key,
    sign_envelope,
    verify_envelope,
)
from colearner_lsp.core.protocol.wire import event_hash
from colearner_lsp.core.store.ledger import ChainChanges, Incoming, Ledger
from colearner_lsp.core.store.rows import QUARANTINE_PREFIX_BYTES
from tests.core.conftest import envelope

REPO = Path(__file__).resolve().parents[2]
SESSION = str(uuid.uuid4())
KEY = generate_key()


def pending_ids(ledger: Ledger) -> list[str]:
    return [json.loads(raw)["event_id"] for _, _, _, raw in ledger.pending()]


@pytest.fixture
def ledger(tmp_path: Path):  # type: ignore[no-untyped-def]
    led = Ledger(tmp_path / "ledger.sqlite")
    yield led
    led.close()


def builder(
    sender: str = "coach",
    student: str = "alice",
    event_type: str = "progress_update",
    payload: dict[str, Any] | None = None,
    topic: str = "colearner.progress.v1",
) -> Callable[[int], tuple[dict[str, Any], str]]:
    def build(seq: int) -> tuple[dict[str, Any], str]:
        env = envelope(
            event_type,
            payload or {"completed": [], "confidence": {"t": 0.5}},
            sender=sender,
            actor="coach",
            student=student,
            seq=seq,
            session_id=SESSION,
        )
        return sign_envelope(env, KEY), topic

    return build


def incoming(
    seq: int = 1,
    offset: int = 0,
    *,
    sender: str = "bob",
    student: str = "bob",
    event_id: str | None = None,
    topic: str = "colearner.progress.v1",
    partition: int = 0,
) -> Incoming:
    env = envelope(
        "progress_update",
        {"completed": [f"s{seq}"]},
        sender=sender,
        actor="student",
        student=student,
        seq=seq,
        session_id=SESSION,
        event_id=event_id,
    )
    raw = json.dumps(env).encode()
    return Incoming(raw=raw, topic=topic, partition=partition, offset=offset, envelope=env, sender=sender, student=student)


def offsets(ledger: Ledger) -> dict[tuple[str, int], int]:
    return {key: next_offset for key, (next_offset, _digest) in ledger.positions().items()}


def raw_rows(path: Path, sql: str, args: tuple = ()) -> list[tuple]:
    db = sqlite3.connect(path)
    try:
        return db.execute(sql, args).fetchall()
    finally:
        db.close()


# ---------------------------------------------------------------- basics


def test_file_is_in_wal_mode(ledger: Ledger) -> None:
    assert raw_rows(ledger.path, "PRAGMA journal_mode") == [("wal",)]


def test_reopen_keeps_everything(tmp_path: Path) -> None:
    first = Ledger(tmp_path / "l.sqlite")
    first.append_own("coach", "alice", [builder(), builder()])
    first.close()
    again = Ledger(tmp_path / "l.sqlite")
    assert again.event_count() == 2 and again.last_seq("coach", "alice") == 2
    again.close()


# ---------------------------------------------------------------- own events and the outbox


def test_append_own_numbers_each_stream(ledger: Ledger) -> None:
    out = ledger.append_own("coach", "alice", [builder(), builder(), builder()])
    assert [e["seq"] for e in out] == [1, 2, 3]
    out = ledger.append_own("coach", "bob", [builder(student="bob")])
    assert [e["seq"] for e in out] == [1]  # bob's stream has its own counter
    out = ledger.append_own("coach", "alice", [builder()])
    assert [e["seq"] for e in out] == [4]
    assert ledger.last_seq("coach", "alice") == 4 and ledger.last_seq("coach", "bob") == 1
    assert ledger.last_seq("coach", "nobody") == 0
    stored = ledger.events_after(0)
    assert [parse_event(json.loads(s.raw)).seq for s in stored] == [1, 2, 3, 1, 4]
    assert all(verify_envelope(json.loads(s.raw), KEY.public_key()) for s in stored)


def test_append_own_is_all_or_nothing(ledger: Ledger) -> None:
    ledger.append_own("coach", "alice", [builder()])

    def broken(seq: int) -> tuple[dict[str, Any], str]:
        raise RuntimeError("builder failed")

    with pytest.raises(RuntimeError):
        ledger.append_own("coach", "alice", [builder(), broken])
    assert ledger.event_count() == 1
    assert ledger.outbox_length() == 1
    assert ledger.last_seq("coach", "alice") == 1
    assert [e["seq"] for e in ledger.append_own("coach", "alice", [builder()])] == [2]


def test_outbox_pending_then_sent(ledger: Ledger) -> None:
    out = ledger.append_own("coach", "alice", [builder(), builder(), builder()])
    ids = [e["event_id"] for e in out]
    pending = ledger.pending()
    assert pending_ids(ledger) == ids  # oldest first
    assert pending[0][1:3] == ("colearner.progress.v1", "alice")
    assert json.loads(pending[0][3]) == out[0]
    assert ledger.outbox_length() == 3
    ledger.mark_sent([p[0] for p in pending[:2]])
    assert pending_ids(ledger) == ids[2:]
    assert ledger.outbox_length() == 1
    assert ledger.pending(limit=0) == []
    rows = raw_rows(
        ledger.path, "SELECT e.event_id, o.status, o.attempts, o.sent_at IS NOT NULL FROM outbox o JOIN events e USING (pos) ORDER BY pos"
    )
    assert rows == [(ids[0], "sent", 1, 1), (ids[1], "sent", 1, 1), (ids[2], "pending", 0, 0)]


def test_requeue_sends_a_stream_again(ledger: Ledger) -> None:
    alice = ledger.append_own("coach", "alice", [builder() for _ in range(5)])
    ledger.append_own("coach", "bob", [builder(student="bob") for _ in range(2)])
    ledger.accept([incoming(1)])  # a received event is never ours to send
    ledger.mark_sent([p[0] for p in ledger.pending()])
    assert ledger.outbox_length() == 0
    assert ledger.requeue("coach", "alice", 2, 3) == 2
    assert pending_ids(ledger) == [alice[1]["event_id"], alice[2]["event_id"]]
    assert ledger.requeue("coach", "alice", 4) == 2  # open-ended: to the last one
    assert pending_ids(ledger) == [e["event_id"] for e in alice[1:]]
    assert ledger.requeue("bob", "bob", 1) == 0
    assert ledger.requeue("coach", "nobody", 1) == 0


def test_two_handles_never_share_a_seq(tmp_path: Path) -> None:
    """Two processes of one instance (CLI and server) append to one file at once."""
    path = tmp_path / "shared.sqlite"
    handles = [Ledger(path), Ledger(path)]
    errors: list[BaseException] = []

    def work(led: Ledger) -> None:
        try:
            for _ in range(40):
                led.append_own("coach", "alice", [builder(), builder()])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(h,)) for h in handles]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    seqs = [s for (s,) in raw_rows(path, "SELECT seq FROM events ORDER BY seq")]
    assert seqs == list(range(1, 161))
    for h in handles:
        h.close()


# ---------------------------------------------------------------- received events


def test_duplicate_event_id_is_a_no_op(ledger: Ledger) -> None:
    item = incoming(1, offset=0)
    assert ledger.accept([item]) == ["appended"]
    assert ledger.accept([item]) == ["duplicate"]
    # redelivered at another offset, and twice inside one batch
    again = Incoming(raw=item.raw, topic=item.topic, partition=0, offset=7, envelope=item.envelope)
    assert ledger.accept([again, again]) == ["duplicate", "duplicate"]
    assert ledger.event_count() == 1
    assert ledger.quarantined() == []
    fresh = incoming(2, offset=8)
    assert ledger.accept([fresh, fresh]) == ["appended", "duplicate"]
    assert ledger.event_count() == 2


def test_seq_taken_by_another_event_is_quarantined(ledger: Ledger) -> None:
    assert ledger.accept([incoming(1, offset=0)]) == ["appended"]
    impostor = incoming(1, offset=1)  # same (sender, student, seq), another event_id
    assert ledger.accept([impostor]) == ["quarantined"]
    assert ledger.event_count() == 1
    [row] = ledger.quarantined()
    assert row["reason"] == "seq 1 of sender 'bob' for student 'bob' is already taken by another event"
    assert (row["topic"], row["partition"], row["offset"], row["sender"], row["student"]) == ("colearner.progress.v1", 0, 1, "bob", "bob")
    assert row["size"] == len(impostor.raw)
    assert raw_rows(ledger.path, "SELECT raw FROM quarantine") == [(impostor.raw,)]
    # the same seq of another stream is fine
    assert ledger.accept([incoming(1, offset=2, sender="carol", student="carol")]) == ["appended"]


def test_refused_message_keeps_raw_bytes_and_reason(ledger: Ledger) -> None:
    garbage = b"\xff\xfe not json \x00"
    refused = Incoming(raw=garbage, topic="colearner.events.v1", partition=0, offset=3, reason="not valid UTF-8 JSON")
    unnamed = Incoming(raw=b"[]", topic="colearner.events.v1", partition=0, offset=4)
    assert ledger.accept([refused, unnamed]) == ["quarantined", "quarantined"]
    rows = ledger.quarantined()
    assert [(r["reason"], r["offset"], r["size"]) for r in rows] == [("not valid UTF-8 JSON", 3, len(garbage)), ("refused", 4, 2)]
    assert raw_rows(ledger.path, "SELECT raw FROM quarantine ORDER BY id") == [(garbage,), (b"[]",)]
    assert ledger.event_count() == 0
    assert offsets(ledger) == {("colearner.events.v1", 0): 5}  # refused messages are read past too


def test_huge_refused_message_keeps_its_head(ledger: Ledger) -> None:
    huge = b"x" * 1_100_000
    ledger.accept([Incoming(raw=huge, topic="t", partition=0, offset=0, reason="too big")])
    [row] = ledger.quarantined()
    assert row["size"] == len(huge)  # what arrived is counted in full…
    assert row["digest"] == hashlib.sha256(huge).hexdigest()
    [(kept,)] = raw_rows(ledger.path, "SELECT length(raw) FROM quarantine")
    assert kept == QUARANTINE_PREFIX_BYTES  # …and only its head is kept


def test_positions_follow_the_batch(ledger: Ledger) -> None:
    batch = [incoming(1, 10), incoming(2, 11), incoming(3, 4, topic="other"), incoming(4, 2, partition=1)]
    ledger.accept(batch)
    assert offsets(ledger) == {("colearner.progress.v1", 0): 12, ("other", 0): 5, ("colearner.progress.v1", 1): 3}
    # the digest of the last message read tells a refilled log from the one we read
    assert ledger.positions()[("colearner.progress.v1", 0)][1] == hashlib.sha1(batch[1].raw).hexdigest()
    ledger.set_position("other", 0, 0)  # e.g. the broker lost its log
    assert ledger.positions()[("other", 0)] == (0, None)
    # an item without a position (e.g. replayed from a file) does not move any
    item = incoming(5)
    ledger.accept([Incoming(raw=item.raw, envelope=item.envelope)])
    assert offsets(ledger)[("colearner.progress.v1", 0)] == 12
    assert ledger.event_count() == 5


def test_skipped_message_only_moves_the_position(ledger: Ledger) -> None:
    other = incoming(1, 5, sender="carol", student="carol")
    skipped = Incoming(raw=other.raw, topic=other.topic, partition=0, offset=5, skip=True)
    assert ledger.accept([skipped]) == ["skipped"]
    assert ledger.event_count() == 0 and ledger.quarantined() == []
    assert offsets(ledger) == {("colearner.progress.v1", 0): 6}


def test_positions_and_events_commit_together(ledger: Ledger) -> None:
    ledger.accept([incoming(1, 0)])
    before = (ledger.event_count(), ledger.positions(), ledger.quarantined())
    good = incoming(2, 1)
    refused = Incoming(raw=b"junk", topic="colearner.progress.v1", partition=0, offset=2, reason="junk")
    # Its envelope was accepted but its bytes are not UTF-8: storing it raises
    # inside the transaction, after the first two items were written.
    broken = Incoming(raw=b"\xff\xff", topic="colearner.progress.v1", partition=0, offset=3, envelope=incoming(3).envelope)
    with pytest.raises(UnicodeDecodeError):
        ledger.accept([good, refused, broken])
    assert (ledger.event_count(), ledger.positions(), ledger.quarantined()) == before
    assert ledger.accept([good, refused]) == ["appended", "quarantined"]
    assert ledger.event_count() == 2 and offsets(ledger) == {("colearner.progress.v1", 0): 3}


def held(seq: int, offset: int, sender: str = "bob", student: str = "bob", tip: bool = False) -> Incoming:
    """An event read but waiting for a signed tip (see core/protocol/chain.py)."""
    return Incoming(
        raw=b'{"held": %d}' % seq,
        topic="t",
        partition=0,
        offset=offset,
        hold=True,
        tip=tip,
        hash=f"{seq:064x}",
        seq=seq,
        sender=sender,
        student=student,
    )


def heads(*moves: tuple[str, int]) -> ChainChanges:
    return ChainChanges(heads={(name, name): (seq, f"{seq:064x}") for name, seq in moves}, released=[], forks={})


def test_missing_seqs_lie_between_the_head_and_what_is_held(ledger: Ledger) -> None:
    ledger.accept([incoming(s, s) for s in (1, 2)], chains=heads(("bob", 2)))
    assert ledger.accept([held(s, 10 + s) for s in (5, 6, 9)]) == ["held"] * 3
    assert ledger.missing_seqs("bob", "bob") == [(3, 4), (7, 8)]
    assert ledger.missing_seqs("carol", "carol") == []
    ledger.accept([held(3, 20, sender="carol", student="carol")])
    assert ledger.missing_seqs("carol", "carol") == [(1, 2)]
    assert ledger.held_streams()[("carol", "carol")][:2] == (3, 3)
    # 3..9 linked by a tip: released from the held, the head moves
    released = [("bob", "bob", f"{s:064x}") for s in (5, 6, 9)]
    ledger.accept(
        [incoming(s, 30 + s) for s in (3, 4, 5, 6, 7, 8, 9)],
        chains=ChainChanges(heads=heads(("bob", 9)).heads, released=released, forks={}),
    )
    assert ledger.missing_seqs("bob", "bob") == []
    assert sorted(ledger.streams()) == [("bob", "bob", 9)]
    assert list(ledger.held_streams()) == [("carol", "carol")]


def test_a_held_event_read_twice_is_held_once(ledger: Ledger) -> None:
    assert ledger.accept([held(4, 1), held(4, 2, tip=True)]) == ["held", "held"]
    assert [m.raw for m in ledger.held("bob", "bob")] == [b'{"held": 4}']
    assert ledger.held_streams()[("bob", "bob")].has_tip is False  # the first copy is the one kept


def test_a_fork_is_kept(ledger: Ledger) -> None:
    ledger.accept([], chains=ChainChanges(heads={}, released=[], forks={("bob", "bob"): "two signed events at seq 3"}))
    ledger.accept([], chains=ChainChanges(heads={}, released=[], forks={("bob", "bob"): "again"}))
    assert ledger.forks() == {("bob", "bob"): "two signed events at seq 3"}  # the first proof stays


def test_streams_list_peers_only(ledger: Ledger) -> None:
    ledger.append_own("coach", "bob", [builder(student="bob")])
    ledger.accept([incoming(1)], chains=heads(("bob", 1)))
    assert ledger.streams() == [("bob", "bob", 1)]


def test_reading_back(ledger: Ledger) -> None:
    own = ledger.append_own("coach", "alice", [builder()])
    ledger.accept([incoming(1)])
    other = str(uuid.uuid4())
    env = envelope("progress_update", {}, sender="carol", actor="student", student="carol", session_id=other)
    ledger.accept([Incoming(raw=json.dumps(env).encode(), envelope=env)])
    rows = ledger.events_after(0)
    assert [r.pos for r in rows] == [1, 2, 3]
    assert rows[0].event_id == own[0]["event_id"]
    assert [r.pos for r in ledger.events_after(1)] == [2, 3]
    assert [r.pos for r in ledger.events_after(0, limit=1)] == [1]
    assert [r.pos for r in ledger.session_events(SESSION)] == [1, 2]
    assert [r.event_id for r in ledger.session_events(other)] == [env["event_id"]]


def test_meta(ledger: Ledger) -> None:
    assert ledger.get_meta("k") is None
    ledger.set_meta("k", "1")
    ledger.set_meta("k", "2")
    assert ledger.get_meta("k") == "2"


# ---------------------------------------------------------------- crash safety

WRITER = r"""
import json, sys, uuid
from pathlib import Path
from colearner_lsp.core.store.ledger import Ledger
from colearner_lsp.core.protocol.events import now_ts
from colearner_lsp.core.protocol.signing import load_private_key, sign_envelope

path, key_file, batch = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
key = load_private_key(key_file)
ledger = Ledger(path)
session = str(uuid.uuid4())
students = ["alice", "bob"]

def build_for(student, n):
    def build(seq):
        env = {"ts": now_ts(), "actor": "coach", "session_id": session, "event_type": "progress_update",
               "payload": {"completed": [f"step-{n}"], "confidence": {"topic": 0.5}},
               "event_id": str(uuid.uuid4()), "sender": "coach", "student": student, "seq": seq}
        return sign_envelope(env, key), "colearner.progress.v1"
    return build

total = ledger.event_count()
print("ready", total, flush=True)
n = 0
while True:
    student = students[n % 2]
    ledger.append_own("coach", student, [build_for(student, n + i) for i in range(batch)])
    n += 1
    total += batch
    print("committed", total, flush=True)
"""


def check_ledger_after_crash(path: Path, public_key: str, at_least: int) -> int:
    db = sqlite3.connect(path)
    try:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        rows = db.execute("SELECT event_id, sender, student, seq, raw FROM events ORDER BY pos").fetchall()
        assert len(rows) >= at_least  # everything reported committed is there
        key = parse_public_key(public_key)
        by_stream: dict[str, list[int]] = {}
        for event_id, sender, student, seq, raw in rows:
            data = json.loads(raw)
            event = parse_event(data)
            assert verify_envelope(data, key)
            assert (event.event_id, event.sender, event.student, event.seq) == (event_id, sender, student, seq)
            by_stream.setdefault(student, []).append(seq)
        for student, seqs in by_stream.items():
            assert seqs == list(range(1, len(seqs) + 1)), student  # contiguous, in order, no gap
            (last,) = db.execute("SELECT last_seq FROM counters WHERE student = ?", (student,)).fetchone()
            assert last == len(seqs)
        outbox = {r[0] for r in db.execute("SELECT event_id FROM outbox JOIN events USING (pos)")}
        assert outbox == {r[0] for r in rows}  # one outbox row per event, none without one
        return len(rows)
    finally:
        db.close()


def test_killed_writer_leaves_a_sound_ledger(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    key_file = tmp_path / "keys" / "coach.pem"
    key = generate_key()
    save_private_key(key, key_file)
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    rng = random.Random()
    total = 0
    for _round in range(4):
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), str(key_file), str(rng.choice([1, 7, 50]))],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        try:
            first = proc.stdout.readline().split()  # type: ignore[union-attr]
            assert first == ["ready", str(total)], proc.stderr.read()  # type: ignore[union-attr]
            # let it commit a few batches, then kill it at a random moment mid-stream
            wanted = rng.randint(2, 30)
            committed = total
            while committed < total + wanted:
                line = proc.stdout.readline()  # type: ignore[union-attr]
                assert line, proc.stderr.read()  # type: ignore[union-attr]
                committed = int(line.split()[1])
            time.sleep(rng.uniform(0, 0.05))
            proc.send_signal(signal.SIGKILL)
        finally:
            proc.kill()
            out, _ = proc.communicate(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        for line in out.splitlines():
            words = line.split()
            if len(words) == 2 and words[1].isdigit():  # the kill may cut the last line short
                committed = max(committed, int(words[1]))
        total = check_ledger_after_crash(path, public_key_text(key), committed)
        assert total >= committed
    # a normal handle opens it and carries on numbering where the streams stopped
    led = Ledger(path)
    alice = led.last_seq("coach", "alice")
    build = builder(student="alice")
    assert led.append_own("coach", "alice", [build])[0]["seq"] == alice + 1
    led.close()


def test_mixed_batch_sorts_each_message(ledger: Ledger) -> None:
    """New, redelivered, seq-clashing and again-new messages in one batch each get their own outcome."""
    first = incoming(1, offset=0)
    assert ledger.accept([first]) == ["appended"]
    batch = [incoming(2, offset=1), first, incoming(2, offset=2), incoming(3, offset=3)]
    assert ledger.accept(batch) == ["appended", "duplicate", "quarantined", "appended"]
    assert ledger.event_count() == 3
    assert [q["offset"] for q in ledger.quarantined()] == [2]
    assert ledger.missing_seqs("bob", "bob") == []


def test_ledger_of_the_first_schema_is_migrated(tmp_path: Path) -> None:
    """A ledger written before the outbox was keyed by pos opens with its outbox and streams intact."""
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path, isolation_level=None)
    db.executescript("""
        PRAGMA journal_mode=WAL;
        CREATE TABLE events (pos INTEGER PRIMARY KEY, event_id TEXT NOT NULL UNIQUE, session_id TEXT NOT NULL,
            student TEXT NOT NULL, sender TEXT NOT NULL, seq INTEGER NOT NULL, event_type TEXT NOT NULL, ts TEXT NOT NULL,
            topic TEXT NOT NULL, local INTEGER NOT NULL, raw TEXT NOT NULL, UNIQUE (sender, student, seq));
        CREATE INDEX events_streams ON events (local, sender, student, seq);
        CREATE TABLE outbox (event_id TEXT PRIMARY KEY REFERENCES events (event_id),
            status TEXT NOT NULL CHECK (status IN ('pending', 'sent')), queued_at TEXT NOT NULL, sent_at TEXT,
            attempts INTEGER NOT NULL DEFAULT 0);
        CREATE INDEX outbox_pending ON outbox (status) WHERE status = 'pending';
        INSERT INTO events VALUES (1, 'own-1', 's', 'alice', 'coach', 1, 'progress_update', 't', 'topic-a', 1, '{}');
        INSERT INTO events VALUES (2, 'own-2', 's', 'alice', 'coach', 2, 'progress_update', 't', 'topic-a', 1, '{}');
        INSERT INTO events VALUES (3, 'peer-1', 's', 'bob', 'bob', 1, 'progress_update', 't', 'topic-b', 0, '{}');
        INSERT INTO events VALUES (4, 'peer-3', 's', 'bob', 'bob', 3, 'progress_update', 't', 'topic-b', 0, '{}');
        INSERT INTO outbox VALUES ('own-1', 'sent', 't', 't', 1);
        INSERT INTO outbox VALUES ('own-2', 'pending', 't', NULL, 0);
    """)
    db.close()
    ledger = Ledger(path)
    try:
        assert [p[0] for p in ledger.pending()] == [2]
        assert ledger.own_streams_on("coach") == [("topic-a", "alice")]
        assert ledger.streams() == [("bob", "bob", 3)]
        # the head of a stream of wire v1 is its last event as it was received: a v2 event continues from it
        assert ledger.heads() == {("bob", "bob"): (3, event_hash(b"{}"))}
        assert ledger.own_head("coach", "alice") == (0, None)  # (that ledger kept no counters)
        ledger.mark_sent([2])
        assert ledger.outbox_length() == 0
        indexes = {r[0] for r in raw_rows(path, "SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert "events_streams" not in indexes
    finally:
        ledger.close()
    reopened = Ledger(path)  # opening again changes nothing
    try:
        assert reopened.streams() == [("bob", "bob", 3)] and reopened.outbox_length() == 0
    finally:
        reopened.close()


def test_only_redoable_writes_skip_the_fsync(ledger: Ledger) -> None:
    """Received batches and 'sent' marks commit without an fsync; everything after is FULL again."""
    synchronous = lambda: ledger._db.execute("PRAGMA synchronous").fetchone()[0]  # noqa: E731
    seen: list[int] = []
    ledger._db.set_trace_callback(lambda sql: seen.append(synchronous()) if sql == "COMMIT" else None)
    try:
        ledger.accept([incoming(1)])
        out = ledger.append_own("coach", "alice", [builder()])
        ledger.mark_sent([out[0]["event_id"]])
        ledger.set_position("t", 0, 5)
    finally:
        ledger._db.set_trace_callback(None)
    assert seen == [1, 2, 1, 2]  # NORMAL, FULL, NORMAL, FULL
    assert synchronous() == 2
