"""Errors a user can cause. Each carries one sentence a person can act on.

The edges turn them into one line on stderr (CLI), a JSON-RPC error or a
``window/showMessage`` (language server). Anything else is a bug and keeps its
traceback.
"""


class ColearnerError(Exception):
    """Base for every user-facing error."""


class ConfigError(ColearnerError):
    """agent.yaml is missing or wrong; the message names the field and the fix."""


class KeyProblem(ColearnerError):
    """A key file or a pasted public key is missing, unreadable or malformed."""


class NotFound(ColearnerError):
    """An unknown session, exercise, step or peer."""


class WrongRole(ColearnerError):
    """A coach-only command on a student instance, or the reverse."""


class InvalidArgument(ColearnerError):
    """A value the user typed does not make sense (bad --lines, a range outside the file…)."""


class IllegalTransition(ColearnerError):
    """A lifecycle move that the session's current stage does not allow."""

    def __init__(self, current: str, wanted: str, allowed: list[str], why: str = "") -> None:
        self.current, self.wanted, self.allowed = current, wanted, allowed
        options = ", ".join(allowed) if allowed else "none (the session is finished)"
        extra = f" ({why})" if why else ""
        super().__init__(f"cannot move the session from '{current}' to '{wanted}'{extra}; allowed next: {options}")


class ScopeError(ColearnerError, ValueError):
    """A path or a policy the scope refuses, with a message a person can act on.

    `path` and `reason` are set when a path was refused, so callers can list
    the path and why, without re-parsing the message.
    """

    def __init__(self, message: str, *, path: str | None = None, reason: str | None = None):
        super().__init__(message)
        self.path = path
        self.reason = reason if reason is not None else message


class EvidenceError(ColearnerError, ValueError):
    """A snapshot that cannot be taken, with a message a person can act on."""


class LedgerDamaged(ColearnerError):
    """``.colearner/ledger.sqlite`` cannot be read as a database; ``colearner repair`` rebuilds it."""


class LedgerBehind(ColearnerError):
    """The ledger holds less than this instance published (lost, truncated or restored from
    an older copy): writing now could reuse a ``seq``, so writes wait for a sync."""
