"""What the command handlers share: opening the instance, the exchange with Kafka
around what a command does, a path as typed made relative to the repository, and
the id a command created printed last.

Commands that read or write exchange with Kafka first (publish the outbox, apply
what is waiting) so they act on the latest state, and publish what they wrote
before exiting; when Kafka is away the writes wait in the outbox and the
command says so.

Each handler imports the part of the core it needs, and the bus only when it
goes online: start-up (pydantic, the ledger, asyncio and aiokafka, git cost
most of a second together; bench/bench_cli.py).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar, overload

if TYPE_CHECKING:
    from ...core.instance import Instance

T = TypeVar("T")


def open_instance() -> Instance:
    from ...core.instance import Instance

    return Instance.open(Path.cwd())


def instance_root() -> Path:
    from ...core.config import find_root

    root = find_root(Path.cwd())
    if root is None:
        from ...core.errors import ConfigError

        raise ConfigError("no .colearner/agent.yaml here or above; run 'colearner init' first")
    return root


def _tell_outbox(inst: Instance) -> None:
    say_outbox(inst.ledger.outbox_length())


def say_outbox(waiting: int) -> None:
    if waiting:
        print(
            f"colearner: {waiting} event(s) wait in the outbox; they go out with 'colearner sync' once Kafka is reachable", file=sys.stderr
        )


@overload
def exchange(inst: Instance, args: argparse.Namespace, action: Callable[[], T]) -> T: ...
@overload
def exchange(inst: Instance, args: argparse.Namespace, action: None = None) -> None: ...


def exchange(inst: Instance, args: argparse.Namespace, action: Callable[[], T] | None = None) -> T | None:
    """Sync with Kafka, run ``action``, publish what it wrote. Offline: run it anyway."""
    if args.offline:  # no bus: neither asyncio nor aiokafka is imported (start-up)
        try:
            result = action() if action else None
        finally:
            inst.flush_learning_json()  # as closing the bus does
        _tell_outbox(inst)
        return result

    import asyncio

    from ...bus.kafka_bus import BrokerUnreachable, KafkaBus

    async def go() -> T | None:
        bus = KafkaBus(inst)
        online = True
        try:
            await bus.sync(timeout=15)
        except BrokerUnreachable as exc:
            online = False
            print(f"colearner: {exc}", file=sys.stderr)
        try:
            result = action() if action else None
            if online and action:
                await bus.publish()
        finally:
            await bus.close()
        _tell_outbox(inst)
        return result

    return asyncio.run(go())


def repo_path(inst: Instance, typed: str) -> str:
    """A path as the user typed it (relative to where they stand) → relative to the repository.

    What cannot be expressed inside the repository is passed on unchanged, so the
    one scope check refuses it with its own message.
    """
    import os

    candidate = Path(typed) if os.path.isabs(typed) else Path.cwd() / typed
    try:
        rel = os.path.relpath(os.path.normpath(candidate), inst.root)
    except ValueError:
        return typed
    outside = rel == os.pardir or rel.startswith(os.pardir + os.sep)
    return typed if outside else rel.replace(os.sep, "/")


def print_id(value: str) -> None:
    """The id or key a command created, alone on the last line of stdout (for scripts)."""
    print(value)
