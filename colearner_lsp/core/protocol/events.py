"""The wire format (v2): one envelope, one payload model per event type.

On the wire the payload is sealed (``WireEnvelope``, see ``sealing`` and
``wire``); once opened, an event is the envelope with its plaintext payload
(``EnvelopeBase`` and its per-type models), which is what the ledger keeps and
the fold reads.

Each event type is declared once, on its payload model (``@declare_event``:
its wire name, who may write it, its topic; see ``event_types``).

Models are frozen pydantic v2 models. The envelope is a discriminated union on
``event_type`` so that parsing a message picks its payload model in one step and
an unknown type is a precise error rather than a silent pass-through.

Signatures are computed over the *received* JSON object (see ``signing``), not
over a re-serialisation of these models, so a model never has to round-trip a
message byte for byte.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

from pydantic import (
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationInfo,
    create_model,
    field_validator,
)

from .event_types import COACH, EITHER, PAYLOADS, STUDENT, Frozen, Payload, declare_event
from .vocabulary import CONFIDENCE_RANGE, DELTA_RANGE, Actor, Grade, ShareMode, Stage, StepStatus

SCHEMA_VERSION = 2
# Delivery plumbing that belongs to no coaching session (resync requests) still needs a session_id.
NO_SESSION = "00000000-0000-0000-0000-000000000000"

# Identities appear in file names, Kafka keys and CLI arguments: keep them tame.
IDENTITY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$"
Identity = Annotated[str, Field(pattern=IDENTITY_PATTERN)]
Confidence = Annotated[float, Field(ge=CONFIDENCE_RANGE[0], le=CONFIDENCE_RANGE[1])]
Delta = Annotated[float, Field(ge=DELTA_RANGE[0], le=DELTA_RANGE[1])]
ShortText = Annotated[str, Field(max_length=20_000)]
Ident = Annotated[str, Field(min_length=1, max_length=200)]
# Numbers are bounded where they enter: a seq or a line number past these is a
# hostile message, not a big classroom (and SQLite stores at most 2**63 - 1).
MAX_SEQ = 2**53 - 1  # also the largest integer every JSON reader keeps exact
Count = Annotated[int, Field(ge=0, le=MAX_SEQ)]
LineNo = Annotated[int, Field(ge=1, le=10_000_000)]
Column = Annotated[int, Field(ge=0, le=10_000_000)]
PathText = Annotated[str, Field(min_length=1, max_length=4096)]
MaxFiles = Annotated[int, Field(ge=0, le=1000)]  # a scope's bound on the files one snapshot may name
MAX_ITEMS = 1000  # list lengths in payloads


# ---------------------------------------------------------------- parts of payloads


class PlanStep(Frozen):
    id: Ident
    topic: Ident
    status: StepStatus = "next"


class Anchor(Frozen):
    path: PathText
    start_line: LineNo
    end_line: LineNo
    start_char: Column | None = None
    end_char: Column | None = None
    commit: Annotated[str, Field(max_length=64)] = ""
    fingerprint: Annotated[str, Field(max_length=65_536)] = ""

    @field_validator("end_line")
    @classmethod
    def _ordered(cls, end: int, info: Any) -> int:
        start = info.data.get("start_line")
        if start is not None and end < start:
            raise ValueError(f"end_line {end} is before start_line {start}")
        return end


class EvidenceRef(Frozen):
    """Points a response at the evidence_snapshot event that backs it."""

    event_id: Ident
    files: Count = 0
    withheld: Count = 0


class EvidenceFile(Frozen):
    path: PathText
    blob_sha: Annotated[str, Field(pattern=r"^([0-9a-f]{40}|[0-9a-f]{64})?$")]
    size: Count
    lines: Count
    status: Literal["unchanged", "modified", "added", "deleted", "renamed", "untracked"]
    old_path: PathText | None = None


class DiffStat(Frozen):
    path: PathText
    added: Count
    removed: Count


class AnchoredMistake(Frozen):
    text: ShortText
    path: PathText | None = None
    start_line: LineNo | None = None
    end_line: LineNo | None = None


# ---------------------------------------------------------------- event types
# One declaration each (see event_types). The order is the envelope union's.
# No docstrings on these classes: pydantic would put them in the schemas.


@declare_event("learning_plan", writers=COACH, topic="assignments")
class LearningPlan(Payload):
    goals: list[ShortText] = Field(min_length=1, max_length=MAX_ITEMS)
    plan: list[PlanStep] = Field(min_length=1, max_length=MAX_ITEMS)

    @field_validator("plan")
    @classmethod
    def _unique_step_ids(cls, steps: list[PlanStep]) -> list[PlanStep]:
        ids = [s.id for s in steps]
        if len(ids) != len(set(ids)):
            raise ValueError("plan step ids must be unique")
        return steps


@declare_event("exercise_assigned", writers=COACH, topic="assignments")
class ExerciseAssigned(Payload):
    topic: Ident
    exercise: ShortText
    expected: ShortText
    tests: list[Annotated[str, Field(max_length=2000)]] = Field(default=[], max_length=MAX_ITEMS)
    # The seed's own example carries only the four fields above; the design's
    # additions are optional on parse so it stays valid, and the CLI/LSP always
    # fill them in.
    exercise_id: Ident | None = None
    step_id: Ident | None = None
    anchor: Anchor | None = None


@declare_event("scope_policy", writers=COACH, topic="assignments")
class ScopePolicy(Payload):
    allow: list[Annotated[str, Field(min_length=1, max_length=1024)]] = Field(default=[], max_length=MAX_ITEMS)
    deny: list[Annotated[str, Field(min_length=1, max_length=1024)]] = Field(default=[], max_length=MAX_ITEMS)
    share: ShareMode = "hashes"
    max_files: MaxFiles = 50
    version: Annotated[int, Field(ge=1, le=MAX_SEQ)] = 1


@declare_event("evidence_request", writers=COACH, topic="assignments")
class EvidenceRequest(Payload):
    exercise_id: Ident
    paths: list[Annotated[str, Field(min_length=1, max_length=1024)]] = Field(min_length=1, max_length=MAX_ITEMS)
    reason: ShortText


@declare_event("assessment_feedback", writers=COACH, topic="feedback")
class AssessmentFeedback(Payload):
    grade: Grade
    mistakes: list[ShortText | AnchoredMistake] = Field(default=[], max_length=MAX_ITEMS)
    next_step: ShortText
    confidence_delta: Delta
    exercise_id: Ident | None = None  # optional so the seed's example parses


@declare_event("progress_update", writers=STUDENT, topic="progress")
class ProgressUpdate(Payload):
    completed: list[Ident] = Field(default=[], max_length=MAX_ITEMS)
    confidence: dict[Ident, Confidence] = Field(default={}, max_length=MAX_ITEMS)


@declare_event("exercise_acknowledged", writers=STUDENT, topic="progress")
class ExerciseAcknowledged(Payload):
    exercise_id: Ident


@declare_event("exercise_response", writers=STUDENT, topic="progress")
class ExerciseResponse(Payload):
    exercise_id: Ident
    response: ShortText
    evidence: EvidenceRef | None = None


@declare_event("evidence_snapshot", writers=STUDENT, topic="progress")
class EvidenceSnapshot(Payload):
    exercise_id: Ident
    commit: Annotated[str, Field(max_length=64)]
    branch: Annotated[str, Field(max_length=512)]
    dirty: bool
    files: list[EvidenceFile] = Field(default=[], max_length=1000)
    summary: ShortText = ""
    withheld: Count = 0
    diffstat: Annotated[list[DiffStat], Field(max_length=MAX_ITEMS)] | None = None
    diff: Annotated[str, Field(max_length=500_000)] | None = None
    request_id: Ident | None = None  # the evidence_request this answers, if any


@declare_event("session_lifecycle", writers=EITHER, topic="events")
class SessionLifecycle(Payload):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    from_: Stage | None = Field(default=None, alias="from")
    to: Stage
    reason: ShortText = ""


@declare_event("resync_request", writers=EITHER, topic="events")
class ResyncRequest(Payload):
    sender: Identity  # whose events are missing
    from_seq: Annotated[int, Field(ge=1, le=MAX_SEQ)]
    to_seq: Annotated[int, Field(ge=1, le=MAX_SEQ)] | None = None


# ---------------------------------------------------------------- envelope

_STORED = {"stored": True}  # validation context of parse_stored
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]00:00)$")
# What now_ts() writes, so nearly every message: kept as it is (replay speed).
_CANONICAL_TS = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")


# The form uuid4() prints. Matching it first skips uuid.UUID(), which was half
# the cost of parsing an event (bench/bench_core.py); other spellings still go
# through uuid.UUID() and are accepted or refused as before.
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _check_uuid(value: str) -> str:
    if _CANONICAL_UUID.fullmatch(value):
        return value
    try:
        uuid.UUID(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a UUID") from None
    return value


HASH_PATTERN = r"^[0-9a-f]{64}$"  # BLAKE2b-256 of an event's bytes as sent, in hex


class Header(Frozen):
    """Every envelope field but the payload: what anyone with broker access sees."""

    v: Literal[2] = 2
    ts: Annotated[str, Field(max_length=40)]
    actor: Actor
    session_id: Annotated[str, Field(max_length=64)]
    event_type: Annotated[str, Field(max_length=64)]
    event_id: Annotated[str, Field(max_length=64)]
    sender: Identity
    student: Identity
    seq: Annotated[int, Field(ge=1, le=MAX_SEQ)]
    prev: Annotated[str, Field(pattern=HASH_PATTERN)] | None = None
    sig: Annotated[str, Field(max_length=128)] | None = None

    @field_validator("ts")
    @classmethod
    def _utc_rfc3339(cls, value: str, info: ValidationInfo) -> str:
        canonical = _CANONICAL_TS.fullmatch(value) is not None
        if canonical and info.context is _STORED:
            return value  # checked before it was stored
        if not canonical and not RFC3339.match(value):
            raise ValueError(f"{value!r} is not an RFC 3339 UTC time like 2026-01-31T12:00:00Z")
        try:
            moment = parse_ts(value)  # the shape is right; the date and time must exist too
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a real date and time ({exc})") from None
        # One spelling (microseconds, Z) so that times compare correctly as text
        # everywhere; the signature covers the message as sent, not this value.
        return value if canonical else format_ts(moment)

    @field_validator("session_id", "event_id")
    @classmethod
    def _uuid(cls, value: str, info: ValidationInfo) -> str:
        return value if info.context is _STORED else _check_uuid(value)

    @property
    def created(self) -> datetime:
        return parse_ts(self.ts)


class EnvelopeBase(Header):
    """An event with its payload opened: what the ledger keeps and the fold reads."""

    if TYPE_CHECKING:  # each envelope model adds its payload (a field there, not here)
        payload: Payload


class Sealed(Frozen):
    """A payload sealed to its readers (see ``sealing``): the form it has on the wire."""

    nonce: Annotated[str, Field(min_length=32, max_length=32)]
    sealed: Annotated[str, Field(min_length=24, max_length=1_500_000)]
    keys: dict[Identity, Annotated[str, Field(min_length=64, max_length=64)]] = Field(min_length=1, max_length=16)


class WireEnvelope(Header):
    """An event as it travels: the envelope with its payload sealed."""

    v: Literal[2]  # required on the wire (an opened event read from an older ledger may lack it)
    event_type: Literal[tuple(PAYLOADS)]  # type: ignore[valid-type]  # the declared types, known at import
    prev: Annotated[str, Field(pattern=HASH_PATTERN)] | None  # required, null only at seq 1
    payload: Sealed


def _envelope_model(event_type: str, payload: type[Payload]) -> type[EnvelopeBase]:
    name = "".join(part.title() for part in event_type.split("_")) + "Event"
    # A Literal made at run time from the declaration: no static checker can follow it; pydantic does.
    kind: Any = Literal[event_type]
    model: type[EnvelopeBase] = create_model(name, __base__=EnvelopeBase, event_type=(kind, ...), payload=(payload, ...))
    return model


ENVELOPES: dict[str, type[EnvelopeBase]] = {t: _envelope_model(t, p) for t, p in PAYLOADS.items()}

# The union of every declared envelope, built at run time like its members.
Event: Any = Annotated[Union[tuple(ENVELOPES.values())], Field(discriminator="event_type")]  # noqa: UP007 (a union of a tuple of types)
EVENT_ADAPTER: TypeAdapter[EnvelopeBase] = TypeAdapter(Event)


def parse_event(data: dict[str, Any]) -> EnvelopeBase:
    """Validate a decoded message into its typed event (raises pydantic.ValidationError)."""
    return EVENT_ADAPTER.validate_python(data)


WIRE_ADAPTER: TypeAdapter[WireEnvelope] = TypeAdapter(WireEnvelope)


def parse_wire(data: dict[str, Any]) -> WireEnvelope:
    """Validate a decoded message's envelope, its payload still sealed (raises pydantic.ValidationError)."""
    return WIRE_ADAPTER.validate_python(data)


HEADER_FIELDS = tuple(Header.model_fields)


def open_event(header: WireEnvelope, payload: Any) -> EnvelopeBase:
    """The event made of a checked header and its opened payload, checked here against its
    type's model alone (raises pydantic.ValidationError, located within the payload): the
    header was checked as it arrived, and checking it again cost as much as the payload."""
    value = PAYLOADS[header.event_type].model_validate(payload)
    fields = {name: getattr(header, name) for name in HEADER_FIELDS}
    # validated again as stored (its Python checks skipped), the payload model passed through as it is
    return ENVELOPES[header.event_type].model_validate({**fields, "payload": value}, context=_STORED)


def parse_stored(raw: str | bytes) -> EnvelopeBase:
    """An event read back from this instance's own ledger.

    Everything in the ledger passed ``parse_event`` (or was built from checked
    payloads) before it was stored, so the checks written in Python (ids are
    UUIDs, the time exists) are skipped; pydantic's own checks all run. They
    were about a sixth of the cost of replaying a ledger (bench/bench_core.py).
    """
    return EVENT_ADAPTER.validate_json(raw, context=_STORED)


def parse_payload(event_type: str, payload: dict[str, Any]) -> Payload:
    """Validate a payload alone; an unknown type is a ValueError naming the known ones."""
    try:
        model = PAYLOADS[event_type]
    except KeyError:
        known = ", ".join(sorted(PAYLOADS))
        raise ValueError(f"unknown event_type {event_type!r}; expected one of: {known}") from None
    return model.model_validate(payload)


def payload_dict(payload: Frozen) -> dict[str, Any]:
    """The payload as it goes on the wire (aliases such as ``from``, no unset optionals)."""
    return payload.model_dump(mode="json", by_alias=True, exclude_none=True)


def format_ts(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def now_ts() -> str:
    return format_ts(datetime.now(UTC))


def replay_key(event: EnvelopeBase | dict[str, Any]) -> tuple[str, str, int]:
    """The order coach and student agree on: creation time, sender, the sender's seq.

    Ledgers differ in arrival order (several topics); this order does not.
    """
    if isinstance(event, dict):  # (asked first: a check against a pydantic class costs ~1 µs, twice an event on refresh)
        return (format_ts(parse_ts(event["ts"])), event["sender"], event["seq"])
    return (event.ts, event.sender, event.seq)


def parse_ts(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def new_id() -> str:
    return str(uuid.uuid4())
