"""Bad input is answered with an error a person can act on, and the server goes on serving."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from tests.instances import Pair
from tests.repos import make_origin
from tests.server.editor import Editor, editor
from tests.server.scenario import FILE, assign, of_kind, start_session

INVALID_PARAMS = -32602
REQUEST_FAILED = types.LSPErrorCodes.RequestFailed.value


async def still_serving(ed: Editor) -> None:
    inbox = await asyncio.wait_for(ed.request("colearner/inbox", {}), 10)
    assert inbox["identity"]


async def refused(ed: Editor, command: str, argument: Any, code: int, *words: str) -> str:
    with pytest.raises(JsonRpcException) as caught:
        await asyncio.wait_for(ed.run(command, argument), 10)
    assert caught.value.code == code, caught.value.message
    for word in words:
        assert word in caught.value.message
    await still_serving(ed)
    return caught.value.message


async def test_bad_requests_and_commands_get_errors(pair: Pair) -> None:
    session_id = await asyncio.to_thread(start_session, pair)
    exercise_id = await asyncio.to_thread(assign, pair, session_id)
    async with editor(pair.student_root) as ed:
        await ed.wait_diagnostics(FILE, lambda ds: of_kind(ds, "exercise"))

        # Params that do not fit the LSP type: answered (pygls alone would drop the request).
        with pytest.raises(JsonRpcException) as caught:
            await asyncio.wait_for(ed.raw_request("textDocument/hover", {"position": "nowhere"}), 10)
        assert caught.value.code == INVALID_PARAMS and "textDocument/hover" in caught.value.message
        assert "required field missing @ $.params.text_document" in caught.value.message
        await still_serving(ed)

        # A message that is not JSON at all is skipped.
        ed.write_raw(b"{oops!}")
        await still_serving(ed)

        # Unknown methods and commands.
        with pytest.raises(JsonRpcException) as caught:
            await asyncio.wait_for(ed.request("colearner/nope", {}), 10)
        assert caught.value.code == -32601
        await refused(ed, "colearner.nope", {}, INVALID_PARAMS, "colearner.nope")

        # Wrong arguments: none, not an object, a missing field, a wrong type, an unknown field.
        await refused(ed, "colearner.acknowledge", None, INVALID_PARAMS, "takes one object argument")
        await refused(ed, "colearner.acknowledge", "abc", INVALID_PARAMS, "got str")
        await refused(ed, "colearner.respond", {"text": "hi"}, INVALID_PARAMS, "exercise_id: Field required")
        await refused(ed, "colearner.acknowledge", {"exercise_id": 42}, INVALID_PARAMS, "exercise_id")
        await refused(ed, "colearner.acknowledge", {"exercise_id": exercise_id, "extra": 1}, INVALID_PARAMS, "extra")
        await refused(ed, "colearner.sendFeedback", {"exercise_id": exercise_id, "grade": "great"}, INVALID_PARAMS, "grade", "next_step")
        await refused(ed, "colearner.submitProgress", {"completed": [], "confidence": {"loops": 3}}, INVALID_PARAMS, "confidence")

        # Arguments that parse but the core refuses: the core's own message.
        await refused(ed, "colearner.acknowledge", {"exercise_id": "0000-unknown"}, REQUEST_FAILED, "no exercise", "colearner inbox")
        await refused(
            ed,
            "colearner.sendFeedback",
            {"exercise_id": exercise_id, "grade": "pass", "next_step": "x", "confidence_delta": 0.1},
            REQUEST_FAILED,
            "is for a coach",
        )
        await refused(ed, "colearner.respond", {"exercise_id": exercise_id, "text": "x", "evidence": ["../outside.py"]}, REQUEST_FAILED)

        # Documents outside the workspace.
        elsewhere = pair.student_root.parent / "elsewhere.py"
        elsewhere.write_text("x = 1\n")
        outside = elsewhere.as_uri()
        await refused(
            ed, "colearner.attachEvidence", {"exercise_id": exercise_id, "uri": outside}, REQUEST_FAILED, "not a file of this repository"
        )
        await refused(
            ed, "colearner.respond", {"exercise_id": exercise_id, "document": outside}, REQUEST_FAILED, "not a file of this repository"
        )
        hover = types.HoverParams(text_document=types.TextDocumentIdentifier(uri=outside), position=types.Position(line=0, character=0))
        assert await ed.client.text_document_hover_async(hover) is None
        ed.client.text_document_did_open(
            types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(uri=outside, language_id="text", version=1, text="x\n"))
        )
        await still_serving(ed)
        assert (await ed.run("colearner.acknowledge", {"exercise_id": exercise_id}))["ok"]


async def test_coach_commands_refuse_bad_input(pair: Pair) -> None:
    await asyncio.to_thread(start_session, pair)
    async with editor(pair.coach_root) as ed:
        lines = {"start": {"line": 10, "character": 0}, "end": {"line": 14, "character": 0}}
        base = {"uri": ed.uri(FILE), "range": lines, "topic": "t", "exercise": "e", "expected": "x"}
        elsewhere = pair.coach_root.parent / "elsewhere.py"
        elsewhere.write_text("x = 1\n")
        await refused(ed, "colearner.assign", {**base, "uri": elsewhere.as_uri()}, REQUEST_FAILED, "not a file of this repository")
        await refused(
            ed,
            "colearner.assign",
            {**base, "range": {"start": {"line": 500, "character": 0}, "end": {"line": 501, "character": 0}}},
            REQUEST_FAILED,
            "lines",
        )
        await refused(ed, "colearner.assign", {**base, "range": {"start": {"line": 3}}}, INVALID_PARAMS, "range")
        await refused(ed, "colearner.assign", {**base, "session_id": "nope"}, REQUEST_FAILED, "no session")
        ed.open(FILE, "changed but not saved\n")
        await refused(ed, "colearner.assign", base, REQUEST_FAILED, "save app/inventory.py first")
        await refused(ed, "colearner.setScope", {"session_id": "x", "allow": ["a"], "share": "everything"}, INVALID_PARAMS, "share")
        await refused(ed, "colearner.advanceSession", {"session_id": "x", "to": "later"}, INVALID_PARAMS, "to")


async def test_folder_without_colearner_keeps_serving_with_features_off(tmp_path: Path) -> None:
    root = make_origin(tmp_path / "plain")
    async with editor(root, wait_status=False) as ed:
        await ed.until(lambda: ed.client.messages, what="a message saying how to set colearner up")
        assert "colearner init" in ed.client.messages[0].message
        assert ed.client.messages[0].type == types.MessageType.Warning
        with pytest.raises(JsonRpcException) as caught:
            await asyncio.wait_for(ed.run("colearner.acknowledge", {"exercise_id": "x"}), 10)
        assert "colearner init" in caught.value.message
        ed.open(FILE)
        params = types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=ed.uri(FILE)), position=types.Position(line=0, character=0)
        )
        assert await ed.client.text_document_hover_async(params) is None
        assert ed.statuses == []


@pytest.mark.parametrize("given", ["abc", "0", "-1", "1e9", "nan"])
async def test_a_bad_switch_interval_is_ignored(pair: Pair, given: str) -> None:
    """COLEARNER_SWITCH_INTERVAL_S that is no sane number of seconds leaves the default, and the server serves."""
    async with editor(pair.student_root, env={"COLEARNER_SWITCH_INTERVAL_S": given}) as ed:
        await still_serving(ed)


def test_a_sane_switch_interval_is_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    from colearner_lsp.server import main

    monkeypatch.setenv("COLEARNER_SWITCH_INTERVAL_S", "0.002")
    assert main._switch_interval() == 0.002
    for bad in ("abc", "0", "1e9", "nan", ""):
        monkeypatch.setenv("COLEARNER_SWITCH_INTERVAL_S", bad)
        assert main._switch_interval() == main.SWITCH_INTERVAL_S, bad


REFUSED = "refused"
ONLY_CASES: list[tuple[Any, bool | str]] = [
    (None, True),
    (["colearner"], True),
    ([""], True),  # the empty kind contains every kind
    (["quickfix"], False),  # coaching moves are no quick fixes
    (["source.organizeImports", "refactor"], False),
    ([], True),  # names no kind: no filter
    ([42, 7.5], True),  # no string kind at all: no filter
    ([42, "quickfix"], False),  # the string kind filters; the number is ignored
    ([{"kind": "colearner"}], REFUSED),  # not a kind at all: the LSP boundary refuses it
    ("colearner", False),  # a string, as Neovim 0.7 documents it, arrives letter by letter: matches nothing
    ("x" * 100_000, False),
]


async def test_code_action_only_filters_by_kind_whatever_it_holds(pair: Pair) -> None:
    """The actions' kind is ``colearner``; a request's ``only`` (as sent, well formed or not) is honoured
    where it names kinds, ignored where it names none, and never stops the server. One editor for all
    cases (each starts no server of its own); a failure names its case."""
    session_id = await asyncio.to_thread(start_session, pair)
    await asyncio.to_thread(assign, pair, session_id)
    async with editor(pair.student_root) as ed:
        await ed.wait_diagnostics(FILE, lambda ds: of_kind(ds, "exercise"))
        here = {"start": {"line": 12, "character": 0}, "end": {"line": 12, "character": 0}}
        for only, offered in ONLY_CASES:
            case = f"only={str(only)[:40]!r}"
            context: dict[str, Any] = {"diagnostics": []} | ({} if only is None else {"only": only})
            params = {"textDocument": {"uri": ed.uri(FILE)}, "range": here, "context": context}
            if offered == REFUSED:
                with pytest.raises(JsonRpcException) as caught:
                    await asyncio.wait_for(ed.raw_request("textDocument/codeAction", params), 10)
                assert caught.value.code == INVALID_PARAMS and "context.only" in caught.value.message, case
            else:
                answer = await asyncio.wait_for(ed.raw_request("textDocument/codeAction", params), 10)
                if offered:
                    assert answer and {a["kind"] for a in answer} == {"colearner"}, (case, answer)
                    assert answer[0]["title"] == "Acknowledge 'loops'", (case, answer)  # what comes next, first
                else:
                    assert answer is None, (case, answer)
            await still_serving(ed)
