"""Waiting for something to happen: the one polling loop of the tests.

``until`` blocks (plain tests, threads, harnesses); ``until_async`` awaits, so the
event loop keeps running between tries (language-server and Kafka clients). Both
return the first truthy value the predicate gives and, when ``timeout`` runs out,
fail with an ``AssertionError`` saying what was waited for.

Wait for what a test can observe; a fixed sleep is either too short on a loaded
machine or too long everywhere else.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any

What = str | Callable[[], str]


def _timed_out(what: What, timeout: float) -> AssertionError:
    said = what() if callable(what) else what
    return AssertionError(f"timed out after {timeout:g}s waiting for {said}")


def until(predicate: Callable[[], Any], *, what: What, timeout: float = 15.0, every: float = 0.05) -> Any:
    """Call ``predicate`` until it returns something truthy, and return that.

    ``what`` (or what it returns, asked only on failure, so it can describe the
    state at that moment) names the wait in the failure's message.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise _timed_out(what, timeout)
        time.sleep(every)


async def until_async(predicate: Callable[[], Any | Awaitable[Any]], *, what: What, timeout: float = 15.0, every: float = 0.02) -> Any:
    """``until`` for a coroutine: the predicate may be a plain function or return an awaitable."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise _timed_out(what, timeout)
        await asyncio.sleep(every)
