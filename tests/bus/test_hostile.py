"""Bad and hostile input, written straight onto the topics by a third-party
client (confluent-kafka / librdkafka), keyed to the student so it lands on the
partition the student reads. Each message is quarantined with its reason, the
state does not move, and the instance keeps working.
"""

from __future__ import annotations

import functools
import json
import uuid

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from colearner_lsp.core import actions
from colearner_lsp.core.protocol.events import now_ts
from tests.bus.exchange import count_of
from tests.instances import add_student, assign_fixing, sync
from tests.kafka_harness import HostileProducer
from tests.wire_forge import ASSIGNMENTS, EVENTS, FEEDBACK, PROGRESS, laid_out, own_event, sealed_message

# A place far from any real one of the streams: each message stands alone, judged on its own signed tip.
message = functools.partial(sealed_message, seq=900)


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


def test_hostile_messages_to_the_student_are_quarantined(live, broker):
    pair, session_id, exercise_id = live
    student, coach = pair.student(), pair.coach()
    coach_key = coach.key
    before = student.state.to_json()
    events_before = student.ledger.event_count()
    intruder = Ed25519PrivateKey.generate()
    key = pair.student_id.encode()
    readers = {pair.coach_id: coach.public_key, pair.student_id: student.public_key}

    as_coach = dict(session_id=session_id, sender=pair.coach_id, student=pair.student_id, actor="coach")
    tampered = json.loads(message(coach_key, readers, "exercise_assigned", assignment(session_id), **as_coach))
    tampered["payload"]["sealed"] = "AAAA" + tampered["payload"]["sealed"][4:]
    v1_signed = json.dumps(
        {
            "ts": now_ts(),
            **as_coach,
            "event_type": "scope_policy",
            "payload": {"allow": ["**"], "share": "diff"},
            "event_id": str(uuid.uuid4()),
            "seq": 5,
        }
    ).encode()
    feedback = {"grade": "pass", "next_step": "x", "confidence_delta": 1.0, "exercise_id": exercise_id}
    cases = [
        (ASSIGNMENTS, b"\x00\xff\xfe garbage \x80", "not valid UTF-8 JSON"),
        (ASSIGNMENTS, b'{"unterminated": ', "not valid UTF-8 JSON"),
        (FEEDBACK, b"[1, 2, 3]", "not a JSON object"),
        (FEEDBACK, json.dumps({"grade": "pass", "hello": "world"}).encode(), "a wire v1 message"),
        (FEEDBACK, json.dumps({"v": 2, "grade": "pass", "hello": "world"}).encode(), "fails the schema"),
        (ASSIGNMENTS, v1_signed, "a wire v1 message (its payload not sealed)"),
        (EVENTS, message(coach_key, readers, "delete_everything", {"all": True}, **as_coach), "fails the schema at 'event_type'"),
        (ASSIGNMENTS, b'{"pad": "' + b"y" * 1_100_000 + b'"}', "over the 1000000-byte limit"),
        (
            ASSIGNMENTS,
            message(intruder, readers, "exercise_assigned", assignment(session_id), **as_coach),
            "bad signature on the tip at seq 900",
        ),
        (
            ASSIGNMENTS,
            message(intruder, readers, "exercise_assigned", assignment(session_id), **{**as_coach, "sender": "mallory"}),
            "not trusted",
        ),
        (ASSIGNMENTS, laid_out(tampered), "bad signature on the tip"),
        (
            FEEDBACK,
            message(coach_key, readers, "assessment_feedback", feedback, **{**as_coach, "student": "bob"}),
            "concerns another student ('bob')",
        ),
        (
            FEEDBACK,
            message(intruder, readers, "assessment_feedback", feedback, **{**as_coach, "student": "bob"}),
            "concerns another student ('bob')",
        ),
        (
            PROGRESS,
            message(coach_key, readers, "progress_update", {"completed": ["s1"]}, **as_coach),
            "a coach may not send progress_update",
        ),
    ]
    expected_at = {}
    with HostileProducer(pair.bootstrap) as hostile:
        for topic, value, reason in cases:
            expected_at[(topic, hostile.send(topic, key, value)[1])] = reason
        # A tombstone: no value at all.
        expected_at[(ASSIGNMENTS, hostile.send(ASSIGNMENTS, key, None)[1])] = "not valid UTF-8 JSON"
        # An event of the coach's stream without its signed tip: held, never applied.
        unsigned = json.loads(message(coach_key, readers, "scope_policy", {"allow": ["**"], "share": "diff", "version": 99}, **as_coach))
        del unsigned["sig"]
        hostile.send(ASSIGNMENTS, key, json.dumps(unsigned).encode())
    # The coach's own client, changed: signed, chained and sealed, but what they say breaks the schema.
    rogue = [
        own_event(coach, pair.student_id, session_id, "exercise_assigned", assignment(session_id, exercise="x" * 30_000)),
        own_event(coach, pair.student_id, session_id, "scope_policy", {"allow": ["**"], "share": "everything"}),
    ]
    sync(coach)

    [report] = sync(student)
    assert report.quarantined == len(cases) + 1 + len(rogue) and report.applied == 0 and report.held == 1
    quarantined = student.ledger.quarantined()
    assert_reasons([q for q in quarantined if q["offset"] in {o for _, o in expected_at}], expected_at)
    rogue_reasons = sorted(
        q["reason"]
        for q in quarantined
        if q["reason"].startswith("fails the schema at 'exercise_assigned.payload") or "scope_policy.payload" in q["reason"]
    )
    assert len(rogue_reasons) == 2 and "String should have at most 20000 characters" in rogue_reasons[0], rogue_reasons
    assert student.state.to_json() == before
    # nothing of the coach's stream was added; the student only asked for what the held event claims precedes it
    added = [row for row in student.ledger.events_after(0)][events_before:]
    assert [json.loads(row.raw)["event_type"] for row in added] == ["resync_request"]
    assert (pair.coach_id, pair.student_id) in student.ledger.held_streams()

    # It keeps working: a real assignment sent afterwards arrives.
    real = assign_fixing(coach, session_id, "add a discount")
    sync(coach, student)
    assert student.state.exercises[real].topic == "fixing"
    assert len(student.ledger.quarantined()) == len(cases) + 1 + len(rogue)  # nothing read twice after the restart of the read


def test_hostile_progress_to_the_coach_is_quarantined(live, broker, tmp_path):
    pair, session_id, exercise_id = live
    bob_root = add_student(pair, tmp_path, "bob")
    coach = pair.coach()
    bob = pair.student().__class__.open(bob_root)
    sam = pair.student()
    before = coach.state.to_json()
    events_before = coach.ledger.event_count()
    to_coach = {pair.coach_id: coach.public_key}

    as_sam = dict(session_id=session_id, sender=pair.student_id, student=pair.student_id, actor="student")
    cases = [
        # Bob is on the roster, but writes about Sam…
        (
            PROGRESS,
            b"sam",
            message(
                bob.key,
                to_coach,
                "exercise_response",
                {"exercise_id": exercise_id, "response": "done"},
                session_id=session_id,
                sender="bob",
                student="sam",
                actor="student",
            ),
            "wrote about another student",
        ),
        # Someone with Sam's name and another key.
        (
            PROGRESS,
            b"sam",
            message(Ed25519PrivateKey.generate(), to_coach, "exercise_acknowledged", {"exercise_id": exercise_id}, **as_sam),
            "bad signature",
        ),
        # A student may not grade itself.
        (
            FEEDBACK,
            b"sam",
            message(
                sam.key,
                to_coach,
                "assessment_feedback",
                {"grade": "pass", "next_step": "x", "confidence_delta": 1.0, "exercise_id": exercise_id},
                **as_sam,
            ),
            "a student may not send assessment_feedback",
        ),
    ]
    expected_at = {}
    with HostileProducer(pair.bootstrap) as hostile:
        for topic, key, value, reason in cases:
            expected_at[(topic, hostile.send(topic, key, value)[1])] = reason
    # …or, with his own client changed, writes into Sam's session: signed, chained, refused for what it says.
    own_event(bob, "bob", session_id, "progress_update", {"completed": ["s1"], "confidence": {}})
    sync(bob)
    [report] = sync(coach)
    assert report.quarantined == len(cases) + 1
    quarantined = coach.ledger.quarantined()
    assert_reasons([q for q in quarantined if q["sender"] != "bob" or q["student"] != "bob"], expected_at)
    assert any("wrote into 'sam''s session" in q["reason"] for q in quarantined if q["sender"] == "bob")
    assert coach.state.to_json() == before and coach.ledger.event_count() == events_before

    # Sam's real answer still arrives.
    actions.acknowledge(sam, exercise_id)
    sync(sam, coach)
    assert coach.state.exercises[exercise_id].state == "acknowledged"
    assert count_of(coach, session_id) == count_of(sam, session_id)
    bob.close()


def test_a_value_larger_than_one_fetch_does_not_stall_the_reader(live, broker):
    """3 MB is more than the consumer fetches per partition at once."""
    pair, session_id, _ = live
    student = pair.student()
    with HostileProducer(pair.bootstrap) as hostile:
        hostile.send(ASSIGNMENTS, pair.student_id.encode(), b"z" * 3_000_000)
    coach = pair.coach()
    real = assign_fixing(coach, session_id, "after the flood")
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
    # …when Bob, with his own client changed, sends an event under the id of Sam's answer,
    own_event(bob, "bob", bob_session, "progress_update", {"completed": [], "confidence": {}}, event_id=response_id)
    # and a lifecycle move in a session the coach never opened;
    own_event(bob, "bob", phantom, "session_lifecycle", {"from": "init", "to": "plan"})
    sync(bob)
    # and, from outside his client, a seq past SQLite's range.
    with HostileProducer(pair.bootstrap) as hostile:
        huge = message(
            bob.key,
            {pair.coach_id: coach.public_key},
            "progress_update",
            {"completed": []},
            session_id=bob_session,
            **as_bob,
            seq=2**63 + 5,
        )
        _, offset = hostile.send(PROGRESS, b"bob", huge)
    [report] = sync(coach)
    assert report.quarantined == 2
    reasons = {q["offset"]: q["reason"] for q in coach.ledger.quarantined()}
    assert reasons[offset] == "fails the schema at 'seq': Input should be less than or equal to 9007199254740991"
    assert sum("which this coach never opened" in r for r in reasons.values()) == 1
    assert phantom not in coach.state.sessions  # the dashboard never counts it

    # Sam's real answer still arrives and is applied: ids are per sender
    sync(sam, coach)
    ex = coach.state.exercises[exercise_id]
    assert ex.state == "responded" and [r.event_id for r in ex.responses] == [response_id]
    assert count_of(coach, session_id) == count_of(sam, session_id)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (b'{"seq": ' + b"9" * 5000 + b"}", "an integer of 5000 digits"),
        (b"[" * 50_000 + b"]" * 50_000, "nested deeper than 16 levels"),
        (b'{"seq": NaN}', "NaN is not a JSON number"),
        (b'{"sender": "carol", "sender": "mallory"}', "appears twice in one object"),
        (json.dumps({"v": 2, "event_type": "\x1b]0;owned\x07\x1b[2J" + "x" * 200}).encode(), "fails the schema"),
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
    real = assign_fixing(coach, session_id, "after the attack")
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
