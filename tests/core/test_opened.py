"""``opened``: payloads checked a batch at a time, and events assembled without validating again,
give exactly what validating each event whole gives, for every event type."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import ValidationError

from colearner_lsp.core.protocol.events import ENVELOPES, PAYLOADS, ProgressUpdate
from colearner_lsp.core.protocol.opened import assemble, validate_payloads
from colearner_lsp.core.protocol.wire_header import WireHeader
from tests.core.conftest import Wire, make_pair, run_session


def test_assembled_events_are_the_validated_ones_for_every_type(tmp_path: Path) -> None:
    coach, (student,) = make_pair(tmp_path)
    run_session(coach, student, Wire())
    seen = set()
    for inst in (coach, student):
        for row in inst.ledger.events_after(0):
            data = json.loads(row.raw)
            event_type = data["event_type"]
            (payload,) = validate_payloads(event_type, [data["payload"]])
            assert isinstance(payload, PAYLOADS[event_type])
            header = WireHeader(**{name: data.get(name) for name in WireHeader._fields})
            validated = ENVELOPES[event_type].model_validate({**header._asdict(), "payload": data["payload"]})
            event = assemble(header, payload)
            assert type(event) is type(validated)
            assert event == validated
            assert event.model_dump() == validated.model_dump()
            assert event.model_fields_set == validated.model_fields_set
            assert event.model_dump_json() == validated.model_dump_json()
            seen.add(event_type)
    assert seen == set(PAYLOADS)


def test_assembling_refuses_a_payload_of_another_type() -> None:
    header = WireHeader(2, "2026-01-31T12:00:00.000000Z", "coach", "0" * 8 + "-0000-0000-0000-" + "0" * 12, "learning_plan",
                        "1" * 8 + "-0000-0000-0000-" + "0" * 12, "c", "s", 1, None, None)  # fmt: skip
    try:
        assemble(header, ProgressUpdate())
    except TypeError as exc:
        assert "not the payload of learning_plan" in str(exc)
    else:
        raise AssertionError("assembled a learning_plan around a progress_update")


def test_a_batch_with_bad_payloads_gives_each_its_own_error() -> None:
    values = [
        {"completed": ["a"], "confidence": {"t": 0.5}},
        {"completed": ["a"], "confidence": {"t": 1.5}},  # out of range
        {"completed": "a"},  # not a list
        {"confidence": {"t": 0.2}, "extra": 1},  # unknown member
        {},
    ]
    out = validate_payloads("progress_update", values)
    assert [type(x).__name__ for x in out] == ["ProgressUpdate", "ValidationError", "ValidationError", "ValidationError", "ProgressUpdate"]
    for value, result in zip(values, out, strict=True):
        try:
            alone = ProgressUpdate.model_validate(value)
        except ValidationError as exc:
            assert isinstance(result, ValidationError) and result.errors() == exc.errors()
        else:
            assert result == alone


def test_a_batch_of_good_payloads_is_what_validating_each_gives() -> None:
    values = [{"completed": [f"s{i}"], "confidence": {"t": i / 10}} for i in range(10)]
    assert validate_payloads("progress_update", values) == [ProgressUpdate.model_validate(v) for v in values]
