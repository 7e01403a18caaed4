"""What the fold keeps of each event it applies to an exercise or a session: small frozen records.

The fold builds them from payloads that passed their models, so every member
has the type written here whatever a peer sent; readers use attributes, never
string keys. Where the wire's own model is the honest type of a part (an
anchor, a plan step, a mistake, a snapshot, a scope policy), the record holds
that model rather than a copy of its fields.

A record never changes: when the fold learns more about one (an evidence
request answered, a plan step done), it puts a new record in the old one's
place (``dataclasses.replace``).

``to_json`` is the record as ``learning.json``, ``inbox --json`` and the
language server's results have always shown it: the same members, in the
same order. It is made when first asked for and kept (the record cannot
change under it): the fold stays about as cheap as when the state was dicts,
and rewriting ``learning.json`` from the whole state does not build every
record's JSON again each time.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

from ..protocol.events import Anchor, AnchoredMistake, AssessmentFeedback, EvidenceSnapshot, ScopePolicy, payload_dict
from ..protocol.vocabulary import Grade, StepStatus

ConfidenceSource = Literal["feedback", "student"]  # a coach's grade moved it, or the student rated it


def anchor_json(anchor: Anchor | None) -> dict[str, Any] | None:
    """An exercise's anchor as shown: its members without the optional ones left unset."""
    return anchor.model_dump(mode="json", exclude_none=True) if anchor is not None else None


class _Shown:
    """A record's JSON, made once, when first shown.

    Kept in the instance's dict, which a frozen dataclass still has (records are not slotted),
    written there directly as a frozen one allows; not ``cached_property``, whose lock (Python
    3.11) cost as much as making the JSON."""

    def _make_json(self) -> dict[str, Any]:
        raise NotImplementedError

    def to_json(self) -> dict[str, Any]:
        kept = self.__dict__
        shown: dict[str, Any] | None = kept.get("_json")
        if shown is None:
            shown = kept["_json"] = self._make_json()
        return shown


@dataclass(frozen=True)
class StepRecord(_Shown):
    """A step of the session's plan, with the status the fold found for it."""

    id: str
    topic: str
    status: StepStatus

    def _make_json(self) -> dict[str, Any]:
        return {"id": self.id, "topic": self.topic, "status": self.status}


@dataclass(frozen=True)
class ResponseRecord(_Shown):
    """A student's answer to an exercise."""

    event_id: str
    ts: str
    text: str
    evidence_id: str | None  # the evidence_snapshot event the answer points at, if any

    def _make_json(self) -> dict[str, Any]:
        return {"event_id": self.event_id, "ts": self.ts, "text": self.text, "evidence": self.evidence_id}


@dataclass(frozen=True)
class EvidenceRecord(_Shown):
    """A snapshot of the student's work sent for an exercise, as its payload came."""

    event_id: str
    ts: str
    snapshot: EvidenceSnapshot

    def _make_json(self) -> dict[str, Any]:
        return {**payload_dict(self.snapshot), "event_id": self.event_id, "ts": self.ts}


@dataclass(frozen=True)
class EvidenceRequestRecord(_Shown):
    """A coach's request for evidence on some paths, and the snapshot that answered it."""

    event_id: str
    ts: str
    paths: tuple[str, ...]
    reason: str
    answered_by: str | None = None  # the evidence_snapshot's event id

    @property
    def answered(self) -> bool:
        return self.answered_by is not None

    def _make_json(self) -> dict[str, Any]:
        return {"event_id": self.event_id, "ts": self.ts, "paths": list(self.paths), "reason": self.reason, "answered_by": self.answered_by}


@dataclass(frozen=True)
class FeedbackRecord(_Shown):
    """A coach's grade of an exercise, as its payload came."""

    event_id: str
    ts: str
    feedback: AssessmentFeedback

    @property
    def grade(self) -> Grade:
        return self.feedback.grade

    @property
    def next_step(self) -> str:
        return self.feedback.next_step

    @property
    def confidence_delta(self) -> float:
        return self.feedback.confidence_delta

    @cached_property
    def mistakes(self) -> tuple[AnchoredMistake, ...]:
        """Every mistake as an ``AnchoredMistake`` (one sent as plain text is one placed nowhere);
        made when first read, not by the fold: most feedback is never read mistake by mistake."""
        # model_construct: the text was checked by the payload's model already.
        given = self.feedback.mistakes
        return tuple(m if isinstance(m, AnchoredMistake) else AnchoredMistake.model_construct(text=m) for m in given)

    def _make_json(self) -> dict[str, Any]:
        mistakes = [
            m.model_dump(mode="json", exclude_none=True) if isinstance(m, AnchoredMistake) else {"text": m} for m in self.feedback.mistakes
        ]
        return {
            "event_id": self.event_id,
            "ts": self.ts,
            "grade": self.grade,
            "mistakes": mistakes,
            "next_step": self.next_step,
            "confidence_delta": self.confidence_delta,
        }


@dataclass(frozen=True)
class ConfidencePoint(_Shown):
    """One change of a topic's confidence: ``delta`` is the coach's move, None when the student rated it."""

    ts: str
    topic: str
    delta: float | None
    value: float
    source: ConfidenceSource

    def _make_json(self) -> dict[str, Any]:
        return {"ts": self.ts, "topic": self.topic, "delta": self.delta, "value": self.value, "source": self.source}


@dataclass(frozen=True)
class ScopeRecord(_Shown):
    """The scope policy in force for a session, and the event that set it."""

    policy: ScopePolicy
    sender: str
    event_id: str
    ts: str

    def _make_json(self) -> dict[str, Any]:
        return {**payload_dict(self.policy), "sender": self.sender, "event_id": self.event_id, "ts": self.ts}
