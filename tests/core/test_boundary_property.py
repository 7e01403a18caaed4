"""The receive boundary, fed arbitrary bytes and arbitrary JSON values.

Whatever arrives, ``Instance.receive`` returns: no exception escapes, every
message is quarantined (none of these is a signed event of a trusted peer),
the folded state and the events held do not move, and the read position
advances past each message, so nothing blocks what comes after it.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from colearner_lsp.core.protocol.strict_json import MAX_DEPTH, Refused, decode
from colearner_lsp.core.store.ledger import Incoming
from tests.core.conftest import make_pair

TOPIC = "colearner.assignments.v1"

# Values of every JSON shape, deep and wide, with numbers no schema expects and
# text full of controls and bidi overrides.
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=40),
    st.sampled_from(["\x1b[2J", "\u202e", "\x00", "exercise_assigned", "00000000-0000-0000-0000-000000000000"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=40,
)
# Envelope-shaped objects: the right keys with arbitrary values, so the schema and what follows it run.
ENVELOPE_KEYS = ["ts", "actor", "session_id", "event_type", "payload", "event_id", "sender", "student", "seq", "sig"]
envelopes = st.fixed_dictionaries({}, optional={k: values for k in ENVELOPE_KEYS})


def hand_crafted() -> list[bytes]:
    """Shapes hypothesis is unlikely to build at random."""
    return [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"seq": ' + b"9" * 5000 + b"}",
        b'{"seq": NaN}',
        b'{"seq": 1e999}',
        b'{"seq": 1, "seq": 2}',
        b"\xff\xfe\x00",
        b"",
        json.dumps({"event_type": "x" * 900_000}).encode(),
        json.dumps({"seq": 2**70, "sender": "coach", "actor": "coach"}).encode(),
    ]


def receive_changes_nothing(inst: Any, raws: list[bytes]) -> None:
    before = inst.state.to_json()
    events = inst.ledger.event_count()
    start = inst.ledger.positions().get((TOPIC, 0), (0, None))[0]
    batch = [Incoming(raw=raw, topic=TOPIC, partition=0, offset=start + i) for i, raw in enumerate(raws)]
    outcomes = inst.receive(batch).outcomes
    assert outcomes == ["quarantined"] * len(raws)
    assert inst.state.to_json() == before
    assert inst.ledger.event_count() == events
    assert inst.ledger.positions()[(TOPIC, 0)][0] == start + len(raws)


def test_hand_crafted_hostile_values(tmp_path) -> None:
    coach, (student,) = make_pair(tmp_path)
    for inst in (coach, student):
        receive_changes_nothing(inst, hand_crafted())
        reasons = [q["reason"] for q in inst.ledger.quarantined()]
        assert f"nested deeper than {MAX_DEPTH} levels" in reasons[0]
        assert "an integer of 5000 digits" in reasons[1]
        assert all(len(r) <= 300 for r in reasons)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    raws=st.lists(
        st.binary(max_size=300) | values.map(lambda v: json.dumps(v).encode()) | envelopes.map(lambda v: json.dumps(v).encode()),
        min_size=1,
        max_size=6,
    )
)
def test_arbitrary_messages_are_quarantined_and_change_nothing(tmp_path_factory, raws: list[bytes]) -> None:
    coach, (student,) = _pair(tmp_path_factory)
    for inst in (coach, student):
        receive_changes_nothing(inst, raws)


@given(raw=st.binary(max_size=2000) | values.map(lambda v: json.dumps(v).encode()))
def test_decode_refuses_or_returns_never_raises_otherwise(raw: bytes) -> None:
    try:
        decode(raw)
    except Refused as exc:
        assert str(exc) and "\n" not in str(exc)


_PAIRS: dict[int, Any] = {}


def _pair(tmp_path_factory: Any) -> Any:
    """One coach and student for all examples (each example checks what it changed, not absolute state)."""
    key = id(tmp_path_factory)
    if key not in _PAIRS:
        _PAIRS[key] = make_pair(tmp_path_factory.mktemp("boundary"))
    return _PAIRS[key]
