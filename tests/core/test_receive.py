"""``receive``: the security rules, message by message (``judge_alone``; the chain
across messages is tests/core/test_chain.py's). Every refusal names its reason;
nothing refused is ever applied, and the instance goes on."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from colearner_lsp.core.config import AgentConfig, Peer
from colearner_lsp.core.protocol.receive import MAX_MESSAGE_BYTES, judge_alone
from colearner_lsp.core.protocol.signing import generate_key, public_key_text
from colearner_lsp.core.store.ledger import Incoming
from tests.core.conftest import Wire, make_pair
from tests.wire_forge import own_event, sealed_message

COACH_KEY, ALICE_KEY, BOB_KEY, MALLORY_KEY = (generate_key() for _ in range(4))
KEYS = {"coach": COACH_KEY, "alice": ALICE_KEY, "bob": BOB_KEY, "mallory": MALLORY_KEY}
SESSION = str(uuid.uuid4())
BOB_SESSION = str(uuid.uuid4())


def config(identity: str, role: str, peers: dict[str, tuple[str, Any]]) -> AgentConfig:
    return AgentConfig(
        identity=identity,
        role=role,
        key_file="/unused.pem",  # type: ignore[arg-type]
        peers={n: Peer(role=r, public_key=public_key_text(k)) for n, (r, k) in peers.items()},  # type: ignore[arg-type]
    )


COACH = config("coach", "coach", {"alice": ("student", ALICE_KEY), "bob": ("student", BOB_KEY)})
ALICE = config("alice", "student", {"coach": ("coach", COACH_KEY)})
ON_COACH = {SESSION: "alice", BOB_SESSION: "bob"}


def message(event_type: str, payload: Any, key: Any, readers: tuple[str, ...] = ("coach", "alice"), **fields: Any) -> dict[str, Any]:
    """A v2 message as a dict (its own signed tip), sealed to ``readers``."""
    fields.setdefault("session_id", SESSION)
    fields.setdefault("sender", "coach")
    fields.setdefault("actor", "coach")
    fields.setdefault("student", "alice")
    sealed_for = {name: public_key_text(KEYS[name]) for name in readers}
    return json.loads(sealed_message(key, sealed_for, event_type=event_type, payload=payload, **fields))


def progress(key: Any = ALICE_KEY, **fields: Any) -> dict[str, Any]:
    fields = {"sender": "alice", "actor": "student", "student": "alice", **fields}
    return message("progress_update", {"completed": ["step-1"], "confidence": {"t": 0.5}}, key, **fields)


def assignment(key: Any = COACH_KEY, **fields: Any) -> dict[str, Any]:
    fields = {"sender": "coach", "actor": "coach", "student": "alice", **fields}
    return message("exercise_assigned", {"topic": "t", "exercise": "e", "expected": "x", "exercise_id": "ex-1"}, key, **fields)


def raw(data: Any) -> bytes:
    """``data`` laid out as a writer sends it (canonical JSON, a tip's sig as its last member), whatever it holds."""
    from colearner_lsp.core.protocol.signing import SIG_MEMBER, canonical_json

    if not isinstance(data, dict) or not isinstance(data.get("sig"), str):
        return json.dumps(data).encode() if not isinstance(data, dict) else canonical_json({k: v for k, v in data.items() if k != "sig"})
    body = canonical_json({k: v for k, v in data.items() if k != "sig"})
    return body[:-1] + SIG_MEMBER.encode() + data["sig"].encode() + b'"}'


def on_coach(data: Any) -> str | None:
    return judge_alone(raw(data) if not isinstance(data, bytes) else data, COACH, COACH_KEY, ON_COACH).reason


def on_alice(data: Any) -> str | None:
    return judge_alone(raw(data) if not isinstance(data, bytes) else data, ALICE, ALICE_KEY, {}).reason


# ---------------------------------------------------------------- accepted


def test_student_accepts_its_coachs_assignment() -> None:
    data = assignment()
    verdict = judge_alone(raw(data), ALICE, ALICE_KEY, {})
    assert verdict.accepted and verdict.reason is None
    assert verdict.envelope is not None and verdict.envelope["payload"]["exercise_id"] == "ex-1"  # opened
    assert verdict.event is not None and verdict.event.event_type == "exercise_assigned"
    assert verdict.event.payload.exercise == "e"  # type: ignore[attr-defined]


def test_coach_accepts_a_rostered_students_progress() -> None:
    assert on_coach(progress()) is None
    assert on_coach(progress(BOB_KEY, sender="bob", student="bob", session_id=BOB_SESSION, readers=("coach", "bob"))) is None


def test_coach_refuses_a_session_it_never_opened_until_it_knows_it() -> None:
    phantom = str(uuid.uuid4())
    verdict = judge_alone(raw(progress(session_id=phantom)), COACH, COACH_KEY, ON_COACH)
    assert verdict.reason is not None and "which this coach never opened" in verdict.reason
    assert verdict.retry_session == phantom  # judged again if the coach's own start of it turns up


def test_own_events_coming_back_are_accepted() -> None:
    assert on_coach(assignment()) is None  # the coach's own event, echoed on a shared topic
    assert on_alice(progress()) is None


def test_lifecycle_from_either_side() -> None:
    move = {"from": "plan", "to": "practice", "reason": "ack"}
    assert on_coach(message("session_lifecycle", move, ALICE_KEY, sender="alice", actor="student", student="alice")) is None
    assert on_alice(message("session_lifecycle", move, COACH_KEY, sender="coach", actor="coach", student="alice")) is None


# ---------------------------------------------------------------- refused: not an event


@pytest.mark.parametrize("data", [b"\xff\xfe\x00garbage", b"\x80"])
def test_garbage_bytes(data: bytes) -> None:
    reason = on_coach(data)
    assert reason is not None and reason.startswith("not valid UTF-8 JSON (UnicodeDecodeError")


@pytest.mark.parametrize("data", [b"", b"{", b"{'a': 1}", b'{"a": 1} trailing'])
def test_not_json(data: bytes) -> None:
    reason = on_alice(data)
    assert reason is not None and reason.startswith("not valid UTF-8 JSON (JSONDecodeError")


@pytest.mark.parametrize(("value", "kind"), [([1, 2], "list"), ("text", "str"), (3, "int"), (None, "NoneType"), (True, "bool")])
def test_not_an_object(value: Any, kind: str) -> None:
    assert on_alice(value) == f"not a JSON object (found {kind})"


def test_a_v1_message_says_so() -> None:
    v1 = {k: v for k, v in progress().items() if k not in ("v", "prev")}
    v1["payload"] = {"completed": ["step-1"], "confidence": {}}
    assert on_coach(v1) == "a wire v1 message (its payload not sealed); this instance reads wire v2 only"
    assert on_coach({**v1, "v": 1}) == "a wire v1 message (its payload not sealed); this instance reads wire v2 only"
    assert on_coach({**v1, "v": "2"}) == "a wire vstr message (its payload not sealed); this instance reads wire v2 only"


def test_wrong_shape() -> None:
    data = message("progress_update", {"completed": "step-1"}, ALICE_KEY, sender="alice", actor="student")  # a string where a list goes
    assert on_coach(data) == "fails the schema at 'progress_update.payload.completed': Input should be a valid list"
    assert on_coach({"v": 2, "hello": "world"}) == "fails the schema at 'ts': Field required"
    missing = progress()
    del missing["seq"]
    assert on_coach(missing) == "fails the schema at 'seq': Field required"
    plain = progress()
    plain["payload"] = {"completed": ["step-1"], "confidence": {}}  # not sealed
    assert on_coach(plain) == "fails the schema at 'payload.nonce': Field required"
    first = progress()
    first["prev"] = "0" * 64  # seq 1 names a predecessor
    assert on_coach(first) == "seq 1 with prev set: only seq 1 starts a stream"


def test_unknown_event_type() -> None:
    data = message("exercise_deleted", {}, ALICE_KEY, sender="alice", actor="student", student="alice")
    reason = on_coach(data)
    assert reason is not None and reason.startswith("fails the schema at 'event_type': Input should be 'learning_plan'")


def test_huge_message() -> None:
    data = progress()
    big = raw(data)[:-1] + b', "pad": "' + b"x" * MAX_MESSAGE_BYTES + b'"}'
    assert on_coach(big) == f"message of {len(big)} bytes is over the {MAX_MESSAGE_BYTES}-byte limit"


def test_huge_value_under_the_message_limit() -> None:
    data = message(
        "exercise_response", {"exercise_id": "ex-1", "response": "x" * 30_000}, ALICE_KEY, sender="alice", actor="student", student="alice"
    )
    assert on_coach(data) == "fails the schema at 'exercise_response.payload.response': String should have at most 20000 characters"


@pytest.mark.parametrize(
    ("plaintext", "reason"),
    [
        (b"1" * 5000, "an integer of 5000 digits"),
        (b"[" * 50_000 + b"]" * 50_000, "nested deeper than"),
        (b"\xff", "not valid UTF-8 JSON (UnicodeDecodeError"),
        (b'{"completed": [], "completed": []}', "appears twice"),
    ],
)
def test_hostile_plaintext_inside_a_valid_seal(plaintext: bytes, reason: str) -> None:
    """A signed, correctly sealed payload that is itself hostile JSON is refused like a hostile message."""
    data = message("progress_update", plaintext, ALICE_KEY, sender="alice", actor="student")
    got = on_coach(data)
    assert got is not None and got.startswith("the payload of progress_update") and reason in got, got


# ---------------------------------------------------------------- refused: signatures and seals


def test_unsigned() -> None:
    data = progress()
    del data["sig"]
    assert on_coach(data) == "unsigned progress_update from 'alice' (no signed tip links it)"
    data["sig"] = None
    assert on_coach(data) == "unsigned progress_update from 'alice' (no signed tip links it)"


def test_untrusted_signer() -> None:
    data = progress(MALLORY_KEY, sender="mallory", student="mallory")
    assert on_coach(data) == "progress_update from 'mallory', who is not trusted here (pin their key with 'colearner trust mallory KEY')"
    assert on_alice(assignment(MALLORY_KEY, sender="mallory")) == (
        "exercise_assigned from 'mallory', who is not trusted here (pin their key with 'colearner trust mallory KEY')"
    )


def test_forged_by_the_wrong_key() -> None:
    forged = progress(MALLORY_KEY)  # claims to be alice
    assert on_coach(forged) == f"bad signature on progress_update {forged['event_id']} from 'alice'"
    forged = assignment(ALICE_KEY)  # a student forging the coach's assignment
    assert on_alice(forged) == f"bad signature on exercise_assigned {forged['event_id']} from 'coach'"


def test_tampered_after_signing() -> None:
    data = assignment()
    data["payload"]["sealed"] = data["payload"]["sealed"][:-4] + ("AAAA" if not data["payload"]["sealed"].endswith("AAAA") else "BBBB")
    assert on_alice(data) == f"bad signature on exercise_assigned {data['event_id']} from 'coach'"
    data = progress()
    data["ts"] = "2020-01-01T00:00:00.000000Z"
    assert on_coach(data) == f"bad signature on progress_update {data['event_id']} from 'alice'"


def test_sealed_for_others_does_not_open() -> None:
    """A coach's own event to bob, as alice would read it: signed and trusted, but not hers to open."""
    to_bob = assignment(student="alice", readers=("coach", "bob"))
    assert on_alice(to_bob) == (
        f"exercise_assigned {to_bob['event_id']} from 'coach' cannot be opened: not addressed to 'alice' (sealed for: bob, coach)"
    )


def test_a_ciphertext_moved_to_another_events_header_does_not_open() -> None:
    """Even re-signed by its rightful writer, a payload moved under another header stays shut (its header is the seal's associated data)."""
    from colearner_lsp.core.protocol.signing import sign_to_json

    original, other = assignment(), assignment()
    moved = {k: v for k, v in other.items() if k != "sig"} | {"payload": original["payload"]}
    text = sign_to_json(moved, COACH_KEY)[1].encode()
    reason = on_alice(text)
    assert reason == (
        f"exercise_assigned {other['event_id']} from 'coach' cannot be opened: "
        "the payload does not open under this header (altered, or moved from another event)"
    )


def test_own_identity_forged() -> None:
    forged = assignment(MALLORY_KEY)  # claims to be the coach itself
    assert on_coach(forged) == f"bad signature on exercise_assigned {forged['event_id']} from 'coach'"
    forged = progress(MALLORY_KEY, sender="coach", actor="coach", student="alice")
    assert on_coach(forged) == "a coach may not send progress_update"
    wrong_actor = progress(COACH_KEY, sender="coach", actor="student")
    assert on_coach(wrong_actor) == "'coach' is this instance's own name but wrote as student"


# ---------------------------------------------------------------- refused: roles and students


def test_wrong_role_for_event_type() -> None:
    # alice is a trusted student and signs correctly, but students do not assign exercises
    data = assignment(ALICE_KEY, sender="alice", actor="student")
    assert on_coach(data) == "a student may not send exercise_assigned"
    data = message(
        "assessment_feedback",
        {"grade": "pass", "next_step": "n", "confidence_delta": 0.5},
        ALICE_KEY,
        sender="alice",
        actor="student",
        student="alice",
    )
    assert on_coach(data) == "a student may not send assessment_feedback"
    # and the coach does not write a student's progress
    assert on_alice(progress(COACH_KEY, sender="coach", actor="coach")) == "a coach may not send progress_update"


def test_peer_claiming_the_other_role() -> None:
    data = assignment(ALICE_KEY, sender="alice", actor="coach")
    assert on_coach(data) == "'alice' is a trusted student but wrote as coach"


def test_student_receives_an_event_for_another_student() -> None:
    data = assignment(student="bob")
    assert on_alice(data) == "exercise_assigned concerns another student ('bob')"


def test_student_writes_about_another_student() -> None:
    data = progress(student="bob", session_id=BOB_SESSION)
    assert on_coach(data) == "student 'alice' wrote about another student ('bob')"


def test_student_writes_into_another_students_session() -> None:
    data = progress(session_id=BOB_SESSION)
    assert on_coach(data) == f"student 'alice' wrote into 'bob''s session {BOB_SESSION}"


# ---------------------------------------------------------------- an instance goes on


def test_refused_messages_are_quarantined_and_the_rest_applied(tmp_path: Path, wire: Wire) -> None:
    from colearner_lsp.core import actions

    coach, (alice, bob) = make_pair(tmp_path, students=("alice", "bob"))
    try:
        bob_session = actions.start_session(coach, "bob")
        alice_session = actions.start_session(coach, "alice")
        actions.send_plan(coach, alice_session, ["g"], [("s1", "topic")])
        wire.exchange(coach, alice, bob)
        topic = alice.config.topics.progress
        forged = sealed_message(
            MALLORY_KEY,
            {"coach": coach.public_key},
            event_type="progress_update",
            payload={"completed": ["s1"], "confidence": {}},
            sender="alice",
            actor="student",
            student="alice",
            session_id=alice_session,
        )
        wire.inject(topic, b"\x00garbage")
        wire.inject(topic, forged)
        # alice's own client, changed to write into bob's session: signed, chained, refused for what it says
        intruder = own_event(alice, "alice", bob_session, "progress_update", {"completed": ["s1"], "confidence": {}})
        actions.submit_progress(alice, alice_session, ["s1"], {"topic": 0.9})
        wire.publish(alice)
        outcomes = wire.deliver(coach)
        assert outcomes.count("quarantined") == 3 and outcomes[-1] == "appended"
        reasons = [q["reason"] for q in coach.ledger.quarantined()]
        assert reasons[0].startswith("not valid UTF-8 JSON")
        assert reasons[1] == "bad signature on the tip at seq 1 of 'alice' for 'alice'"
        assert reasons[2] == f"student 'alice' wrote into 'bob''s session {bob_session}"
        # the good event after them was applied; nothing of the refused ones was
        assert coach.state.sessions[alice_session].completed == ["s1"]
        assert coach.state.sessions[bob_session].completed == []
        assert intruder["event_id"] not in coach.state.seen
        # read past, and never read again
        assert wire.deliver(coach) == []
        # a redelivery of everything is harmless
        positions = dict(coach.ledger.positions())
        coach.ledger.set_position(topic, 0, 0)
        again = coach.receive([Incoming(raw=m, topic=topic, partition=0, offset=i) for i, m in enumerate(wire.logs[topic])])
        # the garbage is refused again; the rest sit at or behind the chain's head: nothing applied twice
        assert again.outcomes[0] == "quarantined" and set(again.outcomes[1:]) <= {"duplicate", "quarantined"}
        assert again.applied == []
        assert coach.ledger.positions()[(topic, 0)][0] == positions[(topic, 0)][0]
    finally:
        for inst in (coach, alice, bob):
            inst.close()


# ---------------------------------------------------------------- the wire layout


def wire_text(data: dict[str, Any], key: Any) -> bytes:
    """What an instance publishes: canonical JSON with ``sig`` as its last member."""
    from colearner_lsp.core.protocol.signing import sign_to_json

    return sign_to_json({k: v for k, v in data.items() if k != "sig"}, key)[1].encode()


def test_wire_text_is_the_signed_object() -> None:
    data = progress()
    text = wire_text(data, ALICE_KEY)
    assert json.loads(text) == data
    assert text.endswith(b',"sig":"' + data["sig"].encode() + b'"}')
    verdict = judge_alone(text, COACH, COACH_KEY, ON_COACH)
    assert verdict.accepted and verdict.envelope is not None and verdict.envelope["payload"]["completed"] == ["step-1"]


def test_every_changed_byte_of_the_wire_text_is_refused() -> None:
    text = wire_text(progress(), ALICE_KEY)
    for i in range(len(text)):
        for replacement in {ord("0"), ord(" "), ord('"'), text[i] ^ 1} - {text[i]}:
            changed = text[:i] + bytes([replacement]) + text[i + 1 :]
            verdict = judge_alone(changed, COACH, COACH_KEY, ON_COACH)
            assert not verdict.accepted, (i, changed)


def test_other_layouts_of_a_signed_tip_are_refused() -> None:
    """The chain names an event by its bytes, so a tip must be the bytes its writer signed: the
    same object laid out anew would be a second signed event at its place (a fork anyone could make)."""
    data = progress()
    unsorted_sig_last = {k: data[k] for k in reversed(list(data)) if k != "sig"} | {"sig": data["sig"]}
    for text in (
        json.dumps(data, indent=2),
        json.dumps(unsorted_sig_last, separators=(",", ":")),
        json.dumps({"sig": data["sig"], **data}),
    ):
        reason = on_coach(text.encode())
        assert reason in (
            f"progress_update {data['event_id']} from 'alice' is not laid out as it was signed (its sig must close its bytes)",
            f"bad signature on progress_update {data['event_id']} from 'alice'",  # sig last, but other bytes before it
        ), text
    assert on_coach(wire_text(data, ALICE_KEY)) is None  # the signer's own layout


def test_forged_wire_text_with_a_valid_signature_elsewhere_is_refused() -> None:
    """A real signature moved onto other content fails by either path."""
    genuine = progress()
    forged = {**progress(), "sig": genuine["sig"]}
    body = json.dumps({k: v for k, v in forged.items() if k != "sig"}, sort_keys=True, separators=(",", ":"))
    text = (body[:-1] + ',"sig":"' + genuine["sig"] + '"}').encode()
    assert on_coach(text) is not None and "bad signature" in on_coach(text)  # type: ignore[operator]
