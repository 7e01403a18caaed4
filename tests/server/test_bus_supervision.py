"""The language server's Kafka loop survives a fault it cannot ride out by itself.

A real fault: another process drops the ledger's ``positions`` table under the
running server, so the loop's next read of the broker fails with an SQLite
error (the kind of exception the bus does not expect). The loop must be
restarted, ``colearner/status`` must say it is failing and why, the user gets
one message for the whole streak, and once the table is back an assignment
sent meanwhile arrives.
"""

from __future__ import annotations

import asyncio
import sqlite3

from lsprotocol.types import MessageType

from colearner_lsp.core.store.ledger_schema import SCHEMA
from tests.instances import Pair
from tests.server.editor import editor
from tests.server.scenario import FILE, assign, of_kind, start_session


def _ledger(pair: Pair) -> sqlite3.Connection:
    return sqlite3.connect(pair.student_root / ".colearner" / "ledger.sqlite", timeout=10)


def _drop_positions(pair: Pair) -> None:
    with _ledger(pair) as db:
        db.execute("DROP TABLE positions")


def _restore_positions(pair: Pair) -> None:
    with _ledger(pair) as db:
        db.executescript(SCHEMA)  # every table is CREATE ... IF NOT EXISTS: only positions is made again


async def test_a_failing_bus_loop_is_restarted_shown_and_recovers(pair: Pair) -> None:
    session_id = await asyncio.to_thread(start_session, pair)
    async with editor(pair.student_root) as ed:
        await ed.until(lambda: ed.status.get("broker") == "connected", what="the broker connection")
        assert ed.status["bus"] == {"state": "running", "restarts": 0, "error": None}

        await asyncio.to_thread(_drop_positions, pair)
        first = await asyncio.to_thread(assign, pair, session_id, "12-16", FILE, "first")

        failing = await ed.until(
            lambda: next((s for s in reversed(ed.statuses) if s.get("bus", {}).get("state") == "failing"), None),
            30.0,
            "a status saying the loop fails",
        )
        assert failing["broker"] == "offline"
        assert "no such table: positions" in failing["bus"]["error"] and "\n" not in failing["bus"]["error"]
        await ed.until(lambda: ed.status["bus"]["restarts"] >= 2, 30.0, "the loop restarted again while the fault lasts")
        errors = [m for m in ed.client.messages if m.type == MessageType.Error]
        assert len(errors) == 1, [m.message for m in errors]  # one message for the streak, not one per restart
        assert "no such table: positions" in errors[0].message and "colearner doctor" in errors[0].message

        await asyncio.to_thread(_restore_positions, pair)
        second = await asyncio.to_thread(assign, pair, session_id, "3-4", FILE, "second")

        def both_shown() -> bool:
            ids = {d.data["exercise_id"] for d in of_kind(ed.diagnostics(FILE), "exercise")}
            return {first, second} <= ids

        await ed.until(both_shown, 60.0, "both assignments in the editor after the fault is repaired")
        await ed.until(lambda: ed.status["bus"]["state"] == "running" and ed.status["broker"] == "connected", 30.0, "running again")
        assert ed.status["bus"]["restarts"] >= 2 and "positions" in ed.status["bus"]["error"]  # what happened stays told
        assert len([m for m in ed.client.messages if m.type == MessageType.Error]) == 1
