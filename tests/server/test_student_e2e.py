"""The student's server end to end: a real broker, a real coach, a real LSP client over stdio."""

from __future__ import annotations

import asyncio

from lsprotocol.types import DiagnosticSeverity

from colearner_lsp.core import actions
from tests.instances import Pair
from tests.server.editor import editor
from tests.server.scenario import FILE, assign, cli, coach_sees, lines_of, of_kind, pick, start_session, synced


async def test_assignment_to_pass_through_the_students_editor(pair: Pair) -> None:
    session_id = await asyncio.to_thread(start_session, pair)
    async with editor(pair.student_root) as ed:
        await ed.until(lambda: ed.status.get("broker") == "connected", what="the broker connection")
        assert ed.status["role"] == "student" and ed.status["identity"] == pair.student_id

        exercise_id = await asyncio.to_thread(assign, pair, session_id)

        # The assignment arrives over Kafka with no user action: Information at lines 12-16 (0-based 11-15).
        diags = await ed.wait_diagnostics(FILE, lambda ds: of_kind(ds, "exercise"))
        (d,) = of_kind(diags, "exercise")
        assert lines_of(d) == (11, 15)
        assert d.severity == DiagnosticSeverity.Information and d.source == "colearner"
        assert d.data["exercise_id"] == exercise_id
        assert "Acknowledge" in d.message and "total_value ignores discounts" in d.message

        # Acknowledge through the code action the editor offers on those lines: actions of their own
        # kind (no quick fixes), the next move first.
        acts = await ed.code_actions(FILE, 12, diags)
        assert {a.kind for a in acts} == {"colearner"} and acts[0].title == "Acknowledge 'loops'", [(a.kind, a.title) for a in acts]
        pick(acts, "Respond"), pick(acts, "Attach evidence")
        result = await ed.run_action(pick(acts, "Acknowledge"))
        assert result["ok"] is True
        await ed.wait_diagnostics(FILE, lambda ds: of_kind(ds, "exercise")[0].severity == DiagnosticSeverity.Hint)

        # Respond with evidence (the VS Code extension passes the text).
        result = await ed.run("colearner.respond", {"exercise_id": exercise_id, "text": "added a discount", "evidence": [FILE]})
        assert result["ok"] is True
        coach, ex = await coach_sees(pair, exercise_id)
        assert ex.state == "responded" and ex.acknowledged_at and ex.responses[-1].text == "added a discount"
        assert [f.path for f in ex.evidence[-1].snapshot.files] == [FILE]

        # Revise, with a mistake on lines 13-14, inside the exercise's 12-16: said once, in the exercise's warning.
        mistake = {"text": "the discount is not validated", "path": FILE, "start_line": 13, "end_line": 14}
        actions.send_feedback(coach, exercise_id, grade="revise", mistakes=[mistake], next_step="validate it", confidence_delta=-0.1)
        await synced(coach)
        diags = await ed.wait_diagnostics(FILE, lambda ds: of_kind(ds, "exercise")[0].data["state"] == "revise")
        (d,) = diags
        assert lines_of(d) == (11, 15) and d.severity == DiagnosticSeverity.Warning and d.code == "exercise"
        assert "not validated" in d.message and "validate it" in d.message and "Respond" in d.message
        assert not d.related_information  # it would point at itself

        # Respond again; the coach passes from the CLI: everything clears.
        await ed.run("colearner.respond", {"exercise_id": exercise_id, "text": "now validated"})
        coach, ex = await coach_sees(pair, exercise_id)
        assert ex.state == "responded" and ex.responses[-1].text == "now validated"
        await asyncio.to_thread(
            cli, pair, "coach", "feedback", exercise_id, "--grade", "pass", "--next-step", "next module", "--confidence-delta", "0.2"
        )
        await ed.wait_diagnostics(FILE, lambda ds: len(ds) == 0)
        inbox = await ed.request("colearner/inbox", {})
        assert inbox["sessions"][0]["exercises"][0]["state"] == "passed"
