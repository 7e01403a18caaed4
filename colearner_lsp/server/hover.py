"""Hover over an anchored range: the exercise in full (student), or the answer under review (coach)."""

from __future__ import annotations

from typing import Any

from lsprotocol import types

from ..core.state import ExerciseState
from .anchor_tracker import Tracked
from .coach_review import MATCH_TEXT, LocalBlobs, match_of, unreviewed_evidence
from .server import ColearnerServer


def _feedback(feedback: dict[str, Any] | None) -> list[str]:
    if not feedback:
        return []
    lines = [f"**Latest feedback ({feedback.get('grade')}, {feedback.get('ts', '')[:16]}):** next step: {feedback.get('next_step', '')}"]
    lines += [f"- {m.get('text', '')}" + (f" ({m['path']}:{m.get('start_line')})" if m.get("path") else "") for m in feedback.get("mistakes", [])]
    return lines


def _where(ex: ExerciseState, t: Tracked | None) -> str:
    anchor = ex.anchor or {}
    if t is None:
        return f"`{anchor.get('path')}`"
    if t.range is None:
        return f"`{t.path}`, moved or deleted (was lines {t.last_seen.start_line}-{t.last_seen.end_line})"
    return f"`{t.path}:{t.range.start_line}-{t.range.end_line}` ({t.status})"


def student_markdown(ex: ExerciseState, t: Tracked | None) -> str:
    tests = ", ".join(f"`{x}`" for x in ex.tests) or "none given"
    lines = [
        f"### colearner: {ex.topic} — {ex.state}",
        ex.exercise,
        f"**Expected:** {ex.expected}",
        f"**Tests:** {tests}",
        f"**Anchor:** {_where(ex, t)} · from {ex.coach} · id `{ex.exercise_id}`",
    ]
    lines += _feedback(ex.latest_feedback)
    lines += [f"**Evidence requested:** {', '.join(r['paths'])} — {r['reason']}" for r in ex.open_requests]
    return "\n\n".join(lines)


def history_of(ex: ExerciseState) -> list[tuple[str, str]]:
    """The exercise's events in time order, from its folded state."""
    steps = [(ex.assigned_at, f"assigned by {ex.coach}")]
    if ex.acknowledged_at:
        steps.append((ex.acknowledged_at, "acknowledged"))
    steps += [(r["ts"], "responded" + (" with evidence" if r.get("evidence") else "")) for r in ex.responses]
    steps += [(e["ts"], f"evidence: {len(e.get('files', []))} file(s), {e.get('withheld', 0)} withheld") for e in ex.evidence]
    steps += [(r["ts"], f"evidence requested: {', '.join(r['paths'])}") for r in ex.evidence_requests]
    steps += [(f["ts"], f"feedback: {f['grade']}") for f in ex.feedback]
    return sorted(steps)


def coach_markdown(ex: ExerciseState, t: Tracked | None, blobs: LocalBlobs) -> str:
    lines = [f"### colearner: {ex.student} · {ex.topic} — {ex.state}", ex.exercise, f"**Expected:** {ex.expected}",
             f"**Anchor:** {_where(ex, t)} · id `{ex.exercise_id}`"]
    if ex.responses:
        latest = ex.responses[-1]
        lines.append(f"**Response ({latest['ts'][:16]}):**\n\n> " + latest["text"].replace("\n", "\n> "))
    snapshot = unreviewed_evidence(ex) or (ex.evidence[-1] if ex.evidence else None)
    if snapshot is not None:
        lines.append(f"**Evidence ({snapshot.get('ts', '')[:16]}, {snapshot.get('branch')}@{str(snapshot.get('commit'))[:8]}):** {snapshot.get('summary', '')}")
        lines += [f"- `{f['path']}` {f.get('status')}: {MATCH_TEXT[match_of(f, blobs.sha(f['path']))]}" for f in snapshot.get("files", [])[:20]]
    lines += _feedback(ex.latest_feedback)
    lines.append("**History:**\n\n" + "\n".join(f"- {ts[:19]} {what}" for ts, what in history_of(ex)))
    return "\n\n".join(lines)


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
