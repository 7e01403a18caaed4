"""Code lenses: one line above each anchor (topic, state, the next action), and "Send response"."""

from __future__ import annotations

from lsprotocol import types

from ..core.display import one_line
from ..core.model.state import ExerciseState
from . import review
from .next_action import STUDENT_ACTION_TITLE, student_next
from .responses import send_argument
from .server import ColearnerServer

INFO_ONLY = ""  # a lens whose command id is empty is shown as text, not as a link


def lens(line: int, title: str, command: str = INFO_ONLY, argument: dict | None = None) -> types.CodeLens:
    """A lens above ``line``; its title quotes wire text (topic, names), so it is shown by ``one_line``."""
    position = types.Position(line=line, character=0)
    return types.CodeLens(
        range=types.Range(start=position, end=position),
        command=types.Command(title=one_line(title), command=command, arguments=[argument] if argument else None),
    )


def student_lens(ex: ExerciseState, line: int) -> types.CodeLens:
    """Names the same next move as the diagnostic and the first code action (``student_next``)."""
    head = f"colearner · {ex.topic} · {ex.state}"
    target = {"exercise_id": ex.exercise_id}
    nxt = student_next(ex)
    if nxt == "acknowledge":
        return lens(line, f"{head} · Acknowledge", "colearner.acknowledge", target)
    if nxt == "answer_request":
        request = ex.open_requests[0]
        return lens(line, f"{head} · {STUDENT_ACTION_TITLE[nxt]}", "colearner.attachEvidence", {**target, "request_id": request.event_id})
    if nxt == "respond":
        return lens(line, f"{head} · Respond", "colearner.respond", target)
    return lens(line, f"{head} · waiting for {ex.coach}'s review")


def coach_lens(ex: ExerciseState, line: int) -> types.CodeLens:
    head = f"colearner · {ex.student} · {ex.topic} · {ex.state}"
    if ex.state == "responded":
        return lens(line, f"{head} · review: see the code actions")
    return lens(line, head)


def register(ls: ColearnerServer) -> None:
    @ls.feature(types.TEXT_DOCUMENT_CODE_LENS)
    def code_lens(ls: ColearnerServer, params: types.CodeLensParams) -> list[types.CodeLens] | None:
        path = ls.repo_path(params.text_document.uri)
        if ls.live is None or ls.inst is None or path is None:
            return None
        send = send_argument(ls.inst.root, path, params.text_document.uri)
        if send is not None:
            return [lens(0, "colearner: Send response", "colearner.respond", send)]
        build = student_lens if ls.inst.role == "student" else coach_lens
        lenses = []
        for t in ls.live.tracker.in_path(path):
            ex = ls.live.exercises.get(t.exercise_id)
            if ex is not None and ls.live.wants(ex):
                lenses.append(build(ex, t.range.start_line - 1 if t.range else 0))
        if ls.inst.role == "coach":
            lenses += review.lenses(ls, path)
        return lenses or None
