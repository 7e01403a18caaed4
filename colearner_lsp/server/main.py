"""``colearner serve``: build the language server and run it over stdio or TCP."""

from __future__ import annotations

import logging
import sys

from pygls.exceptions import JsonRpcException

from ..core.errors import InvalidArgument
from . import code_actions, code_lens, commands, documents, hover, queries
from .server import ColearnerServer
from .stdio import serve_stdio


class AnsweredErrors(logging.Filter):
    """pygls logs a traceback for every error response; ours answer bad input on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], JsonRpcException))


def create_server() -> ColearnerServer:
    """The server with every feature registered."""
    ls = ColearnerServer()
    for feature in (documents, commands, queries, code_actions, code_lens, hover):
        feature.register(ls)
    return ls


def _host_port(tcp: str) -> tuple[str, int]:
    host, _, port = tcp.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise InvalidArgument(f"--tcp wants HOST:PORT, e.g. 127.0.0.1:2087, not {tcp!r}")
    return host.strip("[]"), int(port)


def run_server(tcp: str | None = None) -> int:
    """Serve until the client exits. Logs go to stderr: stdout carries the protocol."""
    # Under the CLI, logging is already set up (COLEARNER_LOG picks the level); this covers direct use.
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="colearner: %(message)s")
    logging.getLogger("pygls").setLevel(logging.WARNING)  # it logs every message it sends at INFO
    logging.getLogger("pygls.protocol.json_rpc").addFilter(AnsweredErrors())
    ls = create_server()
    if tcp:
        host, port = _host_port(tcp)
        ls.start_tcp(host, port)
    else:
        serve_stdio(ls)
    return 0
