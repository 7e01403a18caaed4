"""Splitting the client's byte stream into messages, whatever the client sends.

pygls's ``run_async`` finds a frame's length with one exact pattern and reads
header lines until it does: a header it cannot read (``Content-Length: abc``)
leaves it reading the next bodies as headers, and the server never answers
again. Here ``FramedReader`` reads each frame itself, checks it, and hands
``run_async`` only well-formed frames; ``MessageGate`` answers bodies that are
not JSON-RPC messages. What happens to each kind of bad input:

Skipped, logged, and the server goes on (the frame's end is known):

- a body that is not JSON (or is empty, or not UTF-8, or nested too deep):
  answered with a JSON-RPC parse error (-32700, ``id: null``);
- JSON that is not a JSON-RPC message (an array, a number, an object without
  ``"jsonrpc"``): answered with an invalid request error (-32600), carrying the
  message's ``id`` when it has a usable one;
- a header line without a colon, in a frame whose ``Content-Length`` is
  valid: the whole frame is dropped unread (its headers are not what the client
  meant), with a warning;
- blank lines between frames, unknown headers, header names in another case,
  bare ``\\n`` line ends: tolerated.

The server stops, with one line on stderr and exit code 1 (where a frame ends
is no longer known, so any later byte could be read as the wrong thing):

- a ``Content-Length`` that is not a decimal number (``abc``, ``-5``, ``1.5``),
  or two that disagree;
- a ``Content-Length`` over ``MAX_BODY`` (nothing that large is ever read or
  allocated: the server stops before reading the body);
- a header block that ends without ``Content-Length``;
- a header line longer than ``MAX_HEADER_LINE``;
- the stream ending inside a header block or a body (a body shorter than its
  ``Content-Length``, then end of file).

A stream that ends between frames is the client going away: the server stops
normally.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from typing import TYPE_CHECKING, Any, BinaryIO

from pygls.io_ import run_async

from ..core.errors import ColearnerError

if TYPE_CHECKING:
    from pygls.io_ import AsyncReader
    from pygls.protocol import JsonRPCProtocol

    from .server import ColearnerServer

log = logging.getLogger(__name__)

MAX_HEADER_LINE = 2**16  # asyncio's default StreamReader limit: a longer line is never a real header
MAX_BODY = 2**26  # 64 MiB: far above any document an editor sends, far below what would hurt to hold
PARSE_ERROR, INVALID_REQUEST = -32700, -32600
NOT_JSON = (json.JSONDecodeError, UnicodeDecodeError, RecursionError)
JSON_VALUES = (dict, list, str, int, float, bool, type(None))


class UnframeableInput(ColearnerError):
    """The client's stream can no longer be split into messages: the server must stop."""

    def __init__(self, why: str) -> None:
        super().__init__(f"the language client sent a stream that cannot be read further ({why}); the server stops")


class NotJsonRpc(Exception):
    """JSON that is not a JSON-RPC message; ``msg_id`` is its id when an answer can carry it."""

    def __init__(self, message: Any) -> None:
        super().__init__(f"a {type(message).__name__} is not a JSON-RPC message")
        msg_id = message.get("id") if isinstance(message, dict) and "method" in message else None
        self.msg_id = msg_id if isinstance(msg_id, (str, int)) and not isinstance(msg_id, bool) else None


def shown(raw: bytes, limit: int = 40) -> str:
    """A piece of a header for a log line: escaped by ``repr``, cut short."""
    return repr(raw[:limit]) + ("…" if len(raw) > limit else "")


class FramedReader:
    """The reader given to ``run_async``: each frame checked, then handed over in the form it expects.

    ``run_async`` calls ``readline`` until it has a length and a blank line, then
    ``readexactly``; this reads a whole frame on the first ``readline`` and
    answers those calls with ``Content-Length: N``, the blank line and the body.
    ``raw`` is the stream: an ``asyncio.StreamReader`` or a ``BlockingReader``.
    """

    def __init__(self, raw: AsyncReader, gate: MessageGate) -> None:
        self._raw = raw
        self._gate = gate
        self._body: bytes | None = None  # the frame being handed over

    async def readline(self) -> bytes:
        if self._body is None:
            body = await self._next_frame()
            if not body:
                return b""  # the client went away between frames
            self._body = body
            return b"Content-Length: %d\r\n" % len(body)
        return b"\r\n"  # the blank line after it; readexactly then takes the body

    async def readexactly(self, n: int) -> bytes:
        body, self._body = self._body, None
        assert body is not None and len(body) == n, "run_async asked for a body it was not told of"
        return body

    async def _next_frame(self) -> bytes:
        """The next usable frame's body; b"" at the end of the stream."""
        while True:
            length, malformed = await self._headers()
            if length is None:
                return b""
            body = await self._read_body(length)
            if malformed:
                log.warning("skipped a message whose headers are malformed (%s)", malformed)
            elif not body:
                self._gate.refuse(PARSE_ERROR, "an empty message is not JSON")
            else:
                return body

    async def _headers(self) -> tuple[int | None, str | None]:
        """The frame's length (None at the end of the stream) and what was wrong with its headers, if anything."""
        length: int | None = None
        malformed: str | None = None
        started = False
        while True:
            line = await self._line(started)
            if line is None:
                return None, None
            text = line.rstrip(b"\r\n")
            if not text:
                if not started:
                    continue  # a stray blank line between frames
                if length is None:
                    raise UnframeableInput("a message's headers ended without Content-Length")
                return length, malformed
            started = True
            name, colon, value = text.partition(b":")
            if not colon:
                malformed = malformed or f"the header line {shown(text)} has no colon"
            elif name.strip().lower() == b"content-length":
                n = _content_length(value)
                if length is not None and n != length:
                    raise UnframeableInput(f"two Content-Length headers, {length} and {n}")
                length = n

    async def _line(self, in_headers: bool) -> bytes | None:
        """One header line with its line end; None when the stream ended before it began."""
        try:
            line = await self._raw.readline()
        except ValueError:  # asyncio's StreamReader: no line end within its limit
            raise UnframeableInput(f"a header line longer than {MAX_HEADER_LINE} bytes") from None
        if line.endswith(b"\n"):
            return line
        if len(line) >= MAX_HEADER_LINE:  # BlockingReader: cut at the limit
            raise UnframeableInput(f"a header line longer than {MAX_HEADER_LINE} bytes")
        if line or in_headers:
            raise UnframeableInput("the stream ended in the middle of a message's headers")
        return None

    async def _read_body(self, length: int) -> bytes:
        if length == 0:
            return b""
        try:
            body = await self._raw.readexactly(length)
        except asyncio.IncompleteReadError as exc:
            body = exc.partial
        if len(body) < length:
            raise UnframeableInput(f"the stream ended in the middle of a message: {len(body)} of its {length} bytes came")
        return body


def _content_length(value: bytes) -> int:
    digits = value.strip(b" \t")
    if not digits.isdigit():  # ASCII digits only, so no sign, no space, no other script's digits
        raise UnframeableInput(f"Content-Length {shown(value.strip())} is not a number of bytes")
    if len(digits) > len(str(MAX_BODY)) or int(digits) > MAX_BODY:
        raise UnframeableInput(f"a message of {shown(digits, 20)} bytes, over the limit of {MAX_BODY}")
    return int(digits)


class MessageGate:
    """Stands between ``run_async`` and the protocol: what is not a JSON-RPC message is answered, not crashed on.

    ``run_async`` parses each body with the protocol's ``structure_message`` and
    hands the result to ``handle_message``; when either raises it calls the
    error handler, ``failed``.
    """

    def __init__(self, server: ColearnerServer) -> None:
        self._server = server
        self._protocol: JsonRPCProtocol = server.protocol
        self.structure_message = self._protocol.structure_message

    def handle_message(self, message: Any) -> None:
        if isinstance(message, JSON_VALUES):  # the protocol structures every object that has "jsonrpc"
            raise NotJsonRpc(message)
        self._protocol.handle_message(message)

    def failed(self, exc: Exception, source: Any) -> None:
        if isinstance(exc, NOT_JSON):
            self.refuse(PARSE_ERROR, f"the message is not JSON: {str(exc)[:200]}")
        elif isinstance(exc, NotJsonRpc):
            self.refuse(INVALID_REQUEST, f'{exc}: it needs "jsonrpc": "2.0" and a method or a result', exc.msg_id)
        else:
            log.error("a message could not be handled", exc_info=exc)
            self._server.report_server_error(exc, source)

    def refuse(self, code: int, message: str, msg_id: str | int | None = None) -> None:
        """Answer a message the server cannot take, as JSON-RPC wants (``id`` null when it has none)."""
        log.warning("refused a message from the client: %s", message)
        self._protocol._send_data({"jsonrpc": "2.0", "id": msg_id, "error": {"code": code, "message": message}})


class RunAsyncRecords(logging.Filter):
    """``run_async`` logs a traceback for each message that failed; ``MessageGate.failed`` logs its own line."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.exc_info is None


_run_log = logging.getLogger(f"{__name__}.run_async")
_run_log.addFilter(RunAsyncRecords())


class BlockingReader:
    """A stream the event loop cannot watch (a terminal, a file), read in a worker thread as pygls does."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream

    async def readline(self) -> bytes:
        return await asyncio.to_thread(self._stream.readline, MAX_HEADER_LINE)

    async def readexactly(self, n: int) -> bytes:
        return await asyncio.to_thread(self._stream.read, n)  # short only at the end of the stream


async def serve_stream(server: ColearnerServer, raw: AsyncReader, stop: threading.Event) -> None:
    """Handle the client's messages until the stream ends, then stop the instance.

    Raises ``UnframeableInput`` (after stopping the instance) when the stream
    can no longer be split into messages.
    """
    gate = MessageGate(server)
    try:
        # run_async asks for a JsonRPCProtocol by name but uses only the two methods the gate has
        await run_async(stop_event=stop, reader=FramedReader(raw, gate), protocol=gate, logger=_run_log, error_handler=gate.failed)  # type: ignore[arg-type]
    except UnframeableInput:
        await server.stop()
        raise
    await server.stop()  # the client went away without shutdown: send what it can, close the ledger
