"""Keeping an instance in step with Kafka and its ledger sound: ``sync``, ``doctor``
(what is wrong, and the messages refused) and ``repair`` (a damaged ledger rebuilt)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .exchange import instance_root, open_instance

if TYPE_CHECKING:
    from ...core.instance import Instance


def _sync(inst: Instance, timeout: float) -> Any:
    """One ``colearner sync`` of ``inst``: the bus's SyncReport, or BrokerUnreachable."""
    import asyncio

    from ...bus.kafka_bus import KafkaBus

    async def go() -> Any:
        bus = KafkaBus(inst)
        try:
            return await bus.sync(timeout=timeout)
        finally:
            await bus.close()

    return asyncio.run(go())


def sync(args: argparse.Namespace) -> int:
    inst = open_instance()
    report = _sync(inst, timeout=30)
    print(
        f"published {report.published}, received {report.received} "
        f"(applied {report.applied}, duplicates {report.duplicates}, quarantined {report.quarantined}"
        + (f", {report.held} waiting for the signed end of their batch" if report.held else "")
        + f"); outbox {inst.ledger.outbox_length()}"
    )
    if report.resets:
        print(f"the broker had lost {', '.join(report.resets)}; read again from the start and asked peers to resend")
    return 0


def doctor(args: argparse.Namespace) -> int:
    from ..doctor import run_doctor

    return run_doctor(Path.cwd(), offline=args.offline, quarantine=args.quarantine)


REBUILD_LATER = "the new ledger is rebuilt from Kafka at the next 'colearner sync'; until then nothing is written"


def repair(args: argparse.Namespace) -> int:
    """Set a damaged ledger aside and rebuild it from Kafka and the peers."""
    from ...bus.kafka_bus import BrokerUnreachable
    from ...core.instance import Instance
    from ...core.store.repair import set_ledger_aside

    root = instance_root()
    aside = set_ledger_aside(root, force=args.force)
    if aside is not None:
        print(f"set the damaged ledger aside as .colearner/{aside.name}")
    inst = Instance.open(root)
    inst.start_rebuild()
    if args.offline:
        print(REBUILD_LATER)
        return 0

    try:
        _sync(inst, timeout=60)
    except BrokerUnreachable as exc:
        print(f"colearner: {exc}", file=sys.stderr)
        print(REBUILD_LATER)
        return 1
    print(f"rebuilt the ledger: {inst.ledger.event_count()} event(s) read back from Kafka")
    if inst.recovering:
        print("Kafka did not answer in time to finish; run 'colearner sync' to finish the rebuild")
        return 1
    return 0
