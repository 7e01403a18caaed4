"""``colearner repair``: set a damaged ledger aside so a new one can be rebuilt.

The rebuild itself is the ordinary recovery of a lost ledger (``Instance``):
the new ledger reads every partition from the start, takes this instance's
own events back as its own, moves its counters past everything published
(``published.seq``), and asks peers to resend what the broker no longer has.
The damaged file is kept beside it, renamed, never deleted.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from ..config import CONFIG_DIR
from ..errors import InvalidArgument, LedgerDamaged
from .ledger import Ledger

SIDE_FILES = ("", "-wal", "-shm")


def ledger_path(root: Path) -> Path:
    return Path(root) / CONFIG_DIR / "ledger.sqlite"


def open_checked(root: Path) -> tuple[Ledger | None, list[str]]:
    """The ledger, opened, and what ``PRAGMA quick_check`` finds wrong with it.

    ``(None, [])`` when there is no ledger yet; ``(None, [why])`` when it cannot
    even be opened. The caller closes a ledger it is given.
    """
    path = ledger_path(root)
    if not path.exists():
        return None, []
    try:
        ledger = Ledger(path)
    except LedgerDamaged as exc:
        return None, [str(exc)]
    return ledger, ledger.integrity()


def ledger_problems(root: Path) -> list[str]:
    """What is wrong with the ledger's file (empty when it is sound or does not exist yet)."""
    ledger, problems = open_checked(root)
    if ledger is not None:
        ledger.close()
    return problems


def set_ledger_aside(root: Path, force: bool = False) -> Path | None:
    """Rename a damaged ledger (and SQLite's side files) out of the way; returns its new name.

    A sound ledger is left alone unless ``force``: rebuilding costs a full read
    of the topics and loses what only this ledger held (unsent events).
    """
    path = ledger_path(root)
    if not path.exists():
        return None
    if not force and not ledger_problems(root):
        raise InvalidArgument("the ledger passes its integrity check; nothing to repair (pass --force to rebuild it from Kafka anyway)")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = path.with_name(f"ledger.damaged-{stamp}.sqlite")
    for suffix in SIDE_FILES:
        source = path.with_name(path.name + suffix)
        if source.exists():
            os.replace(source, aside.with_name(aside.name + suffix))
    return aside
