"""The LSP protocol, with one change: a request whose params cannot be parsed is answered.

pygls logs such a request and drops it, so the client waits until it times
out. Here the request still gets a JSON-RPC "invalid params" error naming the
method, and the server goes on serving.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from cattrs import ClassValidationError, transform_error
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams
from pygls.protocol import LanguageServerProtocol

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Unparsable:
    """A request that arrived but did not fit its method's parameter type."""

    id: Any
    method: str
    reason: str


def _reason(exc: BaseException) -> str:
    """What did not fit, e.g. 'required field missing @ $.params.text_document'."""
    cause = exc.__cause__
    if isinstance(cause, ClassValidationError):
        return "; ".join(transform_error(cause)[:5])[:500]
    return str(cause or exc) or exc.__class__.__name__


class ColearnerProtocol(LanguageServerProtocol):
    def structure_message(self, data: dict[str, Any]):  # type: ignore[no-untyped-def]
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            if "jsonrpc" in data and "id" in data and isinstance(data.get("method"), str):
                return Unparsable(data["id"], data["method"], _reason(exc))
            raise

    def handle_message(self, message):  # type: ignore[no-untyped-def]
        if isinstance(message, Unparsable):
            log.warning("request %s %s has malformed params: %s", message.id, message.method, message.reason)
            error = JsonRpcInvalidParams(f"{message.method}: the params do not fit the request's type ({message.reason})")
            self._send_response(message.id, None, error.to_response_error())
            return
        super().handle_message(message)
