"""The dashboard as plain text for a terminal: blockers first, then one line per student.

Readable at 80 columns; long reasons fold onto the next line rather than
widening the table.

Names, reasons and topics came over the wire. Each reaches rich as a ``Text``
made by ``one_line`` (``_shown``): rich would read a plain string as markup
(``[link=…]``, ``:emoji:``) and pass an escape sequence through to the terminal.
"""

from __future__ import annotations

import io
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..core.display import one_line

KIND_LABELS = {
    "unacknowledged": "not acked",
    "repeated_revise": "revise x2+",
    "evidence_unanswered": "evidence",
    "stalled": "stalled",
    "quarantined": "quarantine",
}


def render_dashboard(data: dict[str, Any], width: int = 80, max_blockers: int = 30) -> str:
    """``compute_dashboard``'s result as text no wider than ``width`` columns.

    Only the ``max_blockers`` oldest blockers are listed (a line says how many
    more there are); every student gets a line.
    """
    out = io.StringIO()
    console = Console(file=out, width=width, color_system=None, force_terminal=False, highlight=False)
    cohort = data["cohort"]
    console.print(_shown(f"colearner dashboard · coach {data['coach']} · {data['generated_at']}"), overflow="fold")
    median = cohort["median_time_to_pass_s"]
    console.print(
        f"{cohort['students']} student{_s(cohort['students'])} · {cohort['open_sessions']} open session{_s(cohort['open_sessions'])}"
        f" · completion {_percent(cohort['completion_rate'])}"
        f" · median time to pass {duration(median) if median is not None else '—'}",
        overflow="fold",
    )
    console.print(_shown("stages: " + " · ".join(f"{stage} {n}" for stage, n in cohort["per_stage"].items())), overflow="fold")
    if cohort["quarantined"]:
        console.print(
            f"quarantine: {cohort['quarantined']} message{_s(cohort['quarantined'])}"
            + (f" ({cohort['quarantined_unattributed']} naming no known student)" if cohort["quarantined_unattributed"] else ""),
            overflow="fold",
        )

    blockers = data["blockers"]
    console.print()
    if blockers:
        table = Table(
            title=f"BLOCKERS ({len(blockers)}, oldest first)", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False
        )
        table.add_column("Age", no_wrap=True, justify="right")
        table.add_column("Student", no_wrap=True, max_width=16, overflow="ellipsis")
        table.add_column("Kind", no_wrap=True)
        table.add_column("Reason", overflow="fold", ratio=1)
        for b in blockers[:max_blockers]:
            table.add_row(
                duration(b["age_s"]), _shown(b["student"] or "—"), _shown(KIND_LABELS.get(b["kind"], b["kind"])), _shown(b["reason"])
            )
        console.print(table)
        if len(blockers) > max_blockers:
            console.print(f"… and {len(blockers) - max_blockers} more: see --json or --html FILE", overflow="fold")
    else:
        console.print("No blockers.")

    console.print()
    table = Table(title="STUDENTS", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    table.add_column("Student", no_wrap=True, max_width=18, overflow="ellipsis")
    table.add_column("Stage", no_wrap=True)
    table.add_column("Passed", no_wrap=True, justify="right")
    table.add_column("Rate", no_wrap=True, justify="right")
    table.add_column("Rev", no_wrap=True, justify="right")
    table.add_column("Idle", no_wrap=True, justify="right")
    table.add_column("Blk", no_wrap=True, justify="right")
    table.add_column("Conf", no_wrap=True, justify="right")
    off_roster = False
    for row in sorted(data["students"], key=student_order):
        name = one_line(row["student"])
        if not row["on_roster"]:
            name += "*"
            off_roster = True
        counts = row["counts"]
        table.add_row(
            Text(name),
            _shown(row["stage"]),
            f"{counts['passed']}/{counts['assigned']}",
            _percent(row["completion_rate"]),
            str(counts["revise"]),
            duration(row["idle_seconds"]) if row["idle_seconds"] is not None else "—",
            str(len(row["blockers"])) if row["blockers"] else "",
            _confidence(row),
        )
    console.print(table)
    if off_roster:
        console.print("* no longer on the roster; history kept")
    text = out.getvalue()
    return "\n".join(line.rstrip() for line in text.splitlines()).strip("\n") + "\n"


def duration(seconds: float) -> str:
    """A short age: 45s, 12m, 5h07m, 26h, 3d4h."""
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 48 * 3600:
        return f"{s // 3600}h" + (f"{s % 3600 // 60:02d}m" if s < 10 * 3600 else "")
    return f"{s // 86400}d{s % 86400 // 3600}h"


def student_order(row: dict[str, Any]) -> tuple[Any, ...]:
    """Blocked students first, longest blocked first; then by name."""
    oldest = max((b["age_s"] for b in row["blockers"]), default=-1.0)
    return (0 if row["blockers"] else 1, -oldest, row["student"])


def _confidence(row: dict[str, Any]) -> str:
    """Mean confidence over topics, with the direction of the latest moves."""
    values = row["confidence"]
    if not values:
        return "—"
    mean = sum(values.values()) / len(values)
    moves = sum(t[-1] - t[-2] for t in row["confidence_trend"].values() if len(t) >= 2)
    arrow = "↑" if moves > 1e-9 else "↓" if moves < -1e-9 else "→"
    return f"{mean:.2f}{arrow}"


def _shown(value: object) -> Text:
    """Wire text as a table cell or a line: characters shown, never read as markup."""
    return Text(one_line(value))


def _percent(rate: float) -> str:
    return f"{rate * 100:.0f}%"


def _s(n: int) -> str:
    return "" if n == 1 else "s"
