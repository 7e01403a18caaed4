"""The wire format: the seed's examples parse unchanged, bad values give precise errors."""

from __future__ import annotations

import copy
import uuid

import pytest
from pydantic import ValidationError

from colearner_lsp.core.protocol.events import (
    ENVELOPES,
    PAYLOADS,
    AnchoredMistake,
    AssessmentFeedback,
    ExerciseAssigned,
    LearningPlan,
    ProgressUpdate,
    SessionLifecycle,
    parse_event,
    parse_payload,
    parse_stored,
    parse_ts,
    payload_dict,
)
from tests.core.conftest import envelope

SEED_PLAN = {"goals": ["onboard to service X"], "plan": [{"id": "step-1", "topic": "repo overview", "status": "next"}]}
SEED_ASSIGNED = {
    "topic": "dependency graph",
    "exercise": "Trace how the handler reaches the database.",
    "expected": "A list of the modules on the path, in order.",
    "tests": ["go test ./..."],
}
SEED_FEEDBACK = {
    "grade": "pass",
    "mistakes": ["missed the cache layer"],
    "next_step": "read the retry policy",
    "confidence_delta": 0.1,
}
SEED_PROGRESS = {"completed": ["step-1"], "confidence": {"repo overview": 0.8}}
ANCHOR = {
    "path": "svc/handler.go",
    "start_line": 10,
    "end_line": 24,
    "commit": "0123456789abcdef0123456789abcdef01234567",
    "fingerprint": "v1.abc",
}


def errors_of(exc: pytest.ExceptionInfo[ValidationError]) -> list[tuple[tuple, str, str]]:
    return [(e["loc"], e["type"], e["msg"]) for e in exc.value.errors()]


# ---------------------------------------------------------------- the seed's examples


@pytest.mark.parametrize(
    ("event_type", "payload"),
    [
        ("learning_plan", SEED_PLAN),
        ("exercise_assigned", SEED_ASSIGNED),
        ("assessment_feedback", SEED_FEEDBACK),
        ("progress_update", SEED_PROGRESS),
    ],
)
def test_seed_examples_parse_unchanged(event_type: str, payload: dict) -> None:
    original = copy.deepcopy(payload)
    model = parse_payload(event_type, payload)
    assert isinstance(model, PAYLOADS[event_type])
    assert payload == original  # parsing never edits the input
    # On the wire again, every field the seed wrote is there with its value.
    wire = payload_dict(model)
    for key, value in original.items():
        assert wire[key] == value


def test_seed_examples_values() -> None:
    plan = parse_payload("learning_plan", SEED_PLAN)
    assert isinstance(plan, LearningPlan)
    assert plan.goals == ["onboard to service X"]
    assert (plan.plan[0].id, plan.plan[0].topic, plan.plan[0].status) == ("step-1", "repo overview", "next")
    progress = parse_payload("progress_update", SEED_PROGRESS)
    assert isinstance(progress, ProgressUpdate)
    assert progress.confidence == {"repo overview": 0.8}
    feedback = parse_payload("assessment_feedback", SEED_FEEDBACK)
    assert isinstance(feedback, AssessmentFeedback)
    assert feedback.grade == "pass" and feedback.confidence_delta == 0.1 and feedback.exercise_id is None


def test_exercise_assigned_with_design_fields() -> None:
    payload = {**SEED_ASSIGNED, "exercise_id": "ex-1", "step_id": "step-1", "anchor": ANCHOR}
    model = parse_payload("exercise_assigned", payload)
    assert isinstance(model, ExerciseAssigned)
    assert model.exercise_id == "ex-1" and model.step_id == "step-1"
    assert model.anchor is not None and (model.anchor.start_line, model.anchor.end_line) == (10, 24)
    assert payload_dict(model) == payload  # nothing added, nothing lost


def test_anchor_with_characters_and_order() -> None:
    model = parse_payload("exercise_assigned", {**SEED_ASSIGNED, "anchor": {**ANCHOR, "start_char": 0, "end_char": 12}})
    assert model.anchor.start_char == 0 and model.anchor.end_char == 12  # type: ignore[union-attr]
    with pytest.raises(ValidationError) as exc:
        parse_payload("exercise_assigned", {**SEED_ASSIGNED, "anchor": {**ANCHOR, "start_line": 30}})
    [(loc, _, msg)] = errors_of(exc)
    assert loc == ("anchor", "end_line")
    assert "end_line 24 is before start_line 30" in msg


def test_feedback_with_anchored_mistake() -> None:
    payload = {**SEED_FEEDBACK, "mistakes": ["plain", {"text": "off by one", "path": "a.py", "start_line": 3, "end_line": 4}]}
    model = parse_payload("assessment_feedback", payload)
    assert model.mistakes[0] == "plain"  # type: ignore[attr-defined]
    assert isinstance(model.mistakes[1], AnchoredMistake)  # type: ignore[attr-defined]


def test_lifecycle_uses_from_on_the_wire() -> None:
    model = parse_payload("session_lifecycle", {"from": "init", "to": "plan", "reason": "plan sent"})
    assert isinstance(model, SessionLifecycle) and model.from_ == "init"
    assert payload_dict(model) == {"from": "init", "to": "plan", "reason": "plan sent"}
    opening = SessionLifecycle(from_=None, to="init")
    assert payload_dict(opening) == {"to": "init", "reason": ""}


# ---------------------------------------------------------------- precise errors


@pytest.mark.parametrize("grade", ["fail", "PASS", "", None, 1])
def test_grade_outside_pass_or_revise(grade: object) -> None:
    with pytest.raises(ValidationError) as exc:
        parse_payload("assessment_feedback", {**SEED_FEEDBACK, "grade": grade})
    [(loc, kind, msg)] = errors_of(exc)
    assert loc == ("grade",)
    assert kind == "literal_error"
    assert msg == "Input should be 'pass' or 'revise'"


@pytest.mark.parametrize(("value", "kind"), [(1.01, "less_than_equal"), (-0.01, "greater_than_equal"), (7, "less_than_equal")])
def test_confidence_outside_zero_one(value: float, kind: str) -> None:
    with pytest.raises(ValidationError) as exc:
        parse_payload("progress_update", {"completed": [], "confidence": {"repo overview": value}})
    [(loc, got, msg)] = errors_of(exc)
    assert loc == ("confidence", "repo overview")
    assert got == kind
    assert ("1" if kind == "less_than_equal" else "0") in msg


@pytest.mark.parametrize("value", [0.0, 1.0, 0.5])
def test_confidence_bounds_are_inclusive(value: float) -> None:
    assert parse_payload("progress_update", {"confidence": {"t": value}}).confidence == {"t": value}  # type: ignore[attr-defined]


@pytest.mark.parametrize(("delta", "kind"), [(1.5, "less_than_equal"), (-1.0001, "greater_than_equal")])
def test_delta_outside_minus_one_one(delta: float, kind: str) -> None:
    with pytest.raises(ValidationError) as exc:
        parse_payload("assessment_feedback", {**SEED_FEEDBACK, "confidence_delta": delta})
    [(loc, got, msg)] = errors_of(exc)
    assert loc == ("confidence_delta",)
    assert got == kind
    assert msg.endswith("1")


@pytest.mark.parametrize("delta", [-1.0, 1.0, 0])
def test_delta_bounds_are_inclusive(delta: float) -> None:
    assert parse_payload("assessment_feedback", {**SEED_FEEDBACK, "confidence_delta": delta}).confidence_delta == delta  # type: ignore[attr-defined]


def test_unknown_event_type_in_parse_payload() -> None:
    with pytest.raises(ValueError) as exc:
        parse_payload("exercise_deleted", {})
    assert not isinstance(exc.value, ValidationError)
    message = str(exc.value)
    assert message.startswith("unknown event_type 'exercise_deleted'; expected one of: ")
    for known in PAYLOADS:
        assert known in message


def test_unknown_event_type_in_parse_event() -> None:
    with pytest.raises(ValidationError) as exc:
        parse_event(envelope("exercise_deleted", {}))
    [(loc, kind, msg)] = errors_of(exc)
    assert loc == ()
    assert kind == "union_tag_invalid"
    assert "'exercise_deleted'" in msg and "'learning_plan'" in msg


def test_missing_event_type() -> None:
    data = envelope("learning_plan", SEED_PLAN)
    del data["event_type"]
    with pytest.raises(ValidationError) as exc:
        parse_event(data)
    [(_, kind, _)] = errors_of(exc)
    assert kind == "union_tag_not_found"


@pytest.mark.parametrize(
    ("event_type", "payload", "missing"),
    [
        ("learning_plan", {"goals": ["g"]}, "plan"),
        ("exercise_assigned", {k: v for k, v in SEED_ASSIGNED.items() if k != "expected"}, "expected"),
        ("assessment_feedback", {k: v for k, v in SEED_FEEDBACK.items() if k != "next_step"}, "next_step"),
        ("exercise_acknowledged", {}, "exercise_id"),
        ("exercise_response", {"exercise_id": "e"}, "response"),
        ("evidence_request", {"exercise_id": "e", "paths": ["*.py"]}, "reason"),
        ("session_lifecycle", {"from": "init"}, "to"),
        ("resync_request", {"sender": "coach"}, "from_seq"),
    ],
)
def test_missing_payload_field(event_type: str, payload: dict, missing: str) -> None:
    with pytest.raises(ValidationError) as exc:
        parse_payload(event_type, payload)
    [(loc, kind, msg)] = errors_of(exc)
    assert (loc, kind, msg) == ((missing,), "missing", "Field required")
    # Inside an envelope the location names the event type and the payload too.
    with pytest.raises(ValidationError) as exc:
        parse_event(envelope(event_type, payload))
    assert [(e["loc"], e["type"]) for e in exc.value.errors()] == [((event_type, "payload", missing), "missing")]


@pytest.mark.parametrize("field", ["ts", "actor", "session_id", "event_id", "sender", "student", "seq", "payload"])
def test_missing_envelope_field(field: str) -> None:
    data = envelope("progress_update", SEED_PROGRESS)
    del data[field]
    with pytest.raises(ValidationError) as exc:
        parse_event(data)
    assert [(e["loc"], e["type"]) for e in exc.value.errors()] == [(("progress_update", field), "missing")]


@pytest.mark.parametrize(
    "ts",
    ["yesterday", "2026-01-31 12:00:00Z", "2026-01-31T12:00:00+02:00", "2026-01-31T12:00:00", "2026-13-31"],
)
def test_bad_ts(ts: str) -> None:
    with pytest.raises(ValidationError) as exc:
        parse_event(envelope("progress_update", SEED_PROGRESS, ts=ts))
    [(loc, kind, msg)] = errors_of(exc)
    assert loc == ("progress_update", "ts")
    assert kind == "value_error"
    assert f"{ts!r} is not an RFC 3339 UTC time" in msg


@pytest.mark.parametrize(("ts", "why"), [("2026-02-30T12:00:00Z", "day is out of range"), ("2026-01-31T25:00:00Z", "hour")])
def test_ts_of_the_right_shape_but_no_real_time(ts: str, why: str) -> None:
    with pytest.raises(ValidationError) as exc:
        parse_event(envelope("progress_update", SEED_PROGRESS, ts=ts))
    [(loc, kind, msg)] = errors_of(exc)
    assert (loc, kind) == (("progress_update", "ts"), "value_error")
    assert f"{ts!r} is not a real date and time" in msg and why in msg


@pytest.mark.parametrize(
    ("ts", "kept"),
    [
        ("2026-01-31T12:00:00.123456Z", "2026-01-31T12:00:00.123456Z"),
        ("2026-01-31T12:00:00Z", "2026-01-31T12:00:00.000000Z"),
        ("2026-01-31T12:00:00.5+00:00", "2026-01-31T12:00:00.500000Z"),
        ("2026-01-31T12:00:00.123456789Z", "2026-01-31T12:00:00.123456Z"),
    ],
)
def test_times_have_one_spelling(ts: str, kept: str) -> None:
    # so that they sort correctly as text (the fold orders moves by ts)
    assert parse_event(envelope("progress_update", SEED_PROGRESS, ts=ts)).ts == kept


@pytest.mark.parametrize("ts", ["2026-01-31T12:00:00Z", "2026-01-31T12:00:00.123456Z", "2026-01-31T12:00:00+00:00"])
def test_good_ts(ts: str) -> None:
    event = parse_event(envelope("progress_update", SEED_PROGRESS, ts=ts))
    assert event.created == parse_ts(ts)
    assert event.created.utcoffset().total_seconds() == 0  # type: ignore[union-attr]


@pytest.mark.parametrize("field", ["session_id", "event_id"])
@pytest.mark.parametrize("value", ["not-a-uuid", "", "1234"])
def test_bad_uuid(field: str, value: str) -> None:
    data = envelope("progress_update", SEED_PROGRESS)
    data[field] = value
    with pytest.raises(ValidationError) as exc:
        parse_event(data)
    [(loc, kind, msg)] = errors_of(exc)
    assert loc == ("progress_update", field)
    assert kind == "value_error"
    assert f"{value!r} is not a UUID" in msg


@pytest.mark.parametrize("value", [str(uuid.uuid4()) + "\n", " " + str(uuid.uuid4()), str(uuid.uuid4())[:-1] + "g"])
def test_almost_uuids_are_refused(value: str) -> None:
    data = envelope("progress_update", SEED_PROGRESS, event_id=value)
    with pytest.raises(ValidationError) as exc:
        parse_event(data)
    assert errors_of(exc)[0][:2] == (("progress_update", "event_id"), "value_error")


@pytest.mark.parametrize("spelling", [str.upper, lambda u: u.replace("-", ""), lambda u: "urn:uuid:" + u, lambda u: "{" + u + "}"])
def test_other_uuid_spellings_still_parse(spelling) -> None:  # type: ignore[no-untyped-def]
    value = spelling(str(uuid.uuid4()))
    assert parse_event(envelope("progress_update", SEED_PROGRESS, session_id=value)).session_id == value


@pytest.mark.parametrize(
    ("field", "value", "kind"),
    [
        ("actor", "teacher", "literal_error"),
        ("seq", 0, "greater_than_equal"),
        ("sender", "bad name!", "string_pattern_mismatch"),
        ("student", "../etc", "string_pattern_mismatch"),
        ("sender", "x" * 65, "string_pattern_mismatch"),
    ],
)
def test_bad_envelope_values(field: str, value: object, kind: str) -> None:
    data = envelope("progress_update", SEED_PROGRESS)
    data[field] = value
    with pytest.raises(ValidationError) as exc:
        parse_event(data)
    assert [(e["loc"], e["type"]) for e in exc.value.errors()] == [(("progress_update", field), kind)]


def test_unknown_fields_are_refused() -> None:
    data = envelope("progress_update", SEED_PROGRESS)
    data["extra"] = 1
    with pytest.raises(ValidationError) as exc:
        parse_event(data)
    assert [(e["loc"], e["type"]) for e in exc.value.errors()] == [(("progress_update", "extra"), "extra_forbidden")]
    with pytest.raises(ValidationError) as exc:
        parse_payload("progress_update", {**SEED_PROGRESS, "score": 3})
    assert errors_of(exc)[0][:2] == (("score",), "extra_forbidden")


def test_plan_rules() -> None:
    with pytest.raises(ValidationError) as exc:
        parse_payload("learning_plan", {"goals": ["g"], "plan": [{"id": "a", "topic": "t"}, {"id": "a", "topic": "u"}]})
    assert "plan step ids must be unique" in errors_of(exc)[0][2]
    with pytest.raises(ValidationError) as exc:
        parse_payload("learning_plan", {"goals": ["g"], "plan": [{"id": "a", "topic": "t", "status": "later"}]})
    assert errors_of(exc)[0][:2] == (("plan", 0, "status"), "literal_error")
    with pytest.raises(ValidationError) as exc:
        parse_payload("learning_plan", {"goals": [], "plan": [{"id": "a", "topic": "t"}]})
    assert errors_of(exc)[0][:2] == (("goals",), "too_short")


def test_event_parses_to_its_own_model() -> None:
    session = str(uuid.uuid4())
    event = parse_event(envelope("learning_plan", SEED_PLAN, session_id=session, seq=3))
    assert type(event) is ENVELOPES["learning_plan"]
    assert isinstance(event.payload, LearningPlan)  # type: ignore[attr-defined]
    assert (event.session_id, event.seq, event.sig) == (session, 3, None)


def test_models_are_frozen() -> None:
    event = parse_event(envelope("progress_update", SEED_PROGRESS))
    with pytest.raises(ValidationError):
        event.seq = 2  # type: ignore[misc]


def test_parse_stored_trusts_only_what_was_checked_before() -> None:
    """Rows of our own ledger skip the Python-side checks, never pydantic's."""
    import json

    good = envelope("progress_update", SEED_PROGRESS, ts="2026-01-31T12:00:00.123456Z")
    assert parse_stored(json.dumps(good)) == parse_event(good)
    # a time in another spelling is still brought to the one spelling
    assert parse_stored(json.dumps({**good, "ts": "2026-01-31T12:00:00Z"})).ts == "2026-01-31T12:00:00.000000Z"
    # what pydantic checks itself still fails
    for bad in ({**good, "seq": 0}, {**good, "payload": {"confidence": {"t": 2}}}, {**good, "event_type": "nope"}):
        with pytest.raises(ValidationError):
            parse_stored(json.dumps(bad))
    # the skipped checks are the ones a stored row passed on its way in
    odd = {**good, "event_id": "not-a-uuid"}
    assert parse_stored(json.dumps(odd)).event_id == "not-a-uuid"
    with pytest.raises(ValidationError):
        parse_event(odd)
