"""``colearner/threads``: each exercise as one conversation at its lines, for an editor's comment threads.

For every exercise of this instance (a student's own, a coach's set), newest
open ones first: its short id, topic, state, whose turn it is, where its code
is *now* (the range the server tracks while files are edited, else the
anchor as assigned), and its entries in time order — the exercise, each
answer with a summary of its evidence, evidence sent on its own, each
evidence request, each feedback with its mistakes. While a ``revise`` is
open (until the student answers again), its mistakes that lie outside the
exercise's lines come as ``places`` of their own, so an editor can put a
thread at each that replies into the exercise.

Every wire text goes through ``visible`` (prose) or ``one_line`` (names,
paths, times) here, and everything is bounded: texts are cut, entries,
mistakes and threads are counted past a limit (``left_off``), so a hostile
peer cannot fill an editor.
"""

from __future__ import annotations

from typing import Any

from ..core.display import one_line, visible
from ..core.model.records import FeedbackRecord
from ..core.model.state import ExerciseState
from ..core.protocol.events import EvidenceSnapshot
from .diagnostics import mistakes_of, on_exercise_lines, safe_path, short_id
from .live_state import LiveExercises
from .next_action import coach_has_turn, student_next
from .server import ColearnerServer

MAX_THREADS = 300  # exercises returned (open ones first, then the latest passed)
MAX_ENTRIES = 40  # entries of one thread: the exercise and the newest ones
MAX_MISTAKES = 20  # mistakes of one feedback
MAX_PLACES = 20  # mistake places of their own, per exercise
MAX_FILES = 5  # evidence files named in a summary
TEXT_CHARS = 4000  # an exercise, an answer, a next step
ITEM_CHARS = 500  # a mistake, a reason, a summary
NAME_CHARS = 120  # a topic, a person, a path
TS_CHARS = 40


def _text(value: object, limit: int = TEXT_CHARS) -> str:
    s = "" if value is None else str(value)
    return visible(s if len(s) <= limit else s[: limit - 1] + "…")


def _name(value: object, limit: int = NAME_CHARS) -> str:
    return one_line("" if value is None else value, limit)


def _line(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 10**9 else None


def _mistakes(feedback: FeedbackRecord) -> tuple[list[dict[str, Any]], int]:
    given = feedback.mistakes
    shown = []
    for m in given[:MAX_MISTAKES]:
        item: dict[str, Any] = {"text": one_line(m.text, ITEM_CHARS)}
        path, first = m.path, _line(m.start_line)
        if path is not None and safe_path(path) and first is not None:
            last = _line(m.end_line) or first
            item |= {"path": _name(path, 300), "start_line": first, "end_line": max(first, last)}
        shown.append(item)
    return shown, max(0, len(given) - MAX_MISTAKES)


def evidence_summary(snapshot: EvidenceSnapshot) -> str:
    """A snapshot in one line: its summary, else the files it names (bounded)."""
    files = snapshot.files
    named = ", ".join(f"{f.path} ({f.status})" for f in files[:MAX_FILES])
    more = f", and {len(files) - MAX_FILES} more" if len(files) > MAX_FILES else ""
    count = f"{len(files)} file{'' if len(files) == 1 else 's'}"
    summary = snapshot.summary
    text = f"{summary} · {count}" if summary else f"{count}: {named}{more}" if files else "no files"
    return one_line(text, ITEM_CHARS)


def entries_of(ex: ExerciseState) -> list[dict[str, Any]]:
    """The conversation in time order (unbounded; ``thread_of`` cuts it)."""
    found: list[tuple[str, int, dict[str, Any]]] = []

    def add(ts: object, entry: dict[str, Any]) -> None:
        found.append((str(ts or ""), len(found), {"ts": one_line(str(ts or ""), TS_CHARS), **entry}))

    add(
        ex.assigned_at,
        {
            "kind": "exercise",
            "author": _name(ex.coach),
            "text": _text(ex.exercise),
            "expected": _text(ex.expected, ITEM_CHARS),
            "tests": [_name(t, 200) for t in ex.tests[:10]],
        },
    )
    snapshots = {e.event_id: e for e in ex.evidence}
    answered_with = set()
    for r in ex.responses:
        entry: dict[str, Any] = {"kind": "answer", "author": _name(ex.student), "text": _text(r.text)}
        evidence = snapshots.get(r.evidence_id) if r.evidence_id else None
        if evidence is not None:
            entry["evidence_summary"] = evidence_summary(evidence.snapshot)
            answered_with.add(r.evidence_id)
        add(r.ts, entry)
    for e in ex.evidence:
        if e.event_id not in answered_with:
            add(e.ts, {"kind": "evidence", "author": _name(ex.student), "text": "", "evidence_summary": evidence_summary(e.snapshot)})
    for q in ex.evidence_requests:
        paths = ", ".join(q.paths[:MAX_FILES])
        add(
            q.ts,
            {
                "kind": "evidence_request",
                "author": _name(ex.coach),
                "text": _text(q.reason, ITEM_CHARS),
                "paths": one_line(paths, ITEM_CHARS),
                "answered": bool(q.answered_by),
            },
        )
    for f in ex.feedback:
        mistakes, more = _mistakes(f)
        entry = {
            "kind": "feedback",
            "author": _name(ex.coach),
            "grade": _name(f.grade, 20),
            "text": _text(f.next_step),
            "mistakes": mistakes,
        }
        if more:
            entry["mistakes_left_off"] = more
        add(f.ts, entry)
    # The exercise opens the thread whatever the clocks say; the rest in time order.
    head, rest = found[0], sorted(found[1:], key=lambda item: (item[0], item[1]))
    return [head[2]] + [entry for _, _, entry in rest]


def _turn(ex: ExerciseState) -> str | None:
    """Whose move it is: ``student``, ``coach`` or None (passed)."""
    if ex.state == "passed":
        return None
    if student_next(ex) is not None:
        return "student"
    return "coach" if coach_has_turn(ex) else None


def thread_of(ex: ExerciseState, live: LiveExercises | None) -> dict[str, Any]:
    anchor = ex.anchor
    path = anchor.path if anchor is not None and safe_path(anchor.path) else None
    t = live.tracked(ex.exercise_id) if live is not None else None
    where: dict[str, Any] | None = None
    lost = False
    if t is not None and t.range is not None:
        where = {"start_line": t.range.start_line, "end_line": t.range.end_line}
    elif t is not None:
        lost = True
        where = {"start_line": 1, "end_line": 1}
    elif anchor is not None and path is not None and _line(anchor.start_line) is not None:
        first = anchor.start_line
        where = {"start_line": first, "end_line": max(first, _line(anchor.end_line) or first)}
    entries = entries_of(ex)
    left_off = max(0, len(entries) - MAX_ENTRIES)
    if left_off:
        entries = entries[:1] + entries[1 + left_off :]
    places = []
    latest = ex.latest_feedback
    if latest is not None and latest.grade == "revise" and ex.state == "revise" and path is not None:
        for m in mistakes_of(latest):
            if m.path is None or m.lines is None or on_exercise_lines(m, t):
                continue
            if t is None and m.path == path and where and where["start_line"] <= m.lines[0] + 1 and m.lines[1] + 1 <= where["end_line"]:
                continue
            places.append(
                {"path": _name(m.path, 300), "start_line": m.lines[0] + 1, "end_line": m.lines[1] + 1, "text": one_line(m.text, ITEM_CHARS)}
            )
    return {
        "exercise_id": one_line(ex.exercise_id, NAME_CHARS),
        "short_id": one_line(short_id(ex.exercise_id)),
        "session_id": one_line(ex.session_id, NAME_CHARS),
        "topic": _name(ex.topic),
        "state": _name(ex.state, 20),
        "student": _name(ex.student),
        "coach": _name(ex.coach),
        "turn": _turn(ex),
        "next": student_next(ex) or ("review" if coach_has_turn(ex) else None),
        "path": one_line(path, 300) if path is not None else None,
        "range": where,
        "lost": lost,
        "entries": entries,
        "entries_left_off": left_off,
        "places": places[:MAX_PLACES],
    }


def threads_for(ls: ColearnerServer) -> dict[str, Any]:
    inst = ls.require()
    mine = [ex for ex in list(inst.state.exercises.values()) if (ex.student if inst.role == "student" else ex.coach) == inst.identity]
    open_ = sorted((ex for ex in mine if ex.state != "passed"), key=lambda ex: str(ex.assigned_at), reverse=True)
    passed = sorted((ex for ex in mine if ex.state == "passed"), key=lambda ex: str(ex.passed_at or ""), reverse=True)
    chosen = (open_ + passed)[:MAX_THREADS]
    return {
        "role": inst.role,
        "identity": _name(inst.identity),
        "threads": [thread_of(ex, ls.live) for ex in chosen],
        "left_off": max(0, len(mine) - len(chosen)),
    }


def register(ls: ColearnerServer) -> None:
    @ls.feature("colearner/threads")
    def threads(ls: ColearnerServer, params: Any) -> dict[str, Any]:
        return threads_for(ls)
