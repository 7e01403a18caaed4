"""What the fold produces: sessions, exercises, progress — plain dataclasses.

State is never edited by hand; ``fold.apply_event`` is the only writer. The
sessions and exercises are mutable so that an incremental fold (one new event
at a time) stays cheap; what they hold of each event is a frozen record
(``records``), replaced rather than changed. ``to_json`` gives the stable
shape written to ``learning.json`` and returned by ``inbox --json``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..protocol.events import Anchor, EnvelopeBase
from .records import (
    ConfidencePoint,
    EvidenceRecord,
    EvidenceRequestRecord,
    FeedbackRecord,
    ResponseRecord,
    ScopeRecord,
    StepRecord,
    anchor_json,
)


@dataclass
class Transition:
    from_: str | None
    to: str
    reason: str
    ts: str
    actor: str
    sender: str
    seq: int
    event_id: str
    applied: bool = True  # False when the move was illegal from the stage it met

    def sort_key(self) -> tuple[str, str, int]:
        return (self.ts, self.sender, self.seq)

    def to_json(self) -> dict[str, Any]:
        return {
            "from": self.from_,
            "to": self.to,
            "reason": self.reason,
            "ts": self.ts,
            "actor": self.actor,
            "sender": self.sender,
            "event_id": self.event_id,
            "applied": self.applied,
        }


@dataclass
class ExerciseState:
    exercise_id: str
    session_id: str
    student: str
    coach: str
    topic: str
    exercise: str
    expected: str
    tests: list[str]
    step_id: str | None
    anchor: Anchor | None
    assigned_at: str
    state: str = "assigned"
    acknowledged_at: str | None = None
    responded_at: str | None = None
    passed_at: str | None = None
    revise_count: int = 0
    responses: list[ResponseRecord] = field(default_factory=list)
    evidence: list[EvidenceRecord] = field(default_factory=list)
    feedback: list[FeedbackRecord] = field(default_factory=list)
    evidence_requests: list[EvidenceRequestRecord] = field(default_factory=list)

    @property
    def latest_feedback(self) -> FeedbackRecord | None:
        return self.feedback[-1] if self.feedback else None

    @property
    def open_requests(self) -> list[EvidenceRequestRecord]:
        return [r for r in self.evidence_requests if not r.answered_by]

    @property
    def _anchor_json(self) -> dict[str, Any] | None:
        # Made once: an exercise keeps the anchor it was assigned with (see records._Shown).
        kept = self.__dict__
        if "_anchor_shown" not in kept:
            kept["_anchor_shown"] = anchor_json(self.anchor)
        shown: dict[str, Any] | None = kept["_anchor_shown"]
        return shown

    def to_json(self) -> dict[str, Any]:
        return {
            "exercise_id": self.exercise_id,
            "session_id": self.session_id,
            "student": self.student,
            "coach": self.coach,
            "topic": self.topic,
            "exercise": self.exercise,
            "expected": self.expected,
            "tests": list(self.tests),
            "step_id": self.step_id,
            "anchor": self._anchor_json,
            "state": self.state,
            "assigned_at": self.assigned_at,
            "acknowledged_at": self.acknowledged_at,
            "responded_at": self.responded_at,
            "passed_at": self.passed_at,
            "revise_count": self.revise_count,
            "responses": [r.to_json() for r in self.responses],
            "evidence": [e.to_json() for e in self.evidence],
            "feedback": [f.to_json() for f in self.feedback],
            "evidence_requests": [r.to_json() for r in self.evidence_requests],
        }


@dataclass
class SessionState:
    session_id: str
    student: str
    coach: str | None = None
    stage: str = "init"
    opened_at: str | None = None
    last_activity: str | None = None
    goals: list[str] = field(default_factory=list)
    steps: list[StepRecord] = field(default_factory=list)
    exercise_ids: list[str] = field(default_factory=list)
    completed: list[str] = field(default_factory=list)
    confidence: dict[str, float] = field(default_factory=dict)
    confidence_trend: list[ConfidencePoint] = field(default_factory=list)
    scope: ScopeRecord | None = None
    transitions: list[Transition] = field(default_factory=list)
    anomalies: list[str] = field(default_factory=list)
    # Filled by the fold so that lifecycle rules can read exercise states.
    _exercises: dict[str, ExerciseState] = field(default_factory=dict, repr=False)

    def exercise_states(self) -> list[str]:
        return [self._exercises[e].state for e in self.exercise_ids if e in self._exercises]

    def exercises(self) -> list[ExerciseState]:
        return [self._exercises[e] for e in self.exercise_ids if e in self._exercises]

    def to_json(self, with_exercises: bool = True) -> dict[str, Any]:
        """The session as ``learning.json`` shows it; ``with_exercises=False`` leaves its
        ``exercises`` empty, for a caller that adds them one at a time."""
        return {
            "session_id": self.session_id,
            "student": self.student,
            "coach": self.coach,
            "stage": self.stage,
            "opened_at": self.opened_at,
            "last_activity": self.last_activity,
            "plan": {"goals": list(self.goals), "steps": [s.to_json() for s in self.steps]},
            "completed": list(self.completed),
            "confidence": dict(self.confidence),
            "confidence_trend": [c.to_json() for c in self.confidence_trend],
            "scope": self.scope.to_json() if self.scope is not None else None,
            "lifecycle": [t.to_json() for t in self.transitions],
            "exercises": [e.to_json() for e in self.exercises()] if with_exercises else [],
            "anomalies": list(self.anomalies),
        }


@dataclass
class State:
    sessions: dict[str, SessionState] = field(default_factory=dict)
    exercises: dict[str, ExerciseState] = field(default_factory=dict)
    seen: set[tuple[str, str]] = field(default_factory=set)  # (sender, event_id): ids are per sender
    # Events that name an exercise this instance has not seen yet (another topic
    # may deliver the assignment later); applied when it arrives.
    waiting: dict[str, list[EnvelopeBase]] = field(default_factory=dict)
    events_applied: int = 0

    def to_json(self, student: str | None = None) -> dict[str, Any]:
        sessions = [
            s.to_json()
            for s in sorted(self.sessions.values(), key=lambda s: (s.opened_at or "", s.session_id))
            if student is None or s.student == student
        ]
        return {"version": 1, "sessions": sessions}
