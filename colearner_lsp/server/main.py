"""``colearner serve``: build the language server and run it over stdio or TCP."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading

from pygls.exceptions import JsonRpcException

from ..core.errors import ColearnerError, InvalidArgument
from . import code_actions, code_lens, commands, documents, hover, queries, review, threads
from .framing import MAX_HEADER_LINE, serve_stream
from .server import ColearnerServer
from .stdio import TurnTakingReader, serve_stdio

log = logging.getLogger(__name__)


class AnsweredErrors(logging.Filter):
    """pygls logs a traceback for every error response; ours answer bad input on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], JsonRpcException))


def create_server() -> ColearnerServer:
    """The server with every feature registered."""
    ls = ColearnerServer()
    for feature in (documents, commands, review, queries, threads, code_actions, code_lens, hover):
        feature.register(ls)
    return ls


def _host_port(tcp: str) -> tuple[str, int]:
    host, _, port = tcp.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise InvalidArgument(f"--tcp wants HOST:PORT, e.g. 127.0.0.1:2087, not {tcp!r}")
    return host.strip("[]"), int(port)


def serve_tcp(server: ColearnerServer, host: str, port: int) -> int:
    """Serve the first client that connects to ``host:port``, until it exits or goes away.

    Like pygls's ``start_tcp``, one connection is served; unlike it, the
    stream goes through ``framing`` (a malformed frame is skipped, or the server
    stops with ``UnframeableInput``), and the port closes once a client is in.
    """
    server._stop_event = stop = threading.Event()  # pygls's shutdown() sets it

    async def serve() -> None:
        connected: asyncio.Future[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.get_running_loop().create_future()

        def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            if connected.done():
                writer.close()
            else:
                connected.set_result((reader, writer))

        try:
            listener = await asyncio.start_server(accept, host, port, limit=MAX_HEADER_LINE)
        except OSError as exc:
            raise ColearnerError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
        try:
            reader, writer = await connected
        finally:
            listener.close()  # without wait_closed(): since Python 3.12 it waits for the client served to leave
        server.protocol.set_writer(writer)
        try:
            await serve_stream(server, TurnTakingReader(reader), stop)
        finally:
            writer.close()

    try:
        asyncio.run(serve())
    except (ConnectionError, KeyboardInterrupt):
        pass
    except SystemExit as exc:  # the exit notification
        return exc.code if isinstance(exc.code, int) else 0
    finally:
        server.shutdown()
    return 0


# A request waits for the GIL each time the event loop gave it up (reading stdin, a
# select): while a worker thread encodes learning.json or runs an action, every such wait
# lasts up to the interpreter's switch interval (5 ms), several times per request. A
# shorter interval hands the GIL back sooner; the background work pays a few more switches.
SWITCH_INTERVAL_S = 0.0005


def _switch_interval() -> float:
    """SWITCH_INTERVAL_S, or COLEARNER_SWITCH_INTERVAL_S (seconds) when it is a sane number."""
    given = os.environ.get("COLEARNER_SWITCH_INTERVAL_S")
    if given is None:
        return SWITCH_INTERVAL_S
    try:
        value = float(given)
    except ValueError:
        value = -1.0
    if not 1e-5 <= value <= 1.0:
        log.warning("COLEARNER_SWITCH_INTERVAL_S=%r is not a number of seconds in [0.00001, 1]; using %s", given, SWITCH_INTERVAL_S)
        return SWITCH_INTERVAL_S
    return value


def run_server(tcp: str | None = None) -> int:
    """Serve until the client exits; returns the exit code. Logs go to stderr: stdout carries the protocol."""
    # Under the CLI, logging is already set up (COLEARNER_LOG picks the level); this covers direct use.
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="colearner: %(message)s")
    sys.setswitchinterval(_switch_interval())
    logging.getLogger("pygls").setLevel(logging.WARNING)  # it logs every message it sends at INFO
    logging.getLogger("pygls.protocol.json_rpc").addFilter(AnsweredErrors())
    ls = create_server()
    if tcp:
        return serve_tcp(ls, *_host_port(tcp))
    return serve_stdio(ls)
