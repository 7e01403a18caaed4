"""Issue 5 end to end: two real servers (coach and student, clones of one origin) on a real broker."""

from __future__ import annotations

import asyncio

from lsprotocol import types

from colearner_lsp.core import actions
from tests.instances import Pair, add_student, sync
from tests.server.editor import editor
from tests.server.scenario import FILE, cli, lines_of, of_kind, pick, start_session, synced

DISCOUNT = "app/discount.py"


def hover_text(ed, rel: str, line: int):  # type: ignore[no-untyped-def]
    params = types.HoverParams(text_document=types.TextDocumentIdentifier(uri=ed.uri(rel)), position=types.Position(line=line, character=0))
    return ed.client.text_document_hover_async(params)


async def test_assign_review_revise_pass_between_two_editors(pair: Pair) -> None:
    session_id = await asyncio.to_thread(start_session, pair)
    await asyncio.to_thread(cli, pair, "coach", "plan", session_id, "--goal", "know the code", "--step", "s1:loops")
    async with editor(pair.coach_root) as coach, editor(pair.student_root) as student:
        assert coach.status["role"] == "coach" and coach.status["students"] == 1
        whole_function = {"start": {"line": 10, "character": 0}, "end": {"line": 14, "character": 16}}
        assigned = await coach.run(
            "colearner.assign",
            {
                "uri": coach.uri(FILE),
                "range": whole_function,
                "topic": "loops",
                "exercise": "total_value ignores discounts",
                "expected": "an optional discount",
                "tests": ["pytest -q"],
            },
        )
        assert assigned["ok"] and assigned["session_id"] == session_id
        assert assigned["anchor"] == {"path": FILE, "start_line": 11, "end_line": 15}
        exercise_id = assigned["exercise_id"]

        diags = await student.wait_diagnostics(FILE, lambda ds: of_kind(ds, "exercise"))
        assert lines_of(of_kind(diags, "exercise")[0]) == (10, 14)

        # The student changes inventory.py, adds a file the coach does not have, and answers with evidence.
        text = (pair.student_root / FILE).read_text().replace("total = 0", "total = 0.0")
        (pair.student_root / FILE).write_text(text)
        (pair.student_root / DISCOUNT).write_text("RATE = 0.1\n")
        evidence = [FILE, "app/__init__.py", DISCOUNT]
        answer = await student.run("colearner.respond", {"exercise_id": exercise_id, "text": "discount added", "evidence": evidence})
        assert answer["ok"]

        # The coach's editor: the answer to review at the anchor, with the evidence of the anchor's file and of
        # the file the coach has not folded in; each other evidence file marked against the coach's checkout.
        diags = await coach.wait_diagnostics(FILE, lambda ds: of_kind(ds, "review"))
        (review,) = diags
        assert lines_of(review) == (10, 14) and review.severity == types.DiagnosticSeverity.Information
        assert review.message.startswith("loops · sam answered · next: Pass or Request revision — discount added.")
        assert "app/inventory.py differs from your checkout" in review.message
        assert f"{DISCOUNT} is not in your checkout" in review.message
        (same,) = await coach.wait_diagnostics("app/__init__.py", lambda ds: of_kind(ds, "evidence"))
        assert same.data["match"] == "matches" and lines_of(same) == (0, 0) and "sam" in same.message
        assert same.severity == types.DiagnosticSeverity.Information
        hover = (await hover_text(coach, FILE, 12)).contents.value
        assert "discount added" in hover and "**Evidence" in hover and "**History:**" in hover and "answered with evidence" not in hover
        assert hover.index("**Answer**") < hover.index("**Evidence") < hover.index("**History:**")

        # Request revision from the coach's code action (a mistake on the exercise's lines): the student's
        # exercise turns into a warning that says it; the coach's anchor keeps the mark of what they filed.
        acts = await coach.code_actions(FILE, 11, diags)
        pick(acts, "Pass"), pick(acts, "Request more evidence")
        assert (await coach.run_action(pick(acts, "Request revision")))["ok"]
        diags = await student.wait_diagnostics(FILE, lambda ds: of_kind(ds, "exercise")[0].data["state"] == "revise")
        (d,) = diags
        assert lines_of(d) == (10, 14) and d.severity == types.DiagnosticSeverity.Warning and "not there yet" in d.message
        (mark,) = await coach.wait_diagnostics(FILE, lambda ds: of_kind(ds, "exercise"))
        assert lines_of(mark) == (10, 14) and mark.severity == types.DiagnosticSeverity.Information
        assert "revising" in mark.message and "not there yet" in mark.message
        assert not coach.diagnostics("app/__init__.py")  # the evidence was reviewed

        # Respond again; the coach passes; the student's exercise is done.
        assert (await student.run("colearner.respond", {"exercise_id": exercise_id, "text": "validated now"}))["ok"]
        diags = await coach.wait_diagnostics(FILE, lambda ds: of_kind(ds, "review"))
        assert "validated now" in of_kind(diags, "review")[0].message
        assert (await coach.run_action(pick(await coach.code_actions(FILE, 11, diags), "Pass")))["ok"]
        await student.wait_diagnostics(FILE, lambda ds: len(ds) == 0)
        await coach.wait_diagnostics(FILE, lambda ds: len(ds) == 0)
        await student.until(lambda: student.status.get("stage") == "done", what="the student's session done")
        inbox = await student.request("colearner/inbox", {})
        assert inbox["sessions"][0]["exercises"][0]["state"] == "passed"

        dashboard = await coach.request("colearner/dashboard", {})
        assert dashboard["students"][0]["student"] == pair.student_id
        history = await coach.request("colearner/history", {"session_id": session_id})
        assert [e["event_type"] for e in history["events"]][-2:] == ["assessment_feedback", "session_lifecycle"]


async def test_one_file_in_two_students_evidence_shows_both(pair: Pair, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from colearner_lsp.core.instance import Instance

    second_root = await asyncio.to_thread(add_student, pair, tmp_path, "alex")
    coach = pair.coach()
    ids = {}
    for name in (pair.student_id, "alex"):
        session_id = actions.start_session(coach, name)
        actions.set_scope(coach, session_id, ["**/*.py"])
        ids[name] = actions.assign_exercise(
            coach, session_id, topic=f"loops-{name}", exercise="x", expected="y", path=FILE, start_line=11, end_line=15
        )
    await synced(coach)
    for name, root in ((pair.student_id, pair.student_root), ("alex", second_root)):
        student = await synced(Instance.open(root))
        actions.respond(student, ids[name], f"answer from {name}", evidence=["app/__init__.py"])
        await synced(student)
    async with editor(pair.coach_root) as ed:
        diags = await ed.wait_diagnostics("app/__init__.py", lambda ds: len(of_kind(ds, "evidence")) == 2)
        assert {d.data["student"] for d in diags} == {pair.student_id, "alex"}
        assert all(d.data["match"] == "matches" for d in diags)
        reviews = of_kind(await ed.wait_diagnostics(FILE, lambda ds: len(of_kind(ds, "review")) == 2), "review")
        assert {d.data["exercise_id"] for d in reviews} == set(ids.values())
    await asyncio.to_thread(sync, coach)
