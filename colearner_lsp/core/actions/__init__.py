"""One function per user action. The CLI, the language server and the demo call these
(``actions.respond(inst, ...)``), whoever acts: the coach's in ``coach``, the student's in
``student``, what all of them check first in ``rules``.

Each function checks the rules (role, known ids, lifecycle, scope), builds the
payloads and emits them through ``Instance.emit`` in one atomic append, so a
lifecycle move is never separated from the action that caused it.
"""

from .coach import advance_session, assign_exercise, request_evidence, send_feedback, send_plan, set_scope, start_session
from .rules import find_exercise, find_session, require_role, user_action
from .student import acknowledge, attach_evidence, inbox, preview_evidence, respond, scope_rules, submit_progress

__all__ = [
    "acknowledge",
    "advance_session",
    "assign_exercise",
    "attach_evidence",
    "find_exercise",
    "find_session",
    "inbox",
    "preview_evidence",
    "request_evidence",
    "require_role",
    "respond",
    "scope_rules",
    "send_feedback",
    "send_plan",
    "set_scope",
    "start_session",
    "submit_progress",
    "user_action",
]
