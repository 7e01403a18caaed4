"""The fold's records: read by attribute, replaced rather than changed, and shown exactly as before.

``folded_state.json`` is what ``State.to_json`` (so ``learning.json`` and
``inbox --json``) gave for the session below when the folded state was made of
dicts; the records must give it byte for byte, members in the same order.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from colearner_lsp.core.model.fold import apply_event, fold
from colearner_lsp.core.model.records import EvidenceRequestRecord
from colearner_lsp.core.model.state import State
from colearner_lsp.core.protocol.events import EnvelopeBase, parse_event

GOLDEN = Path(__file__).with_name("folded_state.json")
SESSION = "5e5510a0-0000-4000-8000-000000000000"
EX = "e0000000-0000-4000-8000-000000000001"


def eid(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


SNAPSHOT = {"exercise_id": EX, "commit": "c" * 40, "branch": "main", "dirty": True}
# (sender, event_type, payload): every record the fold makes, with the optional members both set and not.
SCENARIO: list[tuple[str, str, dict[str, Any]]] = [
    ("coach", "session_lifecycle", {"from": None, "to": "init", "reason": "open"}),
    (
        "coach",
        "learning_plan",
        {"goals": ["g"], "plan": [{"id": "a", "topic": "A"}, {"id": "b", "topic": "B", "status": "next"}, {"id": "c", "topic": "C"}]},
    ),
    ("coach", "scope_policy", {"allow": ["app/**"], "deny": ["secrets/**"], "share": "diff", "max_files": 7, "version": 3}),
    (
        "coach",
        "exercise_assigned",
        {
            "topic": "A",
            "exercise": "e",
            "expected": "x",
            "tests": ["pytest"],
            "exercise_id": EX,
            "step_id": "a",
            "anchor": {"path": "app/a.py", "start_line": 2, "end_line": 4, "start_char": 0, "commit": "d" * 40, "fingerprint": "fp"},
        },
    ),
    ("alice", "exercise_acknowledged", {"exercise_id": EX}),
    ("coach", "evidence_request", {"exercise_id": EX, "paths": ["app/*.py", "tests/**"], "reason": "show me"}),
    ("coach", "evidence_request", {"exercise_id": EX, "paths": ["README.md"], "reason": "and this"}),
    (
        "alice",
        "evidence_snapshot",
        {
            **SNAPSHOT,
            "files": [
                {"path": "app/a.py", "blob_sha": "a" * 40, "size": 10, "lines": 2, "status": "modified"},
                {"path": "app/new.py", "blob_sha": "b" * 40, "size": 5, "lines": 1, "status": "renamed", "old_path": "app/old.py"},
            ],
            "summary": "2 files",
            "withheld": 1,
            "diffstat": [{"path": "app/a.py", "added": 1, "removed": 0}],
            "diff": "--- a\n+++ b\n",
            "request_id": eid(6),
        },
    ),
    ("alice", "exercise_response", {"exercise_id": EX, "response": "done", "evidence": {"event_id": eid(8), "files": 2, "withheld": 1}}),
    (
        "coach",
        "assessment_feedback",
        {
            "grade": "revise",
            "next_step": "n",
            "confidence_delta": -0.25,
            "exercise_id": EX,
            "mistakes": [
                "plain",
                {"text": "placed", "path": "app/a.py", "start_line": 3},
                {"text": "ranged", "path": "app/b.py", "start_line": 1, "end_line": 9},
            ],
        },
    ),
    ("alice", "progress_update", {"completed": ["a"], "confidence": {"A": 0.6, "B": 0.2}}),
    ("alice", "evidence_snapshot", {**SNAPSHOT, "dirty": False}),  # names no request: answers the open one
    ("alice", "exercise_response", {"exercise_id": EX, "response": "again"}),
    ("coach", "assessment_feedback", {"grade": "pass", "next_step": "next", "confidence_delta": 0.5, "exercise_id": EX}),
]


def events() -> list[EnvelopeBase]:
    seqs: dict[str, int] = {}
    out = []
    for n, (sender, event_type, payload) in enumerate(SCENARIO, start=1):
        seqs[sender] = seqs.get(sender, 0) + 1
        envelope = {
            "ts": f"2026-01-31T09:00:{n:02d}.000000Z",
            "actor": "coach" if sender == "coach" else "student",
            "session_id": SESSION,
            "event_type": event_type,
            "payload": payload,
            "event_id": eid(n),
            "sender": sender,
            "student": "alice",
            "seq": seqs[sender],
        }
        out.append(parse_event(envelope))
    return out


def test_the_shown_state_is_the_one_shown_before_byte_for_byte() -> None:
    state = fold(events())
    assert json.dumps(state.to_json(), indent=1) + "\n" == GOLDEN.read_text()
    assert json.loads(json.dumps(state.to_json())) == state.to_json()  # plain JSON: no record or model left inside


def test_readers_get_typed_records() -> None:
    state = fold(events())
    session, ex = state.sessions[SESSION], state.exercises[EX]
    assert [(s.id, s.status) for s in session.steps] == [("a", "done"), ("b", "active"), ("c", "next")]
    assert session.scope is not None and (session.scope.policy.share, session.scope.policy.version, session.scope.sender) == (
        "diff",
        3,
        "coach",
    )
    assert [(p.topic, p.delta, p.value, p.source) for p in session.confidence_trend][:2] == [
        ("A", -0.25, 0.25, "feedback"),
        ("A", None, 0.6, "student"),
    ]
    assert ex.anchor is not None and (ex.anchor.path, ex.anchor.start_char, ex.anchor.end_char) == ("app/a.py", 0, None)
    first, second = ex.responses
    assert (first.text, first.evidence_id, second.evidence_id) == ("done", eid(8), None)
    assert [r.answered_by for r in ex.evidence_requests] == [eid(8), eid(12)] and ex.open_requests == []
    renamed = ex.evidence[0].snapshot.files[1]
    assert (renamed.status, renamed.old_path, ex.evidence[1].snapshot.files) == ("renamed", "app/old.py", [])
    revise, passed = ex.feedback
    assert [(m.text, m.path, m.start_line, m.end_line) for m in revise.mistakes] == [
        ("plain", None, None, None),
        ("placed", "app/a.py", 3, None),
        ("ranged", "app/b.py", 1, 9),
    ]
    assert (passed.grade, passed.mistakes, ex.latest_feedback) == ("pass", (), passed)


def test_a_record_is_replaced_never_changed() -> None:
    """A reader holding a record (another thread, a view built a moment ago) sees it as it was."""
    everything = events()
    state = State()
    for event in everything[:7]:
        apply_event(state, event)
    held = list(state.exercises[EX].evidence_requests)
    plan = list(state.sessions[SESSION].steps)
    for event in everything[7:]:
        apply_event(state, event)
    assert [r.answered_by for r in held] == [None, None]
    assert [s.status for s in plan] == ["active", "next", "next"]
    assert [s.status for s in state.sessions[SESSION].steps] == ["done", "active", "next"]
    with pytest.raises(AttributeError):
        held[0].answered_by = "someone"  # type: ignore[misc]
    assert isinstance(state.exercises[EX].evidence_requests[0], EvidenceRequestRecord)
