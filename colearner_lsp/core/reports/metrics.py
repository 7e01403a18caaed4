"""The coach's dashboard: who is progressing, who is stuck and why.

``compute_dashboard`` is the one place these figures are computed; the terminal
table, ``--json``, the HTML page and the ``colearner/dashboard`` LSP request all
render its result. It reads the folded ``State`` only (plus the roster and the
ledger's quarantine), so it is as pure as the fold.

Shape of the result (every key is always present; times are RFC 3339 UTC
strings as they appear in events, durations are seconds as floats)::

    version              1
    generated_at         when the figures were computed (``now``)
    coach                this instance's identity
    thresholds           {stall_after_hours, unacknowledged_after_hours}
    students[]           one row per student, sorted by name:
      student            identity
      on_roster          False for a student taken off the roster who still has history
      session_id         the row's session (see below), null when none
      stage              that session's stage, "none" when the student has no session
      sessions[]         every session of the student: {session_id, stage, opened_at, last_activity}
      counts             over ALL the student's sessions:
        assigned         exercises assigned
        acknowledged     exercises acknowledged (or answered, which implies it)
        responded        exercises with at least one response
        passed           exercises graded pass
        revise           exercises whose latest grade is revise (in revision now)
      completion_rate    passed / assigned, 0.0 when nothing is assigned
      confidence         {topic: latest value}
      confidence_trend   {topic: [values, oldest first]} (student ratings and feedback moves)
      confidence_deltas  {topic: [feedback confidence_delta, oldest first]}
      last_activity      newest event time over all sessions, null when none
      idle_seconds       now - last_activity, null when none
      time_to_pass_s     {exercise_id: passed_at - assigned_at}, passed exercises only
      blockers[]         this student's blockers (shape below), oldest first
      quarantined        messages from or about this student in the quarantine
    cohort:
      students           rows
      on_roster          rows still on the roster
      sessions           sessions
      open_sessions      sessions not done
      completion_rate    passed / assigned over every student, 0.0 when nothing is assigned
      median_time_to_pass_s   median of every time to pass, null when nothing passed
      per_stage          {none, init, plan, practice, review, done: number of rows}
      confidence         {topic: mean of the students' latest values}
      blocked_students   rows with at least one blocker
      quarantined        messages in the quarantine
      quarantined_unattributed  of those, the ones naming no known student
    blockers[]           every blocker, oldest first:
      kind               unacknowledged | repeated_revise | evidence_unanswered | stalled | quarantined
      reason             one sentence for a person
      since              when the blocking situation began
      age_s              now - since
      student, session_id, exercise_id   what it is about (null when not applicable)

A student can have several sessions. The row shows the student's latest open
session (by opening time), or the latest session when all are done; counts,
confidence, times and blockers cover every session, so nothing a student did is
hidden by a newer session. Students on the roster with no event yet get a row
with stage "none". A student taken off the roster keeps a row, flagged
``on_roster: false``, while the ledger holds their history; such a row has no
blockers (the coach let them go, their sessions would show as stalled forever),
though its ``quarantined`` count still says what they sent since.

Blockers, each with the moment it began, are found by ``blockers`` (see its
docstring for what each kind means).
"""

from __future__ import annotations

import statistics
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..config import AgentConfig
from ..model.lifecycle import STAGES
from ..model.state import SessionState, State
from .blockers import _blocker_key, _quarantine_blocker, _session_blockers
from .dashboard_clock import _Clock, _utc

if TYPE_CHECKING:
    from ..instance import Instance

DASHBOARD_VERSION = 1
NO_STAGE = "none"
STAGE_ORDER: tuple[str, ...] = (NO_STAGE, *STAGES)


def compute_dashboard(
    state: State,
    config: AgentConfig,
    quarantined: list[dict[str, Any]],
    now: datetime | None = None,
) -> dict[str, Any]:
    """Per-student and cohort figures, and every blocker, from the coach's state.

    ``quarantined`` is ``Ledger.quarantined()``; ``now`` fixes the clock (tests,
    replays). See the module docstring for the shape.
    """
    now = _utc(now or datetime.now(UTC))
    clock = _Clock(now)
    roster = {name for name, peer in config.peers.items() if peer.role == "student"}
    if config.role == "student":
        roster.add(config.identity)  # a student's own view: its one row is on its own roster

    sessions_of: dict[str, list[SessionState]] = {name: [] for name in roster}
    for session in state.sessions.values():
        sessions_of.setdefault(session.student, []).append(session)

    quarantine_of, unattributed = _attribute_quarantine(quarantined, set(sessions_of))

    rows = [
        _student_row(
            name,
            name in roster,
            sessions_of[name],
            quarantine_of.get(name, []),
            config,
            clock,
        )
        for name in sorted(sessions_of)
    ]
    blockers = sorted((b for row in rows for b in row["blockers"]), key=_blocker_key)
    return {
        "version": DASHBOARD_VERSION,
        "generated_at": _format_ts(now),
        "coach": config.identity,
        "thresholds": {
            "stall_after_hours": config.stall_after_hours,
            "unacknowledged_after_hours": config.unacknowledged_after_hours,
        },
        "students": rows,
        "cohort": _cohort(rows, len(quarantined), unattributed),
        "blockers": blockers,
    }


def dashboard_for(inst: Instance, now: datetime | None = None) -> dict[str, Any]:
    """``compute_dashboard`` for an opened instance, after folding what is new in its ledger."""
    inst.refresh()
    return compute_dashboard(inst.state, inst.config, inst.ledger.quarantined(), now)


# ---------------------------------------------------------------- one student


def _student_row(
    name: str,
    on_roster: bool,
    sessions: list[SessionState],
    quarantine: list[dict[str, Any]],
    config: AgentConfig,
    clock: _Clock,
) -> dict[str, Any]:
    sessions = sorted(sessions, key=lambda s: (clock.parse(s.opened_at), s.session_id))
    shown = _shown_session(sessions)
    exercises = [ex for s in sessions for ex in s.exercises()]

    counts = {
        "assigned": len(exercises),
        "acknowledged": sum(1 for ex in exercises if ex.acknowledged_at or ex.responses),
        "responded": sum(1 for ex in exercises if ex.responses),
        "passed": sum(1 for ex in exercises if ex.state == "passed"),
        "revise": sum(1 for ex in exercises if ex.state == "revise"),
    }
    time_to_pass = {
        ex.exercise_id: round(max(0.0, clock.seconds(ex.assigned_at, ex.passed_at)), 3)
        for ex in exercises
        if ex.state == "passed" and ex.passed_at
    }

    last_activity = max(
        (s.last_activity for s in sessions if s.last_activity),
        key=clock.parse,
        default=None,
    )
    blockers: list[dict[str, Any]] = []
    if on_roster:  # the coach let an off-roster student go: their history shows, they block nothing
        for session in sessions:
            blockers += _session_blockers(session, config, clock)
        if quarantine:
            blockers.append(_quarantine_blocker(name, quarantine, clock))
        blockers.sort(key=_blocker_key)

    confidence, trend, deltas = _confidence(sessions, clock)
    return {
        "student": name,
        "on_roster": on_roster,
        "session_id": shown.session_id if shown else None,
        "stage": shown.stage if shown else NO_STAGE,
        "sessions": [
            {
                "session_id": s.session_id,
                "stage": s.stage,
                "opened_at": s.opened_at,
                "last_activity": s.last_activity,
            }
            for s in sessions
        ],
        "counts": counts,
        "completion_rate": _rate(counts["passed"], counts["assigned"]),
        "confidence": confidence,
        "confidence_trend": trend,
        "confidence_deltas": deltas,
        "last_activity": last_activity,
        "idle_seconds": round(clock.age(last_activity), 3) if last_activity else None,
        "time_to_pass_s": time_to_pass,
        "blockers": blockers,
        "quarantined": len(quarantine),
    }


def _shown_session(sessions: list[SessionState]) -> SessionState | None:
    """The latest open session, else the latest one (``sessions`` oldest first)."""
    open_ = [s for s in sessions if s.stage != "done"]
    if open_:
        return open_[-1]
    return sessions[-1] if sessions else None


def _confidence(sessions: list[SessionState], clock: _Clock) -> tuple[dict[str, float], dict[str, list[float]], dict[str, list[float]]]:
    """Latest value per topic, and its history in time order, over every session.

    Later sessions' values win; within a session the fold's value is the latest.
    """
    confidence: dict[str, float] = {}
    for session in sessions:  # oldest first
        confidence.update(session.confidence)
    entries = [e for s in sessions for e in s.confidence_trend]
    entries.sort(key=lambda e: clock.parse(e.ts))  # stable: arrival order breaks ties
    trend: dict[str, list[float]] = {}
    deltas: dict[str, list[float]] = {}
    for entry in entries:
        trend.setdefault(entry.topic, []).append(entry.value)
        if entry.delta is not None:
            deltas.setdefault(entry.topic, []).append(entry.delta)
    return confidence, trend, deltas


# ---------------------------------------------------------------- quarantine


def _attribute_quarantine(rows: list[dict[str, Any]], students: set[str]) -> tuple[dict[str, list[dict[str, Any]]], int]:
    """Quarantined messages per known student (by their ``student`` or ``sender`` field).

    Unknown names are only counted: a forged message must not add a row.
    """
    per: dict[str, list[dict[str, Any]]] = {}
    unattributed = 0
    for row in rows:
        owner = row.get("student") if row.get("student") in students else row.get("sender")
        if owner in students:
            per.setdefault(owner, []).append(row)
        else:
            unattributed += 1
    return per, unattributed


# ---------------------------------------------------------------- cohort


def _cohort(rows: list[dict[str, Any]], quarantined: int, unattributed: int) -> dict[str, Any]:
    per_stage = {stage: 0 for stage in STAGE_ORDER}
    for row in rows:
        per_stage[row["stage"]] = per_stage.get(row["stage"], 0) + 1
    passes = [t for row in rows for t in row["time_to_pass_s"].values()]
    values: dict[str, list[float]] = {}
    for row in rows:
        for topic, value in row["confidence"].items():
            values.setdefault(topic, []).append(value)
    sessions = [s for row in rows for s in row["sessions"]]
    return {
        "students": len(rows),
        "on_roster": sum(1 for row in rows if row["on_roster"]),
        "sessions": len(sessions),
        "open_sessions": sum(1 for s in sessions if s["stage"] != "done"),
        "completion_rate": _rate(
            sum(row["counts"]["passed"] for row in rows),
            sum(row["counts"]["assigned"] for row in rows),
        ),
        "median_time_to_pass_s": round(statistics.median(passes), 3) if passes else None,
        "per_stage": per_stage,
        "confidence": {t: round(statistics.fmean(v), 4) for t, v in sorted(values.items())},
        "blocked_students": sum(1 for row in rows if row["blockers"]),
        "quarantined": quarantined,
        "quarantined_unattributed": unattributed,
    }


# ---------------------------------------------------------------- small pieces


def _format_ts(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0
