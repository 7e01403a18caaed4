"""Custom requests (queries, no writes): ``colearner/inbox``, ``colearner/dashboard``, ``colearner/history``
and ``colearner/reviewQueue``.

Each returns the same JSON as the CLI's ``--json`` output, from the same core function.
"""

from __future__ import annotations

from typing import Any

from pygls.exceptions import JsonRpcInvalidParams

from ..core import actions
from ..core.errors import WrongRole
from .server import USER_ERRORS, ColearnerServer, user_error


def plain(value: Any) -> Any:
    """Params of a custom request as plain JSON values (pygls hands them over as namedtuples)."""
    if hasattr(value, "_asdict"):
        return {k: plain(v) for k, v in value._asdict().items()}
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def register(ls: ColearnerServer) -> None:
    @ls.feature("colearner/inbox")
    def inbox(ls: ColearnerServer, params: Any) -> dict[str, Any]:
        return actions.inbox(ls.require())

    @ls.feature("colearner/dashboard")
    def dashboard(ls: ColearnerServer, params: Any) -> dict[str, Any]:
        from ..core.reports.metrics import dashboard_for

        inst = ls.require()
        if inst.role != "coach":
            raise user_error(WrongRole(f"the dashboard is for a coach; {inst.identity!r} is a {inst.role}"))
        return dashboard_for(inst)

    @ls.feature("colearner/history")
    def history(ls: ColearnerServer, params: Any) -> dict[str, Any]:
        from ..core.reports.history import session_history

        inst = ls.require()
        given = plain(params)
        session_id = given.get("session_id") if isinstance(given, dict) else None
        if not isinstance(session_id, str) or not session_id:
            raise JsonRpcInvalidParams('colearner/history takes {"session_id": "…"}')
        try:
            return session_history(inst, session_id)
        except USER_ERRORS as exc:
            raise user_error(exc) from None

    @ls.feature("colearner/reviewQueue")
    def review_queue(ls: ColearnerServer, params: Any) -> dict[str, Any]:
        from ..core.review.work import review_queue

        try:
            return {"waiting": [w.as_json() for w in review_queue(ls.require())]}
        except USER_ERRORS as exc:
            raise user_error(exc) from None
