"""Code actions on an exercise's lines: the student's and the coach's next moves.

Every action is a ``colearner.*`` command with its one object argument, so a
client runs the same path as a palette command or the CLI. Clients that cannot
prompt get sensible values taken from the exercise (the VS Code extension asks
and passes its own).

The actions have a kind of their own, ``colearner``: they are moves in a
conversation, not fixes of the code, so they are not offered as quick fixes
(VS Code lists those under "Quick Fix", among the linters' fixes). VS Code
lists them in the same Ctrl+. and light-bulb menu, under "More Actions..."; Neovim's
``vim.lsp.buf.code_action`` lists every kind. A client can ask for exactly
these with ``only: ["colearner"]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lsprotocol import types

from ..core.display import one_line
from ..core.errors import ColearnerError
from ..core.model import lifecycle
from ..core.model.state import ExerciseState
from . import review
from .diagnostics import SOURCE
from .next_action import student_next
from .responses import send_argument
from .server import ColearnerServer

COACHING = "colearner"  # the kind of every action here (see the module's docstring)
DEFAULT_CONFIDENCE = 0.7  # offered when marking a step complete; the extension lets the student choose


def action(title: str, command: str, argument: dict[str, Any], diagnostics: list[types.Diagnostic] | None = None) -> types.CodeAction:
    """An action running ``command``. The title quotes wire text (topics, paths, step ids) and is
    shown by ``one_line``; the argument is data and goes back to the server as it came."""
    shown = one_line(title)
    return types.CodeAction(
        title=shown,
        kind=COACHING,
        diagnostics=diagnostics or None,
        command=types.Command(title=shown, command=command, arguments=[argument]),
    )


def asks_for_coaching(only: Sequence[object] | None) -> bool:
    """Whether a request's ``only`` lets these actions through: no filter, ``colearner``, or ""
    (kinds are dotted hierarchies, and the empty kind contains every kind).

    ``only`` comes from the client as it was sent: a kind that is not a string is ignored, and
    an ``only`` naming no string kind at all is no filter.
    """
    kinds = [k for k in only or () if isinstance(k, str)]
    return not kinds or any(k in ("", COACHING) for k in kinds)


def exercises_here(ls: ColearnerServer, path: str, params: types.CodeActionParams) -> list[ExerciseState]:
    """Open exercises anchored under the range, or named by the colearner diagnostics in the request."""
    assert ls.live is not None
    found = {ex.exercise_id: ex for ex in ls.live.at(path, params.range.start.line, params.range.end.line)}
    for d in params.context.diagnostics:
        exercise_id = d.data.get("exercise_id") if d.source == SOURCE and isinstance(d.data, dict) else None
        ex = ls.live.exercises.get(exercise_id) if isinstance(exercise_id, str) else None
        if ex is not None and ls.live.wants(ex):
            found.setdefault(ex.exercise_id, ex)
    return list(found.values())


def student_actions(ls: ColearnerServer, ex: ExerciseState, path: str, diags: list[types.Diagnostic]) -> list[types.CodeAction]:
    """The student's moves, the one their diagnostic names as next (``student_next``) first."""
    target = {"exercise_id": ex.exercise_id}
    actions = []
    if ex.state == "assigned":
        actions.append(action(f"Acknowledge '{ex.topic}'", "colearner.acknowledge", target, diags))
    answers = [
        action(
            f"Answer evidence request: {', '.join(request.paths)}",
            "colearner.attachEvidence",
            {**target, "request_id": request.event_id},
            diags,
        )
        for request in ex.open_requests
    ]
    if student_next(ex) == "answer_request":
        actions += answers
        answers = []
    actions.append(action(f"Respond to '{ex.topic}'", "colearner.respond", target, diags))
    actions.append(action(f"Attach evidence from {path} to '{ex.topic}'", "colearner.attachEvidence", {**target, "paths": [path]}))
    step = completable_step(ls, ex)
    if step is not None:
        session = ls.require().state.sessions[ex.session_id]
        confidence = round(session.confidence.get(ex.topic, DEFAULT_CONFIDENCE), 2)
        argument = {"session_id": ex.session_id, "completed": [step], "confidence": {ex.topic: confidence}}
        actions.append(
            action(f"Mark plan step '{step}' complete (confidence {confidence} in '{ex.topic}')", "colearner.submitProgress", argument)
        )
    return actions + answers


def completable_step(ls: ColearnerServer, ex: ExerciseState) -> str | None:
    """The exercise's plan step, when it is not done yet and every step before it is."""
    session = ls.require().state.sessions.get(ex.session_id)
    if not ex.step_id or session is None:
        return None
    steps: list[tuple[str, str]] = [(s.id, s.status) for s in session.steps]
    if (ex.step_id, "done") in steps:
        return None
    try:
        lifecycle.check_step_order(steps, ex.step_id)
    except ColearnerError:
        return None
    return ex.step_id


def coach_actions(ls: ColearnerServer, ex: ExerciseState, path: str, diags: list[types.Diagnostic]) -> list[types.CodeAction]:
    assert ls.live is not None
    target = {"exercise_id": ex.exercise_id}
    who = f"'{ex.topic}' ({ex.student})"
    t = ls.live.tracked(ex.exercise_id)
    anchor_path = t.path if t else ex.anchor.path if ex.anchor is not None else path
    actions = []
    if ex.state == "responded":
        passed = {**target, "grade": "pass", "next_step": "well done: go on to the next step", "confidence_delta": 0.1}
        actions.append(action(f"Pass {who}", "colearner.sendFeedback", passed, diags))
        mistake: dict[str, Any] = {"text": f"not there yet: {ex.expected}"}
        if t is not None and t.range is not None:
            mistake.update(path=t.path, start_line=t.range.start_line, end_line=t.range.end_line)
        revise = {**target, "grade": "revise", "mistakes": [mistake], "next_step": "address the mistakes", "confidence_delta": -0.1}
        actions.append(action(f"Request revision of {who}", "colearner.sendFeedback", revise, diags))
    wanted = sorted({anchor_path, path})
    more = {**target, "paths": wanted, "reason": f"show me the current state of {', '.join(wanted)}"}
    actions.append(action(f"Request more evidence for {who}", "colearner.requestEvidence", more, diags))
    return actions


def register(ls: ColearnerServer) -> None:
    @ls.feature(types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(code_action_kinds=[COACHING]))
    def code_action(ls: ColearnerServer, params: types.CodeActionParams) -> list[types.CodeAction] | None:
        path = ls.repo_path(params.text_document.uri)
        if ls.live is None or ls.inst is None or path is None or not asks_for_coaching(params.context.only):
            return None
        send = send_argument(ls.inst.root, path, params.text_document.uri)
        if send is not None:
            return [action("Send response", "colearner.respond", send)]
        build = student_actions if ls.inst.role == "student" else coach_actions
        found = []
        here = exercises_here(ls, path, params)
        for ex in here:
            diags = [d for d in params.context.diagnostics if isinstance(d.data, dict) and d.data.get("exercise_id") == ex.exercise_id]
            found += build(ls, ex, path, diags)
        if ls.inst.role == "coach":  # every review lens as an action too, for clients without lenses
            found += [action(title, review.SHOW, argument) for title, argument in review.offers(ls, path, params, here)]
        return found or None
