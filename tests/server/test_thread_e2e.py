"""Issue 18 end to end: each exercise is one conversation at its lines, said once, in both editors.

Two real servers (coach and student) on a real broker, driven by a real LSP
client: the coach's ``revise`` with one mistake on the exercise's lines and
one elsewhere gives the student exactly one diagnostic at the anchor and one
at the other lines, and leaves the coach a mark at both; the hovers read as
the thread, newest first.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest
import pytest_asyncio
from lsprotocol import types

from colearner_lsp.bus.broker import EmbeddedBroker
from tests.instances import Pair, module_pair
from tests.recorded import Run, found_in_order, names, recording
from tests.server.editor import Editor, editor
from tests.server.scenario import FILE, lines_of, of_kind, start_session

ON_THE_EXERCISE = "the discount is not validated"  # lines 13-14, inside the exercise's 11-15
ELSEWHERE = "low_stock should use the same threshold"  # lines 18-19
REVISING = "loops · sam · revising — You asked: validate the discount."  # how the coach's mark begins
SAID_ONCE = (ON_THE_EXERCISE, ELSEWHERE, "validate the discount")


def all_diagnostics(ed: Editor) -> list[types.Diagnostic]:
    return [d for ds in ed.client.diagnostics.values() for d in ds]


def carrying(diagnostics: Sequence[types.Diagnostic], texts: Sequence[str]) -> dict[str, int]:
    """How many diagnostics carry each text."""
    return {text: sum(text in d.message for d in diagnostics) for text in texts}


async def hover(ed: Editor, line: int) -> str:
    params = types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=ed.uri(FILE)), position=types.Position(line=line, character=0)
    )
    found = await ed.client.text_document_hover_async(params)
    assert found is not None and found.contents.kind == types.MarkupKind.Markdown
    return found.contents.value


def student_hover(kept: dict[str, Any]) -> list[str]:
    """The student's hover, in this order: the exercise, the latest feedback, the rest in short."""
    return [
        "### loops — to revise · next: Respond",
        "total_value ignores discounts",
        "**Latest feedback** (revise,",
        "validate the discount",
        ON_THE_EXERCISE,
        "low_stock should use the same threshold",
        "**History:**",
        "acknowledged",
        "answered",
        f"id `{kept['exercise id'][:8]}`",
    ]


def coach_hover(kept: dict[str, Any]) -> list[str]:
    """The coach's hover once the student answered again, in this order: the new answer first, their feedback after it."""
    return [
        "### sam · loops — responded",
        "total_value ignores discounts",
        "**Answer**",
        "validated now",
        "**Your feedback** (revise,",
        ON_THE_EXERCISE,
        "**History:**",
        "answered",
        f"id `{kept['exercise id'][:8]}`",
    ]


async def revise_with_a_mistake_on_the_exercise_and_one_elsewhere(pair: Pair, run: Run) -> None:
    await asyncio.to_thread(start_session, pair)
    async with editor(pair.coach_root) as coach, editor(pair.student_root) as student:
        run.kept["the student's file"] = student.uri(FILE)
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
        exercise_id = run.kept["exercise id"] = assigned["exercise_id"]

        # While the student has the turn, the coach's anchor carries a quiet hint.
        (waiting,) = await coach.wait_diagnostics(FILE, lambda ds: of_kind(ds, "exercise"))
        run["assigned, the coach: the hint's severity and message"] = (waiting.severity, waiting.message)

        await student.wait_diagnostics(FILE, lambda ds: of_kind(ds, "exercise"))
        run["acknowledged: ok"] = (await student.run("colearner.acknowledge", {"exercise_id": exercise_id}))["ok"]
        run["responded: ok"] = (await student.run("colearner.respond", {"exercise_id": exercise_id, "text": "discount added"}))["ok"]
        (review,) = await coach.wait_diagnostics(FILE, lambda ds: of_kind(ds, "review"))
        run["responded, the coach: the review's severity and code"] = (review.severity, review.code)

        feedback = {
            "exercise_id": exercise_id,
            "grade": "revise",
            "next_step": "validate the discount",
            "confidence_delta": -0.1,
            "mistakes": [
                {"text": ON_THE_EXERCISE, "path": FILE, "start_line": 13, "end_line": 14},
                {"text": ELSEWHERE, "path": FILE, "start_line": 18, "end_line": 19},
            ],
        }
        run["revise sent: ok"] = (await coach.run("colearner.sendFeedback", feedback))["ok"]

        # The student: exactly one diagnostic at the anchor and one at the other lines.
        diags = await student.wait_diagnostics(FILE, lambda ds: len(of_kind(ds, "mistake")) == 1)
        run["revised, the student: diagnostics on the file"] = len(diags)
        (main,), (mistake,) = of_kind(diags, "exercise"), of_kind(diags, "mistake")
        run["revised, the student: lines of the exercise and of the mistake"] = (lines_of(main), lines_of(mistake))
        run["revised, the student: diagnostics carrying each text"] = carrying(all_diagnostics(student), SAID_ONCE)
        said_where = (ON_THE_EXERCISE in main.message, ELSEWHERE in mistake.message)
        run.saw("revised, the student: each mistake said where it is", said_where, f"{main.message}\n{mistake.message}")
        names_them = "1 mistake on other lines: app/inventory.py:18-19." in main.message
        run.saw("revised, the student: the exercise names the other lines", names_them, main.message)
        # must act: warnings, from colearner, with a code per kind
        run["revised, the student: severity, source and code by kind"] = {d.data["kind"]: (d.severity, d.source, d.code) for d in diags}
        run["revised, the student: the exercise of each"] = {d.data["exercise_id"] for d in diags}
        run["revised, the student: what the exercise points at"] = main.related_information or []  # no line pointing at itself
        # the mistake points at the exercise's lines
        related = mistake.related_information or []
        run["revised, the student: where the mistake points"] = [(r.location.uri, r.location.range.start.line) for r in related]
        run["revised, the student: what the mistake says it points at"] = [r.message for r in related]

        # The mistake's lines offer the exercise's moves, Respond first.
        acts = await student.code_actions(FILE, 17, [mistake])
        run["revised, the student: the first move on the mistake's lines"] = acts[0].title if acts else None

        # The coach: a mark where each mistake was filed, said once, information (their own notes).
        coach_diags = await coach.wait_diagnostics(FILE, lambda ds: of_kind(ds, "mistake") and of_kind(ds, "exercise"))
        run["revised, the coach: diagnostics on the file"] = len(coach_diags)
        (mark,), (filed,) = of_kind(coach_diags, "exercise"), of_kind(coach_diags, "mistake")
        run["revised, the coach: lines of the mark and of the filed mistake"] = (lines_of(mark), lines_of(filed))
        run["revised, the coach: how the mark begins"] = mark.message[: len(REVISING)]
        run["revised, the coach: the filed mistake"] = filed.message
        run["revised, the coach: diagnostics carrying each text"] = carrying(all_diagnostics(coach), SAID_ONCE)
        run["revised, the coach: severity and source of each"] = {(d.severity, d.source) for d in coach_diags}

        # The student's hover, on the anchor or on the mistake: the exercise, the latest feedback, the rest in short.
        text = run.kept["the student's hover on the anchor"] = await hover(student, 12)
        run["revised, the student: the hover on the mistake"] = await hover(student, 17)
        run.saw("revised, the student: the hover's parts in order", found_in_order(text, student_hover(run.kept)), text)
        counts = (text.count(ON_THE_EXERCISE), text.count("feedback"), exercise_id in text)
        run.saw("revised, the student: the hover's mistake, feedback, whole id", counts, text)
        run.saw("revised, the student: the hover's lines beyond 14", max(0, len(text.splitlines()) - 14), text)

        # The student answers again: the coach's hover puts the new answer first, their feedback after it.
        run["answered again: ok"] = (await student.run("colearner.respond", {"exercise_id": exercise_id, "text": "validated now"}))["ok"]
        (review,) = await coach.wait_diagnostics(FILE, lambda ds: of_kind(ds, "review"))
        run["answered again, the coach: the review"] = review.message
        await student.wait_diagnostics(FILE, lambda ds: len(ds) == 1 and ds[0].severity == types.DiagnosticSeverity.Hint)
        text = await hover(coach, 12)
        run.saw("answered again, the coach: the hover's parts in order", found_in_order(text, coach_hover(run.kept)), text)
        counts = (text.count("validated now"), text.count(ON_THE_EXERCISE), "discount added" in text)
        run.saw("answered again, the coach: the hover's new answer, mistake, old answer", counts, text)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def thread(tmp_path_factory: pytest.TempPathFactory, broker_module: EmbeddedBroker) -> Run:
    """The whole thread, run once for the checks below: what each step showed, recorded as it happens."""
    with module_pair(tmp_path_factory, broker_module.bootstrap) as pair, recording() as run:
        await revise_with_a_mistake_on_the_exercise_and_one_elsewhere(pair, run)
    return run


WARNING, INFORMATION = types.DiagnosticSeverity.Warning, types.DiagnosticSeverity.Information
THREAD = [
    ("assigned, the coach: the hint's severity and message", (types.DiagnosticSeverity.Hint, "loops · sam · not acknowledged yet")),
    ("acknowledged: ok", True),
    ("responded: ok", True),
    ("responded, the coach: the review's severity and code", (INFORMATION, "review")),
    ("revise sent: ok", True),
    ("revised, the student: diagnostics on the file", 2),
    ("revised, the student: lines of the exercise and of the mistake", ((10, 14), (17, 18))),
    ("revised, the student: diagnostics carrying each text", dict.fromkeys(SAID_ONCE, 1)),
    ("revised, the student: each mistake said where it is", (True, True)),
    ("revised, the student: the exercise names the other lines", True),
    (
        "revised, the student: severity, source and code by kind",
        {"exercise": (WARNING, "colearner", "exercise"), "mistake": (WARNING, "colearner", "mistake")},
    ),
    ("revised, the student: the exercise of each", lambda kept: {kept["exercise id"]}),
    ("revised, the student: what the exercise points at", []),
    ("revised, the student: where the mistake points", lambda kept: [(kept["the student's file"], 10)]),
    ("revised, the student: what the mistake says it points at", lambda kept: [f"exercise 'loops' ({kept['exercise id'][:8]}) from carol"]),
    ("revised, the student: the first move on the mistake's lines", "Respond to 'loops'"),
    ("revised, the coach: diagnostics on the file", 2),
    ("revised, the coach: lines of the mark and of the filed mistake", ((10, 14), (17, 18))),
    ("revised, the coach: how the mark begins", REVISING),
    ("revised, the coach: the filed mistake", f"loops · sam · mistake you filed, waiting for the revision — {ELSEWHERE}"),
    ("revised, the coach: diagnostics carrying each text", dict.fromkeys(SAID_ONCE, 1)),
    ("revised, the coach: severity and source of each", {(INFORMATION, "colearner")}),
    ("revised, the student: the hover on the mistake", lambda kept: kept["the student's hover on the anchor"]),
    ("revised, the student: the hover's parts in order", student_hover),
    ("revised, the student: the hover's mistake, feedback, whole id", (1, 1, False)),
    ("revised, the student: the hover's lines beyond 14", 0),
    ("answered again: ok", True),
    ("answered again, the coach: the review", "loops · sam answered again · next: Pass or Request revision — validated now."),
    ("answered again, the coach: the hover's parts in order", coach_hover),
    ("answered again, the coach: the hover's new answer, mistake, old answer", (1, 1, False)),
]


@pytest.mark.parametrize(("check", "expected"), THREAD, ids=names(THREAD))
def test_revise_thread(thread: Run, check: str, expected: Any) -> None:
    actual, expected = thread.actual(check), thread.expected(expected)
    assert actual == expected, thread.context.get(check, "")


def test_revise_thread_ran_to_the_end_with_every_step_checked(thread: Run) -> None:
    ends = thread.loose_ends(THREAD)
    assert not ends, "\n".join(ends)
