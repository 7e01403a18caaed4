"""The student's editor features: lenses, hover, response documents, evidence requests, plan steps, offline."""

from __future__ import annotations

import asyncio
from pathlib import Path

from lsprotocol import types
from pygls.uris import to_fs_path

from colearner_lsp.core import actions
from colearner_lsp.server.responses import ANSWER_START, EVIDENCE_START, read_answer
from tests.instances import Pair, sync
from tests.server.editor import Editor, editor
from tests.server.scenario import FILE, assign, cli, coach_sees, of_kind, pick, start_session, synced


async def assigned(pair: Pair, *extra: str) -> tuple[str, str]:
    session_id = await asyncio.to_thread(start_session, pair)
    return session_id, await asyncio.to_thread(assign, pair, session_id, "12-16", FILE, "loops", *extra)


async def test_lens_and_hover_show_the_exercise(pair: Pair) -> None:
    _, exercise_id = await assigned(pair)
    async with editor(pair.student_root) as ed:
        await ed.wait_diagnostics(FILE, lambda ds: of_kind(ds, "exercise"))
        ed.open(FILE)
        lenses = await ed.client.text_document_code_lens_async(
            types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=ed.uri(FILE)))
        )
        (lens,) = lenses
        assert lens.range.start.line == 11
        assert lens.command.title == "colearner · loops · assigned · Acknowledge"
        assert lens.command.command == "colearner.acknowledge" and lens.command.arguments[0]["exercise_id"] == exercise_id

        params = types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=ed.uri(FILE)), position=types.Position(line=13, character=4)
        )
        hover = await ed.client.text_document_hover_async(params)
        assert hover.contents.kind == types.MarkupKind.Markdown
        text = hover.contents.value
        # wire text is Markdown-escaped where it could be markup; "total_value" needs no escape (and reads as typed in Neovim)
        assert text.startswith("### loops — new · next: Acknowledge\n\ntotal_value ignores discounts\n\n")
        assert "**Expected:** an optional discount applied · **Tests:** `pytest -q`" in text
        assert f"From carol · `{FILE}:12-16` · id `{exercise_id[:8]}`" in text and exercise_id not in text  # a short id
        outside = types.HoverParams(text_document=params.text_document, position=types.Position(line=2, character=0))
        assert await ed.client.text_document_hover_async(outside) is None

        # Acknowledged: the client is asked to fetch lenses again, which now offer Respond.
        refreshes = ed.lens_refreshes
        await ed.run("colearner.acknowledge", {"exercise_id": exercise_id})
        await ed.until(lambda: ed.lens_refreshes > refreshes, what="a code lens refresh")
        (lens,) = await ed.client.text_document_code_lens_async(
            types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=ed.uri(FILE)))
        )
        assert lens.command.title == "colearner · loops · acknowledged · Respond" and lens.command.command == "colearner.respond"


async def test_respond_through_a_response_document(pair: Pair) -> None:
    _, exercise_id = await assigned(pair)
    async with editor(pair.student_root) as ed:
        await ed.wait_diagnostics(FILE, lambda ds: of_kind(ds, "exercise"))
        opened = await ed.run("colearner.respond", {"exercise_id": exercise_id})
        assert opened["ok"] and opened["created"] and opened["shown"]
        assert ed.client.shown_documents[-1].uri == opened["document"]
        path = Path(to_fs_path(opened["document"]))
        assert path == pair.student_root / ".colearner" / "responses" / f"loops-{exercise_id.replace('-', '')[:8]}.md"  # topic and short id
        draft = path.read_text()
        assert "total_value ignores discounts" in draft and ANSWER_START in draft

        # The student writes the answer (unsaved, in the editor) and lists a file as evidence.
        written = draft.replace(f"{ANSWER_START}\n", f"{ANSWER_START}\nI added a discount parameter.\n").replace(
            f"{EVIDENCE_START}\n", f"{EVIDENCE_START}\n{FILE}\n"
        )
        rel = path.relative_to(pair.student_root).as_posix()
        ed.open(rel, written)
        doc = types.TextDocumentIdentifier(uri=opened["document"])
        (lens,) = await ed.client.text_document_code_lens_async(types.CodeLensParams(text_document=doc))
        assert lens.command.title == "colearner: Send response"
        result = await ed.run_action(pick(await ed.code_actions(rel, 0), "Send response"))
        assert result["ok"] is True

        _, ex = await coach_sees(pair, exercise_id)
        assert ex.responses[-1].text == "I added a discount parameter."
        assert [f.path for f in ex.evidence[-1].snapshot.files] == [FILE]
        again = await ed.run("colearner.respond", {"exercise_id": exercise_id})
        assert again["created"] is False  # the draft is kept


async def test_the_response_document_lists_the_changed_anchored_file(pair: Pair) -> None:
    """A new response document lists the exercise's file as evidence when it changed since the
    assignment and the scope lets it go: not another changed file, not an unchanged one, not one the
    scope keeps; sent as it is, that file is the answer's evidence."""
    session_id = await asyncio.to_thread(start_session, pair)  # the scope shares **/*.py
    before = await asyncio.to_thread(assign, pair, session_id, "12-16", FILE, "loops")
    changed = await asyncio.to_thread(assign, pair, session_id, "18-19", FILE, "stock")
    kept = await asyncio.to_thread(assign, pair, session_id, "1-1", "README.md", "readme")

    async def listed(ed: Editor, exercise_id: str) -> list[str] | None:
        opened = await ed.run("colearner.respond", {"exercise_id": exercise_id})
        assert opened["created"], opened
        return read_answer(Path(to_fs_path(opened["document"])).read_text())[1]

    async with editor(pair.student_root) as ed:
        await ed.wait_diagnostics(FILE, lambda ds: of_kind(ds, "exercise"))
        assert await listed(ed, before) is None  # nothing changed yet
        (pair.student_root / FILE).write_text((pair.student_root / FILE).read_text().replace("total = 0", "total = 0.0"))
        (pair.student_root / "README.md").write_text("# inventory, with discounts\n")
        (pair.student_root / "app" / "discount.py").write_text("RATE = 0.1\n")  # changed too, but not an exercise's file
        assert await listed(ed, changed) == [FILE]
        assert await listed(ed, kept) is None  # changed, but the scope shares Python files only

        document = Path(to_fs_path((await ed.run("colearner.respond", {"exercise_id": changed}))["document"]))
        text = document.read_text().replace(f"{ANSWER_START}\n", f"{ANSWER_START}\nI apply the discount.\n")
        rel = document.relative_to(pair.student_root).as_posix()
        ed.open(rel, text)
        assert (await ed.run_action(pick(await ed.code_actions(rel, 0), "Send response")))["ok"]
        _, ex = await coach_sees(pair, changed)
        assert ex.responses[-1].text == "I apply the discount." and [f.path for f in ex.evidence[-1].snapshot.files] == [FILE]


async def test_evidence_request_answered_from_a_code_action(pair: Pair) -> None:
    _, exercise_id = await assigned(pair)
    async with editor(pair.student_root) as ed:
        await ed.wait_diagnostics(FILE, lambda ds: of_kind(ds, "exercise"))
        assert (await ed.run("colearner.acknowledge", {"exercise_id": exercise_id}))["ok"]
        coach = pair.coach()
        await synced(coach)
        request_id = actions.request_evidence(coach, exercise_id, ["app/*.py"], "show me the module")
        await synced(coach)
        # The request is the exercise's next action: said in its one diagnostic, offered first.
        diags = await ed.wait_diagnostics(FILE, lambda ds: of_kind(ds, "exercise") and "request_id" in of_kind(ds, "exercise")[0].data)
        (d,) = diags
        assert d.data["request_id"] == request_id and d.severity == types.DiagnosticSeverity.Information
        assert "next: Answer evidence request — carol asks for evidence on app/*.py: show me the module." in d.message
        acts = await ed.code_actions(FILE, 11, [d])
        assert acts[0].title == "Answer evidence request: app/*.py" and acts[1].title == "Respond to 'loops'"
        result = await ed.run_action(acts[0])
        assert result["ok"] is True and result["files"] >= 1
        (d,) = await ed.wait_diagnostics(FILE, lambda ds: of_kind(ds, "exercise") and "request_id" not in of_kind(ds, "exercise")[0].data)
        assert d.severity == types.DiagnosticSeverity.Hint and "next: Respond" in d.message
        reports = [r for rs in ed.client.progress_reports.values() for r in rs]
        assert reports and isinstance(reports[0], types.WorkDoneProgressBegin) and isinstance(reports[-1], types.WorkDoneProgressEnd)
        _, ex = await coach_sees(pair, exercise_id)
        assert ex.evidence_requests[0].answered_by == result["event_id"]
        assert {f.path for f in ex.evidence[-1].snapshot.files} >= {FILE}


async def test_plan_step_marked_complete(pair: Pair) -> None:
    session_id = await asyncio.to_thread(start_session, pair)
    await asyncio.to_thread(cli, pair, "coach", "plan", session_id, "--goal", "know the code", "--step", "s1:loops", "--step", "s2:tests")
    exercise_id = await asyncio.to_thread(assign, pair, session_id, "12-16", FILE, "loops", "--step", "s1")
    async with editor(pair.student_root) as ed:
        diags = await ed.wait_diagnostics(FILE, lambda ds: of_kind(ds, "exercise"))
        step = pick(await ed.code_actions(FILE, 12, diags), "Mark plan step 's1' complete")
        assert step.command.arguments[0] == {"session_id": session_id, "completed": ["s1"], "confidence": {"loops": 0.7}}
        assert (await ed.run_action(step))["ok"] is True
        assert not [a for a in await ed.code_actions(FILE, 12, diags) if a.title.startswith("Mark plan step")]
        coach, _ = await coach_sees(pair, exercise_id)
        assert coach.state.sessions[session_id].completed == ["s1"]


async def test_offline_the_ledger_still_drives_the_editor(pair: Pair, broker) -> None:  # type: ignore[no-untyped-def]
    _, exercise_id = await assigned(pair)
    await asyncio.to_thread(sync, pair.student())
    broker.stop()
    async with editor(pair.student_root) as ed:
        assert ed.status["broker"] == "offline"
        diags = await ed.wait_diagnostics(FILE, lambda ds: of_kind(ds, "exercise"))
        assert of_kind(diags, "exercise")[0].severity == types.DiagnosticSeverity.Information
        # The CLI writes to the same ledger; the server folds it within moments.
        await asyncio.to_thread(cli, pair, "student", "--offline", "ack", exercise_id)
        await ed.wait_diagnostics(FILE, lambda ds: of_kind(ds, "exercise")[0].severity == types.DiagnosticSeverity.Hint)
        await ed.until(lambda: ed.status.get("outbox") == 1, what="the outbox in the status")
        # Commands work offline too: their events wait in the outbox.
        assert (await ed.run("colearner.respond", {"exercise_id": exercise_id, "text": "done offline"}))["ok"]
        await ed.until(lambda: ed.status.get("outbox") == 2, what="two events in the outbox")
