"""Hover over an anchored range (or a mistake's lines): the exercise's thread, short.

The order is the same for both sides: the exercise's text, then the latest
exchange first (the student sees the coach's latest feedback and open
requests; the coach sees the latest answer, its evidence and their own
feedback, newest first), then the rest of the history in one line, then where
the exercise is and its short id. Nothing shown in full above is repeated in
the history, and every wire text is cut to a bound, so a typical exercise fits
without scrolling and a hostile one cannot fill the screen.

Every text that came over the wire goes through ``markdown_text`` (prose) or
``markdown_code`` (paths, ids, test commands) as the Markdown is built, so it
is shown as written: no escape sequence, bidi override, link, image or HTML.
"""

from __future__ import annotations

from collections.abc import Iterable

from lsprotocol import types

from ..core.display import one_line
from ..core.model.records import EvidenceRecord, EvidenceRequestRecord, FeedbackRecord, ResponseRecord
from ..core.model.state import ExerciseState
from ..core.protocol.events import AnchoredMistake, EvidenceFile
from .anchor_tracker import Tracked
from .coach_review import MATCH_TEXT, LocalBlobs, match_of, unreviewed_evidence
from .diagnostics import safe_path, short_id
from .markdown import markdown_code, markdown_text
from .next_action import STUDENT_ACTION_TITLE, student_next
from .server import ColearnerServer

# Bounds on what one hover shows (characters, items).
EXERCISE_CHARS, TEXT_CHARS, ITEM_CHARS = 1500, 600, 300
LISTED = 10  # mistakes or tests listed
REQUESTS_LISTED = 3  # open evidence requests listed (and as many paths of each as FILES_LISTED)
FILES_LISTED = 5  # evidence files listed
HISTORY_STEPS = 8  # history entries shown (the oldest are counted)

STUDENT_STATE = {"assigned": "new", "acknowledged": "in progress", "responded": "answer sent", "revise": "to revise"}


def when(ts: object) -> str:
    """A wire timestamp as ``2026-01-02 10:00`` (UTC), Markdown-safe."""
    text = str(ts or "")
    return markdown_text(text[:16].replace("T", " ") if len(text) >= 16 else text, 40)


def _heading(text: object) -> str:
    """A heading is one line: a topic's newline would end it and start a paragraph."""
    return markdown_text(one_line(text, 120))


def _bounded(items: list[str], limit: int, what: str) -> list[str]:
    return items[:limit] + ([f"- … and {len(items) - limit} more {what}"] if len(items) > limit else [])


def _exercise(ex: ExerciseState) -> list[str]:
    tests = ", ".join(markdown_code(x) for x in ex.tests[:LISTED]) + (" …" if len(ex.tests) > LISTED else "")
    return [
        markdown_text(ex.exercise, EXERCISE_CHARS),
        f"**Expected:** {markdown_text(ex.expected, TEXT_CHARS)} · **Tests:** {tests or 'none given'}",
    ]


def _mistake(m: AnchoredMistake) -> str:
    where = ""
    if m.path:
        first, last = m.start_line, m.end_line
        lines = f"{first}-{last}" if last and last != first else f"{first}"
        where = " (" + markdown_code(f"{m.path}:{lines}") + ")"
    # A list item spans one line: a mistake's own newlines would end it.
    return f"- {markdown_text(one_line(m.text, ITEM_CHARS))}{where}"


def _feedback(feedback: FeedbackRecord, label: str) -> str:
    head = f"**{label}** ({markdown_text(feedback.grade, 20)}, {when(feedback.ts)}): {markdown_text(feedback.next_step, TEXT_CHARS)}"
    mistakes = _bounded([_mistake(m) for m in feedback.mistakes], LISTED, "mistakes")
    return "\n".join([head, ""] + mistakes) if mistakes else head


def _request(request: EvidenceRequestRecord) -> str:
    paths = ", ".join(markdown_code(p) for p in request.paths[:FILES_LISTED]) + (" …" if len(request.paths) > FILES_LISTED else "")
    return f"**Evidence requested** ({when(request.ts)}): {paths} — {markdown_text(request.reason, ITEM_CHARS)}"


def _answer(response: ResponseRecord) -> str:
    answer = markdown_text(response.text, TEXT_CHARS).replace("\n", "\n> ")
    return f"**Answer** ({when(response.ts)}):\n\n> {answer}"


def _evidence(evidence: EvidenceRecord, blobs: LocalBlobs) -> str:
    snapshot = evidence.snapshot
    where = markdown_text(f"{snapshot.branch}@{snapshot.commit[:8]}", 120)
    files = [
        f"- {markdown_code(f.path)} {markdown_text(f.status, 20)}: {MATCH_TEXT[match_of(f, _local_sha(f, blobs))]}" for f in snapshot.files
    ]
    head = f"**Evidence** ({when(evidence.ts)}, {where}): {markdown_text(snapshot.summary, ITEM_CHARS)}"
    return "\n".join([head, ""] + _bounded(files, FILES_LISTED, "files")) if files else head


def _local_sha(file: EvidenceFile, blobs: LocalBlobs) -> str | None:
    """The coach's blob of a file a student named; a path no peer may name (absolute, '..', NUL) is never looked up."""
    return blobs.sha(file.path) if safe_path(file.path) else None


def _where(ex: ExerciseState, t: Tracked | None) -> str:
    if t is None:
        place = markdown_code(ex.anchor.path if ex.anchor is not None else None)
    elif t.range is None:
        place = f"{markdown_code(t.path)}, moved or deleted (was lines {t.last_seen.start_line}-{t.last_seen.end_line})"
    else:
        place = markdown_code(f"{t.path}:{t.range.start_line}-{t.range.end_line}")
    return f"{place} · id {markdown_code(short_id(ex.exercise_id))}"


def history_of(ex: ExerciseState, shown: Iterable[object] = ()) -> list[tuple[str, str]]:
    """The exercise's steps in time order, from its folded state, leaving out the records in ``shown``."""
    skip = {id(record) for record in shown}  # by identity: two records may be equal, and both shown
    steps = [(ex.assigned_at, f"assigned by {markdown_text(ex.coach, 80)}")]
    if ex.acknowledged_at:
        steps.append((ex.acknowledged_at, "acknowledged"))
    steps += [(r.ts, "answered" + (" with evidence" if r.evidence_id else "")) for r in ex.responses if id(r) not in skip]
    answered_with = {r.evidence_id for r in ex.responses}  # said by "answered with evidence"
    steps += [
        (e.ts, f"evidence: {len(e.snapshot.files)} file(s)") for e in ex.evidence if id(e) not in skip and e.event_id not in answered_with
    ]
    steps += [(r.ts, "evidence requested") for r in ex.evidence_requests if id(r) not in skip]
    steps += [(f.ts, f"feedback: {markdown_text(f.grade, 20)}") for f in ex.feedback if id(f) not in skip]
    return sorted(steps, key=lambda step: str(step[0]))


def _history(steps: list[tuple[str, str]]) -> list[str]:
    if not steps:
        return []
    earlier = len(steps) - HISTORY_STEPS
    shown, day = [], None
    for ts, what in steps[-HISTORY_STEPS:]:
        text = str(ts or "")
        # A day is said once: the steps after it on the same day show only their time.
        shown.append(f"{markdown_text(text[11:16]) if text[:10] == day and len(text) >= 16 else when(text)} {what}")
        day = text[:10]
    return ["**History:** " + (f"{earlier} earlier · " if earlier > 0 else "") + " · ".join(shown)]


def _newest_first(blocks: list[tuple[str, str]]) -> list[str]:
    return [text for _, text in sorted(blocks, key=lambda block: str(block[0]), reverse=True)]


def student_markdown(ex: ExerciseState, t: Tracked | None) -> str:
    nxt = student_next(ex)
    state = STUDENT_STATE.get(ex.state, ex.state)
    title = f"### {_heading(ex.topic)} — {markdown_text(state)}" + (f" · next: {STUDENT_ACTION_TITLE[nxt]}" if nxt else "")
    latest = ex.latest_feedback
    blocks = [(r.ts, _request(r)) for r in ex.open_requests[:REQUESTS_LISTED]]
    if latest is not None:
        blocks.append((latest.ts, _feedback(latest, "Latest feedback")))
    shown: list[object] = [latest] if latest else []
    shown += ex.open_requests
    lines = [
        title,
        *_exercise(ex),
        *_newest_first(blocks),
        *_history(history_of(ex, shown)),
        f"From {markdown_text(ex.coach, 80)} · {_where(ex, t)}",
    ]
    return "\n\n".join(lines)


def coach_markdown(ex: ExerciseState, t: Tracked | None, blobs: LocalBlobs) -> str:
    title = f"### {_heading(ex.student)} · {_heading(ex.topic)} — {markdown_text(ex.state)}"
    blocks: list[tuple[str, str]] = []
    shown: list[object] = []
    # The student's side of the latest exchange: the answer, then the evidence behind it.
    student_side: list[tuple[str, str, object]] = [(r.ts, _answer(r), r) for r in ex.responses[-1:]]
    evidence = unreviewed_evidence(ex) or (ex.evidence[-1] if ex.evidence else None)
    if evidence is not None:
        student_side.append((evidence.ts, _evidence(evidence, blobs), evidence))
    if student_side:
        blocks.append((max(ts for ts, _, _ in student_side), "\n\n".join(text for _, text, _ in student_side)))
        shown += [record for _, _, record in student_side]
    if ex.latest_feedback is not None:
        blocks.append((ex.latest_feedback.ts, _feedback(ex.latest_feedback, "Your feedback")))
        shown.append(ex.latest_feedback)
    blocks += [(r.ts, _request(r)) for r in ex.open_requests[:REQUESTS_LISTED]]
    shown += ex.open_requests
    lines = [title, *_exercise(ex), *_newest_first(blocks), *_history(history_of(ex, shown)), _where(ex, t)]
    return "\n\n".join(lines)


def register(ls: ColearnerServer) -> None:
    @ls.feature(types.TEXT_DOCUMENT_HOVER)
    def hover(ls: ColearnerServer, params: types.HoverParams) -> types.Hover | None:
        path = ls.repo_path(params.text_document.uri)
        if ls.live is None or ls.inst is None or path is None:
            return None
        line = params.position.line
        ids = [ex.exercise_id for ex in ls.live.at(path, line, line)]
        lines_of = ls.live.lines_of
        ids += [f.exercise_id for f in ls.live.store.for_path(path) if (at := lines_of(f))[0] <= line <= at[1]]
        shown = [ls.live.exercises[i] for i in dict.fromkeys(ids) if i in ls.live.exercises]
        if not shown:
            return None
        live = ls.live
        if ls.inst.role == "student":
            parts = [student_markdown(ex, live.tracked(ex.exercise_id)) for ex in shown]
        else:
            parts = [coach_markdown(ex, live.tracked(ex.exercise_id), live.blobs) for ex in shown]
        return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value="\n\n---\n\n".join(parts)))
