"""The student's inbox as text for the terminal.

Nearly everything here came over the wire from the coach, so every value goes
through ``one_line`` (a field on a line) or ``_body`` (the exercise and what is
expected, which may have paragraphs): the terminal shows an escape sequence as
``␛[2J`` instead of clearing the screen.
"""

from __future__ import annotations

from typing import Any

from ..core.display import one_line, visible

BODY_INDENT = "    "


def _body(text: object) -> str:
    """Multi-line wire text under an exercise, every line indented like the first,
    so a line of it cannot pass for a line of the inbox itself."""
    return visible(text).replace("\n", "\n" + BODY_INDENT)


def _anchor(anchor: dict[str, Any] | None) -> str:
    if not anchor:
        return "(no anchor)"
    return one_line(f"{anchor['path']}:{anchor['start_line']}-{anchor['end_line']}")


def _list(items: list[Any]) -> str:
    return ", ".join(one_line(item) for item in items)


def render_inbox(data: dict[str, Any]) -> str:
    lines: list[str] = []
    sessions = data.get("sessions", [])
    if not sessions:
        return f"{one_line(data.get('identity'))}: nothing yet (no session has reached this instance; try 'colearner sync')"
    for s in sessions:
        lines.append(
            f"session {one_line(s['session_id'])}  student {one_line(s['student'])}  "
            f"coach {one_line(s.get('coach') or '?')}  stage {one_line(s['stage'])}"
        )
        plan = s.get("plan", {})
        for goal in plan.get("goals", []):
            lines.append(f"  goal: {one_line(goal)}")
        for step in plan.get("steps", []):
            mark = {"done": "x", "active": ">"}.get(step["status"], " ")
            lines.append(f"  [{mark}] {one_line(step['id'])}: {one_line(step['topic'])}")
        if s.get("scope"):
            sc = s["scope"]
            lines.append(
                f"  scope v{one_line(sc['version'])}: allow {_list(sc.get('allow', [])) or 'nothing'}; share {one_line(sc.get('share'))}"
            )
        for ex in s.get("exercises", []):
            lines.append(
                f"  exercise {one_line(ex['exercise_id'])}  [{one_line(ex['state'])}]  {one_line(ex['topic'])}  at {_anchor(ex.get('anchor'))}"
            )
            lines.append(BODY_INDENT + _body(ex["exercise"]))
            lines.append(f"{BODY_INDENT}expected: {_body(ex['expected'])}")
            for test in ex.get("tests", []):
                lines.append(f"{BODY_INDENT}test: {one_line(test)}")
            for req in ex.get("evidence_requests", []):
                if not req.get("answered_by"):
                    lines.append(
                        f"{BODY_INDENT}evidence requested ({one_line(req['event_id'])}): {_list(req['paths'])} — {one_line(req['reason'])}"
                    )
            for fb in ex.get("feedback", []):
                lines.append(
                    f"{BODY_INDENT}feedback: {one_line(fb['grade'])} (confidence {fb['confidence_delta']:+.2f}); next: {one_line(fb['next_step'])}"
                )
                for m in fb.get("mistakes", []):
                    where = f" [{one_line(m['path'])}:{m.get('start_line')}-{m.get('end_line')}]" if m.get("path") else ""
                    lines.append(f"      - {one_line(m['text'])}{where}")
        if s.get("confidence"):
            lines.append("  confidence: " + ", ".join(f"{one_line(t)} {v:.2f}" for t, v in s["confidence"].items()))
    return "\n".join(lines)
