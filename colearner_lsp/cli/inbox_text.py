"""The student's inbox as text for the terminal."""

from __future__ import annotations

from typing import Any


def _anchor(anchor: dict[str, Any] | None) -> str:
    if not anchor:
        return "(no anchor)"
    return f"{anchor['path']}:{anchor['start_line']}-{anchor['end_line']}"


def render_inbox(data: dict[str, Any]) -> str:
    lines: list[str] = []
    sessions = data.get("sessions", [])
    if not sessions:
        return f"{data.get('identity')}: nothing yet (no session has reached this instance; try 'colearner sync')"
    for s in sessions:
        lines.append(f"session {s['session_id']}  student {s['student']}  coach {s.get('coach') or '?'}  stage {s['stage']}")
        plan = s.get("plan", {})
        for goal in plan.get("goals", []):
            lines.append(f"  goal: {goal}")
        for step in plan.get("steps", []):
            mark = {"done": "x", "active": ">"}.get(step["status"], " ")
            lines.append(f"  [{mark}] {step['id']}: {step['topic']}")
        if s.get("scope"):
            sc = s["scope"]
            lines.append(f"  scope v{sc['version']}: allow {', '.join(sc.get('allow', [])) or 'nothing'}; share {sc.get('share')}")
        for ex in s.get("exercises", []):
            lines.append(f"  exercise {ex['exercise_id']}  [{ex['state']}]  {ex['topic']}  at {_anchor(ex.get('anchor'))}")
            lines.append(f"    {ex['exercise']}")
            lines.append(f"    expected: {ex['expected']}")
            for test in ex.get("tests", []):
                lines.append(f"    test: {test}")
            for req in ex.get("evidence_requests", []):
                if not req.get("answered_by"):
                    lines.append(f"    evidence requested ({req['event_id']}): {', '.join(req['paths'])} — {req['reason']}")
            for fb in ex.get("feedback", []):
                lines.append(f"    feedback: {fb['grade']} (confidence {fb['confidence_delta']:+.2f}); next: {fb['next_step']}")
                for m in fb.get("mistakes", []):
                    where = f" [{m['path']}:{m.get('start_line')}-{m.get('end_line')}]" if m.get("path") else ""
                    lines.append(f"      - {m['text']}{where}")
        if s.get("confidence"):
            lines.append("  confidence: " + ", ".join(f"{t} {v:.2f}" for t, v in s["confidence"].items()))
    return "\n".join(lines)
