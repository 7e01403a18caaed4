"""Code lenses follow the exercise's state: the client is asked to fetch them again after every change,
also after one that came while it was still answering the last request."""

from __future__ import annotations

import asyncio

from lsprotocol import types

from tests.instances import Pair
from tests.server.editor import Editor, editor
from tests.server.scenario import FILE, assign, cli, of_kind, start_session


async def lens_titles(ed: Editor, rel: str) -> list[str]:
    params = types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=ed.uri(rel)))
    return [lens.command.title for lens in await ed.client.text_document_code_lens_async(params) or [] if lens.command]


async def test_the_coachs_lens_is_current_after_a_pass_made_while_a_refresh_was_unanswered(pair: Pair) -> None:
    """A client that fetches its lenses on a refresh before it answers it (as some do): the student's
    answer arrives, the client, told to refresh, fetches "review" and is still busy answering when the
    coach passes. It is told once more, and then fetches no review lens."""
    session_id = await asyncio.to_thread(start_session, pair)
    exercise_id = await asyncio.to_thread(assign, pair, session_id)
    async with editor(pair.coach_root) as coach:
        coach.open(FILE)
        await coach.wait_diagnostics(FILE, lambda ds: of_kind(ds, "exercise"))
        assert await lens_titles(coach, FILE) == ["colearner · sam · loops · assigned"]

        fetched: list[list[str]] = []
        first_answered = asyncio.Event()

        async def fetch_then_answer() -> None:
            fetched.append(await lens_titles(coach, FILE))
            if len(fetched) == 1:
                await first_answered.wait()  # the first refresh is answered only once the coach has passed

        coach.on_lens_refresh = fetch_then_answer
        await asyncio.to_thread(cli, pair, "student", "respond", exercise_id, "I sum price times qty")
        await coach.until(lambda: fetched, what="a lens refresh once the answer arrived")
        assert fetched == [["colearner · sam · loops · responded · review: see the code actions"]]

        passed = {"exercise_id": exercise_id, "grade": "pass", "next_step": "go on", "confidence_delta": 0.1}
        assert (await coach.run("colearner.sendFeedback", passed))["ok"]
        first_answered.set()
        await coach.until(lambda: len(fetched) > 1, what="a second lens refresh, for the pass")
        assert fetched[-1] == [] and await lens_titles(coach, FILE) == []
