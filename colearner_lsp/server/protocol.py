"""The LSP protocol, with three changes to pygls's.

- A request whose params cannot be parsed is answered: pygls logs such a
  request and drops it, so the client waits until it times out. Here it gets a
  JSON-RPC "invalid params" error naming the method, and the server goes on.
- A notification whose params are ``PreparedJson`` is sent as that text, not
  walked by cattrs and ``json.dumps`` again (publishDiagnostics on a file with
  hundreds of anchors, on every keystroke).
- Open documents are ``LineDocument``s (see ``line_document``).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
from dataclasses import dataclass
from typing import Any

from cattrs import ClassValidationError, transform_error
from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method

from .line_document import LineWorkspace

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PreparedJson:
    """A notification's params, already JSON text."""

    text: str


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
    @lsp_method(types.INITIALIZE)
    def lsp_initialize(self, params: types.InitializeParams):
        result = yield from super().lsp_initialize(params)
        # pygls made the workspace while initializing; no document can be open yet.
        self.workspace.__class__ = LineWorkspace
        return result

    def notify(self, method: str, params: Any | None = None) -> None:
        if not isinstance(params, PreparedJson):
            super().notify(method, params)
            return
        if self.writer is None:
            log.error("cannot send %s: no transport", method)
            return
        data = ('{"jsonrpc":"2.0","method":%s,"params":%s}' % (json.dumps(method), params.text)).encode(self.CHARSET)
        if self._include_headers:  # framed as pygls's _send_data frames what it encodes
            data = f"Content-Length: {len(data)}\r\nContent-Type: {self.CONTENT_TYPE}; charset={self.CHARSET}\r\n\r\n".encode() + data
        try:
            sent = self.writer.write(data)
            if inspect.isawaitable(sent):
                asyncio.ensure_future(sent)
        except BrokenPipeError:
            raise
        except Exception:  # like pygls: a notification that cannot be sent must not break its caller
            log.exception("error sending %s", method)

    def structure_message(self, data: dict[str, Any]):
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            if "jsonrpc" in data and "id" in data and isinstance(data.get("method"), str):
                return Unparsable(data["id"], data["method"], _reason(exc))
            raise

    def handle_message(self, message):
        if isinstance(message, Unparsable):
            log.warning("request %s %s has malformed params: %s", message.id, message.method, message.reason)
            error = JsonRpcInvalidParams(f"{message.method}: the params do not fit the request's type ({message.reason})")
            self._send_response(message.id, None, error.to_response_error())
            return
        super().handle_message(message)
