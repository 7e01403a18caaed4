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

from lsprotocol import types

from tests.instances import Pair
from tests.server.editor import Editor, editor
from tests.server.scenario import FILE, lines_of, of_kind, start_session

ON_THE_EXERCISE = "the discount is not validated"  # lines 13-14, inside the exercise's 11-15
ELSEWHERE = "low_stock should use the same threshold"  # lines 18-19


def all_diagnostics(ed: Editor) -> list[types.Diagnostic]:
    return [d for ds in ed.client.diagnostics.values() for d in ds]


def said_once(diagnostics: Sequence[types.Diagnostic], *texts: str) -> None:
    for text in texts:
        carrying = [d.message for d in diagnostics if text in d.message]
        assert len(carrying) == 1, f"{text!r} is in {len(carrying)} diagnostics: {carrying}"


async def hover(ed: Editor, line: int) -> str:
    params = types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=ed.uri(FILE)), position=types.Position(line=line, character=0)
    )
    found = await ed.client.text_document_hover_async(params)
    assert found is not None and found.contents.kind == types.MarkupKind.Markdown
    return found.contents.value


def in_order(text: str, *parts: str) -> None:
    places = [text.find(part) for part in parts]
    assert -1 not in places and places == sorted(places), f"expected {parts} in this order in:\n{text}"


async def test_revise_with_a_mistake_on_the_exercise_and_one_elsewhere(pair: Pair) -> None:
    await asyncio.to_thread(start_session, pair)
    async with editor(pair.coach_root) as coach, editor(pair.student_root) as student:
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
        exercise_id = assigned["exercise_id"]

        # While the student has the turn, the coach's anchor carries a quiet hint.
        (waiting,) = await coach.wait_diagnostics(FILE, lambda ds: of_kind(ds, "exercise"))
        assert waiting.severity == types.DiagnosticSeverity.Hint and waiting.message == "loops · sam · not acknowledged yet"

        await student.wait_diagnostics(FILE, lambda ds: of_kind(ds, "exercise"))
        assert (await student.run("colearner.acknowledge", {"exercise_id": exercise_id}))["ok"]
        assert (await student.run("colearner.respond", {"exercise_id": exercise_id, "text": "discount added"}))["ok"]
        (review,) = await coach.wait_diagnostics(FILE, lambda ds: of_kind(ds, "review"))
        assert review.severity == types.DiagnosticSeverity.Information and review.code == "review"

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
        assert (await coach.run("colearner.sendFeedback", feedback))["ok"]

        # The student: exactly one diagnostic at the anchor and one at the other lines.
        diags = await student.wait_diagnostics(FILE, lambda ds: len(of_kind(ds, "mistake")) == 1)
        assert len(diags) == 2
        (main,), (mistake,) = of_kind(diags, "exercise"), of_kind(diags, "mistake")
        assert lines_of(main) == (10, 14) and lines_of(mistake) == (17, 18)
        said_once(all_diagnostics(student), ON_THE_EXERCISE, ELSEWHERE, "validate the discount")
        assert ON_THE_EXERCISE in main.message and ELSEWHERE in mistake.message
        assert "1 mistake on other lines: app/inventory.py:18-19." in main.message
        for d in diags:  # must act: warnings, from colearner, with a code per kind
            assert (d.severity, d.source, d.code) == (types.DiagnosticSeverity.Warning, "colearner", d.data["kind"])
            assert d.data["exercise_id"] == exercise_id
        assert not main.related_information  # no line pointing at itself
        (back,) = mistake.related_information  # the mistake points at the exercise's lines
        assert back.location.uri == student.uri(FILE) and back.location.range.start.line == 10
        assert back.message == f"exercise 'loops' ({exercise_id[:8]}) from carol"

        # The mistake's lines offer the exercise's moves, Respond first.
        acts = await student.code_actions(FILE, 17, [mistake])
        assert acts[0].title == "Respond to 'loops'"

        # The coach: a mark where each mistake was filed, said once, information (their own notes).
        coach_diags = await coach.wait_diagnostics(FILE, lambda ds: of_kind(ds, "mistake") and of_kind(ds, "exercise"))
        assert len(coach_diags) == 2
        (mark,), (filed,) = of_kind(coach_diags, "exercise"), of_kind(coach_diags, "mistake")
        assert lines_of(mark) == (10, 14) and lines_of(filed) == (17, 18)
        assert mark.message.startswith("loops · sam · revising — You asked: validate the discount.")
        assert filed.message == f"loops · sam · mistake you filed, waiting for the revision — {ELSEWHERE}"
        said_once(all_diagnostics(coach), ON_THE_EXERCISE, ELSEWHERE, "validate the discount")
        assert all((d.severity, d.source) == (types.DiagnosticSeverity.Information, "colearner") for d in coach_diags)

        # The student's hover, on the anchor or on the mistake: the exercise, the latest feedback, the rest in short.
        text = await hover(student, 12)
        assert text == await hover(student, 17)
        in_order(
            text,
            "### loops — to revise · next: Respond",
            "total_value ignores discounts",
            "**Latest feedback** (revise,",
            "validate the discount",
            ON_THE_EXERCISE,
            "low_stock should use the same threshold",
            "**History:**",
            "acknowledged",
            "answered",
            f"id `{exercise_id[:8]}`",
        )
        assert text.count(ON_THE_EXERCISE) == 1 and text.count("feedback") == 1 and exercise_id not in text
        assert len(text.splitlines()) <= 14

        # The student answers again: the coach's hover puts the new answer first, their feedback after it.
        assert (await student.run("colearner.respond", {"exercise_id": exercise_id, "text": "validated now"}))["ok"]
        (review,) = await coach.wait_diagnostics(FILE, lambda ds: of_kind(ds, "review"))
        assert review.message == "loops · sam answered again · next: Pass or Request revision — validated now."
        await student.wait_diagnostics(FILE, lambda ds: len(ds) == 1 and ds[0].severity == types.DiagnosticSeverity.Hint)
        text = await hover(coach, 12)
        in_order(
            text,
            "### sam · loops — responded",
            "total_value ignores discounts",
            "**Answer**",
            "validated now",
            "**Your feedback** (revise,",
            ON_THE_EXERCISE,
            "**History:**",
            "answered",
            f"id `{exercise_id[:8]}`",
        )
        assert text.count("validated now") == 1 and text.count(ON_THE_EXERCISE) == 1 and "discount added" not in text
