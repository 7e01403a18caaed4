"""The ledger's rows as the code holds them, and the helpers every part of the ledger uses."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, NamedTuple

from ..errors import LedgerDamaged

# what an append_own builder returns: (opened envelope, topic[, its JSON text[, bytes as sent, their hash]])
Built = tuple[dict[str, Any], str] | tuple[dict[str, Any], str, str] | tuple[dict[str, Any], str, str, str, str]
Outcome = Literal["appended", "duplicate", "quarantined", "skipped", "held"]
# The quarantine is for people to see what was refused and why, not an archive a
# flood can grow: a prefix of each message, at most so many rows and bytes.
QUARANTINE_PREFIX_BYTES = 4096
QUARANTINE_MAX_ROWS = 1000
QUARANTINE_MAX_BYTES = 8 * 1_048_576  # messages kept whole for a retry count in full


class StoredEvent(NamedTuple):
    """One row of ``events`` as read back (a tuple: made straight from the row, which a replay does 100,000 times)."""

    pos: int
    event_id: str
    raw: str
    sender: str


class Incoming(NamedTuple):
    """One message read from the bus, already judged by the receiver (a tuple: two are made per
    message, and a frozen dataclass of these fields costs four times as much to make)."""

    raw: bytes
    topic: str | None = None
    partition: int | None = None
    offset: int | None = None
    envelope: dict[str, Any] | None = None  # set when accepted: its header's fields (the columns), as received or opened
    reason: str | None = None  # set when refused
    sender: str | None = None
    student: str | None = None
    skip: bool = False  # another student's message on a shared partition: only the position moves
    retry_session: str | None = None  # refused until this session is known (see receive.Verdict)
    seq: int | None = None  # its place in its stream (v2)
    opened: str | None = None  # an accepted event's opened form (JSON text), when ``raw`` is sealed
    hash: str | None = None  # of ``raw``: the chain's name for it
    hold: bool = False  # waits for a signed tip (kept in ``held``)
    tip: bool = False  # (when held) it is a signed tip itself
    duplicate: bool = False  # the chain already holds it
    linked: bool = False  # its chain was checked before (a quarantined message judged again)


class HeldStream(NamedTuple):
    low: int  # lowest seq held
    high: int  # highest seq held
    since: str  # when the oldest was read
    has_tip: bool  # a signed tip is among them (so an event before it is missing, or not the one it names)


@dataclass
class ChainChanges:
    """What a received batch did to the chains, stored with it (see ``Ledger.accept``)."""

    heads: dict[tuple[str, str], tuple[int, str]]  # peer streams' new heads: seq, hash
    released: list[tuple[str, str, str]]  # held events decided now: (sender, student, hash)
    forks: dict[tuple[str, str], str]  # streams found forked, and why


def _storable(text: str | None) -> str | None:
    """Text from the wire as SQLite can store it: a lone surrogate (valid in a JSON escape,
    not in UTF-8) written as its escape, so no message can fail the batch's transaction."""
    if text is None:
        return None
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def damaged(path: Path, exc: BaseException) -> LedgerDamaged:
    return LedgerDamaged(
        f"the ledger {path.parent.name}/{path.name} is damaged ({exc}); run 'colearner repair' to set it aside "
        "and rebuild it from the broker and your peers"
    )


def owner_only(path: Path) -> None:
    """The ledger and SQLite's side files, readable by their owner only (they hold every event)."""
    for candidate in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            os.chmod(candidate, 0o600)
        except FileNotFoundError:
            pass


def message_digest(raw: bytes) -> str:
    """What a read position remembers of the message before it (see ``positions``)."""
    return hashlib.sha1(raw).hexdigest()


_COLUMNS = "(event_id, session_id, student, sender, seq, event_type, ts, topic, local, raw, wire, hash)"
_INSERT_EVENT = f"INSERT INTO events {_COLUMNS} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
_INSERT_EVENT_OR_IGNORE = f"INSERT OR IGNORE INTO events {_COLUMNS} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"


def _event_row(
    env: dict[str, Any], topic: str, local: int, raw: str, wire: str | bytes | None = None, digest: str | None = None
) -> tuple[Any, ...]:
    return (
        env["event_id"],
        env["session_id"],
        env["student"],
        env["sender"],
        env["seq"],
        env["event_type"],
        env["ts"],
        topic,
        local,
        raw,
        wire,
        digest,
    )
