"""Unit tests: what each exercise shows (student and coach), by the one diagnostics rule, and its LSP JSON."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from colearner_lsp.core.anchor.anchors import LineRange, Relocation
from colearner_lsp.core.model.state import ExerciseState
from colearner_lsp.core.sharing.evidence import blob_sha_of
from colearner_lsp.server.anchor_tracker import AnchorTracker
from colearner_lsp.server.coach_findings import coach_findings
from colearner_lsp.server.coach_review import LocalBlobs
from colearner_lsp.server.code_lens import student_lens
from colearner_lsp.server.diagnostic_json import DiagnosticJson, params_json
from colearner_lsp.server.diagnostics import AT_ANCHOR, KINDS, DiagnosticStore, Finding, Related, safe_path, student_findings
from colearner_lsp.server.next_action import student_next
from tests.records import anchor, evidence, feedback, request, response


def exercise(state: str = "assigned", **fields) -> ExerciseState:  # type: ignore[no-untyped-def]
    ex = ExerciseState(
        exercise_id="e1234567-89ab-4cde-8000-000000000001",
        session_id="s1",
        student="sam",
        coach="carol",
        topic="loops",
        exercise="fix the loop",
        expected="a passing test",
        tests=["pytest"],
        step_id=None,
        anchor=anchor("app/a.py", 3, 5),
        assigned_at="2026-01-01T00:00:00Z",
    )
    ex.state = state
    for name, value in fields.items():
        setattr(ex, name, value)
    return ex


EID = exercise().exercise_id


def tracker_at(first: int | None) -> AnchorTracker:
    """The exercise's code at 1-based lines first..first+2 (None: lost)."""
    tracker = AnchorTracker()
    where = Relocation("exact", LineRange(first, first + 2), 1.0) if first else Relocation("lost", None, 0.0)
    tracker.add(EID, "app/a.py", LineRange(3, 5), where)
    return tracker


def revised(*mistakes: dict, next_step: str = "check bounds", state: str = "revise", **fields) -> ExerciseState:  # type: ignore[type-arg, no-untyped-def]
    return exercise(state, feedback=[feedback("revise", "2026-01-02T10:00:00Z", next_step, mistakes)], **fields)


def texts_once(findings: list[Finding], *texts: str) -> None:
    for text in texts:
        carrying = [f.message for f in findings if text in f.message]
        assert len(carrying) == 1, f"{text!r} said {len(carrying)} times: {carrying}"


ON_ANCHOR = {"text": "off by one in the loop", "path": "app/a.py", "start_line": 4, "end_line": 5}  # within lines 3-5
ELSEWHERE = {"text": "the helper is unused", "path": "app/a.py", "start_line": 12, "end_line": 14}
OTHER_FILE = {"text": "no test for empty input", "path": "app/b.py", "start_line": 7}
UNANCHORED = {"text": "explain your change"}


def test_severity_and_next_action_follow_the_state() -> None:
    t = tracker_at(3).get(EID)
    (f,) = student_findings(exercise(), t)
    assert (f.kind, f.severity, f.lines, f.related) == ("exercise", "information", AT_ANCHOR, ())
    assert f.message == "loops · new from carol · next: Acknowledge — fix the loop"
    (f,) = student_findings(exercise("acknowledged"), t)
    assert (f.severity, f.message) == ("hint", "loops · in progress · next: Respond — fix the loop")
    (f,) = student_findings(exercise("responded"), t)
    assert (f.severity, f.message) == ("hint", "loops · answer sent, waiting for carol's review")
    (f,) = student_findings(revised(), t)
    assert (f.severity, f.message) == ("warning", "loops · to revise · next: fix it, then Respond — carol: check bounds.")
    assert student_findings(exercise("passed"), t) == [] and student_findings(exercise(), None) == []
    assert all(x.kind in KINDS for x in student_findings(revised(ELSEWHERE), t))


def test_a_mistake_on_the_exercise_lines_folds_into_the_exercise() -> None:
    t = tracker_at(3).get(EID)
    found = student_findings(revised(ON_ANCHOR, ELSEWHERE, OTHER_FILE, UNANCHORED), t)
    assert [(f.kind, f.path, f.lines) for f in found] == [
        ("exercise", "app/a.py", AT_ANCHOR),
        ("mistake", "app/a.py", (11, 13)),
        ("mistake", "app/b.py", (6, 6)),
    ]
    main = found[0]
    assert "Mistakes: off by one in the loop; explain your change." in main.message
    assert "2 mistakes on other lines: app/a.py:12-14, app/b.py:7." in main.message  # places, not their texts
    texts_once(found, ON_ANCHOR["text"], ELSEWHERE["text"], OTHER_FILE["text"], UNANCHORED["text"], "check bounds")
    for mark in found[1:]:
        assert mark.severity == "warning" and mark.message.startswith("loops · mistake · next: fix it, then Respond — ")
        (back,) = mark.related  # the way back to the exercise's code: topic and short id, no UUID
        assert back.lines is AT_ANCHOR and back.message == "exercise 'loops' (e1234567) from carol"


def test_what_counts_as_the_exercise_lines() -> None:
    partly = {"text": "spills over", "path": "app/a.py", "start_line": 5, "end_line": 7}  # lines 5-7 against 3-5
    found = student_findings(revised(partly), tracker_at(3).get(EID))
    assert [f.kind for f in found] == ["exercise", "mistake"]  # lines 6-7 would get no mark otherwise
    # The anchor moved down by ten lines: the mistake filed on the old lines is now elsewhere.
    found = student_findings(revised(ON_ANCHOR), tracker_at(13).get(EID))
    assert [f.kind for f in found] == ["exercise", "mistake"]
    unsafe = {"text": "look here", "path": "../outside.py", "start_line": 1}
    (f,) = student_findings(revised(unsafe), tracker_at(3).get(EID))
    assert "Mistake: look here." in f.message and "outside" not in f.message


def test_many_mistakes_stay_short_at_the_anchor() -> None:
    many = [{"text": f"mistake {i}"} for i in range(7)] + [{"text": f"far {i}", "path": "app/a.py", "start_line": 20 + i} for i in range(5)]
    found = student_findings(revised(*many), tracker_at(3).get(EID))
    main = found[0].message
    assert "mistake 0; mistake 1; mistake 2; 4 more (hover)." in main and "mistake 3" not in main
    assert "5 mistakes on other lines: app/a.py:20, app/a.py:21, app/a.py:22, …" in main
    assert len(found) == 6 and len(main) < 500


def test_an_evidence_request_is_the_next_action_of_the_exercise() -> None:
    asked = request("r1", "2026-01-02T00:00:00Z", ["app/*.py"], "show me")
    t = tracker_at(3).get(EID)
    for state in ("acknowledged", "responded"):
        ex = exercise(state, evidence_requests=[asked])
        (f,) = student_findings(ex, t)
        assert student_next(ex) == "answer_request"
        assert f.severity == "information" and f.data()["request_id"] == "r1"
        assert "next: Answer evidence request — carol asks for evidence on app/*.py: show me." in f.message
    assert student_next(exercise(evidence_requests=[asked])) == "acknowledge"  # acknowledging comes first
    answered = exercise("acknowledged", evidence_requests=[replace(asked, answered_by="ev1")])
    assert student_next(answered) == "respond" and "request_id" not in student_findings(answered, t)[0].data()
    # the lens above the anchor names the same move and runs it
    lens = student_lens(exercise("responded", evidence_requests=[asked]), 2)
    assert lens.command is not None and lens.command.command == "colearner.attachEvidence"
    assert lens.command.title.endswith("· Answer evidence request") and lens.command.arguments == [{"exercise_id": EID, "request_id": "r1"}]
    assert student_lens(answered, 2).command.command == "colearner.respond"  # type: ignore[union-attr]


def test_lost_anchor_says_where_it_was() -> None:
    (f,) = student_findings(exercise(), tracker_at(None).get(EID))
    assert f.message.startswith("The code this exercise pointed at has moved or been deleted (was app/a.py:3-5)")


def test_store_reports_changed_files_only() -> None:
    store = DiagnosticStore()
    t = tracker_at(3).get(EID)
    first = student_findings(exercise(), t)
    assert store.set(EID, first) == {"app/a.py"}
    assert store.set(EID, list(first)) == set()
    assert store.set(EID, []) == {"app/a.py"} and store.for_path("app/a.py") == []


def test_json_places_anchored_findings_where_the_code_is_now() -> None:
    findings = student_findings(revised(ON_ANCHOR, ELSEWHERE), tracker_at(3).get(EID))
    place = {EID: (2, 4)}
    converter = DiagnosticJson(lambda p: f"file:///r/{p}", lambda eid: place[eid])
    params = json.loads(params_json("file:///r/app/a.py", 3, converter.diagnostics("app/a.py", findings)))
    main, mistake = params["diagnostics"]
    assert params["version"] == 3 and main["range"]["start"]["line"] == 2
    assert (main["source"], main["code"], main["severity"]) == ("colearner", "exercise", 2)
    assert (mistake["source"], mistake["code"], mistake["severity"]) == ("colearner", "mistake", 2)
    assert "relatedInformation" not in main  # it would point at itself
    assert mistake["relatedInformation"][0]["location"]["range"]["start"]["line"] == 2
    place[EID] = (7, 9)
    moved = json.loads(converter.diagnostics("app/a.py", findings))
    assert moved[0]["range"]["start"]["line"] == 7 and moved[0]["data"] == {"exercise_id": EID, "kind": "exercise", "state": "revise"}
    assert moved[1]["range"]["start"]["line"] == 11  # a mistake stays on the lines it was filed on
    assert "version" not in json.loads(params_json("file:///r/app/b.py", None, "[]"))  # a closed file has none


def test_json_carries_every_field_of_a_finding() -> None:
    """The encoded text says what lsprotocol's Diagnostic would: all fields, non-ASCII text escaped."""
    related = (Related("app/a.py", None, "exercise 'loops' — from carol"), Related("lib/c.py", (4, 6), "see also"))
    f = Finding(
        "app/b.py",
        (0, 1),
        "warning",
        "loops · mistake · next: fix it, then Respond — off by one",
        "e1",
        "mistake",
        related,
        (("request_id", "r1"),),
    )
    text = DiagnosticJson(lambda p: f"file:///r/{p}", lambda eid: (9, 12)).diagnostics("app/b.py", [f])
    assert text.isascii()
    (d,) = json.loads(text)
    assert d == {
        "range": {"start": {"line": 0, "character": 0}, "end": {"line": 1, "character": 2**31 - 1}},
        "severity": 2,
        "source": "colearner",
        "code": "mistake",
        "message": f.message,
        "data": {"exercise_id": "e1", "kind": "mistake", "request_id": "r1"},
        "relatedInformation": [
            {
                "location": {
                    "uri": "file:///r/app/a.py",
                    "range": {"start": {"line": 9, "character": 0}, "end": {"line": 12, "character": 2**31 - 1}},
                },
                "message": "exercise 'loops' — from carol",
            },
            {
                "location": {
                    "uri": "file:///r/lib/c.py",
                    "range": {"start": {"line": 4, "character": 0}, "end": {"line": 6, "character": 2**31 - 1}},
                },
                "message": "see also",
            },
        ],
    }


# ---------------------------------------------------------------- the coach


def coach_checkout(tmp_path: Path) -> LocalBlobs:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "a.py").write_text("x = 1\n")
    (tmp_path / "app" / "b.py").write_text("y = 2\n")
    return LocalBlobs(tmp_path)


def test_coach_sees_the_answer_with_its_evidence_at_the_anchor(tmp_path: Path) -> None:
    blobs = coach_checkout(tmp_path)
    files = [
        {"path": "app/a.py", "blob_sha": blob_sha_of(tmp_path / "app" / "a.py"), "status": "modified"},
        {"path": "app/b.py", "blob_sha": "0" * 40, "status": "modified"},
        {"path": "app/new.py", "blob_sha": "1" * 40, "status": "added"},
    ]
    ex = exercise(
        "responded",
        responses=[response("done it", "2026-01-02T00:00:00Z")],
        evidence=[evidence("ev1", "2026-01-02T00:00:00Z", files)],
    )
    review, other = coach_findings(ex, tracker_at(3).get(EID), blobs)
    assert (review.kind, review.severity, review.lines, review.related) == ("review", "information", AT_ANCHOR, ())
    assert review.message == (
        "loops · sam answered · next: Pass or Request revision — done it. "
        "Evidence: app/a.py matches your checkout; app/new.py is not in your checkout."
    )
    assert review.data() == {"exercise_id": EID, "kind": "review", "state": "responded", "student": "sam", "evidence_id": "ev1"}
    assert (other.kind, other.path, other.lines, other.data()["match"]) == ("evidence", "app/b.py", (0, 0), "differs")
    assert other.message == "loops · sam's evidence: app/b.py (modified) differs from your checkout"
    assert other.related[0].message == "exercise 'loops' (e1234567) from sam"


def test_coach_keeps_a_mark_where_they_filed_each_mistake(tmp_path: Path) -> None:
    blobs = coach_checkout(tmp_path)
    missing = {"text": "and in the new module", "path": "app/new.py", "start_line": 2}
    ex = revised(
        ON_ANCHOR,
        ELSEWHERE,
        OTHER_FILE,
        missing,
        next_step="validate it",
        evidence=[evidence("ev1", "2026-01-01T12:00:00Z")],
    )
    found = coach_findings(ex, tracker_at(3).get(EID), blobs)
    assert [(f.kind, f.path, f.lines, f.severity) for f in found] == [
        ("exercise", "app/a.py", AT_ANCHOR, "information"),
        ("mistake", "app/a.py", (11, 13), "information"),
        ("mistake", "app/b.py", (6, 6), "information"),
    ]
    main = found[0].message
    assert main.startswith("loops · sam · revising — You asked: validate it. ")
    # The mistake on the anchor's lines, and the one in a file the coach has not, are said at the anchor.
    assert "Mistakes: off by one in the loop; and in the new module (app/new.py:2)." in main
    assert found[1].message == "loops · sam · mistake you filed, waiting for the revision — the helper is unused"
    texts_once(found, *(m["text"] for m in (ON_ANCHOR, ELSEWHERE, OTHER_FILE, missing)), "validate it")
    # The student answers again: the answer waits for review; the marks go with the revise.
    again = revised(ON_ANCHOR, ELSEWHERE, state="responded", revise_count=1, responses=[response("fixed", "2026-01-03T00:00:00Z")])
    (review,) = coach_findings(again, tracker_at(3).get(EID), blobs)
    assert review.kind == "review" and review.message == "loops · sam answered again · next: Pass or Request revision — fixed."


def test_coach_sees_a_quiet_hint_while_the_student_has_the_turn(tmp_path: Path) -> None:
    blobs = coach_checkout(tmp_path)
    t = tracker_at(3).get(EID)
    (f,) = coach_findings(exercise(), t, blobs)
    assert (f.kind, f.severity, f.message) == ("exercise", "hint", "loops · sam · not acknowledged yet")
    asked = request("r1", "2026-01-02T00:00:00Z", ["app/*.py"], "show me")
    (f,) = coach_findings(exercise("acknowledged", evidence_requests=[asked]), t, blobs)
    assert (f.severity, f.message) == ("hint", "loops · sam · working on it — Waiting for evidence on app/*.py.")
    assert coach_findings(exercise("passed"), t, blobs) == []


def test_paths_a_peer_may_name() -> None:
    assert safe_path("app/a.py") and not safe_path("/etc/passwd") and not safe_path("../x") and not safe_path(".git/config")


@pytest.mark.parametrize("path", ["app/a\0.py", "/etc/passwd", "../outside.py", "app/../../x", ".git/config", "", "a" * 5000])
def test_coach_blob_lookup_refuses_paths_a_peer_should_not_name(tmp_path: Path, path: str) -> None:
    """An evidence path comes over the wire: a NUL (which the OS refuses to name), an absolute
    path, '..', .git or a name too long for the OS answers 'not here', never an exception."""
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_text("[core]\n")
    blobs = coach_checkout(tmp_path)
    assert blobs.sha(path) is None
    assert blobs.sha("app/a.py") == blob_sha_of(tmp_path / "app" / "a.py")  # and the lookup still works
