"""``colearner serve --tcp HOST:PORT``: the same server over a socket."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from typing import Any

from lsprotocol import types
from pygls.uris import from_fs_path
from pytest_lsp import LanguageClient
from pytest_lsp.client import make_test_lsp_client

from colearner_lsp.bus.broker import free_port
from colearner_lsp.server.queries import plain
from tests.instances import Pair, run_cli
from tests.server.editor import capabilities, server_env
from tests.waiting import until_async


async def connect(client: LanguageClient, port: int, process: subprocess.Popen[bytes]) -> None:
    """Connect once the server listens (pygls serves one connection, so no probing first)."""

    async def connected() -> bool:
        assert process.poll() is None, "the server exited before listening"
        try:
            await client.start_tcp("127.0.0.1", port)
        except OSError:
            return False
        return True

    await until_async(connected, what=f"the server to listen on {port}", timeout=10, every=0.05)


async def test_serve_over_tcp(pair: Pair) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "colearner_lsp", "serve", "--tcp", f"127.0.0.1:{port}"], cwd=pair.student_root, env=server_env()
    )
    try:
        client = make_test_lsp_client()
        statuses: list[dict[str, Any]] = []

        @client.feature("colearner/status")
        def on_status(client: LanguageClient, params: Any) -> None:
            statuses.append(plain(params))

        await connect(client, port, process)
        uri = from_fs_path(str(pair.student_root))
        await client.initialize_session(types.InitializeParams(capabilities=capabilities(), root_uri=uri))
        await until_async(lambda: statuses, what="the first colearner/status", timeout=15, every=0.05)
        assert statuses[0]["identity"] == pair.student_id
        await asyncio.wait_for(client.shutdown_session(), 10)
        await asyncio.to_thread(process.wait, 10)
        await client.stop()
    finally:
        if process.poll() is None:
            process.kill()


def test_bad_tcp_address_is_one_line_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = run_cli(tmp_path, "serve", "--tcp", "nowhere")
    assert result.returncode == 1 and "--tcp wants HOST:PORT" in result.stderr and "Traceback" not in result.stderr
