"""What both roles read about their sessions: ``history`` (one session replayed)
and ``dashboard`` (the coach's cohort view)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from .exchange import exchange, open_instance


def history(args: argparse.Namespace) -> int:
    from ...core.reports.history import session_history
    from ...views.history_text import render_history

    inst = open_instance()
    exchange(inst, args)
    data = session_history(inst, args.session)
    print(json.dumps(data, indent=2) if args.json else render_history(data))
    return 0


def dashboard(args: argparse.Namespace) -> int:
    from ...core import actions
    from ...core.reports.metrics import dashboard_for
    from ...views.dashboard_html import render_dashboard_html
    from ...views.dashboard_text import render_dashboard

    inst = open_instance()
    actions.require_role(inst, "coach", "dashboard")
    exchange(inst, args)
    data = dashboard_for(inst)
    if args.json:
        print(json.dumps(data, indent=2))
    elif args.html:
        Path(args.html).write_text(render_dashboard_html(data), encoding="utf-8")
        print(f"dashboard written to {args.html}")
    else:
        print(render_dashboard(data))
    return 0
