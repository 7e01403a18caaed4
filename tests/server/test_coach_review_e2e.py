"""Issue 5 end to end: two real servers (coach and student, clones of one origin) on a real broker."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import pytest_asyncio
from lsprotocol import types

from colearner_lsp.bus.broker import EmbeddedBroker
from colearner_lsp.core import actions
from tests.instances import Pair, add_student, module_pair, sync
from tests.recorded import Run, found_in_order, names, recording
from tests.server.editor import editor
from tests.server.scenario import FILE, cli, lines_of, of_kind, pick, start_session, synced

DISCOUNT = "app/discount.py"


def hover_text(ed, rel: str, line: int):  # type: ignore[no-untyped-def]
    params = types.HoverParams(text_document=types.TextDocumentIdentifier(uri=ed.uri(rel)), position=types.Position(line=line, character=0))
    return ed.client.text_document_hover_async(params)


REVIEW = "loops · sam answered · next: Pass or Request revision — discount added."  # how the coach's review begins
MOVES = ("Pass", "Request more evidence", "Request revision")  # the coach's code actions on an answer, by how they begin


async def assign_review_revise_pass_between_two_editors(pair: Pair, run: Run) -> None:
    session_id = run.kept["session id"] = await asyncio.to_thread(start_session, pair)
    run.kept["student"] = pair.student_id
    await asyncio.to_thread(cli, pair, "coach", "plan", session_id, "--goal", "know the code", "--step", "s1:loops")
    async with editor(pair.coach_root) as coach, editor(pair.student_root) as student:
        run["started, the coach: role and students"] = (coach.status["role"], coach.status["students"])
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
        run["assigned: ok and the session"] = (assigned["ok"], assigned["session_id"])
        run["assigned: the anchor"] = assigned["anchor"]
        exercise_id = assigned["exercise_id"]

        diags = await student.wait_diagnostics(FILE, lambda ds: of_kind(ds, "exercise"))
        run["assigned, the student: the exercise's lines"] = lines_of(of_kind(diags, "exercise")[0])

        # The student changes inventory.py, adds a file the coach does not have, and answers with evidence.
        text = (pair.student_root / FILE).read_text().replace("total = 0", "total = 0.0")
        (pair.student_root / FILE).write_text(text)
        (pair.student_root / DISCOUNT).write_text("RATE = 0.1\n")
        evidence = [FILE, "app/__init__.py", DISCOUNT]
        answer = await student.run("colearner.respond", {"exercise_id": exercise_id, "text": "discount added", "evidence": evidence})
        run["answered: ok"] = answer["ok"]

        # The coach's editor: the answer to review at the anchor, with the evidence of the anchor's file and of
        # the file the coach has not folded in; each other evidence file marked against the coach's checkout.
        diags = await coach.wait_diagnostics(FILE, lambda ds: of_kind(ds, "review"))
        (review,) = diags
        run["answered, the coach: the review's lines and severity"] = (lines_of(review), review.severity)
        run.saw("answered, the coach: how the review begins", review.message[: len(REVIEW)], review.message)
        run.saw(
            "answered, the coach: the review says the file differs",
            "app/inventory.py differs from your checkout" in review.message,
            review.message,
        )
        run.saw(
            "answered, the coach: the review says the new file is not in the checkout",
            f"{DISCOUNT} is not in your checkout" in review.message,
            review.message,
        )
        (same,) = await coach.wait_diagnostics("app/__init__.py", lambda ds: of_kind(ds, "evidence"))
        run.saw(
            "answered, the coach: the same file's match, lines, student",
            (same.data["match"], lines_of(same), "sam" in same.message),
            same.message,
        )
        run["answered, the coach: the same file's severity"] = same.severity
        hover = (await hover_text(coach, FILE, 12)).contents.value
        shown = ("discount added" in hover, "**Evidence" in hover, "**History:**" in hover, "answered with evidence" in hover)
        run.saw("answered, the coach: the hover's answer, evidence, history, no 'answered with evidence'", shown, hover)
        run.saw(
            "answered, the coach: the hover's parts in order", found_in_order(hover, ["**Answer**", "**Evidence", "**History:**"]), hover
        )

        # Request revision from the coach's code action (a mistake on the exercise's lines): the student's
        # exercise turns into a warning that says it; the coach's anchor keeps the mark of what they filed.
        acts = await coach.code_actions(FILE, 11, diags)
        run["answered, the coach: the moves offered"] = [move for move in MOVES if any(a.title.startswith(move) for a in acts)]
        run["revision requested: ok"] = (await coach.run_action(pick(acts, "Request revision")))["ok"]
        diags = await student.wait_diagnostics(FILE, lambda ds: of_kind(ds, "exercise")[0].data["state"] == "revise")
        (d,) = diags
        run.saw(
            "revision requested, the student: lines, severity, 'not there yet'",
            (lines_of(d), d.severity, "not there yet" in d.message),
            d.message,
        )
        (mark,) = await coach.wait_diagnostics(FILE, lambda ds: of_kind(ds, "exercise"))
        run["revision requested, the coach: the mark's lines and severity"] = (lines_of(mark), mark.severity)
        run.saw(
            "revision requested, the coach: the mark's 'revising', 'not there yet'",
            ("revising" in mark.message, "not there yet" in mark.message),
            mark.message,
        )
        run["revision requested, the coach: marks on the evidence reviewed"] = list(coach.diagnostics("app/__init__.py"))

        # Respond again; the coach passes; the student's exercise is done.
        run["answered again: ok"] = (await student.run("colearner.respond", {"exercise_id": exercise_id, "text": "validated now"}))["ok"]
        diags = await coach.wait_diagnostics(FILE, lambda ds: of_kind(ds, "review"))
        again = of_kind(diags, "review")[0].message
        run.saw("answered again, the coach: the review has the new answer", "validated now" in again, again)
        run["passed: ok"] = (await coach.run_action(pick(await coach.code_actions(FILE, 11, diags), "Pass")))["ok"]
        await student.wait_diagnostics(FILE, lambda ds: len(ds) == 0)
        await coach.wait_diagnostics(FILE, lambda ds: len(ds) == 0)
        await student.until(lambda: student.status.get("stage") == "done", what="the student's session done")
        inbox = await student.request("colearner/inbox", {})
        run["passed, the student's inbox: the exercise"] = inbox["sessions"][0]["exercises"][0]["state"]

        dashboard = await coach.request("colearner/dashboard", {})
        run["passed, the coach's dashboard: the student"] = dashboard["students"][0]["student"]
        history = await coach.request("colearner/history", {"session_id": session_id})
        run["passed, the coach's history: the last two events"] = [e["event_type"] for e in history["events"]][-2:]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def review_loop(tmp_path_factory: pytest.TempPathFactory, broker_module: EmbeddedBroker) -> Run:
    """Assign, answer with evidence, request revision, answer again, pass: run once for the checks below."""
    with module_pair(tmp_path_factory, broker_module.bootstrap) as pair, recording() as run:
        await assign_review_revise_pass_between_two_editors(pair, run)
    return run


INFORMATION = types.DiagnosticSeverity.Information
REVIEW_LOOP = [
    ("started, the coach: role and students", ("coach", 1)),
    ("assigned: ok and the session", lambda kept: (True, kept["session id"])),
    ("assigned: the anchor", {"path": FILE, "start_line": 11, "end_line": 15}),
    ("assigned, the student: the exercise's lines", (10, 14)),
    ("answered: ok", True),
    ("answered, the coach: the review's lines and severity", ((10, 14), INFORMATION)),
    ("answered, the coach: how the review begins", REVIEW),
    ("answered, the coach: the review says the file differs", True),
    ("answered, the coach: the review says the new file is not in the checkout", True),
    ("answered, the coach: the same file's match, lines, student", ("matches", (0, 0), True)),
    ("answered, the coach: the same file's severity", INFORMATION),
    ("answered, the coach: the hover's answer, evidence, history, no 'answered with evidence'", (True, True, True, False)),
    ("answered, the coach: the hover's parts in order", ["**Answer**", "**Evidence", "**History:**"]),
    ("answered, the coach: the moves offered", list(MOVES)),
    ("revision requested: ok", True),
    ("revision requested, the student: lines, severity, 'not there yet'", ((10, 14), types.DiagnosticSeverity.Warning, True)),
    ("revision requested, the coach: the mark's lines and severity", ((10, 14), INFORMATION)),
    ("revision requested, the coach: the mark's 'revising', 'not there yet'", (True, True)),
    ("revision requested, the coach: marks on the evidence reviewed", []),  # the evidence was reviewed
    ("answered again: ok", True),
    ("answered again, the coach: the review has the new answer", True),
    ("passed: ok", True),
    ("passed, the student's inbox: the exercise", "passed"),
    ("passed, the coach's dashboard: the student", lambda kept: kept["student"]),
    ("passed, the coach's history: the last two events", ["assessment_feedback", "session_lifecycle"]),
]


@pytest.mark.parametrize(("check", "expected"), REVIEW_LOOP, ids=names(REVIEW_LOOP))
def test_assign_review_revise_pass_between_two_editors(review_loop: Run, check: str, expected: Any) -> None:
    actual, expected = review_loop.actual(check), review_loop.expected(expected)
    assert actual == expected, review_loop.context.get(check, "")


def test_review_loop_ran_to_the_end_with_every_step_checked(review_loop: Run) -> None:
    ends = review_loop.loose_ends(REVIEW_LOOP)
    assert not ends, "\n".join(ends)


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
