"""Attacks on the receive path's fast checks, kept as regressions.

The rule the fast header check (``wire_header._canonical``) keeps: it may only ever be
stricter than the model (``events.WireEnvelope``), never more lenient. It checks the
header's texts by joining them with ``|`` and matching one regex; a ``|`` inside one
value used to move the values after it one slot to the right (the readers' group, 1 to 16
parts, taking up the slack), so values the model refuses passed:

- a reader name (a key of ``payload.keys``) that is no identity (``x|y``): the event was
  accepted and applied, though it fails its schema;
- ``prev`` that is no hash (``|`` + 63 identity characters);
- ``student`` that is no identity (``sam|`` + 64 hex digits, when ``prev`` is set);
- ``event_id`` / ``session_id`` that are no UUIDs (``<uuid>|x``), with ``student`` "".

The separators are counted now. Also here: two events of one stream under one
``event_id`` in one batch folded differently live and from the ledger.
"""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from colearner_lsp.core import actions
from colearner_lsp.core.instance import Instance
from colearner_lsp.core.protocol.events import now_ts, parse_wire
from colearner_lsp.core.protocol.receive import Claim, Verdict, examine
from colearner_lsp.core.protocol.wire import write_stream
from colearner_lsp.core.protocol.wire_header import _canonical, read_header
from tests.core.conftest import Wire, make_pair
from tests.core.test_wire_header import FIRST, LATER, TIP, by_the_model
from tests.wire_forge import sealed_message


def changed(base: dict[str, Any], **fields: Any) -> dict[str, Any]:
    data = copy.deepcopy(base)
    data.update(fields)
    return data


def with_reader(base: dict[str, Any], name: str) -> dict[str, Any]:
    data = copy.deepcopy(base)
    data["payload"]["keys"][name] = "A" * 64
    return data


def fast_is_not_more_lenient(data: dict[str, Any]) -> None:
    """What the module promises: the fast check accepts only what the model accepts, with its values."""
    model = by_the_model(data)
    fast = _canonical(data)
    assert fast is None or fast == model, f"the fast check accepts what the model refuses: {model}"


# ---------------------------------------------------------------- the fast header check alone


def test_fast_header_check_refuses_a_reader_name_with_a_pipe() -> None:
    fast_is_not_more_lenient(with_reader(TIP, "x|y"))


def test_fast_header_check_refuses_a_prev_that_is_not_a_hash() -> None:
    fast_is_not_more_lenient(changed(LATER, prev="|" + "a" * 63))
    fast_is_not_more_lenient(changed(LATER, prev="|" + "a" * 31 + "|" + "b" * 31))


def test_fast_header_check_refuses_a_student_that_is_not_an_identity() -> None:
    fast_is_not_more_lenient(changed(LATER, student="sam|" + "ab" * 32))


def test_fast_header_check_refuses_an_event_id_that_is_not_a_uuid() -> None:
    fast_is_not_more_lenient(changed(LATER, event_id=LATER["event_id"] + "|x", student=""))
    fast_is_not_more_lenient(changed(LATER, event_id=LATER["event_id"] + "|x", sender="ab" * 32, student="ab" * 32))


def test_fast_header_check_refuses_a_session_id_that_is_not_a_uuid() -> None:
    fast_is_not_more_lenient(changed(LATER, session_id=LATER["session_id"] + "|" + LATER["event_id"], student=""))


def test_read_header_gives_the_models_refusal_for_a_pipe_in_any_text() -> None:
    """``read_header`` must raise the model's ValidationError (the receiver quotes it) for each."""
    hostile = [
        with_reader(TIP, "x|y"),
        changed(LATER, prev="|" + "a" * 63),
        changed(LATER, student="sam|" + "ab" * 32),
        changed(LATER, event_id=LATER["event_id"] + "|x", student=""),
    ]
    accepted = []
    for data in hostile:
        assert isinstance(by_the_model(data), str)  # the model refuses every one
        try:
            read_header(data)
        except Exception:  # noqa: BLE001, S112 - the expected outcome
            continue
        accepted.append(data)
    assert accepted == [], f"{len(accepted)} of {len(hostile)} headers the model refuses were read as valid"


# ---------------------------------------------------------------- property test: near-valid headers

IDENT = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9._@-]{0,20}\Z")
HEX64 = st.text("0123456789abcdef", min_size=64, max_size=64)
PIECE = st.one_of(IDENT, HEX64, st.just(""), st.uuids().map(str), st.text("|", min_size=1, max_size=2))
JOINED = st.lists(PIECE, min_size=1, max_size=4).map("|".join)
TEXT_FIELDS = ["session_id", "event_id", "sender", "student", "prev"]


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(base=st.sampled_from([TIP, FIRST, LATER]), data=st.data())
def test_property_fast_check_never_more_lenient_than_the_model_on_pipe_joined_texts(base: dict[str, Any], data: st.DataObject) -> None:
    """Near-valid headers: one to three header texts (or a reader name) made of valid-looking pieces
    joined by ``|``; whatever the fast check accepts, the model must accept with the same values."""
    message = copy.deepcopy(base)
    for name in data.draw(st.lists(st.sampled_from([*TEXT_FIELDS, "reader"]), min_size=1, max_size=3, unique=True)):
        value = data.draw(JOINED | IDENT | HEX64)
        if name == "reader":
            message["payload"]["keys"][value] = "A" * 64
        elif name == "prev":
            message["prev"] = value if len(value) == 64 else (value + "a" * 64)[:64]
        else:
            message[name] = value
    fast_is_not_more_lenient(message)


# ---------------------------------------------------------------- end to end: applied though it fails its schema


def _student_event_with_readers(inst: Instance, session_id: str, extra_readers: dict[str, bytes], payload: dict[str, Any]) -> None:
    """A rostered student's (modified) client writes a progress_update sealed to its usual readers plus ``extra_readers``."""
    readers = {**inst._readers(session_id, inst.identity), **extra_readers}

    def build(first_seq: int, prev: str | None) -> list[Any]:
        header = {"ts": now_ts(), "actor": "student", "session_id": session_id, "event_type": "progress_update"}
        header.update({"event_id": str(uuid.uuid4()), "sender": inst.identity, "student": inst.identity})
        [w] = write_stream([header], [payload], first_seq, prev, readers, inst.key)
        return [(w.opened, inst.topic("progress_update"), json.dumps(w.opened), w.wire, w.hash)]

    inst.ledger.append_own_batch(inst.identity, inst.identity, 1, build)


def test_an_event_whose_reader_name_fails_the_schema_is_not_applied(tmp_path: Path) -> None:
    """A reader name ``coach|x`` (no identity: the model refuses it) beside the real readers:
    the event must be quarantined with the schema's reason; the fast check lets it be applied."""
    coach, (student,) = make_pair(tmp_path)
    wire = Wire()
    try:
        session_id = actions.start_session(coach, "alice")
        wire.exchange(coach, student)
        shared = student._readers(session_id, "alice")["coach"]
        _student_event_with_readers(student, session_id, {"coach|x": shared}, {"completed": [], "confidence": {"smuggled": 0.9}})
        wire.publish(student)
        sent = json.loads(wire.logs[student.config.topics.progress][-1])
        assert "coach|x" in sent["payload"]["keys"]
        assert isinstance(by_the_model(sent), str)  # the schema refuses this header
        outcomes = wire.deliver(coach)
        assert "appended" not in outcomes, outcomes
        assert "smuggled" not in coach.state.sessions[session_id].confidence
        reasons = [q["reason"] for q in coach.ledger.quarantined()]
        assert any("fails the schema at 'payload.keys" in r for r in reasons), reasons
    finally:
        coach.close()
        student.close()


def test_examine_refuses_a_signed_tip_whose_prev_is_no_hash_for_its_schema(tmp_path: Path) -> None:
    """A rostered student's signed tip whose ``prev`` is ``|`` + 63 letters: ``examine`` must refuse it
    with the schema's reason (as for any other non-hash prev), not hand it to the chain as a claim."""
    coach, (student,) = make_pair(tmp_path)
    try:
        readers = {"coach": coach.public_key, "alice": student.public_key}
        raw = sealed_message(
            student.key, readers, "progress_update", {"completed": [], "confidence": {}}, sender="alice", student="alice",
            actor="student", session_id=str(uuid.uuid4()), seq=5, prev="|" + "a" * 63,
        )  # fmt: skip
        other = sealed_message(
            student.key, readers, "progress_update", {"completed": [], "confidence": {}}, sender="alice", student="alice",
            actor="student", session_id=str(uuid.uuid4()), seq=5, prev="g" * 64,
        )  # fmt: skip
        careful = examine(other, coach.config, coach.public_key)
        assert isinstance(careful, Verdict) and "fails the schema at 'prev'" in (careful.reason or "")
        fast = examine(raw, coach.config, coach.public_key)
        assert not isinstance(fast, Claim), "a prev that is no hash was taken for a header that passed its schema"
        assert isinstance(fast, Verdict) and "fails the schema at 'prev'" in (fast.reason or ""), fast
    finally:
        coach.close()
        student.close()


def test_examine_refuses_a_student_that_is_no_identity_for_its_schema(tmp_path: Path) -> None:
    """A coach's tip about student ``alice|<64 hex>``, read by the student: the model's reason
    (``student`` fails its pattern), not a claim that concerns another student."""
    coach, (student,) = make_pair(tmp_path)
    try:
        readers = {"coach": coach.public_key, "alice": student.public_key}
        raw = sealed_message(
            coach.key, readers, "learning_plan", {"goals": ["g"], "plan": [{"id": "s", "topic": "t"}]}, sender="coach",
            student="alice|" + "ab" * 32, actor="coach", session_id=str(uuid.uuid4()), seq=3, prev="cd" * 32,
        )  # fmt: skip
        data = json.loads(raw)
        assert isinstance(by_the_model(data), str)
        verdict = examine(raw, student.config, student.public_key)
        assert isinstance(verdict, Verdict)
        assert "fails the schema at 'student'" in (verdict.reason or ""), verdict.reason
    finally:
        coach.close()
        student.close()


# ---------------------------------------------------------------- one event id twice in a batch (main too)


def test_two_events_under_one_event_id_in_a_batch_fold_the_same_live_and_from_the_ledger(tmp_path: Path) -> None:
    """A rostered student's client writes seq n and n+1 of its stream under one event_id (different
    payloads), tip at n+1. The ledger keeps one of them; the live fold must apply that same one,
    so that the coach's state is what it folds again from its ledger after a restart."""
    coach, (student,) = make_pair(tmp_path)
    wire = Wire()
    try:
        session_id = actions.start_session(coach, "alice")
        wire.exchange(coach, student)
        readers = student._readers(session_id, "alice")
        same_id = str(uuid.uuid4())
        mine = [r for r in student.ledger.events_as_sent(0) if r[0] == "alice" and r[1] == "alice"]
        first_seq, prev = (max(r[2] for r in mine) + 1, max(mine, key=lambda r: r[2])[4]) if mine else (1, None)
        headers = [
            {"ts": now_ts(), "actor": "student", "session_id": session_id, "event_type": "progress_update",
             "event_id": same_id, "sender": "alice", "student": "alice"}
            for _ in range(2)
        ]  # fmt: skip
        payloads = [{"completed": [], "confidence": {"t": 0.1}}, {"completed": [], "confidence": {"t": 0.9}}]
        for w in write_stream(headers, payloads, first_seq, prev, readers, student.key):
            wire.inject(student.topic("progress_update"), w.wire.encode())  # what the modified client publishes
        wire.deliver(coach)
        live = dict(coach.state.sessions[session_id].confidence)
        root = coach.root
        coach.close()
        coach = Instance.open(root)
        again = dict(coach.state.sessions[session_id].confidence)
        assert live == again, f"live fold {live}, folded again from the ledger {again}"
    finally:
        coach.close()
        student.close()


def test_parse_wire_and_read_header_agree_on_the_writers_own_header() -> None:
    """(A sanity check of the helpers above: the writer's own headers take the fast path, both agree.)"""
    for data in (TIP, FIRST, LATER):
        env = parse_wire(data)
        assert _canonical(data) is not None and read_header(data).event_id == env.event_id
