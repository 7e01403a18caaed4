"""Folded-state records made by hand, for tests of the readers (hover, threads, findings, the review queue).

Each builder takes the members a test cares about and fills the others with
plain values; parts are built through their wire models (``EvidenceFile``,
``AnchoredMistake``, ``Anchor``), so a record made here is one the fold could
have made.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from colearner_lsp.core.model.records import EvidenceRecord, EvidenceRequestRecord, FeedbackRecord, ResponseRecord
from colearner_lsp.core.protocol.events import Anchor, AnchoredMistake, AssessmentFeedback, EvidenceFile, EvidenceSnapshot
from colearner_lsp.core.protocol.vocabulary import Grade


def anchor(path: str = "app/a.py", start_line: int = 3, end_line: int = 5, **rest: Any) -> Anchor:
    return Anchor(path=path, start_line=start_line, end_line=end_line, **rest)


def response(text: str, ts: str, evidence: str | None = None, event_id: str = "r") -> ResponseRecord:
    return ResponseRecord(event_id, ts, text, evidence)


def evidence_file(path: str, status: str = "modified", **rest: Any) -> EvidenceFile:
    return EvidenceFile.model_validate({"blob_sha": "", "size": 0, "lines": 0, "path": path, "status": status, **rest})


def evidence(event_id: str, ts: str, files: Iterable[Mapping[str, Any]] = (), **snapshot: Any) -> EvidenceRecord:
    """A snapshot of ``files`` (each the members of an ``EvidenceFile`` it names, ``path`` at least)."""
    parts = [evidence_file(**dict(f)) for f in files]
    fields = {"exercise_id": "e", "commit": "", "branch": "main", "dirty": False, **snapshot, "files": parts}
    return EvidenceRecord(event_id, ts, EvidenceSnapshot(**fields))


def request(event_id: str, ts: str, paths: Iterable[str], reason: str = "", answered_by: str | None = None) -> EvidenceRequestRecord:
    return EvidenceRequestRecord(event_id, ts, tuple(paths), reason, answered_by)


def feedback(
    grade: Grade,
    ts: str,
    next_step: str = "",
    mistakes: Iterable[AnchoredMistake | Mapping[str, Any] | str] = (),
    event_id: str = "f",
    confidence_delta: float = 0.0,
) -> FeedbackRecord:
    """A feedback; each mistake an ``AnchoredMistake``, its members, or its text alone (as the wire has it).
    The payload is not checked as a whole, so a test may give texts longer than the wire allows."""
    given = [m if isinstance(m, AnchoredMistake | str) else AnchoredMistake(**m) for m in mistakes]
    payload = AssessmentFeedback.model_construct(grade=grade, mistakes=given, next_step=next_step, confidence_delta=confidence_delta)
    return FeedbackRecord(event_id, ts, payload)
