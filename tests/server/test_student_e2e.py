"""The student's server end to end: a real broker, a real coach, a real LSP client over stdio."""

from __future__ import annotations

import asyncio

from lsprotocol.types import DiagnosticSeverity

from colearner_lsp.core import actions
from tests.instances import Pair, last_line, run_cli, sync
from tests.server.editor import editor

FILE = "app/inventory.py"


def start_session(pair: Pair) -> str:
    result = run_cli(pair.coach_root, "session", "start", "--student", pair.student_id, env=pair.env())
    assert result.returncode == 0, result.stderr
    session_id = last_line(result)
    scope = run_cli(pair.coach_root, "scope", session_id, "--allow", "**/*.py", env=pair.env())
    assert scope.returncode == 0, scope.stderr
    return session_id


def assign_from_cli(pair: Pair, session_id: str, lines: str = "12-16") -> str:
    result = run_cli(
        pair.coach_root, "assign", session_id, "--topic", "loops", "--exercise", "total_value ignores discounts",
        "--expected", "an optional discount applied", "--test", "pytest -q", "--file", FILE, "--lines", lines,
        env=pair.env(),
    )
    assert result.returncode == 0, result.stderr
    return last_line(result)


def of_kind(diagnostics, kind):  # type: ignore[no-untyped-def]
    return [d for d in diagnostics if d.data and d.data.get("kind") == kind]


async def coach_state(pair: Pair, exercise_id: str):  # type: ignore[no-untyped-def]
    coach = pair.coach()
    await asyncio.to_thread(sync, coach)
    return coach, coach.state.exercises[exercise_id]


async def test_assignment_to_pass_through_the_students_editor(pair: Pair) -> None:
    session_id = await asyncio.to_thread(start_session, pair)
    async with editor(pair.student_root) as ed:
        await ed.until(lambda: ed.status.get("broker") == "connected", what="the broker connection")
        assert ed.status["role"] == "student" and ed.status["identity"] == pair.student_id

        exercise_id = await asyncio.to_thread(assign_from_cli, pair, session_id)

        # The assignment arrives over Kafka with no user action: Information at lines 12-16 (0-based 11-15).
        diags = await ed.wait_diagnostics(FILE, lambda ds: of_kind(ds, "exercise"))
        (d,) = of_kind(diags, "exercise")
        assert (d.range.start.line, d.range.end.line) == (11, 15)
        assert d.severity == DiagnosticSeverity.Information and d.source == "colearner"
        assert d.data["exercise_id"] == exercise_id
        assert "Acknowledge" in d.message and "total_value ignores discounts" in d.message
        assert d.related_information and d.related_information[0].location.uri == ed.uri(FILE)

        # Acknowledge through the code action the editor offers on those lines.
        acts = await ed.code_actions(FILE, 12, diags)
        titles = [a.title for a in acts]
        ack = next(a for a in acts if a.title.startswith("Acknowledge"))
        assert any(t.startswith("Respond") for t in titles) and any(t.startswith("Attach evidence") for t in titles)
        result = await ed.run_action(ack)
        assert result["ok"] is True
        diags = await ed.wait_diagnostics(FILE, lambda ds: of_kind(ds, "exercise") and of_kind(ds, "exercise")[0].severity == DiagnosticSeverity.Hint)

        # Respond with evidence (the VS Code extension passes the text).
        result = await ed.run("colearner.respond", {"exercise_id": exercise_id, "text": "added a discount", "evidence": [FILE]})
        assert result["ok"] is True
        coach, ex = await coach_state(pair, exercise_id)
        assert ex.state == "responded" and ex.acknowledged_at and ex.responses[-1]["text"] == "added a discount"
        assert [f["path"] for f in ex.evidence[-1]["files"]] == [FILE]

        # Revise, with a mistake anchored to lines 13-14: warnings there, and on the exercise.
        mistake = {"text": "the discount is not validated", "path": FILE, "start_line": 13, "end_line": 14}
        actions.send_feedback(coach, exercise_id, grade="revise", mistakes=[mistake], next_step="validate it", confidence_delta=-0.1)
        await asyncio.to_thread(sync, coach)
        diags = await ed.wait_diagnostics(FILE, lambda ds: of_kind(ds, "mistake"))
        (m,) = of_kind(diags, "mistake")
        assert (m.range.start.line, m.range.end.line) == (12, 13) and m.severity == DiagnosticSeverity.Warning
        assert "not validated" in m.message
        assert of_kind(diags, "exercise")[0].severity == DiagnosticSeverity.Warning

        # Respond again; the coach passes: everything clears.
        await ed.run("colearner.respond", {"exercise_id": exercise_id, "text": "now validated"})
        coach, ex = await coach_state(pair, exercise_id)
        assert ex.state == "responded"
        passed = await asyncio.to_thread(
            run_cli, pair.coach_root, "feedback", exercise_id, "--grade", "pass", "--next-step", "next module",
            "--confidence-delta", "0.2", env=pair.env(),
        )
        assert passed.returncode == 0, passed.stderr
        await ed.wait_diagnostics(FILE, lambda ds: len(ds) == 0)
        inbox = await ed.request("colearner/inbox", {})
        assert inbox["sessions"][0]["exercises"][0]["state"] == "passed"
