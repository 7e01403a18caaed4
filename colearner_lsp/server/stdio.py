"""Serving over stdio with the event loop reading stdin itself.

pygls reads stdin in a worker thread, one ``run_in_executor`` hop per header
line and per body: every message waits for thread hand-offs, and for the GIL
whenever the loop is busy (a Kafka batch, another edit). In bench/bench_lsp.py
a didChange reached its handler ~0.5 ms after it was written that way, ~0.25 ms
this way. When stdin is a pipe or a socket (how editors start a language
server) the loop watches it directly, as pygls's own TCP server does for its
socket; otherwise (a terminal, a file) pygls reads as it always does. Writing
stays pygls's.
"""

from __future__ import annotations

import asyncio
import logging
import os
import stat
import sys
import threading
from typing import BinaryIO

from pygls import IS_WASM
from pygls.io_ import StdoutWriter, run_async
from pygls.server import JsonRPCServer

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


def serve_stdio(server: JsonRPCServer) -> None:
    """Serve ``server`` on stdin and stdout until the client exits or goes away."""
    stdin = sys.stdin.buffer
    if not watchable(stdin):
        server.start_io()
        return
    server._stop_event = stop = threading.Event()  # as pygls's start_io does: its shutdown() sets it
    server.protocol.set_writer(StdoutWriter(sys.stdout.buffer))
    try:
        asyncio.run(_read(server, stdin, stop))
    except BrokenPipeError:
        log.error("the connection to the client is lost; shutting down")
    except (KeyboardInterrupt, SystemExit):  # the exit notification ends the loop with SystemExit
        pass
    finally:
        server.shutdown()


class TurnTakingReader:
    """A StreamReader that lets the event loop run once before each line it reads.

    Messages already buffered would otherwise be handled back to back, before
    the task a handler started has run at all: ``initialized`` starts the
    instance (which first notes the repository, so that documents opened while
    it loads are known), and a ``didOpen`` right behind it must find that done.
    pygls's threaded reader gives the loop these turns as a side effect.
    """

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self._reader = reader

    async def readline(self) -> bytes:
        await asyncio.sleep(0)
        return await self._reader.readline()

    async def readexactly(self, n: int) -> bytes:
        return await self._reader.readexactly(n)


async def _read(server: JsonRPCServer, stdin: BinaryIO, stop: threading.Event) -> None:
    stream = asyncio.StreamReader()
    transport, _ = await asyncio.get_running_loop().connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stream), stdin)
    reader = TurnTakingReader(stream)
    try:
        await run_async(stop_event=stop, reader=reader, protocol=server.protocol, logger=log, error_handler=server.report_server_error)
    except asyncio.IncompleteReadError:
        log.info("the client closed stdin in the middle of a message")
    finally:
        transport.close()
