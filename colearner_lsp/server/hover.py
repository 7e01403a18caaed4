"""Hover over an anchored range: the exercise in full (student), or the answer under review (coach).

Every text that came over the wire goes through ``markdown_text`` (prose) or
``markdown_code`` (paths, ids, test commands) as the Markdown is built, so it
is shown as written: no escape sequence, bidi override, link, image or HTML.
"""

from __future__ import annotations

from typing import Any

from lsprotocol import types

from ..core.display import one_line
from ..core.state import ExerciseState
from .anchor_tracker import Tracked
from .coach_review import MATCH_TEXT, LocalBlobs, match_of, unreviewed_evidence
from .markdown import markdown_code, markdown_text
from .server import ColearnerServer


def _feedback(feedback: dict[str, Any] | None) -> list[str]:
    if not feedback:
        return []
    head = f"{markdown_text(feedback.get('grade'))}, {markdown_text(str(feedback.get('ts', ''))[:16])}"
    lines = [f"**Latest feedback ({head}):** next step: {markdown_text(feedback.get('next_step', ''))}"]
    lines += [_mistake(m) for m in feedback.get("mistakes", [])]
    return lines


def _mistake(m: dict[str, Any]) -> str:
    where = ""
    if m.get("path"):
        where = " (" + markdown_code(f"{m['path']}:{m.get('start_line')}") + ")"
    # A list item spans one line: a mistake's own newlines would end it.
    return f"- {markdown_text(one_line(m.get('text', '')))}{where}"


def _where(ex: ExerciseState, t: Tracked | None) -> str:
    anchor = ex.anchor or {}
    if t is None:
        return markdown_code(anchor.get("path"))
    if t.range is None:
        return f"{markdown_code(t.path)}, moved or deleted (was lines {t.last_seen.start_line}-{t.last_seen.end_line})"
    place = markdown_code(f"{t.path}:{t.range.start_line}-{t.range.end_line}")
    return f"{place} ({t.status})"


def student_markdown(ex: ExerciseState, t: Tracked | None) -> str:
    tests = ", ".join(markdown_code(x) for x in ex.tests) or "none given"
    lines = [
        f"### colearner: {_heading(ex.topic)} — {markdown_text(ex.state)}",
        markdown_text(ex.exercise),
        f"**Expected:** {markdown_text(ex.expected)}",
        f"**Tests:** {tests}",
        f"**Anchor:** {_where(ex, t)} · from {markdown_text(ex.coach)} · id {markdown_code(ex.exercise_id)}",
    ]
    lines += _feedback(ex.latest_feedback)
    lines += [_request(r) for r in ex.open_requests]
    return "\n\n".join(lines)


def _heading(text: str) -> str:
    """A heading is one line: a topic's newline would end it and start a paragraph."""
    return markdown_text(one_line(text))


def _request(request: dict[str, Any]) -> str:
    paths = ", ".join(markdown_code(p) for p in request["paths"])
    return f"**Evidence requested:** {paths} — {markdown_text(request['reason'])}"


def history_of(ex: ExerciseState) -> list[tuple[str, str]]:
    """The exercise's events in time order, from its folded state."""
    steps = [(ex.assigned_at, f"assigned by {markdown_text(ex.coach)}")]
    if ex.acknowledged_at:
        steps.append((ex.acknowledged_at, "acknowledged"))
    steps += [(r["ts"], "responded" + (" with evidence" if r.get("evidence") else "")) for r in ex.responses]
    steps += [(e["ts"], f"evidence: {len(e.get('files', []))} file(s), {e.get('withheld', 0)} withheld") for e in ex.evidence]
    steps += [(r["ts"], f"evidence requested: {', '.join(markdown_code(p) for p in r['paths'])}") for r in ex.evidence_requests]
    steps += [(f["ts"], f"feedback: {markdown_text(f['grade'])}") for f in ex.feedback]
    return sorted(steps)


def coach_markdown(ex: ExerciseState, t: Tracked | None, blobs: LocalBlobs) -> str:
    lines = [f"### colearner: {_heading(ex.student)} · {_heading(ex.topic)} — {markdown_text(ex.state)}",
             markdown_text(ex.exercise), f"**Expected:** {markdown_text(ex.expected)}",
             f"**Anchor:** {_where(ex, t)} · id {markdown_code(ex.exercise_id)}"]
    if ex.responses:
        latest = ex.responses[-1]
        answer = markdown_text(latest["text"]).replace("\n", "\n> ")
        lines.append(f"**Response ({markdown_text(str(latest['ts'])[:16])}):**\n\n> " + answer)
    snapshot = unreviewed_evidence(ex) or (ex.evidence[-1] if ex.evidence else None)
    if snapshot is not None:
        lines.append(_evidence_line(snapshot))
        lines += [
            f"- {markdown_code(f['path'])} {markdown_text(f.get('status'))}: {MATCH_TEXT[match_of(f, blobs.sha(f['path']))]}"
            for f in snapshot.get("files", [])[:20]
        ]
    lines += _feedback(ex.latest_feedback)
    lines.append("**History:**\n\n" + "\n".join(f"- {markdown_text(str(ts)[:19])} {what}" for ts, what in history_of(ex)))
    return "\n\n".join(lines)


def _evidence_line(snapshot: dict[str, Any]) -> str:
    when = markdown_text(str(snapshot.get("ts", ""))[:16])
    where = markdown_text(f"{snapshot.get('branch')}@{str(snapshot.get('commit'))[:8]}")
    return f"**Evidence ({when}, {where}):** {markdown_text(snapshot.get('summary', ''))}"


def register(ls: ColearnerServer) -> None:
    @ls.feature(types.TEXT_DOCUMENT_HOVER)
    def hover(ls: ColearnerServer, params: types.HoverParams) -> types.Hover | None:
        path = ls.repo_path(params.text_document.uri)
        if ls.live is None or ls.inst is None or path is None:
            return None
        line = params.position.line
        ids = [ex.exercise_id for ex in ls.live.at(path, line, line)]
        ids += [f.exercise_id for f in ls.live.store.for_path(path) if ls.live.lines_of(f)[0] <= line <= ls.live.lines_of(f)[1]]
        shown = [ls.live.exercises[i] for i in dict.fromkeys(ids) if i in ls.live.exercises]
        if not shown:
            return None
        live = ls.live
        if ls.inst.role == "student":
            parts = [student_markdown(ex, live.tracked(ex.exercise_id)) for ex in shown]
        else:
            parts = [coach_markdown(ex, live.tracked(ex.exercise_id), live.blobs) for ex in shown]
        return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value="\n\n---\n\n".join(parts)))
