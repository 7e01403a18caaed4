"""Big batches, which sign and check signatures on several threads: numbered in
order, each signature its own, a forged one among them still found."""

from __future__ import annotations

import json
from pathlib import Path

from colearner_lsp.core import actions
from colearner_lsp.core.events import ProgressUpdate
from colearner_lsp.core.instance import PARALLEL_FROM
from colearner_lsp.core.ledger import Incoming
from colearner_lsp.core.receive import _public_key_bytes
from colearner_lsp.core.signing import public_key_text, signature_valid, signed_message
from tests.core.conftest import Wire, make_pair

SIZE = 3 * PARALLEL_FROM + 5  # several parts of uneven size


def test_big_batch_is_numbered_in_order_and_applied(tmp_path: Path) -> None:
    coach, (student,) = make_pair(tmp_path)
    wire = Wire()
    try:
        session_id = actions.start_session(coach, "alice")
        wire.exchange(coach, student)
        payloads = [ProgressUpdate(confidence={"reading": i / SIZE}) for i in range(SIZE)]
        written = student.emit(session_id, "alice", payloads)
        assert [e.payload.confidence["reading"] for e in written] == [i / SIZE for i in range(SIZE)]
        rows = student.ledger.pending(limit=10 * SIZE)
        mine = [json.loads(raw) for _id, _topic, _student, raw in rows if json.loads(raw)["sender"] == "alice"]
        seqs = [e["seq"] for e in mine]
        assert seqs == list(range(seqs[0], seqs[0] + SIZE))  # one stream, consecutive, in ledger order
        key = _public_key_bytes(public_key_text(student.key.public_key()))
        for env in mine:  # every event signed over its own content
            signed = signed_message(env)
            assert signed is not None and signature_valid(signed, key)

        wire.publish(student)
        outcomes = wire.deliver(coach)
        assert outcomes.count("appended") == SIZE
        assert coach.state.sessions[session_id].confidence["reading"] == (SIZE - 1) / SIZE
    finally:
        coach.close()
        student.close()


def test_forged_message_in_a_big_batch_is_the_only_one_refused(tmp_path: Path) -> None:
    coach, (student,) = make_pair(tmp_path)
    wire = Wire()
    try:
        session_id = actions.start_session(coach, "alice")
        wire.exchange(coach, student)
        student.emit(session_id, "alice", [ProgressUpdate(confidence={"t": 0.5}) for _ in range(SIZE)])
        wire.publish(student)
        log = wire.logs[student.config.topics.progress]
        forged_at = len(log) - SIZE + SIZE // 2
        log[forged_at] = log[forged_at].replace(b'"t":0.5', b'"t":0.9')
        outcomes = wire.deliver(coach)
        assert outcomes.count("appended") == SIZE - 1 and outcomes.count("quarantined") == 1
        [row] = coach.ledger.quarantined()
        assert row["reason"].startswith("bad signature on progress_update")
        assert coach.state.sessions[session_id].confidence["t"] == 0.5
    finally:
        coach.close()
        student.close()


def test_learning_json_of_a_stream_is_written_when_due_and_off_the_lock(tmp_path: Path) -> None:
    """The bus defers learning.json while a stream arrives; writing it holds the instance's lock
    only for the snapshot, so the fold (and an editor's requests) go on meanwhile."""
    import threading

    coach, (student,) = make_pair(tmp_path)
    wire = Wire()
    try:
        session_id = actions.start_session(coach, "alice")
        wire.publish(coach)
        learning = student.root / ".colearner" / "learning.json"
        before = learning.read_text() if learning.exists() else None
        positions = student.ledger.positions()
        batch = [
            Incoming(raw=raw, topic=topic, partition=0, offset=i)
            for topic, log in wire.logs.items()
            for i, raw in enumerate(log)
            if (topic, 0) not in positions
        ]
        student.receive(batch)  # as the bus does: deferred
        assert (learning.read_text() if learning.exists() else None) == before
        assert student.learning_json_due(idle=True)

        lock_was_free = []
        original = student._write_learning_file

        def write(data):  # type: ignore[no-untyped-def]
            free = threading.Thread(target=lambda: lock_was_free.append(student._lock.acquire(timeout=5) and not student._lock.release()))
            free.start()
            free.join()
            original(data)

        student._write_learning_file = write  # type: ignore[method-assign]
        student.flush_learning_json()
        assert lock_was_free == [True]
        assert session_id in learning.read_text()
        assert not student.learning_json_due(idle=True)
    finally:
        coach.close()
        student.close()
