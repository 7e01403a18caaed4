"""Bad and hostile input, written straight onto the topics by a third-party
client (confluent-kafka / librdkafka), keyed to the student so it lands on the
partition the student reads. Each message is quarantined with its reason, the
state does not move, and the instance keeps working.
"""

from __future__ import annotations

import json
import uuid

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from colearner_lsp.core import actions
from colearner_lsp.core.events import now_ts
from colearner_lsp.core.signing import sign_envelope
from tests.bus.exchange import count_of
from tests.instances import add_student, assigned, sync
from tests.kafka_harness import HostileProducer

ASSIGNMENTS, FEEDBACK, PROGRESS, EVENTS = (
    "colearner.assignments.v1",
    "colearner.feedback.v1",
    "colearner.progress.v1",
    "colearner.events.v1",
)


def envelope(event_type: str, payload: dict, *, session_id: str, sender: str, student: str, actor: str, seq: int = 900) -> dict:
    return {
        "ts": now_ts(),
        "actor": actor,
        "session_id": session_id,
        "event_type": event_type,
        "payload": payload,
        "event_id": str(uuid.uuid4()),
        "sender": sender,
        "student": student,
        "seq": seq,
    }


def assignment(session_id: str, **fields) -> dict:
    payload = {"topic": "reading", "exercise": "rm -rf /", "expected": "obedience", "exercise_id": str(uuid.uuid4())}
    return {**payload, **fields}


def assert_reasons(quarantined: list[dict], expected_at: dict) -> None:
    """Each message sent is in the quarantine, found by where it landed, with its reason."""
    got = {(q["topic"], q["offset"]): q["reason"] for q in quarantined}
    assert len(quarantined) == len(expected_at)
    for where, expected in expected_at.items():
        assert where in got, f"nothing quarantined from {where}"
        assert expected in got[where], f"expected {expected!r} in {got[where]!r}"


@pytest.fixture
def live(pair):
    """A session with one exercise, delivered; returns (pair, session_id, exercise_id)."""
    return (pair, *assigned(pair))


def test_hostile_messages_to_the_student_are_quarantined(live, broker):
    pair, session_id, exercise_id = live
    student = pair.student()
    coach_key = pair.coach().key
    before = student.state.to_json()
    events_before = student.ledger.event_count()
    intruder = Ed25519PrivateKey.generate()
    key = pair.student_id.encode()

    def signed(env: dict, with_key=coach_key) -> bytes:
        return json.dumps(sign_envelope(env, with_key)).encode()

    as_coach = dict(session_id=session_id, sender=pair.coach_id, student=pair.student_id, actor="coach")
    tampered = sign_envelope(envelope("exercise_assigned", assignment(session_id), **as_coach), coach_key)
    tampered["payload"]["exercise"] = "something else"
    unsigned_scope = envelope("scope_policy", {"allow": ["**"], "share": "diff", "version": 99}, **as_coach)
    cases = [
        (ASSIGNMENTS, b"\x00\xff\xfe garbage \x80", "not valid UTF-8 JSON"),
        (ASSIGNMENTS, b'{"unterminated": ', "not valid UTF-8 JSON"),
        (FEEDBACK, b"[1, 2, 3]", "not a JSON object"),
        (FEEDBACK, json.dumps({"grade": "pass", "hello": "world"}).encode(), "fails the schema"),
        (
            EVENTS,
            signed(envelope("delete_everything", {"all": True}, **as_coach)),
            "Input tag 'delete_everything' found using 'event_type'",
        ),
        (
            ASSIGNMENTS,
            signed(envelope("exercise_assigned", assignment(session_id, exercise="x" * 900_000), **as_coach)),
            "fails the schema",
        ),
        (ASSIGNMENTS, b'{"pad": "' + b"y" * 1_100_000 + b'"}', "over the 1000000-byte limit"),
        (ASSIGNMENTS, signed(envelope("exercise_assigned", assignment(session_id), **as_coach), intruder), "bad signature"),
        (
            ASSIGNMENTS,
            signed(envelope("exercise_assigned", assignment(session_id), **{**as_coach, "sender": "mallory"}), intruder),
            "not trusted",
        ),
        (ASSIGNMENTS, json.dumps(tampered).encode(), "bad signature"),
        (ASSIGNMENTS, json.dumps(unsigned_scope).encode(), "unsigned scope_policy"),
        (
            FEEDBACK,
            signed(
                envelope(
                    "assessment_feedback",
                    {"grade": "pass", "next_step": "x", "confidence_delta": 1.0, "exercise_id": exercise_id},
                    **{**as_coach, "student": "bob"},
                )
            ),
            "concerns another student ('bob')",
        ),
        (
            FEEDBACK,
            signed(
                envelope(
                    "assessment_feedback",
                    {"grade": "pass", "next_step": "x", "confidence_delta": 1.0, "exercise_id": exercise_id},
                    **{**as_coach, "student": "bob"},
                ),
                intruder,
            ),
            "bad signature",
        ),
        (
            PROGRESS,
            signed(
                envelope(
                    "progress_update",
                    {"completed": ["s1"]},
                    session_id=session_id,
                    sender=pair.coach_id,
                    student=pair.student_id,
                    actor="coach",
                )
            ),
            "a coach may not send progress_update",
        ),
    ]
    expected_at = {}
    with HostileProducer(pair.bootstrap) as hostile:
        for topic, value, reason in cases:
            expected_at[(topic, hostile.send(topic, key, value)[1])] = reason
        # A tombstone: no value at all.
        expected_at[(ASSIGNMENTS, hostile.send(ASSIGNMENTS, key, None)[1])] = "not valid UTF-8 JSON"

    [report] = sync(student)
    assert report.quarantined == len(cases) + 1 and report.applied == 0
    assert_reasons(student.ledger.quarantined(), expected_at)
    assert student.state.to_json() == before
    assert student.ledger.event_count() == events_before

    # It keeps working: a real assignment sent afterwards arrives.
    coach = pair.coach()
    real = actions.assign_exercise(
        coach,
        session_id,
        topic="fixing",
        exercise="add a discount",
        expected="a patch",
        path="app/inventory.py",
        start_line=12,
        end_line=16,
    )
    sync(coach, student)
    assert student.state.exercises[real].topic == "fixing"
    assert len(student.ledger.quarantined()) == len(cases) + 1  # nothing read twice after the restart of the read


def test_hostile_progress_to_the_coach_is_quarantined(live, broker, tmp_path):
    pair, session_id, exercise_id = live
    bob_root = add_student(pair, tmp_path, "bob")
    coach = pair.coach()
    bob_key = pair.student().__class__.open(bob_root).key
    before = coach.state.to_json()
    events_before = coach.ledger.event_count()

    as_sam = dict(session_id=session_id, sender=pair.student_id, student=pair.student_id, actor="student")
    cases = [
        # Bob is on the roster, but writes into Sam's session…
        (
            PROGRESS,
            b"bob",
            envelope("progress_update", {"completed": ["s1"]}, session_id=session_id, sender="bob", student="bob", actor="student"),
            bob_key,
            "wrote into 'sam''s session",
        ),
        # …or about Sam.
        (
            PROGRESS,
            b"sam",
            envelope(
                "exercise_response",
                {"exercise_id": exercise_id, "response": "done"},
                session_id=session_id,
                sender="bob",
                student="sam",
                actor="student",
            ),
            bob_key,
            "wrote about another student",
        ),
        # Someone with Sam's name and another key.
        (
            PROGRESS,
            b"sam",
            envelope("exercise_acknowledged", {"exercise_id": exercise_id}, **as_sam),
            Ed25519PrivateKey.generate(),
            "bad signature",
        ),
        # A student may not grade itself.
        (
            FEEDBACK,
            b"sam",
            envelope(
                "assessment_feedback", {"grade": "pass", "next_step": "x", "confidence_delta": 1.0, "exercise_id": exercise_id}, **as_sam
            ),
            None,
            "a student may not send assessment_feedback",
        ),
    ]
    sam_key = pair.student().key
    expected_at = {}
    with HostileProducer(pair.bootstrap) as hostile:
        for topic, key, env, signer, reason in cases:
            value = json.dumps(sign_envelope(env, signer or sam_key)).encode()
            expected_at[(topic, hostile.send(topic, key, value)[1])] = reason
    [report] = sync(coach)
    assert report.quarantined == len(cases)
    assert_reasons(coach.ledger.quarantined(), expected_at)
    assert coach.state.to_json() == before and coach.ledger.event_count() == events_before

    # Sam's real answer still arrives.
    student = pair.student()
    actions.acknowledge(student, exercise_id)
    sync(student, coach)
    assert coach.state.exercises[exercise_id].state == "acknowledged"
    assert count_of(coach, session_id) == count_of(student, session_id)


def test_a_value_larger_than_one_fetch_does_not_stall_the_reader(live, broker):
    """3 MB is more than the consumer fetches per partition at once."""
    pair, session_id, _ = live
    student = pair.student()
    with HostileProducer(pair.bootstrap) as hostile:
        hostile.send(ASSIGNMENTS, pair.student_id.encode(), b"z" * 3_000_000)
    coach = pair.coach()
    real = actions.assign_exercise(
        coach,
        session_id,
        topic="fixing",
        exercise="after the flood",
        expected="a patch",
        path="app/inventory.py",
        start_line=12,
        end_line=16,
    )
    sync(coach, student)
    assert real in student.state.exercises
    [q] = student.ledger.quarantined()
    assert "over the 1000000-byte limit" in q["reason"] and q["size"] == 3_000_000  # counted in full, kept as a prefix


def test_a_rostered_student_cannot_break_the_coach_or_erase_another_students_work(live, broker, tmp_path):
    """Bob is on the roster and signs with his own key: a seq past SQLite's range, an
    event_id copied from Sam's answer, and a session the coach never opened."""
    pair, session_id, exercise_id = live
    bob_root = add_student(pair, tmp_path, "bob")
    coach = pair.coach()
    bob_session = actions.start_session(coach, "bob")
    bob = pair.student().__class__.open(bob_root)
    sync(coach, bob)

    # Sam answers, but his answer has not reached the broker yet…
    sam = pair.student()
    actions.acknowledge(sam, exercise_id)
    response_id = actions.respond(sam, exercise_id, "it sums price times quantity")
    as_bob = dict(sender="bob", student="bob", actor="student")
    phantom = str(uuid.uuid4())
    cases = [
        # …when Bob sends an event of his own under the id of Sam's answer
        ({**envelope("progress_update", {"completed": []}, session_id=bob_session, **as_bob, seq=1), "event_id": response_id}, None),
        (
            envelope("progress_update", {"completed": []}, session_id=bob_session, **as_bob, seq=2**63 + 5),
            "fails the schema at 'progress_update.seq': Input should be less than or equal to 9007199254740991",
        ),
        (
            envelope("session_lifecycle", {"from": "init", "to": "plan"}, session_id=phantom, **as_bob, seq=2),
            "which this coach never opened",
        ),
    ]
    expected_at = {}
    with HostileProducer(pair.bootstrap) as hostile:
        for env, reason in cases:
            topic = EVENTS if env["event_type"] == "session_lifecycle" else PROGRESS
            _, offset = hostile.send(topic, b"bob", json.dumps(sign_envelope(env, bob.key)).encode())
            if reason:
                expected_at[(topic, offset)] = reason
    [report] = sync(coach)
    assert report.quarantined == 2
    assert_reasons(coach.ledger.quarantined(), expected_at)
    assert phantom not in coach.state.sessions  # the dashboard never counts it

    # Sam's real answer still arrives and is applied: ids are per sender
    sync(sam, coach)
    ex = coach.state.exercises[exercise_id]
    assert ex.state == "responded" and [r["event_id"] for r in ex.responses] == [response_id]
    assert count_of(coach, session_id) == count_of(sam, session_id)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (b'{"seq": ' + b"9" * 5000 + b"}", "an integer of 5000 digits"),
        (b"[" * 50_000 + b"]" * 50_000, "nested deeper than 16 levels"),
        (b'{"seq": NaN}', "NaN is not a JSON number"),
        (b'{"sender": "carol", "sender": "mallory"}', "appears twice in one object"),
        (json.dumps({"event_type": "\x1b]0;owned\x07\x1b[2J" + "x" * 200}).encode(), "fails the schema"),
    ],
    ids=["huge-int", "deep", "nan", "duplicate-key", "escape-in-type"],
)
def test_one_unsigned_message_stops_no_reader(live, broker, value, reason):
    """Sent by someone outside (confluent-kafka, no key at all) to both sides' partitions."""
    pair, session_id, exercise_id = live
    with HostileProducer(pair.bootstrap) as hostile:
        hostile.send(ASSIGNMENTS, pair.student_id.encode(), value)
        hostile.send(PROGRESS, pair.student_id.encode(), value)
    coach, student = pair.coach(), pair.student()
    real = actions.assign_exercise(
        coach,
        session_id,
        topic="fixing",
        exercise="after the attack",
        expected="a patch",
        path="app/inventory.py",
        start_line=12,
        end_line=16,
    )
    sync(coach, student)
    assert real in student.state.exercises  # the next good event is applied
    actions.acknowledge(student, real)
    sync(student, coach)
    assert coach.state.exercises[real].state == "acknowledged"
    for inst in (coach, student):  # each reads both topics' partition of the student
        quarantined = inst.ledger.quarantined()
        assert sorted(q["topic"] for q in quarantined) == [ASSIGNMENTS, PROGRESS]
        for q in quarantined:
            assert reason in q["reason"] and len(q["reason"]) <= 300
            assert "\x1b" not in q["reason"] and "\x07" not in q["reason"]  # shown, never interpreted
