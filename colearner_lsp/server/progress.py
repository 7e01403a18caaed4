"""Work-done progress (``$/progress``) for evidence snapshots, reported from a worker thread."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from lsprotocol import types

from .server import ColearnerServer

log = logging.getLogger(__name__)


def _client_shows_progress(ls: ColearnerServer) -> bool:
    window = ls.client_capabilities.window
    return bool(window and window.work_done_progress)


@asynccontextmanager
async def snapshot_progress(ls: ColearnerServer, title: str, wanted: bool = True) -> AsyncIterator[Callable[[str], None] | None]:
    """Yield a ``progress(message)`` callback safe to call from any thread (None when not shown)."""
    if not wanted or not _client_shows_progress(ls):
        yield None
        return
    token = f"colearner-{uuid.uuid4()}"
    progress = ls.work_done_progress
    try:
        await progress.create_async(token)
    except Exception:  # a client that refuses the token simply shows no progress
        log.debug("client refused a progress token", exc_info=True)
        yield None
        return
    loop = asyncio.get_running_loop()
    progress.begin(token, types.WorkDoneProgressBegin(title=title, cancellable=False))

    def report(message: str) -> None:
        loop.call_soon_threadsafe(progress.report, token, types.WorkDoneProgressReport(message=message))

    try:
        yield report
    finally:
        # Queued after any report still on its way from the worker thread.
        loop.call_soon(progress.end, token, types.WorkDoneProgressEnd(message="done"))
