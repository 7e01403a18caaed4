"""A session's replay as plain text: header, lifecycle, then one line per event.

Senders, reasons and event summaries came over the wire: each is shown by
``one_line``, so one event is one line and no escape sequence reaches the
terminal.
"""

from __future__ import annotations

from typing import Any

from ..core.display import one_line


def render_history(data: dict[str, Any]) -> str:
    """``session_history``'s result as lines a person reads top to bottom."""
    lines = [
        f"session {one_line(data['session_id'])}",
        f"student {one_line(data['student'])} · coach {one_line(data['coach'] or '—')} · stage {one_line(data['stage'])}",
        f"opened {one_line(data['opened_at'] or '—')} · last activity {one_line(data['last_activity'] or '—')}",
        "",
        "lifecycle:",
    ]
    if not data["lifecycle"]:
        lines.append("  (no transition recorded)")
    senders = [one_line(t["sender"]) for t in data["lifecycle"]]
    pad = max((len(s) for s in senders), default=0)
    for t, sender in zip(data["lifecycle"], senders):
        move = f"{one_line(t['from'])} → {one_line(t['to'])}" if t["from"] else f"opened in {one_line(t['to'])}"
        refused = "  [refused: illegal from the stage it met]" if not t["applied"] else ""
        reason = f" ({one_line(t['reason'])})" if t["reason"] else ""
        lines.append(f"  {_short_ts(t['ts'])}  {sender:<{pad}}  {move}{reason}{refused}")
    lines += ["", f"events ({len(data['events'])}):"]
    who = [one_line(f"{e['sender']}#{e['seq']}") for e in data["events"]]
    pad = max((len(w) for w in who), default=0)
    for e, w in zip(data["events"], who):
        lines.append(f"  {_short_ts(e['ts'])}  {w:<{pad}}  {one_line(e['summary'])}")
    return "\n".join(lines) + "\n"


def _short_ts(ts: str) -> str:
    """``2026-01-31T12:00:00.123456Z`` → ``2026-01-31 12:00:00Z``: seconds are enough to read."""
    date, _, time = ts.partition("T")
    clock = time.rstrip("Z").split(".")[0].split("+")[0]
    return one_line(f"{date} {clock}Z")
