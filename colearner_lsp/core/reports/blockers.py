"""Blockers: what keeps a student from moving on, each with the moment it began.

- ``unacknowledged``: an exercise still not acknowledged ``unacknowledged_after_hours``
  after it was assigned (since: the assignment);
- ``repeated_revise``: an exercise graded ``revise`` two or more times and not
  passed yet (since: the second revise);
- ``evidence_unanswered``: an evidence request with no snapshot answering it, on
  an exercise not passed yet (since: the request);
- ``stalled``: a session not done with no event for ``stall_after_hours``
  (since: its last event);
- ``quarantined``: messages from or about the student were refused (bad
  signature, schema…) and kept in the quarantine (since: the first of them).

``metrics.compute_dashboard`` puts them on each student's row and in one list
for the whole cohort (their shape is in the ``metrics`` docstring). They live
apart from the figures because they are the coach's rules of thumb, with
thresholds from agent.yaml: they change for other reasons than counts and
rates do.
"""

from __future__ import annotations

from typing import Any

from ..config import AgentConfig
from ..model.state import ExerciseState, SessionState
from ..protocol.events import parse_ts
from .dashboard_clock import _Clock

BLOCKER_KINDS: tuple[str, ...] = (
    "unacknowledged",
    "repeated_revise",
    "evidence_unanswered",
    "stalled",
    "quarantined",
)
REPEATED_REVISE = 2  # this many revise grades on one exercise make it a blocker


def _session_blockers(session: SessionState, config: AgentConfig, clock: _Clock) -> list[dict[str, Any]]:
    if session.stage == "done":
        return []  # a finished session blocks nobody, whatever is left in it
    found: list[dict[str, Any]] = []
    unack_after = config.unacknowledged_after_hours * 3600
    for ex in session.exercises():
        if ex.state == "passed":
            continue
        if ex.state == "assigned" and clock.age(ex.assigned_at) >= unack_after:
            found.append(
                _blocker(
                    "unacknowledged",
                    f"exercise {_label(ex)} not acknowledged for {_hours(clock.age(ex.assigned_at))}",
                    ex.assigned_at,
                    session,
                    ex,
                    clock,
                )
            )
        revises = [f for f in ex.feedback if f.grade == "revise"]
        if len(revises) >= REPEATED_REVISE:
            since = sorted((f.ts for f in revises), key=clock.parse)[REPEATED_REVISE - 1]
            found.append(
                _blocker(
                    "repeated_revise",
                    f"exercise {_label(ex)} graded revise {len(revises)} times",
                    since,
                    session,
                    ex,
                    clock,
                )
            )
        for request in ex.open_requests:
            paths = ", ".join(request.paths)
            found.append(
                _blocker(
                    "evidence_unanswered",
                    f"evidence for {_label(ex)} ({paths}) requested, not sent: {_one_line(request.reason, 60)}",
                    request.ts,
                    session,
                    ex,
                    clock,
                )
            )
    if session.last_activity and clock.age(session.last_activity) >= config.stall_after_hours * 3600:
        found.append(
            _blocker(
                "stalled",
                f"session in {session.stage} with no activity for {_hours(clock.age(session.last_activity))}",
                session.last_activity,
                session,
                None,
                clock,
            )
        )
    return found


def _quarantine_blocker(name: str, rows: list[dict[str, Any]], clock: _Clock) -> dict[str, Any]:
    rows = sorted(rows, key=lambda r: (clock.parse(r["received_at"]), r.get("id") or 0))
    n = len(rows)
    reason = f"{n} message{'s' if n != 1 else ''} refused and quarantined; latest: {_one_line(rows[-1]['reason'], 80)}"
    if any(str(r["reason"]).startswith(("forked writer", "the stream ")) and "forked" in str(r["reason"]) for r in rows):
        # two events signed with the student's key at one place: nothing more of theirs is applied
        reason = (
            "FORKED: two different events signed with their key at one place; nothing more of theirs is applied (see 'colearner doctor'). "
            + reason
        )
    return {
        "kind": "quarantined",
        "reason": reason,
        "since": rows[0]["received_at"],
        "age_s": round(clock.age(rows[0]["received_at"]), 3),
        "student": name,
        "session_id": None,
        "exercise_id": None,
    }


def _blocker(
    kind: str,
    reason: str,
    since: str,
    session: SessionState,
    ex: ExerciseState | None,
    clock: _Clock,
) -> dict[str, Any]:
    return {
        "kind": kind,
        "reason": reason,
        "since": since,
        "age_s": round(clock.age(since), 3),
        "student": session.student,
        "session_id": session.session_id,
        "exercise_id": ex.exercise_id if ex else None,
    }


def _blocker_key(b: dict[str, Any]) -> tuple[Any, ...]:
    # Oldest first by the exact time, not by the rounded age: two blockers less
    # than a millisecond apart would otherwise tie and be ordered by name.
    return (parse_ts(b["since"]), b["student"] or "", BLOCKER_KINDS.index(b["kind"]), b["exercise_id"] or "")


# ---------------------------------------------------------------- wording


def _label(ex: ExerciseState) -> str:
    return f"'{_one_line(ex.topic, 40)}' ({ex.exercise_id[:8]})"


def _hours(seconds: float) -> str:
    hours = seconds / 3600
    return f"{hours / 24:.1f} days" if hours >= 48 else f"{hours:.0f} h"


def _one_line(text: str, limit: int) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
