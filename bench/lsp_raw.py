"""A bare LSP client for timing a server: JSON over stdio, no type conversion.

Typed clients (pygls, pytest-lsp) convert every message with cattrs, which for
a publishDiagnostics of 500 items costs more than the server does; timing
through them would measure the client. This one only frames and parses JSON,
as an editor's own client does, and stamps each message when it is read.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from typing import Any


class RawClient:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[Any]] = {}
        self.listeners: list[Callable[[str, Any, float], None]] = []  # (method, params, arrival time)
        self._reader = asyncio.ensure_future(self._read())

    @classmethod
    async def start(cls, *cmd: str, cwd: str, env: dict[str, str]) -> RawClient:
        process = await asyncio.create_subprocess_exec(
            *cmd,
            cwd=cwd,
            env=env,
            limit=64 * 1024 * 1024,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        return cls(process)

    def _write(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        assert self.process.stdin is not None
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    async def request(self, method: str, params: Any = None) -> Any:
        msg_id = next(self._ids)
        answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting[msg_id] = answer
        self._write({"id": msg_id, "method": method, "params": params})
        return await answer

    def notify(self, method: str, params: Any = None) -> None:
        self._write({"method": method, "params": params})

    async def _read(self) -> None:
        stream = self.process.stdout
        assert stream is not None
        while True:
            length = 0
            while True:
                header = await stream.readline()
                if not header:
                    return
                if header.lower().startswith(b"content-length:"):
                    length = int(header.split(b":")[1])
                elif header in (b"\r\n", b"\n"):
                    break
            message = json.loads(await stream.readexactly(length))
            arrived = time.perf_counter()
            if "method" in message and "id" in message:  # a request from the server: say yes
                self._write({"id": message["id"], "result": None})
            elif "method" in message:
                for listener in list(self.listeners):
                    listener(message["method"], message.get("params"), arrived)
            elif message.get("id") in self._waiting:
                future = self._waiting.pop(message["id"])
                if "error" in message:
                    future.set_exception(RuntimeError(message["error"]))
                else:
                    future.set_result(message.get("result"))

    async def initialize(self, root_uri: str) -> None:
        capabilities = {
            "textDocument": {"publishDiagnostics": {"relatedInformation": True}, "codeAction": {}, "hover": {}},
            "window": {"workDoneProgress": True},
        }
        await self.request("initialize", {"processId": None, "rootUri": root_uri, "capabilities": capabilities})
        self.notify("initialized", {})

    async def close(self) -> None:
        try:
            await asyncio.wait_for(self.request("shutdown"), 10)
            self.notify("exit")
            await asyncio.wait_for(self.process.wait(), 10)
        except (TimeoutError, RuntimeError):
            self.process.kill()
        self._reader.cancel()
