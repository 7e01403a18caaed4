"""Serving over stdio with the event loop reading stdin itself.

pygls reads stdin in a worker thread, one ``run_in_executor`` hop per header
line and per body: every message waits for thread hand-offs, and for the GIL
whenever the loop is busy (a Kafka batch, another edit). In bench/bench_lsp.py
a didChange reached its handler ~0.5 ms after it was written that way, ~0.25 ms
this way. When stdin is a pipe or a socket (how editors start a language
server) the loop watches it directly, as pygls's own TCP server does for its
socket; otherwise (a terminal, a file) a worker thread reads, as pygls does.
Either way ``framing`` splits the stream into messages and decides what a
malformed one does (skipped and answered, or the server stops with one line
on stderr). Writing to a pipe or socket goes through ``stdout_writer``, which
never blocks the loop; to a terminal or a file it stays pygls's.
"""

from __future__ import annotations

import asyncio
import logging
import os
import stat
import sys
import threading
from typing import TYPE_CHECKING, BinaryIO

from pygls import IS_WASM
from pygls.io_ import StdoutWriter

from .framing import MAX_HEADER_LINE, BlockingReader, serve_stream
from .stdout_writer import NonBlockingWriter

if TYPE_CHECKING:
    from pygls.io_ import AsyncReader

    from .server import ColearnerServer

log = logging.getLogger(__name__)


def watchable(stream: BinaryIO) -> bool:
    """A pipe or socket the event loop can watch (making it non-blocking concerns no one else).

    Not a terminal: its non-blocking flag would stay with the shell that started us.
    """
    if os.name != "posix" or IS_WASM:
        return False
    try:
        mode = os.fstat(stream.fileno()).st_mode
    except (OSError, ValueError):
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


def serve_stdio(server: ColearnerServer) -> int:
    """Serve ``server`` on stdin and stdout until the client exits or goes away; returns the exit code.

    The code is the ``exit`` notification's (0 after ``shutdown``, else 1), or
    0 when the client closed stdin. A stream that can no longer be split into
    messages raises ``framing.UnframeableInput``, once the instance is stopped.
    """
    if IS_WASM:
        server.start_io()
        return 0
    stdin = sys.stdin.buffer
    server._stop_event = stop = threading.Event()  # as pygls's start_io does: its shutdown() sets it
    server.protocol.set_writer(StdoutWriter(sys.stdout.buffer))
    writer: list[NonBlockingWriter] = []  # the loop's writer, once the loop runs (see _read)
    try:
        asyncio.run(_read(server, stdin, stop, writer))
    except BrokenPipeError:
        log.error("the connection to the client is lost; shutting down")
    except KeyboardInterrupt:
        pass
    except SystemExit as exc:  # the exit notification ends the loop with SystemExit
        return exc.code if isinstance(exc.code, int) else 0
    finally:
        for w in writer:
            w.finish()
        server.shutdown()
    return 0


def own_stdout() -> bool:
    """Whether stdout is a pipe or socket of its own: its non-blocking flag would be stderr's too
    when both are one pipe (``2>&1``), and a log line could then fail to be written."""
    if not watchable(sys.stdout.buffer):
        return False
    try:
        out, err = os.fstat(sys.stdout.fileno()), os.fstat(sys.stderr.fileno())
    except (OSError, ValueError):
        return True  # no stderr to share it with
    return (out.st_dev, out.st_ino) != (err.st_dev, err.st_ino)


class TurnTakingReader:
    """A stream reader that lets the event loop run once before each line it reads.

    Messages already buffered would otherwise be handled back to back, before
    the task a handler started has run at all: ``initialized`` starts the
    instance (which first notes the repository, so that documents opened while
    it loads are known), and a ``didOpen`` right behind it must find that done.
    pygls's threaded reader gives the loop these turns as a side effect.
    """

    def __init__(self, reader: AsyncReader) -> None:
        self._reader = reader

    async def readline(self) -> bytes:
        await asyncio.sleep(0)
        return await self._reader.readline()

    async def readexactly(self, n: int) -> bytes:
        return await self._reader.readexactly(n)


async def _read(server: ColearnerServer, stdin: BinaryIO, stop: threading.Event, writer: list[NonBlockingWriter]) -> None:
    if own_stdout():
        sys.stdout.flush()
        writer.append(NonBlockingWriter(sys.stdout.fileno(), asyncio.get_running_loop()))
        server.protocol.set_writer(writer[0])
    if not watchable(stdin):
        await serve_stream(server, BlockingReader(stdin), stop)
        return
    stream = asyncio.StreamReader(limit=MAX_HEADER_LINE)
    transport, _ = await asyncio.get_running_loop().connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stream), stdin)
    try:
        await serve_stream(server, TurnTakingReader(stream), stop)
    finally:
        transport.close()
