"""Unit tests: response documents and command arguments."""

from __future__ import annotations

from pathlib import Path

import pytest
from pygls.exceptions import JsonRpcInvalidParams

from colearner_lsp.server.command_args import AssignArgs, AttachEvidenceArgs, ExerciseArgs, FeedbackArgs, RespondArgs, parse
from colearner_lsp.server.responses import (
    ANSWER_END,
    ANSWER_START,
    EVIDENCE_END,
    EVIDENCE_START,
    exercise_of_document,
    read_answer,
    render,
    write_document,
)
from tests.records import feedback
from tests.server.test_findings import exercise


def test_document_round_trip(tmp_path: Path) -> None:
    ex = exercise("revise", exercise_id="e1", feedback=[feedback("revise", "2026-01-02T00:00:00Z", "check bounds", ["off by one"])])
    path, created = write_document(tmp_path, ex)
    assert created and path == tmp_path / ".colearner" / "responses" / "loops-e1.md"  # topic and short id
    text = path.read_text()
    assert "fix the loop" in text and "check bounds" in text and "off by one" in text
    assert read_answer(text) == ("", None)
    written = text.replace(ANSWER_START + "\n", ANSWER_START + "\nMy answer\nover two lines\n").replace(
        "<!-- evidence:start -->\n", "<!-- evidence:start -->\n- app/a.py\n`app/b.py`\n"
    )
    assert read_answer(written) == ("My answer\nover two lines", ["app/a.py", "app/b.py"])
    assert write_document(tmp_path, ex) == (path, False)
    assert exercise_of_document(tmp_path, path) == "e1"
    assert exercise_of_document(tmp_path, tmp_path / "e1.md") is None
    with pytest.raises(ValueError, match="answer markers"):
        read_answer(render(ex).replace(ANSWER_END, ""))


def test_the_evidence_listed_reads_back_as_itself_whatever_the_paths_hold(tmp_path: Path) -> None:
    """A path the document could not give back as itself (a line break, a marker, a control
    character, what the list's reading strips) is left out; the others are listed once, in order."""
    fine = ["app/inventory.py", "docs/a b.md", "src/ünïcode.py", "x" * 4000]
    hostile = [
        "",
        "app/two\nlines.py",
        f"app/{EVIDENCE_END}.py",
        f"{ANSWER_END}",
        "<!-- hidden -->",
        "app/-->.py",
        "app/\x1b[31mred.py",
        "app/\u202eevil.py",
        "- bullet.py",
        "`quoted.py`",
        " padded.py",
        "app/tab\there.py",
    ]
    text = render(exercise("acknowledged", exercise_id="e1"), [*hostile, fine[0], *fine, fine[1]])
    assert read_answer(text) == ("", fine)
    between = text.split(EVIDENCE_START, 1)[1].split(EVIDENCE_END, 1)[0]
    assert all(line.startswith("<!--") or line in fine for line in between.splitlines() if line), between
    # Nothing listed: the list is empty and says nothing of why.
    assert f"{EVIDENCE_START}\n{EVIDENCE_END}" in render(exercise("acknowledged"), hostile)
    # The document on disk says the same, and a draft there is kept as it is.
    path, created = write_document(tmp_path, exercise("acknowledged", exercise_id="e2"), [fine[0]])
    assert created and read_answer(path.read_text()) == ("", [fine[0]])
    assert write_document(tmp_path, exercise("acknowledged", exercise_id="e2"), fine) == (path, False)
    assert read_answer(path.read_text()) == ("", [fine[0]])


def test_arguments_are_one_object_with_named_fields() -> None:
    assert parse(ExerciseArgs, ({"exercise_id": "e1"},), "colearner.acknowledge").exercise_id == "e1"
    for bad, words in [
        ((), "no argument"),
        (("e1",), "got str"),
        (({"exercise_id": "e1"}, {}), "2 arguments"),
        (({"exercise_id": ""},), "exercise_id"),
        (({"exercise_id": "e1", "x": 1},), "x: Extra inputs"),
    ]:
        with pytest.raises(JsonRpcInvalidParams, match=words):
            parse(ExerciseArgs, bad, "colearner.acknowledge")
    feedback = parse(
        FeedbackArgs,
        (
            {
                "exercise_id": "e1",
                "grade": "revise",
                "next_step": "n",
                "confidence_delta": -0.1,
                "mistakes": ["plain", {"text": "anchored", "path": "a.py", "start_line": 2}],
            },
        ),
        "c",
    )
    assert feedback.mistakes[0] == "plain" and feedback.mistakes[1].start_line == 2
    with pytest.raises(JsonRpcInvalidParams, match="confidence_delta"):
        parse(FeedbackArgs, ({"exercise_id": "e1", "grade": "pass", "next_step": "n", "confidence_delta": 3},), "c")
    # the mistake is the wire's own model: its line rule and its closed set of fields
    base = {"exercise_id": "e1", "grade": "revise", "next_step": "n", "confidence_delta": 0}
    for mistake, words in [
        ({"text": "t", "start_line": 0}, "start_line"),
        ({"text": "t", "colour": "red"}, "colour"),
        ({"text": "t" * 20_001}, "text"),
        ({"text": "t", "path": "p" * 4097}, "path"),
        ({"text": ["nested"]}, "text"),
        (123, "mistakes.0"),
    ]:
        with pytest.raises(JsonRpcInvalidParams, match=words):
            parse(FeedbackArgs, ({**base, "mistakes": [mistake]},), "c")
    with pytest.raises(JsonRpcInvalidParams, match="grade: Input should be 'pass' or 'revise'"):
        parse(FeedbackArgs, ({**base, "grade": "fail"},), "c")
    assign = parse(
        AssignArgs,
        (
            {
                "uri": "file:///r/a.py",
                "range": {"start": {"line": 1, "character": 0}, "end": {"line": 3, "character": 0}},
                "topic": "t",
                "exercise": "e",
                "expected": "x",
            },
        ),
        "colearner.assign",
    )
    assert assign.range.end.line == 3 and assign.session_id is None


def test_response_documents_are_readable_by_the_student_only(tmp_path: Path) -> None:
    import os
    import stat

    if os.name == "nt":
        pytest.skip("POSIX permissions")
    path, _created = write_document(tmp_path, exercise("revise"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_evidence_commands_take_include_ignored() -> None:
    assert parse(RespondArgs, ({"exercise_id": "e1", "text": "t"},), "colearner.respond").include_ignored is False
    args = parse(AttachEvidenceArgs, ({"exercise_id": "e1", "include_ignored": True},), "colearner.attachEvidence")
    assert args.include_ignored is True
    with pytest.raises(JsonRpcInvalidParams, match="include_ignored"):
        parse(RespondArgs, ({"exercise_id": "e1", "include_ignored": "please"},), "colearner.respond")
