"""Unit tests: what each exercise shows (student and coach), and its LSP JSON."""

from __future__ import annotations

import json
from pathlib import Path

from colearner_lsp.core.anchors import LineRange, Relocation
from colearner_lsp.core.evidence import blob_sha_of
from colearner_lsp.core.state import ExerciseState
from colearner_lsp.server.anchor_tracker import AnchorTracker
from colearner_lsp.server.coach_review import LocalBlobs, coach_findings
from colearner_lsp.server.diagnostic_json import DiagnosticJson, params_json
from colearner_lsp.server.diagnostics import AT_ANCHOR, DiagnosticStore, Finding, Related, safe_path, student_findings


def exercise(state: str = "assigned", **fields) -> ExerciseState:  # type: ignore[no-untyped-def]
    ex = ExerciseState(
        exercise_id="e1", session_id="s1", student="sam", coach="carol", topic="loops", exercise="fix the loop",
        expected="a passing test", tests=["pytest"], step_id=None,
        anchor={"path": "app/a.py", "start_line": 3, "end_line": 5, "fingerprint": ""}, assigned_at="2026-01-01T00:00:00Z",
    )
    ex.state = state
    for name, value in fields.items():
        setattr(ex, name, value)
    return ex


def tracker_at(first: int | None) -> AnchorTracker:
    tracker = AnchorTracker()
    where = Relocation("exact", LineRange(first, first + 2), 1.0) if first else Relocation("lost", None, 0.0)
    tracker.add("e1", "app/a.py", {"start_line": 3, "end_line": 5}, where)
    return tracker


def test_student_findings_follow_the_state() -> None:
    t = tracker_at(3).get("e1")
    (f,) = student_findings(exercise(), t)
    assert (f.kind, f.severity, f.lines) == ("exercise", "information", AT_ANCHOR) and "Acknowledge" in f.message
    assert student_findings(exercise("acknowledged"), t)[0].severity == "hint"
    revise = exercise("revise", feedback=[{"grade": "revise", "next_step": "check bounds", "ts": "t",
                                           "mistakes": [{"text": "off by one", "path": "app/b.py", "start_line": 7}, {"text": "no test"}]}])
    found = student_findings(revise, t)
    assert [x.kind for x in found] == ["exercise", "mistake"]
    assert found[0].severity == "warning" and "check bounds" in found[0].message and "off by one" in found[0].message
    assert (found[1].path, found[1].lines) == ("app/b.py", (6, 6))
    assert student_findings(exercise("passed"), t) == []
    requested = exercise(evidence_requests=[{"event_id": "r1", "paths": ["*.py"], "reason": "show me", "answered_by": None}])
    assert student_findings(requested, t)[1].data()["request_id"] == "r1"


def test_lost_anchor_says_where_it_was() -> None:
    (f,) = student_findings(exercise(), tracker_at(None).get("e1"))
    assert f.message.startswith("The code this exercise pointed at has moved or been deleted (was app/a.py:3-5)")


def test_store_reports_changed_files_only() -> None:
    store = DiagnosticStore()
    t = tracker_at(3).get("e1")
    first = student_findings(exercise(), t)
    assert store.set("e1", first) == {"app/a.py"}
    assert store.set("e1", list(first)) == set()
    assert store.set("e1", []) == {"app/a.py"} and store.for_path("app/a.py") == []


def test_json_places_anchored_findings_where_the_code_is_now() -> None:
    tracker = tracker_at(3)
    findings = student_findings(exercise("revise", feedback=[{"grade": "revise", "next_step": "x", "ts": "t",
                                                             "mistakes": [{"text": "m", "path": "app/a.py", "start_line": 9}]}]), tracker.get("e1"))
    place = {"e1": (2, 4)}
    converter = DiagnosticJson(lambda p: f"file:///r/{p}", lambda eid: place[eid])
    params = json.loads(params_json("file:///r/app/a.py", 3, converter.diagnostics("app/a.py", findings)))
    main, mistake = params["diagnostics"]
    assert params["version"] == 3 and main["range"]["start"]["line"] == 2 and main["source"] == "colearner"
    assert "relatedInformation" not in main  # it would point at itself
    assert mistake["relatedInformation"][0]["location"]["range"]["start"]["line"] == 2
    place["e1"] = (7, 9)
    moved = json.loads(converter.diagnostics("app/a.py", findings))
    assert moved[0]["range"]["start"]["line"] == 7 and moved[0]["data"] == {"exercise_id": "e1", "kind": "exercise", "state": "revise"}
    assert "version" not in json.loads(params_json("file:///r/app/b.py", None, "[]"))  # a closed file has none


def test_json_carries_every_field_of_a_finding() -> None:
    """The encoded text says what lsprotocol's Diagnostic would: all fields, non-ASCII text escaped."""
    related = (Related("app/a.py", None, "exercise 'loops' — from carol"), Related("lib/c.py", (4, 6), "see also"))
    f = Finding("app/b.py", (0, 1), "warning", "Mistake in 'loops': off by one — next: …", "e1", "mistake", related, (("request_id", "r1"),))
    text = DiagnosticJson(lambda p: f"file:///r/{p}", lambda eid: (9, 12)).diagnostics("app/b.py", [f])
    assert text.isascii()
    (d,) = json.loads(text)
    assert d == {
        "range": {"start": {"line": 0, "character": 0}, "end": {"line": 1, "character": 2**31 - 1}},
        "severity": 2, "source": "colearner", "code": "mistake", "message": f.message,
        "data": {"exercise_id": "e1", "kind": "mistake", "request_id": "r1"},
        "relatedInformation": [
            {"location": {"uri": "file:///r/app/a.py", "range": {"start": {"line": 9, "character": 0}, "end": {"line": 12, "character": 2**31 - 1}}},
             "message": "exercise 'loops' — from carol"},
            {"location": {"uri": "file:///r/lib/c.py", "range": {"start": {"line": 4, "character": 0}, "end": {"line": 6, "character": 2**31 - 1}}},
             "message": "see also"},
        ],
    }


def test_coach_sees_the_answer_and_marks_evidence(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "a.py").write_text("x = 1\n")
    (tmp_path / "app" / "b.py").write_text("y = 2\n")
    same = blob_sha_of(tmp_path / "app" / "a.py")
    files = [
        {"path": "app/a.py", "blob_sha": same, "status": "modified"},
        {"path": "app/b.py", "blob_sha": "0" * 40, "status": "modified"},
        {"path": "app/new.py", "blob_sha": "1" * 40, "status": "added"},
    ]
    ex = exercise("responded", responses=[{"text": "done it", "ts": "2026-01-02T00:00:00Z"}],
                  evidence=[{"files": files, "ts": "2026-01-02T00:00:00Z", "event_id": "ev1"}])
    found = coach_findings(ex, tracker_at(3).get("e1"), LocalBlobs(tmp_path))
    assert [f.kind for f in found] == ["review", "evidence", "evidence", "evidence"]
    marks = {f.data()["match"]: f for f in found[1:]}
    assert marks["matches"].lines is AT_ANCHOR and marks["differs"].path == "app/b.py" and marks["differs"].lines == (0, 0)
    assert "app/new.py" in marks["missing"].message and marks["missing"].path == "app/a.py"
    reviewed = exercise("revise", evidence=ex.evidence, feedback=[{"grade": "revise", "ts": "2026-01-03T00:00:00Z"}])
    assert coach_findings(reviewed, tracker_at(3).get("e1"), LocalBlobs(tmp_path)) == []


def test_paths_a_peer_may_name() -> None:
    assert safe_path("app/a.py") and not safe_path("/etc/passwd") and not safe_path("../x") and not safe_path(".git/config")
