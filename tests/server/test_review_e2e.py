"""Issue 15 in the coach's editor (real servers over stdio, real broker, real repositories):
"Show the student's change" as a code lens and as a code action on each evidence finding,
executing ``colearner.showStudentChange`` opens the base and the student's version, equal to
what the student has on disk; with ``share: hashes`` and the blob absent, a clear reason."""

from __future__ import annotations

import asyncio
import json
import stat
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.uris import to_fs_path

from colearner_lsp.core import actions
from tests.instances import Pair, run_cli
from tests.repos import git
from tests.server.editor import capabilities, editor
from tests.server.scenario import FILE, cli, of_kind, pick, synced, titles

SHOW = "colearner.showStudentChange"
ADDED = "    # the student's added line"


def session_with_exercise(pair: Pair, share: str) -> str:
    session_id = cli(pair, "coach", "session", "start", "--student", pair.student_id)
    cli(pair, "coach", "scope", session_id, "--allow", "**", "--share", share)
    return cli(
        pair,
        "coach",
        "assign",
        session_id,
        "--topic",
        "loops",
        "--exercise",
        "add a line",
        "--expected",
        "x",
        "--file",
        FILE,
        "--lines",
        "5-8",
    )


async def student_answers(pair: Pair, exercise_id: str) -> str:
    """The student adds a line to FILE, changes app/__init__.py, adds a new file, and answers with all three."""
    student = await synced(pair.student())
    lines = (pair.student_root / FILE).read_text().splitlines(keepends=True)
    lines.insert(6, ADDED + "\n")
    (pair.student_root / FILE).write_text("".join(lines))
    (pair.student_root / "app/__init__.py").write_text("VERSION = 2\n")
    (pair.student_root / "app/discount.py").write_text("RATE = 0.1\n")
    actions.respond(student, exercise_id, "added it", evidence=[FILE, "app/__init__.py", "app/discount.py"])
    await synced(student)
    student.close()
    return "".join(lines)


def committed(pair: Pair, path: str) -> str:
    return git(pair.coach_root, "show", f"HEAD:{path}")


async def lens_commands(ed, rel: str) -> list[types.Command]:  # type: ignore[no-untyped-def]
    lenses = await ed.client.text_document_code_lens_async(
        types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=ed.uri(rel)))
    )
    return [lens.command for lens in lenses or [] if lens.command is not None]


async def test_show_the_students_change_from_lens_and_action_without_show_document(pair: Pair) -> None:
    exercise_id = await asyncio.to_thread(session_with_exercise, pair, "diff")
    edited = await student_answers(pair, exercise_id)
    async with editor(pair.coach_root, caps=capabilities(show_document=False)) as coach:
        coach.open(FILE)
        (review,) = of_kind(await coach.wait_diagnostics(FILE, lambda ds: bool(of_kind(ds, "review"))), "review")
        # the code lens at the top of the anchor's file, and the same as a code action there
        commands = [c for c in await lens_commands(coach, FILE) if c.command == SHOW]
        assert [c.title for c in commands] == [f"Show the student's change: {FILE} (sam)"]
        top = pick(await coach.code_actions(FILE, 0), "Show the student's change")
        assert top.command.arguments == commands[0].arguments and top.kind == "colearner"
        # on the exercise's lines: the anchor's file and the new file the coach's checkout lacks
        acts = await coach.code_actions(FILE, review.range.start.line, [review])
        assert {t for t in titles(acts) if t.startswith("Show")} == {
            f"Show the student's change: {FILE} (sam)",
            "Show the student's change: app/discount.py (sam)",
        }
        result = await coach.run_action(pick(acts, f"Show the student's change: {FILE}"))
        assert result["ok"] and not result["shown"] and result["source"] == "diff" and result["status"] == "modified"
        assert result["base"]["text"] == committed(pair, FILE)
        assert result["student"]["text"] == edited == (pair.student_root / FILE).read_text()
        for side in ("base", "student"):  # both versions are also read-only files under .colearner/
            path = Path(to_fs_path(result[side]["uri"]))
            assert path.read_text() == result[side]["text"] and (pair.coach_root / ".colearner") in path.parents
            assert stat.S_IMODE(path.stat().st_mode) == 0o400
        assert git(pair.coach_root, "status", "--porcelain") == ""  # the coach's checkout untouched

        # the evidence finding on another file: its lens, and the action on it
        (finding,) = of_kind(await coach.wait_diagnostics("app/__init__.py", lambda ds: bool(of_kind(ds, "evidence"))), "evidence")
        assert [c.title for c in await lens_commands(coach, "app/__init__.py") if c.command == SHOW] == [
            "Show the student's change: app/__init__.py (sam)"
        ]
        act = pick(await coach.code_actions("app/__init__.py", 0, [finding]), "Show the student's change")
        result = await coach.run_action(act)
        assert (result["base"]["text"], result["student"]["text"]) == ("", "VERSION = 2\n")

        new = await coach.run_action(pick(acts, "Show the student's change: app/discount.py"))
        assert new["base"]["text"] is None and new["student"]["text"] == "RATE = 0.1\n" and new["status"] == "untracked"


async def test_show_document_opens_both_versions(pair: Pair) -> None:
    exercise_id = await asyncio.to_thread(session_with_exercise, pair, "diff")
    edited = await student_answers(pair, exercise_id)
    async with editor(pair.coach_root) as coach:
        await coach.wait_diagnostics(FILE, lambda ds: bool(of_kind(ds, "review")))
        result = await coach.run(SHOW, {"exercise_id": exercise_id, "path": FILE})
        assert result["shown"] and "text" not in result["base"]
        shown = [d.uri for d in coach.client.shown_documents]
        assert shown[-2:] == [result["base"]["uri"], result["student"]["uri"]]
        assert Path(to_fs_path(result["student"]["uri"])).read_text() == edited
        # show: false opens nothing and answers with both texts (the VS Code extension's diff editor)
        quiet = await coach.run(SHOW, {"exercise_id": exercise_id, "path": FILE, "show": False})
        assert not quiet["shown"] and quiet["student"]["text"] == edited and len(coach.client.shown_documents) == len(shown)


async def test_share_hashes_without_the_blob_says_why(pair: Pair) -> None:
    exercise_id = await asyncio.to_thread(session_with_exercise, pair, "hashes")
    await student_answers(pair, exercise_id)
    async with editor(pair.coach_root) as coach:
        await coach.wait_diagnostics(FILE, lambda ds: bool(of_kind(ds, "review")))
        with pytest.raises(JsonRpcException) as refused:
            await coach.run(SHOW, {"exercise_id": exercise_id, "path": FILE})
        message = str(refused.value)
        assert "cannot show sam's version of app/inventory.py" in message
        assert "share: hashes" in message and "--share diff" in message and "git fetch" in message
        # once the student's work is fetched, the blob does it
        git(pair.student_root, "commit", "-q", "-am", "work")
        git(pair.coach_root, "fetch", "-q", str(pair.student_root), "main:sam-main")
        result = await coach.run(SHOW, {"exercise_id": exercise_id, "path": FILE, "show": False})
        assert result["source"] == "blob" and result["student"]["text"] == (pair.student_root / FILE).read_text()


BAD = [
    (None, "takes one object argument"),
    (["x"], "takes one object argument"),
    ({"exercise_id": "x"}, "path: Field required"),
    ({"exercise_id": "x", "path": FILE, "extra": 1}, "extra: Extra inputs are not permitted"),
    ({"exercise_id": "x", "path": FILE, "show": "yes please"}, "show:"),
    ({"exercise_id": "no-such-exercise", "path": FILE}, "no exercise 'no-such-exercise' here"),
    ({"exercise_id": "EXERCISE", "path": "../outside.py"}, "escapes the repository"),
    ({"exercise_id": "EXERCISE", "path": "/etc/passwd"}, "is absolute"),
    ({"exercise_id": "EXERCISE", "path": ".git/config"}, "inside .git"),
    ({"exercise_id": "EXERCISE", "path": "app/\x1b[2J\u202e.py"}, "contains a control character"),
    ({"exercise_id": "EXERCISE", "path": "README.md"}, "README.md is not in this evidence"),
    ({"exercise_id": "EXERCISE", "path": FILE, "evidence_id": "nope"}, "has no evidence 'nope'"),
]


async def test_bad_arguments_are_one_clear_error(pair: Pair) -> None:
    exercise_id = await asyncio.to_thread(session_with_exercise, pair, "diff")
    await student_answers(pair, exercise_id)
    async with editor(pair.coach_root) as coach:
        await coach.wait_diagnostics(FILE, lambda ds: bool(of_kind(ds, "review")))
        for argument, says in BAD:
            if isinstance(argument, dict) and argument.get("exercise_id") == "EXERCISE":
                argument = {**argument, "exercise_id": exercise_id}
            with pytest.raises(JsonRpcException) as refused:
                await coach.run(SHOW, argument)
            assert says in str(refused.value), (argument, str(refused.value))
            assert "\x1b" not in str(refused.value) and "\u202e" not in str(refused.value)
        assert (await coach.request("colearner/inbox", {}))["role"] == "coach"  # the server goes on


async def test_the_student_cannot_and_sees_no_review_lens(pair: Pair) -> None:
    exercise_id = await asyncio.to_thread(session_with_exercise, pair, "diff")
    await student_answers(pair, exercise_id)
    async with editor(pair.student_root) as student:
        await student.wait_diagnostics(FILE, lambda ds: bool(ds))
        with pytest.raises(JsonRpcException, match="'review' is for a coach"):
            await student.run(SHOW, {"exercise_id": exercise_id, "path": FILE})
        assert not [c for c in await lens_commands(student, FILE) if c.command == SHOW]


async def test_the_students_warning_follows_edits_and_clears_on_pass(pair: Pair) -> None:
    """A mistake the coach anchored to lines of the student's version: a warning there in the
    student's editor, carried by the student's edits, gone once the exercise passes."""
    exercise_id = await asyncio.to_thread(session_with_exercise, pair, "diff")  # anchored at 5-8
    await student_answers(pair, exercise_id)  # a line added at 7: low_stock is now at 19-20
    coach = await synced(pair.coach())
    mistake = {"text": "low_stock ignores the threshold's edge", "path": FILE, "start_line": 19, "end_line": 20}
    actions.send_feedback(coach, exercise_id, grade="revise", mistakes=[mistake], next_step="fix it", confidence_delta=-0.1)
    await synced(coach)
    async with editor(pair.student_root) as student:
        student.open(FILE)
        (warning,) = of_kind(await student.wait_diagnostics(FILE, lambda ds: bool(of_kind(ds, "mistake"))), "mistake")
        assert (warning.range.start.line, warning.range.end.line) == (18, 19) and warning.severity == types.DiagnosticSeverity.Warning
        assert "low_stock ignores the threshold's edge" in warning.message
        student.change(FILE, (1, 0), (1, 0), "# one\n# two\n")  # two lines above it
        await student.wait_diagnostics(
            FILE, lambda ds: [(d.range.start.line, d.range.end.line) for d in of_kind(ds, "mistake")] == [(20, 21)]
        )
        student.change(FILE, (0, 0), (2, 0), "")  # and two lines away again, with the first
        await student.wait_diagnostics(
            FILE, lambda ds: [(d.range.start.line, d.range.end.line) for d in of_kind(ds, "mistake")] == [(18, 19)]
        )
        assert of_kind(student.diagnostics(FILE), "exercise")  # the revise is open, the warning with it
        coach = await synced(coach)  # the coach passes it as it stands
        actions.send_feedback(coach, exercise_id, grade="pass", next_step="well done", confidence_delta=0.1)
        await synced(coach)
        coach.close()
        await student.wait_diagnostics(FILE, lambda ds: not ds)


async def test_the_review_queue_request(pair: Pair) -> None:
    """``colearner/reviewQueue``: the same JSON as ``colearner review --json``; a student is refused."""
    exercise_id = await asyncio.to_thread(session_with_exercise, pair, "diff")
    await student_answers(pair, exercise_id)
    async with editor(pair.coach_root) as coach:
        await coach.wait_diagnostics(FILE, lambda ds: bool(of_kind(ds, "review")))
        (waiting,) = (await coach.request("colearner/reviewQueue", {}))["waiting"]
        assert waiting["exercise_id"] == exercise_id and waiting["student"] == pair.student_id
        assert waiting["anchor"] == {"path": FILE, "start_line": 5, "end_line": 8} and FILE in waiting["files"]
        printed = await asyncio.to_thread(run_cli, pair.coach_root, "--offline", "review", "--json", env=pair.env())
        assert json.loads(printed.stdout)["waiting"] == [waiting]
    async with editor(pair.student_root) as student:
        with pytest.raises(JsonRpcException, match="'review' is for a coach"):
            await student.request("colearner/reviewQueue", {})
