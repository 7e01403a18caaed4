"""The fast header check (``wire_header``) against the model it stands in for (``events.WireEnvelope``).

The rule: whatever the fast check accepts, the model accepts with the same
values; whatever it does not, the model decides (so the reasons a receiver
gives are the model's). Checked on a writer's real headers, on a table of
hostile changes to each field, and on random values in every field.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from colearner_lsp.core.protocol.events import parse_wire
from colearner_lsp.core.protocol.signing import generate_key, public_key_text
from colearner_lsp.core.protocol.wire_header import WireHeader, _canonical, read_header
from tests.wire_forge import sealed_message

KEY, OTHER = generate_key(), generate_key()
SESSION = "6f1c2a4e-0b7d-4c1e-9a53-2f8d1e6b7c90"
READERS = {"coach": public_key_text(KEY), "sam": public_key_text(OTHER)}


def written(sign: bool, seq: int = 1, prev: str | None = None) -> dict[str, Any]:
    raw = sealed_message(
        KEY, READERS, event_type="progress_update", payload={"completed": [], "confidence": {}},
        sender="sam", student="sam", actor="student", session_id=SESSION, seq=seq, prev=prev, sign=sign,
    )  # fmt: skip
    data: dict[str, Any] = json.loads(raw)
    return data


TIP, FIRST, LATER = written(True), written(False), written(False, seq=7, prev="ab" * 32)


def by_the_model(data: Any) -> WireHeader | str:
    """What the model alone makes of ``data``: the header, or its first error."""
    try:
        env = parse_wire(data)
    except ValidationError as exc:
        err = exc.errors(include_url=False, include_input=False)[0]
        return f"{err['loc']}: {err['msg']}"
    return WireHeader(
        env.v, env.ts, env.actor, env.session_id, env.event_type, env.event_id, env.sender, env.student, env.seq, env.prev, env.sig
    )


def by_read_header(data: Any) -> WireHeader | str:
    try:
        return read_header(data)
    except ValidationError as exc:
        err = exc.errors(include_url=False, include_input=False)[0]
        return f"{err['loc']}: {err['msg']}"


def agree(data: Any) -> WireHeader | str:
    """Both paths give the model's answer, and the fast check never accepts what the model does not."""
    model = by_the_model(data)
    fast = _canonical(data)
    if fast is not None:
        assert fast == model, (data, fast, model)
    assert by_read_header(data) == model
    return model


@pytest.mark.parametrize("data", [TIP, FIRST, LATER], ids=["tip", "first", "later"])
def test_a_writers_header_takes_the_fast_path_with_the_models_values(data: dict[str, Any]) -> None:
    assert _canonical(data) is not None
    assert isinstance(agree(data), WireHeader)


UUID_SPELLINGS = [
    "6F1C2A4E-0B7D-4C1E-9A53-2F8D1E6B7C90",
    "{6f1c2a4e-0b7d-4c1e-9a53-2f8d1e6b7c90}",
    "6f1c2a4e0b7d4c1e9a532f8d1e6b7c90",
    "urn:uuid:6f1c2a4e-0b7d-4c1e-9a53-2f8d1e6b7c90",
]
STRINGS = ["", " ", "x" * 65, "x" * 200, "\n", "sam\n", "sam ", "sa\u0000m", "s\u202eam", "ünï", "١٢٣", "\ud800", "a" * 10_000]
TYPES = [None, True, False, 0, 1, 2, -1, 2.0, 1e999, 2**53, 2**53 - 1, 2**64, "2", [], {}, ["x"], {"a": 1}]
HOSTILE: dict[str, list[Any]] = {
    "v": [1, 3, "2", 2.0, True, None, -2],
    "ts": [
        "2026-01-31T12:00:00Z",
        "2026-01-31T12:00:00.123456+00:00",
        "2026-02-30T12:00:00.000000Z",
        "2026-13-01T12:00:00.000000Z",
        "2026-01-31T25:00:00.000000Z",
        "2026-01-31T12:00:00.000000z",
        "2026-01-31 12:00:00.000000Z",
        "2026-01-31T12:00:00.000000+01:00",
        "٢٠٢٦-01-31T12:00:00.000000Z",
        "2026-01-31T12:00:00.0000000Z",
        "2026-01-31T12:00:60.000000Z",
        "2026-01-31T12:00:00.000000Z\n",
    ],  # fmt: skip
    "actor": ["Coach", "teacher", "coach ", "student\n"],
    "session_id": UUID_SPELLINGS + ["6f1c2a4e-0b7d-4c1e-9a53-2f8d1e6b7c9", "6f1c2a4e-0b7d-4c1e-9a53-2f8d1e6b7c90\n", "not-a-uuid"],
    "event_id": UUID_SPELLINGS + ["g" * 8 + "-0b7d-4c1e-9a53-2f8d1e6b7c90"],
    "event_type": ["progress_updates", "Progress_update", "resync_request", "learning_plan", "payload", "x" * 65],
    "sender": ["coach", "-sam", ".sam", "sam@school.example", "s" * 64, "s" * 65, "sa m", "sam\n", "sa/m"],
    "student": ["alice", "_x", "x" * 64, "x" * 65, "a\u0301"],
    "seq": [1, 2, 0, -5, 2**53 - 1, 2**53, 2**63, 3.0, 1.5, "3", True],
    "prev": [None, "ab" * 32, "AB" * 32, "ab" * 31, "ab" * 33, "zz" * 32, "ab" * 32 + "\n", 7],
    "sig": [None, "x" * 128, "x" * 129, "", 5],
}
PAYLOAD_HOSTILE: dict[str, list[Any]] = {
    "nonce": ["A" * 31, "A" * 33, "", 7, None, "é" * 32],
    "sealed": ["A" * 23, "A" * 24, "A" * 1_500_001, 5, None, ["A" * 30]],
    "keys": [{}, {f"r{i}": "A" * 64 for i in range(17)}, {f"r{i}": "A" * 64 for i in range(16)}, {"bad name": "A" * 64},
             {"sam": "A" * 63}, {"sam": "A" * 65}, {"sam": 5}, {"sam\n": "A" * 64}, [], None, "sam"],
}  # fmt: skip


def changed(base: dict[str, Any], field: str, value: Any) -> dict[str, Any]:
    data = copy.deepcopy(base)
    data[field] = value
    return data


@pytest.mark.parametrize("base", [TIP, FIRST, LATER], ids=["tip", "first", "later"])
@pytest.mark.parametrize("field", list(HOSTILE))
def test_every_field_changed_the_two_agree(base: dict[str, Any], field: str) -> None:
    for value in HOSTILE[field] + TYPES + STRINGS:
        agree(changed(base, field, value))


@pytest.mark.parametrize("field", list(PAYLOAD_HOSTILE))
def test_every_sealed_field_changed_the_two_agree(field: str) -> None:
    for value in PAYLOAD_HOSTILE[field] + TYPES + STRINGS:
        agree(changed(TIP, "payload", changed(TIP["payload"], field, value)))


def test_missing_extra_and_doubled_members_are_the_models_to_judge() -> None:
    for name in list(TIP):
        agree({k: v for k, v in TIP.items() if k != name})
        agree({k: v for k, v in TIP["payload"].items() if k != name} if name in TIP["payload"] else TIP)
    for name in list(TIP["payload"]):
        agree(changed(TIP, "payload", {k: v for k, v in TIP["payload"].items() if k != name}))
    agree({**TIP, "extra": 1})
    agree({**TIP, "Sig": TIP["sig"]})
    agree(changed(TIP, "payload", {**TIP["payload"], "extra": "x"}))
    for shape in (None, [], "x", 5, [TIP], {}):
        agree(shape)
    for spelling in UUID_SPELLINGS:  # valid for the model, but not a writer's form: the model decides, and accepts
        assert _canonical(changed(TIP, "event_id", spelling)) is None
        assert isinstance(agree(changed(TIP, "event_id", spelling)), WireHeader)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=80),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=8,
)
NEAR_MISSES = {
    "ts": st.from_regex(r"\A\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z\Z"),
    "session_id": st.from_regex(r"\A[0-9a-fA-F-]{30,40}\Z"),
    "event_id": st.uuids().map(str) | st.from_regex(r"\A[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}.?\Z"),
    "sender": st.from_regex(r"\A[A-Za-z0-9._@-]{0,66}\Z"),
    "student": st.from_regex(r"\A.{0,3}[A-Za-z0-9._@-]{0,64}\Z"),
    "seq": st.integers(min_value=-2, max_value=2**54),
    "prev": st.none() | st.from_regex(r"\A[0-9a-fA-F]{62,66}\Z"),
    "sig": st.none() | st.text(min_size=120, max_size=130),
}


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(base=st.sampled_from([TIP, FIRST, LATER]), field=st.sampled_from(list(HOSTILE)), data=st.data())
def test_random_values_in_any_field_the_two_agree(base: dict[str, Any], field: str, data: st.DataObject) -> None:
    value = data.draw(NEAR_MISSES.get(field, JSON_VALUES) | JSON_VALUES)
    agree(changed(base, field, value))


@settings(max_examples=200, deadline=None)
@given(
    nonce=st.text(min_size=30, max_size=34) | JSON_VALUES,
    names=st.lists(st.from_regex(r"\A[A-Za-z0-9._@ -]{0,66}\Z"), max_size=18),
    wrap=st.text(min_size=62, max_size=66),
)
def test_random_sealed_forms_the_two_agree(nonce: Any, names: list[str], wrap: str) -> None:
    agree(changed(TIP, "payload", {**TIP["payload"], "nonce": nonce, "keys": dict.fromkeys(names, wrap)}))
