"""Replaying one session from the ledger: its lifecycle and every event, in order.

Each instance's ledger holds events in the order *it* learned of them, which
differs between coach and student (events arrive from several topics). The
replay orders them by ``(ts, sender, seq)`` instead, with ``ts`` compared as a
time rather than as text, so a coach and a student replaying one session print
the same order for every event both hold.

Shape of ``session_history``::

    session_id, student, coach, stage, opened_at, last_activity
    lifecycle[]   {from, to, reason, ts, actor, sender, seq, event_id, applied}
                  in the same order; ``applied`` is false for a move that was
                  illegal from the stage it met
    events[]      {ts, sender, actor, seq, event_type, event_id, exercise_id, summary}
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..protocol.event_types import PAYLOADS, PayloadHandlers
from ..protocol.events import (
    AssessmentFeedback,
    EnvelopeBase,
    EvidenceRequest,
    EvidenceSnapshot,
    ExerciseAcknowledged,
    ExerciseAssigned,
    ExerciseResponse,
    LearningPlan,
    ProgressUpdate,
    ResyncRequest,
    ScopePolicy,
    SessionLifecycle,
    payload_dict,
    replay_key,
)

if TYPE_CHECKING:
    from ..instance import Instance

SUMMARY_LIMIT = 160

# One line per type, from the payload as JSON (the ledger's rows are read as JSON).
Summary = Callable[[Mapping[str, Any], Mapping[str, str]], str]
SUMMARIES: PayloadHandlers[Summary] = PayloadHandlers("history summary")


def session_history(inst: Instance, session_id: str) -> dict[str, Any]:
    """The session's replay; an unknown id raises ``NotFound`` (an unambiguous prefix is enough)."""
    from ..actions.rules import find_session

    inst.refresh()
    session = find_session(inst, session_id)
    envelopes = [json.loads(row.raw) for row in inst.ledger.session_events(session.session_id)]
    envelopes.sort(key=replay_key)
    topics = {
        e["payload"].get("exercise_id") or e["event_id"]: e["payload"].get("topic", "")
        for e in envelopes
        if e["event_type"] == "exercise_assigned"
    }
    transitions = sorted(session.transitions, key=lambda t: t.sort_key())
    return {
        "session_id": session.session_id,
        "student": session.student,
        "coach": session.coach,
        "stage": session.stage,
        "opened_at": session.opened_at,
        "last_activity": session.last_activity,
        "lifecycle": [{**t.to_json(), "seq": t.seq} for t in transitions],
        "events": [
            {
                "ts": e["ts"],
                "sender": e["sender"],
                "actor": e["actor"],
                "seq": e["seq"],
                "event_type": e["event_type"],
                "event_id": e["event_id"],
                "exercise_id": e["payload"].get("exercise_id"),
                "summary": summarize(e, topics),
            }
            for e in envelopes
        ],
    }


def summarize(event: EnvelopeBase | Mapping[str, Any], topics: Mapping[str, str] | None = None) -> str:
    """One line saying what ``event`` did; ``topics`` names exercises by id when known."""
    if isinstance(event, EnvelopeBase):
        event_type, payload = event.event_type, payload_dict(event.payload)
        sender = event.sender
    else:
        event_type, payload, sender = event["event_type"], event.get("payload") or {}, event.get("sender", "")
    declared = PAYLOADS.get(event_type)
    describe = SUMMARIES.of(declared) if declared else None  # every declared type has one (a test checks)
    text = describe(payload, topics or {}) if describe else f"{event_type} from {sender}"
    return _one_line(text, SUMMARY_LIMIT)


# ---------------------------------------------------------------- one per event type


def _exercise(payload: Mapping[str, Any], topics: Mapping[str, str]) -> str:
    exercise_id = str(payload.get("exercise_id") or "")
    topic = topics.get(exercise_id)
    return f"'{topic}'" if topic else f"exercise {exercise_id[:8] or '?'}"


@SUMMARIES.handles(LearningPlan)
def _plan(p: Mapping[str, Any], topics: Mapping[str, str]) -> str:
    steps = p.get("plan", [])
    goals = p.get("goals", [])
    path = " → ".join(s.get("topic", s.get("id", "?")) for s in steps)
    goal = f"; goal: {goals[0]}" + (f" (+{len(goals) - 1})" if len(goals) > 1 else "") if goals else ""
    return f"plan of {len(steps)} step{_s(len(steps))}: {path}{goal}"


@SUMMARIES.handles(ExerciseAssigned)
def _assigned(p: Mapping[str, Any], topics: Mapping[str, str]) -> str:
    anchor = p.get("anchor")
    where = ""
    if anchor:
        lines = f"{anchor['start_line']}" if anchor["start_line"] == anchor["end_line"] else f"{anchor['start_line']}-{anchor['end_line']}"
        where = f" at {anchor['path']}:{lines}"
    return f"assigned '{p.get('topic', '?')}'{where}: {p.get('exercise', '')}"


@SUMMARIES.handles(ExerciseAcknowledged)
def _acknowledged(p: Mapping[str, Any], topics: Mapping[str, str]) -> str:
    return f"acknowledged {_exercise(p, topics)}"


@SUMMARIES.handles(ExerciseResponse)
def _response(p: Mapping[str, Any], topics: Mapping[str, str]) -> str:
    evidence = p.get("evidence")
    extra = ""
    if evidence:
        extra = f" [evidence: {evidence.get('files', 0)} file{_s(evidence.get('files', 0))}"
        extra += f", {evidence['withheld']} withheld]" if evidence.get("withheld") else "]"
    return f"responded to {_exercise(p, topics)}{extra}: {p.get('response', '')}"


@SUMMARIES.handles(EvidenceSnapshot)
def _snapshot(p: Mapping[str, Any], topics: Mapping[str, str]) -> str:
    files = len(p.get("files", []))
    withheld = f", {p['withheld']} withheld" if p.get("withheld") else ""
    commit = str(p.get("commit") or "")[:8] or "no commit"
    dirty = ", dirty" if p.get("dirty") else ""
    answers = " (answering a request)" if p.get("request_id") else ""
    return f"evidence for {_exercise(p, topics)}: {files} file{_s(files)}{withheld} at {commit} on {p.get('branch') or '?'}{dirty}{answers}"


@SUMMARIES.handles(EvidenceRequest)
def _request(p: Mapping[str, Any], topics: Mapping[str, str]) -> str:
    return f"requested evidence for {_exercise(p, topics)}: {', '.join(p.get('paths', []))} — {p.get('reason', '')}"


@SUMMARIES.handles(AssessmentFeedback)
def _feedback(p: Mapping[str, Any], topics: Mapping[str, str]) -> str:
    n = len(p.get("mistakes", []))
    on = f" on {_exercise(p, topics)}" if p.get("exercise_id") else ""
    delta = float(p.get("confidence_delta", 0.0))
    return f"feedback {p.get('grade', '?')}{on}: {n} mistake{_s(n)}, Δ{delta:+g}; next: {p.get('next_step', '')}"


@SUMMARIES.handles(ProgressUpdate)
def _progress(p: Mapping[str, Any], topics: Mapping[str, str]) -> str:
    parts = []
    if p.get("completed"):
        parts.append("completed " + ", ".join(p["completed"]))
    if p.get("confidence"):
        parts.append("confidence " + ", ".join(f"{t}={v:g}" for t, v in p["confidence"].items()))
    return "progress: " + ("; ".join(parts) or "nothing new")


@SUMMARIES.handles(ScopePolicy)
def _scope(p: Mapping[str, Any], topics: Mapping[str, str]) -> str:
    allow = ", ".join(p.get("allow", [])) or "nothing"
    deny = f", deny {', '.join(p['deny'])}" if p.get("deny") else ""
    return f"scope v{p.get('version', 1)}: allow {allow}{deny}, share {p.get('share', 'hashes')}"


@SUMMARIES.handles(SessionLifecycle)
def _lifecycle(p: Mapping[str, Any], topics: Mapping[str, str]) -> str:
    reason = f" ({p['reason']})" if p.get("reason") else ""
    if p.get("from") is None:
        return f"session opened in {p.get('to')}{reason}"
    return f"stage {p['from']} → {p.get('to')}{reason}"


@SUMMARIES.handles(ResyncRequest)
def _resync(p: Mapping[str, Any], topics: Mapping[str, str]) -> str:
    upto = f" to {p['to_seq']}" if p.get("to_seq") else ""
    return f"asked {p.get('sender')} to resend from seq {p.get('from_seq')}{upto}"


def _s(n: int) -> str:
    return "" if n == 1 else "s"


def _one_line(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
