"""The ``colearner/status`` notification: who this instance is and how it is doing."""

from __future__ import annotations

from typing import Any

from ..core.instance import Instance
from ..core.model.state import SessionState
from .bus_supervisor import BusHealth


def current_session(inst: Instance) -> SessionState | None:
    """The session the status bar speaks of: the most recently active open one, else the latest."""
    sessions = [s for s in list(inst.state.sessions.values()) if inst.role == "coach" or s.student == inst.identity]
    if not sessions:
        return None
    open_ = [s for s in sessions if s.stage != "done"] or sessions
    return max(open_, key=lambda s: (s.last_activity or s.opened_at or "", s.session_id))


def status_of(inst: Instance, connected: bool, bus: BusHealth | None = None) -> dict[str, Any]:
    session = current_session(inst)
    status: dict[str, Any] = {
        "role": inst.role,
        "identity": inst.identity,
        "broker": "connected" if connected else "offline",
        "outbox": inst.ledger.outbox_length(),
        "stage": session.stage if session else None,
        "session_id": session.session_id if session else None,
    }
    if bus is not None:
        status["bus"] = bus.as_status()
        if bus.state == "failing":
            status["broker"] = "offline"  # whatever the last connection said: nothing is sent or read now
    if inst.role == "coach":
        status["students"] = sum(1 for p in inst.config.peers.values() if p.role == "student")
    return status
