"""A session's replay as plain text: header, lifecycle, then one line per event."""

from __future__ import annotations

from typing import Any


def render_history(data: dict[str, Any]) -> str:
    """``session_history``'s result as lines a person reads top to bottom."""
    lines = [
        f"session {data['session_id']}",
        f"student {data['student']} · coach {data['coach'] or '—'} · stage {data['stage']}",
        f"opened {data['opened_at'] or '—'} · last activity {data['last_activity'] or '—'}",
        "",
        "lifecycle:",
    ]
    if not data["lifecycle"]:
        lines.append("  (no transition recorded)")
    pad = max((len(t["sender"]) for t in data["lifecycle"]), default=0)
    for t in data["lifecycle"]:
        move = f"{t['from']} → {t['to']}" if t["from"] else f"opened in {t['to']}"
        refused = "  [refused: illegal from the stage it met]" if not t["applied"] else ""
        reason = f" ({t['reason']})" if t["reason"] else ""
        lines.append(f"  {_short_ts(t['ts'])}  {t['sender']:<{pad}}  {move}{reason}{refused}")
    lines += ["", f"events ({len(data['events'])}):"]
    who = [f"{e['sender']}#{e['seq']}" for e in data["events"]]
    pad = max((len(w) for w in who), default=0)
    for e, w in zip(data["events"], who):
        lines.append(f"  {_short_ts(e['ts'])}  {w:<{pad}}  {e['summary']}")
    return "\n".join(lines) + "\n"


def _short_ts(ts: str) -> str:
    """``2026-01-31T12:00:00.123456Z`` → ``2026-01-31 12:00:00Z``: seconds are enough to read."""
    date, _, time = ts.partition("T")
    clock = time.rstrip("Z").split(".")[0].split("+")[0]
    return f"{date} {clock}Z"
