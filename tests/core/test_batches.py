"""Big batches (wire v2): one stream, chained event to event, a signed tip every
MAX_BATCH events and at the end; a forgery among them refused, the rest applied."""

from __future__ import annotations

import json
from pathlib import Path

from colearner_lsp.core import actions
from colearner_lsp.core.protocol.chain import MAX_BATCH
from colearner_lsp.core.protocol.events import ProgressUpdate
from colearner_lsp.core.protocol.receive import _public_key_bytes
from colearner_lsp.core.protocol.signing import public_key_text, signature_valid, signed_message
from colearner_lsp.core.protocol.wire import event_hash
from colearner_lsp.core.store.ledger import Incoming
from tests.core.conftest import Wire, make_pair
from tests.wire_forge import own_event

SIZE = 2 * MAX_BATCH + 5  # three batches' worth: two full, one short


def test_big_batch_is_chained_signed_per_batch_and_applied(tmp_path: Path) -> None:
    coach, (student,) = make_pair(tmp_path)
    wire = Wire()
    try:
        session_id = actions.start_session(coach, "alice")
        wire.exchange(coach, student)
        payloads = [ProgressUpdate(confidence={"reading": i / SIZE}) for i in range(SIZE)]
        written = student.emit(session_id, "alice", payloads)
        assert [e.payload.confidence["reading"] for e in written] == [i / SIZE for i in range(SIZE)]
        rows = student.ledger.pending(limit=10 * SIZE)
        mine = [raw for _id, _topic, _student, raw in rows if json.loads(raw)["sender"] == "alice"][-SIZE:]
        events = [json.loads(raw) for raw in mine]
        seqs = [e["seq"] for e in events]
        assert seqs == list(range(seqs[0], seqs[0] + SIZE))  # one stream, consecutive, in ledger order
        for before, after in zip(mine, events[1:]):
            assert after["prev"] == event_hash(before.encode())  # each names the bytes of the one before
        tips = [i for i, e in enumerate(events) if "sig" in e]
        assert tips == [MAX_BATCH - 1, 2 * MAX_BATCH - 1, SIZE - 1]
        key = _public_key_bytes(public_key_text(student.key.public_key()))
        for i in tips:
            signed = signed_message(events[i])
            assert signed is not None and signature_valid(signed, key)
        assert all(json.dumps(e["payload"]).find("reading") < 0 for e in events)  # sealed

        wire.publish(student)
        outcomes = wire.deliver(coach)
        assert outcomes.count("appended") == SIZE
        assert coach.state.sessions[session_id].confidence["reading"] == (SIZE - 1) / SIZE
    finally:
        coach.close()
        student.close()


def test_forged_message_beside_a_big_batch_is_the_only_one_refused(tmp_path: Path) -> None:
    coach, (student,) = make_pair(tmp_path)
    wire = Wire()
    try:
        session_id = actions.start_session(coach, "alice")
        wire.exchange(coach, student)
        student.emit(session_id, "alice", [ProgressUpdate(confidence={"t": 0.5}) for _ in range(SIZE)])
        wire.publish(student)
        log = wire.logs[student.config.topics.progress]
        at = len(log) - SIZE + SIZE // 2
        forged = json.loads(log[at])
        forged["payload"]["sealed"] = forged["payload"]["sealed"][:-8] + "AAAAAAA="
        log.insert(at, json.dumps(forged, separators=(",", ":")).encode())  # a forgery in the middle of a signed batch
        outcomes = wire.deliver(coach)
        assert outcomes.count("appended") == SIZE and outcomes.count("quarantined") == 1
        [row] = coach.ledger.quarantined()
        assert row["reason"].startswith(f"seq {forged['seq']} of 'alice' for 'alice' is not the event the signed tip at seq "), row
        assert coach.state.sessions[session_id].confidence["t"] == 0.5
    finally:
        coach.close()
        student.close()


def test_an_event_replaced_by_a_forgery_is_asked_for_and_the_rest_applied(tmp_path: Path) -> None:
    coach, (student,) = make_pair(tmp_path)
    wire = Wire()
    try:
        session_id = actions.start_session(coach, "alice")
        wire.exchange(coach, student)
        student.emit(session_id, "alice", [ProgressUpdate(confidence={"t": i / SIZE}) for i in range(SIZE)])
        wire.publish(student)
        log = wire.logs[student.config.topics.progress]
        at = len(log) - 3  # in the last batch
        real = json.loads(log[at])
        forged = {**real, "payload": {**real["payload"], "sealed": real["payload"]["sealed"][:-8] + "AAAAAAA="}}
        log[at] = json.dumps(forged, separators=(",", ":")).encode()  # the broker holds a forgery in its place
        outcomes = wire.deliver(coach)
        # the first two batches' tips link; the last batch waits: its tip does not reach the head
        assert outcomes.count("appended") == 2 * MAX_BATCH and outcomes.count("held") == 5
        [request] = coach.request_missing()
        first_of_last_batch = real["seq"] - 2
        assert (request.payload.sender, request.payload.from_seq) == ("alice", first_of_last_batch)  # type: ignore[attr-defined]
        wire.publish(coach)
        wire.deliver(student)  # alice answers it: the batch again, from her ledger, as it was sent
        wire.publish(student)
        wire.deliver(coach)
        assert coach.state.sessions[session_id].confidence["t"] == (SIZE - 1) / SIZE
        reasons = [q["reason"] for q in coach.ledger.quarantined()]
        assert len(reasons) == 1 and f"seq {real['seq']} of 'alice' for 'alice' is not the event the signed tip" in reasons[0], reasons
        assert coach.ledger.held_streams() == {}
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


def test_hostile_payloads_in_one_batch_are_each_refused_with_their_reason_and_the_rest_applied(tmp_path: Path) -> None:
    """Payloads of one type are checked one call per batch (protocol/opened.py): a batch where some
    fail their schema, sealed and chained by a rostered student's own (modified) client, refuses each
    of those with its own reason and applies every other event of the batch, in order."""
    coach, (student,) = make_pair(tmp_path)
    wire = Wire()
    try:
        session_id = actions.start_session(coach, "alice")
        wire.exchange(coach, student)
        hostile = [
            ({"completed": "step-1"}, "fails the schema at 'progress_update.payload.completed'"),
            ({"confidence": {"t": 1.5}}, "fails the schema at 'progress_update.payload.confidence.t'"),
            ({"confidence": {"t": 0.1}, "extra": True}, "fails the schema at 'progress_update.payload.extra'"),
            ({"completed": ["x" * 201]}, "fails the schema at 'progress_update.payload.completed.0'"),
            ({"completed": [[[[[[[[[[[[[[[[["deep"]]]]]]]]]]]]]]]]]}, "nested deeper than 16 levels"),
            ([1, 2, 3], "fails the schema at 'progress_update.payload'"),
        ]
        student.emit(session_id, "alice", [ProgressUpdate(confidence={"t": i / 10}) for i in range(3)])
        for payload, _ in hostile:
            own_event(student, "alice", session_id, "progress_update", payload)
            student.emit(session_id, "alice", [ProgressUpdate(confidence={"t": 0.5}), ProgressUpdate(confidence={"u": 0.25})])
        wire.publish(student)
        outcomes = wire.deliver(coach)  # one batch: the coach's reader judges them together
        assert outcomes.count("appended") == 3 + 2 * len(hostile) and outcomes.count("quarantined") == len(hostile)
        reasons = [row["reason"] for row in coach.ledger.quarantined()]
        for _, expected in hostile:
            assert sum(expected in reason for reason in reasons) == 1, (expected, reasons)
        session = coach.state.sessions[session_id]
        assert session.confidence == {"t": 0.5, "u": 0.25}
    finally:
        coach.close()
        student.close()


def test_learning_json_snapshot_holds_the_lock_for_one_exercise_at_a_time(tmp_path: Path) -> None:
    """The snapshot takes the instance's lock for the sessions, then for each exercise on its own,
    so a fold (or the event loop) never waits behind the whole state; and what it writes is the
    state as ``State.to_json`` gives it."""
    from colearner_lsp.core.model.state import ExerciseState

    coach, (student,) = make_pair(tmp_path)
    wire = Wire()
    try:
        session_id = actions.start_session(coach, "alice")
        for n in range(5):
            actions.assign_exercise(
                coach, session_id, topic="t", exercise=f"e{n}", expected="x", path="service.py", start_line=1, end_line=2
            )
        wire.publish(coach)
        wire.deliver(student)
        assert len(student.state.exercises) == 5

        holds: list[int] = []  # per outermost hold of the lock: how many exercises were shown inside it
        depth = [0]
        inner = student._lock

        class CountingLock:
            def __enter__(self) -> None:
                inner.acquire()
                depth[0] += 1
                if depth[0] == 1:
                    holds.append(0)

            def __exit__(self, *_: object) -> None:
                depth[0] -= 1
                inner.release()

        shown = ExerciseState.to_json

        def counted(self: ExerciseState) -> dict[str, object]:
            assert depth[0] >= 1, "an exercise was shown without the lock"
            holds[-1] += 1
            return shown(self)

        student._lock = CountingLock()  # type: ignore[assignment]
        ExerciseState.to_json = counted  # type: ignore[method-assign]
        try:
            student._learning_pieces.clear()  # every exercise encoded anew (not the texts kept from the last write)
            student._learning_dirty = True
            student.flush_learning_json()
        finally:
            ExerciseState.to_json = shown  # type: ignore[method-assign]
            student._lock = inner
        assert sum(holds) == 5 and max(holds) == 1, holds
        written = json.loads((student.root / ".colearner" / "learning.json").read_text())
        assert written["sessions"] == student.state.to_json(student="alice")["sessions"]
        assert [e["exercise"] for e in written["sessions"][0]["exercises"]] == [f"e{n}" for n in range(5)]
        assert written["ledger_pos"] == student._pos and not student.learning_json_due(idle=True)
    finally:
        coach.close()
        student.close()


def test_learning_json_encodes_again_only_the_exercises_a_fold_changed(tmp_path: Path) -> None:
    """Each exercise's text is kept between writes: after a fold that changed one exercise, only
    that one is encoded again, and the file is byte for byte what encoding the whole state gives."""
    from colearner_lsp.core.model.state import ExerciseState

    coach, (student,) = make_pair(tmp_path)
    wire = Wire()
    try:
        session_id = actions.start_session(coach, "alice")
        ids = [
            actions.assign_exercise(
                coach, session_id, topic="t", exercise=f'e{n} "quoted"\n', expected="x", path="service.py", start_line=1, end_line=2
            )
            for n in range(4)
        ]
        wire.exchange(coach, student)
        student.flush_learning_json()
        learning = student.root / ".colearner" / "learning.json"

        encoded: list[str] = []
        shown = ExerciseState.to_json

        def counted(self: ExerciseState) -> dict[str, object]:
            encoded.append(self.exercise_id)
            return shown(self)

        ExerciseState.to_json = counted  # type: ignore[method-assign]
        try:
            actions.acknowledge(student, ids[2])  # an action: its fold writes learning.json at once
        finally:
            ExerciseState.to_json = shown  # type: ignore[method-assign]
        assert encoded == [ids[2]]
        text = learning.read_text(encoding="utf-8")
        written = json.loads(text)
        assert [e["state"] for e in written["sessions"][0]["exercises"]] == ["assigned", "assigned", "acknowledged", "assigned"]
        whole = {
            "version": 1,
            "sessions": student.state.to_json(student="alice")["sessions"],
            "identity": "alice",
            "role": "student",
            "written_at": written["written_at"],
            "ledger_pos": student._pos,
        }
        assert text == json.dumps(whole, indent=2, ensure_ascii=False)

        wire.exchange(student, coach)  # the coach's file, compact, holds the acknowledgement too
        coach.flush_learning_json()
        text = (coach.root / ".colearner" / "learning.json").read_text(encoding="utf-8")
        written = json.loads(text)
        whole = {**whole, "sessions": coach.state.to_json()["sessions"], "identity": coach.identity, "role": "coach"}
        whole.update(written_at=written["written_at"], ledger_pos=coach._pos)
        assert text == json.dumps(whole, ensure_ascii=False)
        assert written["sessions"][0]["exercises"][2]["state"] == "acknowledged"
    finally:
        coach.close()
        student.close()
