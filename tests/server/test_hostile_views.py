"""Hostile wire text in what the editor shows: diagnostics and hovers, for both sides.

Escape sequences, BEL, NUL, bidi overrides and zero-width characters are shown
as marks; Markdown (links, images, HTML, entities, code fences) is shown as
typed, never rendered; very long texts and very many items stay bounded. The
unit tests feed every text a peer chooses into the views; the end-to-end test
sends them over the real broker to two real servers.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from lsprotocol import types
from markdown_it import MarkdownIt

from colearner_lsp.core import actions
from colearner_lsp.core.model.records import EvidenceRecord
from colearner_lsp.core.protocol.events import AnchoredMistake, EvidenceFile, EvidenceSnapshot
from colearner_lsp.server.coach_findings import coach_findings
from colearner_lsp.server.coach_review import LocalBlobs
from colearner_lsp.server.diagnostic_json import DiagnosticJson
from colearner_lsp.server.diagnostics import student_findings
from colearner_lsp.server.hover import coach_markdown, student_markdown
from tests.instances import Pair, sync
from tests.records import feedback, request, response
from tests.server.editor import Editor, editor
from tests.server.scenario import FILE
from tests.server.test_findings import EID, exercise, tracker_at

# Clear the screen, set the window title (OSC … BEL), NUL, a right-to-left override, a bidi isolate, a zero-width space.
EVIL = "\x1b[2J\x1b]0;pwned\x07\x00\u202eevil\u2066x\u2069\u200b"
# Markdown that would fetch, link, inject HTML or put back a hidden character through an entity.
MARKUP = (
    "[click](https://evil.example/x) ![img](https://evil.example/p.png) <img src=x onerror=alert(1)> &#x202E; `code` **bold**\n# heading"
)
HOSTILE = f"{EVIL} {MARKUP}"
LONG = "A" * 20_000  # the longest text a payload may carry
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f\u0080-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
RAW_ONE_LINE = re.compile("[\x00-\x1f\x7f\u0080-\u009f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def hostile_exercise(text: str, state: str = "revise", many: int = 3) -> Any:
    asked = request("r1", "2026-01-03T00:00:00Z", [f"app/{text}.py"] * many, text)
    # Built past the models' checks: a file's status, the commit, the branch and each mistake hold any
    # text of any length, so the views are shown more than the wire lets through.
    files = [EvidenceFile.model_construct(path=f"app/{text[:50]}.py", blob_sha="0" * 40, size=1, lines=1, status=text)] * many
    snapshot = EvidenceSnapshot.model_construct(
        exercise_id=EID, commit=text, branch=text, dirty=False, files=files, summary=text, withheld=0
    )
    mistakes = [AnchoredMistake.model_construct(text=f"here {text}", path="app/a.py", start_line=3, end_line=4)]
    mistakes += [AnchoredMistake.model_construct(text=f"none {text}")]
    mistakes += [AnchoredMistake.model_construct(text=f"far {i} {text}", path=f"app/{text[:50]}.py", start_line=9) for i in range(many)]
    return exercise(
        state,
        topic=text,
        exercise=text,
        expected=text,
        tests=[f"pytest {text}", "`` fence ``"],
        coach=f"carol{text[:40]}",
        student=f"sam{text[:40]}",
        acknowledged_at="2026-01-01T01:00:00Z",
        responses=[response(text, "2026-01-01T02:00:00Z", "ev1")],
        evidence=[EvidenceRecord("ev1", "2026-01-01T02:00:00Z", snapshot)],
        feedback=[feedback("revise", "2026-01-02T00:00:00Z", text, mistakes)],
        evidence_requests=[asked] * many,
    )


def diagnostics_of(findings: Iterable[Any]) -> list[dict[str, Any]]:
    by_path: dict[str, list[Any]] = {}
    for f in findings:
        by_path.setdefault(f.path, []).append(f)
    converter = DiagnosticJson(lambda p: f"file:///r/{p}", lambda eid: (2, 4))
    return [d for path, fs in by_path.items() for d in json.loads(converter.diagnostics(path, fs))]


def shown_messages(diagnostics: list[dict[str, Any]]) -> list[str]:
    return [d["message"] for d in diagnostics] + [r["message"] for d in diagnostics for r in d.get("relatedInformation", [])]


def assert_rendered_safely(markdown: str) -> str:
    """Render the hover as CommonMark does: no link, image or HTML, and no hidden character, even from an entity."""
    tokens = MarkdownIt("commonmark").parse(markdown)
    kinds = {t.type for t in tokens} | {c.type for t in tokens for c in (t.children or [])}
    assert not kinds & {"link_open", "image", "html_inline", "html_block"}, kinds
    html = MarkdownIt("commonmark").render(markdown)
    found = RAW.search(html.replace("\n", ""))
    assert found is None, f"U+{ord(found.group()):04X} rendered in {html[max(0, found.start() - 60) : found.start() + 60]!r}"
    assert "<h1>" not in html and "<strong>bold" not in html
    return html


def test_diagnostics_show_hostile_text_as_marks(tmp_path: Path) -> None:
    blobs = LocalBlobs(tmp_path)
    t = tracker_at(3).get(EID)
    for state in ("assigned", "acknowledged", "responded", "revise"):
        ex = hostile_exercise(HOSTILE, state)
        diagnostics = diagnostics_of(student_findings(ex, t)) + diagnostics_of(coach_findings(ex, t, blobs))
        assert diagnostics
        for message in shown_messages(diagnostics):
            found = RAW_ONE_LINE.search(message)
            assert found is None, f"{state}: U+{ord(found.group()):04X} in {message!r}"
            assert "␛[2J" in message or "␛" not in HOSTILE  # the topic leads every message, visibly
        assert all(d["source"] == "colearner" for d in diagnostics)


def test_diagnostics_stay_short_for_very_long_and_very_many() -> None:
    ex = hostile_exercise(LONG, "revise", many=200)
    findings = student_findings(ex, tracker_at(3).get(EID))
    diagnostics = diagnostics_of(findings)
    assert len(diagnostics) == 1 + 200  # one per mistake on lines of its own, no more
    assert max(len(m) for m in shown_messages(diagnostics)) < 1000
    assert "200 mistakes on other lines:" in diagnostics[0]["message"]


def test_hovers_show_hostile_text_as_typed(tmp_path: Path) -> None:
    blobs = LocalBlobs(tmp_path)
    t = tracker_at(3).get(EID)
    for state in ("assigned", "responded", "revise"):
        ex = hostile_exercise(HOSTILE, state)
        for markdown in (student_markdown(ex, t), coach_markdown(ex, t, blobs)):
            html = assert_rendered_safely(markdown)
            assert "␛]0;pwned␇␀⟨U+202E⟩evil⟨U+2066⟩x⟨U+2069⟩⟨U+200B⟩" in html
            assert "[click](https://evil.example/x)" in html and "&lt;img src=x" in html and "&amp;#x202E;" in html


def test_hovers_stay_bounded_for_very_long_and_very_many(tmp_path: Path) -> None:
    blobs = LocalBlobs(tmp_path)
    ex = hostile_exercise(LONG, "revise", many=500)
    for markdown in (student_markdown(ex, tracker_at(3).get(EID)), coach_markdown(ex, tracker_at(3).get(EID), blobs)):
        assert len(markdown) < 16_000 and len(markdown.splitlines()) < 60
        assert "… and 492 more mistakes" in markdown  # 502 mistakes, ten listed
        assert_rendered_safely(markdown)


async def test_both_editors_show_hostile_feedback_as_marks(pair: Pair) -> None:
    coach, student = pair.coach(), pair.student()
    session_id = actions.start_session(coach, pair.student_id)
    exercise_id = actions.assign_exercise(
        coach,
        session_id,
        topic=f"loops {EVIL}",
        exercise=HOSTILE,
        expected=HOSTILE,
        path=FILE,
        start_line=11,
        end_line=15,
        tests=[f"pytest {EVIL}"],
    )
    await asyncio.to_thread(sync, coach, student)
    actions.acknowledge(student, exercise_id)
    actions.respond(student, exercise_id, HOSTILE, None)
    await asyncio.to_thread(sync, student, coach)
    actions.send_feedback(
        coach,
        exercise_id,
        grade="revise",
        next_step=HOSTILE,
        confidence_delta=-0.1,
        mistakes=[
            {"text": f"here {HOSTILE}", "path": FILE, "start_line": 12, "end_line": 13},
            {"text": f"elsewhere {HOSTILE}", "path": FILE, "start_line": 18, "end_line": 19},
            f"plain {LONG}"[:20_000],
        ],
    )
    await asyncio.to_thread(sync, coach, student)
    async with editor(pair.coach_root) as coach_ed, editor(pair.student_root) as student_ed:
        for ed in (student_ed, coach_ed):
            diags = await ed.wait_diagnostics(FILE, lambda ds: len(ds) == 2)
            for d in diags:
                messages = [d.message] + [r.message for r in d.related_information or []]
                assert not any(RAW_ONE_LINE.search(m) for m in messages), messages
                assert "loops ␛[2J␛]0;pwned␇␀⟨U+202E⟩evil" in d.message and len(d.message) < 1000
            assert_rendered_safely(await hover(ed, 12))


async def hover(ed: Editor, line: int) -> str:
    params = types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=ed.uri(FILE)), position=types.Position(line=line, character=0)
    )
    found = await ed.client.text_document_hover_async(params)
    assert found is not None
    return found.contents.value
