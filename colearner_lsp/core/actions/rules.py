"""What every user action checks first: the role, a known session or exercise, and the
lifecycle move an action makes; and ``user_action``, which turns a payload's validation
error into one line a person can act on."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, ParamSpec, TypeVar

from pydantic import ValidationError

from ..errors import InvalidArgument, NotFound, WrongRole
from ..instance import Instance
from ..model import lifecycle
from ..model.state import ExerciseState, SessionState
from ..protocol.event_types import Payload
from ..protocol.events import (
    SessionLifecycle,
)

if TYPE_CHECKING:  # evidence needs gitpython: imported when evidence is taken
    pass


P = ParamSpec("P")
R = TypeVar("R")


def user_action(func: Callable[P, R]) -> Callable[P, R]:
    """Turn a payload the user's values cannot make into ``InvalidArgument``.

    The event models hold the value rules (grade pass|revise, confidence 0..1,
    delta -1..1, …); this keeps them the only copy while every edge (CLI, LSP,
    demo) still gets one readable sentence instead of a validation dump.
    """

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"]) or "value"
            raise InvalidArgument(f"{field}: {err['msg'].lower()} (got {err.get('input')!r})") from None
        except NotFound:
            # a ledger being recovered does not know everything yet: say that, not "no such session"
            inst = args[0] if args else None
            if isinstance(inst, Instance) and inst.recovering:
                inst.refuse_while_recovering()
            raise

    return wrapper


def require_role(inst: Instance, role: str, action: str) -> None:
    if inst.role != role:
        raise WrongRole(f"'{action}' is for a {role}; this instance is {inst.identity!r}, a {inst.role}")


def find_session(inst: Instance, session_id: str) -> SessionState:
    session = inst.state.sessions.get(session_id)
    if session is None:
        matches = [s for sid, s in inst.state.sessions.items() if sid.startswith(session_id)] if len(session_id) >= 4 else []
        if len(matches) == 1:
            return matches[0]
        raise NotFound(f"no session {session_id!r} here; 'colearner inbox' or 'colearner dashboard' lists them")
    return session


def find_exercise(inst: Instance, exercise_id: str) -> ExerciseState:
    ex = inst.state.exercises.get(exercise_id)
    if ex is None:
        matches = [e for eid, e in inst.state.exercises.items() if eid.startswith(exercise_id)] if len(exercise_id) >= 4 else []
        if len(matches) == 1:
            return matches[0]
        raise NotFound(f"no exercise {exercise_id!r} here; 'colearner inbox' lists the exercises and their ids")
    return ex


def lifecycle_move(stage: str, cause: type[Payload], exercise_states: list[str], grade: str | None, reason: str) -> list[SessionLifecycle]:
    """The lifecycle event an action sending a ``cause`` brings with it, if any (``exercise_states``:
    the session's exercises' states once the action is done, see ``states_after``)."""
    to = lifecycle.automatic_move(stage, exercise_states, cause.event_type, grade)
    if to is None:
        return []
    return [SessionLifecycle(from_=stage, to=to, reason=reason)]


def states_after(session: SessionState, exercise_id: str, new_state: str) -> list[str]:
    """The session's exercises' states once ``exercise_id`` is in ``new_state``."""
    return [new_state if e.exercise_id == exercise_id else e.state for e in session.exercises()]


# ---------------------------------------------------------------- coach
