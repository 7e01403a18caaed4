"""What the fold keeps of each event it applies to an exercise or a session: small frozen records.

The fold builds them from payloads that passed their models, so every member
has the type written here whatever a peer sent; readers use attributes, never
string keys. Where the wire's own model is the honest type of a part (an
anchor, a plan step, a mistake, a snapshot, a scope policy), the record holds
that model rather than a copy of its fields.

A record never changes: when the fold learns more about one (an evidence
request answered, a plan step done), it puts a new record in the old one's
place (``dataclasses.replace``, or ``model_copy`` for a wire model).

``to_json`` is the record as ``learning.json``, ``inbox --json`` and the
language server's results have always shown it: the same members, in the
same order.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

from ..protocol.events import Anchor, AnchoredMistake, EvidenceSnapshot, ScopePolicy, payload_dict
from ..protocol.vocabulary import Grade

ConfidenceSource = Literal["feedback", "student"]  # a coach's grade moved it, or the student rated it


def anchor_json(anchor: Anchor | None) -> dict[str, Any] | None:
    """An exercise's anchor as shown: its members without the optional ones left unset."""
    return anchor.model_dump(mode="json", exclude_none=True) if anchor is not None else None


@dataclass(frozen=True, slots=True)
class ResponseRecord:
    """A student's answer to an exercise."""

    event_id: str
    ts: str
    text: str
    evidence_id: str | None  # the evidence_snapshot event the answer points at, if any

    def to_json(self) -> dict[str, Any]:
        return {"event_id": self.event_id, "ts": self.ts, "text": self.text, "evidence": self.evidence_id}


@dataclass(frozen=True)
class EvidenceRecord:
    """A snapshot of the student's work sent for an exercise, as its payload came."""

    event_id: str
    ts: str
    snapshot: EvidenceSnapshot

    # Not slotted: cached_property keeps the shown form, made only when something shows it
    # (learning.json is rewritten from the whole state, a snapshot can name 1,000 files).
    @cached_property
    def _json(self) -> dict[str, Any]:
        return {**payload_dict(self.snapshot), "event_id": self.event_id, "ts": self.ts}

    def to_json(self) -> dict[str, Any]:
        return self._json


@dataclass(frozen=True, slots=True)
class EvidenceRequestRecord:
    """A coach's request for evidence on some paths, and the snapshot that answered it."""

    event_id: str
    ts: str
    paths: tuple[str, ...]
    reason: str
    answered_by: str | None = None  # the evidence_snapshot's event id

    @property
    def answered(self) -> bool:
        return self.answered_by is not None

    def to_json(self) -> dict[str, Any]:
        return {"event_id": self.event_id, "ts": self.ts, "paths": list(self.paths), "reason": self.reason, "answered_by": self.answered_by}


@dataclass(frozen=True, slots=True)
class FeedbackRecord:
    """A coach's grade of an exercise, with its mistakes (a mistake given as plain text has only its text)."""

    event_id: str
    ts: str
    grade: Grade
    mistakes: tuple[AnchoredMistake, ...]
    next_step: str
    confidence_delta: float

    def to_json(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "ts": self.ts,
            "grade": self.grade,
            "mistakes": [m.model_dump(mode="json", exclude_none=True) for m in self.mistakes],
            "next_step": self.next_step,
            "confidence_delta": self.confidence_delta,
        }


@dataclass(frozen=True, slots=True)
class ConfidencePoint:
    """One change of a topic's confidence: ``delta`` is the coach's move, None when the student rated it."""

    ts: str
    topic: str
    delta: float | None
    value: float
    source: ConfidenceSource

    def to_json(self) -> dict[str, Any]:
        return {"ts": self.ts, "topic": self.topic, "delta": self.delta, "value": self.value, "source": self.source}


@dataclass(frozen=True, slots=True)
class ScopeRecord:
    """The scope policy in force for a session, and the event that set it."""

    policy: ScopePolicy
    sender: str
    event_id: str
    ts: str

    def to_json(self) -> dict[str, Any]:
        return {**payload_dict(self.policy), "sender": self.sender, "event_id": self.event_id, "ts": self.ts}
