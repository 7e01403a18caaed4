"""The dashboard as one self-contained HTML page.

No network at all: no external font, stylesheet, image or script (the page has
no script). Charts are inline SVG drawn here: students per stage, completion per
student, the cohort's confidence per topic. Every element a test or a person
looks for has an id: ``#summary``, ``#blockers``, ``#students``,
``#chart-stages``, ``#chart-completion``, ``#chart-confidence``.

Names, reasons, topics and times came over the wire. Every one goes through
``_h``: ``visible`` first (a bidi override would reorder the page's text, a
control character has no business in it), then ``html.escape``, so markup and
entities such as ``&#x202E;`` are shown as written, in text and attributes alike.
"""

from __future__ import annotations

from html import escape
from typing import Any

from ..core.display import one_line, visible
from .dashboard_text import KIND_LABELS, duration, student_order

STAGE_COLOURS = {
    "none": "#9aa0a6",
    "init": "#80868b",
    "plan": "#4285f4",
    "practice": "#f29900",
    "review": "#a142f4",
    "done": "#188038",
}
MAX_BARS = 60  # a chart of a big cohort shows the students who need attention most

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
margin:24px;color:#202124;background:#fff}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px}
.muted{color:#5f6368}
#summary{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0}
.card{border:1px solid #dadce0;border-radius:8px;padding:8px 14px;min-width:120px}
.card b{display:block;font-size:20px}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #e8eaed;vertical-align:top}
th{background:#f1f3f4;position:sticky;top:0}
td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.blocked td:first-child{border-left:4px solid #d93025}
.kind{font-weight:600;color:#d93025;white-space:nowrap}
.off{color:#d93025;font-size:12px}
.stage{display:inline-block;padding:0 6px;border-radius:4px;color:#fff;font-size:12px}
.charts{display:flex;flex-wrap:wrap;gap:20px;align-items:flex-start}
.chart{border:1px solid #dadce0;border-radius:8px;padding:8px;margin:0}
td.when{white-space:nowrap}
.chart h3{font-size:14px;margin:0 0 6px}
svg text{font:11px system-ui,sans-serif;fill:#202124}
"""


def render_dashboard_html(data: dict[str, Any]) -> str:
    """``compute_dashboard``'s result as a complete HTML document (a string)."""
    cohort = data["cohort"]
    median = cohort["median_time_to_pass_s"]
    cards = [
        ("students", str(cohort["students"])),
        ("open sessions", str(cohort["open_sessions"])),
        ("completion", _percent(cohort["completion_rate"])),
        ("median time to pass", duration(median) if median is not None else "—"),
        ("blocked students", str(cohort["blocked_students"])),
        ("quarantined messages", str(cohort["quarantined"])),
    ]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>colearner dashboard · {_h(one_line(data['coach']))}</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1>colearner dashboard · coach {_h(data['coach'])}</h1>",
        f'<div class="muted">generated {_h(data["generated_at"])} · stalled after '
        f"{data['thresholds']['stall_after_hours']:g} h · unacknowledged after "
        f"{data['thresholds']['unacknowledged_after_hours']:g} h</div>",
        '<div id="summary">',
        *(f'<div class="card"><b>{escape(v)}</b><span class="muted">{escape(k)}</span></div>' for k, v in cards),
        "</div>",
        _blockers_table(data["blockers"]),
        "<h2>Charts</h2>",
        '<div class="charts">',
        _chart("chart-stages", "Students per stage", stage_chart(cohort["per_stage"])),
        _chart("chart-completion", "Completion per student", completion_chart(data["students"])),
        _chart("chart-confidence", "Confidence per topic (cohort mean)", confidence_chart(cohort["confidence"])),
        "</div>",
        _students_table(data["students"]),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


# ---------------------------------------------------------------- tables


def _blockers_table(blockers: list[dict[str, Any]]) -> str:
    rows = [
        f'<tr data-kind="{_h(b["kind"])}" data-student="{_h(b["student"] or "")}">'
        f'<td class="num">{duration(b["age_s"])}</td><td>{_h(b["student"] or "—")}</td>'
        f'<td class="kind">{_h(KIND_LABELS.get(b["kind"], b["kind"]))}</td>'
        f'<td>{_h(b["reason"])}</td><td class="muted when" title="{_h(b["since"])}">{_h(_short_ts(b["since"]))}</td></tr>'
        for b in blockers
    ]
    if not rows:
        rows = ['<tr><td colspan="5" class="muted">No blockers.</td></tr>']
    return (
        f"<h2>Blockers ({len(blockers)}, oldest first)</h2>"
        '<table id="blockers"><thead><tr><th>Age</th><th>Student</th><th>Kind</th><th>Reason</th><th>Since</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _students_table(students: list[dict[str, Any]]) -> str:
    head = "".join(
        f"<th>{h}</th>"
        for h in (
            "Student",
            "Stage",
            "Session",
            "Assigned",
            "Acked",
            "Responded",
            "Passed",
            "Revise",
            "Completion",
            "Confidence",
            "Last activity",
            "Idle",
            "Blockers",
        )
    )
    rows = []
    for row in sorted(students, key=student_order):  # blocked students first, as in the terminal
        c = row["counts"]
        off = "" if row["on_roster"] else ' <span class="off">off roster</span>'
        stage = row["stage"]
        confidence = ", ".join(f"{_h(t)} {v:.2f}" for t, v in sorted(row["confidence"].items())) or "—"
        kinds = ", ".join(sorted({KIND_LABELS.get(b["kind"], b["kind"]) for b in row["blockers"]}))
        cells = [
            f"<td>{_h(row['student'])}{off}</td>",
            f'<td><span class="stage" style="background:{STAGE_COLOURS.get(stage, "#5f6368")}">{_h(stage)}</span></td>',
            f'<td class="muted">{_h((row["session_id"] or "—")[:8])}</td>',
            *(f'<td class="num">{c[k]}</td>' for k in ("assigned", "acknowledged", "responded", "passed", "revise")),
            f'<td class="num">{_percent(row["completion_rate"])}</td>',
            f"<td>{confidence}</td>",
            f'<td class="muted when">{_h(_short_ts(row["last_activity"]) if row["last_activity"] else "—")}</td>',
            f'<td class="num">{duration(row["idle_seconds"]) if row["idle_seconds"] is not None else "—"}</td>',
            f"<td>{len(row['blockers']) or ''} {_h(kinds)}</td>",
        ]
        cls = ' class="blocked"' if row["blockers"] else ""
        rows.append(
            f'<tr{cls} data-student="{_h(row["student"])}" data-stage="{_h(stage)}" '
            f'data-on-roster="{str(row["on_roster"]).lower()}">{"".join(cells)}</tr>'
        )
    return f'<h2>Students ({len(students)})</h2><table id="students"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


# ---------------------------------------------------------------- charts (inline SVG)


def _chart(chart_id: str, title: str, svg: str) -> str:
    tagged = svg.replace("<svg ", f'<svg id="{chart_id}" ', 1)
    return f'<figure class="chart"><h3>{escape(title)}</h3>{tagged}</figure>'


def stage_chart(per_stage: dict[str, int]) -> str:
    """Vertical bars, one per stage in lifecycle order."""
    width, height, left, bottom, top = 340, 220, 20, 24, 16
    bar_w = (width - left - 10) / max(1, len(per_stage))
    peak = max(per_stage.values(), default=0) or 1
    plot_h = height - bottom - top
    items = []
    for i, (stage, n) in enumerate(per_stage.items()):
        h = plot_h * n / peak
        x = left + i * bar_w + 4
        y = top + plot_h - h
        items.append(
            f'<rect class="bar" data-stage="{_h(stage)}" data-value="{n}" x="{x:.1f}" y="{y:.1f}" '
            f'width="{bar_w - 8:.1f}" height="{h:.1f}" fill="{STAGE_COLOURS.get(stage, "#5f6368")}">'
            f"<title>{_h(stage)}: {n}</title></rect>"
            f'<text x="{x + (bar_w - 8) / 2:.1f}" y="{y - 3:.1f}" text-anchor="middle">{n}</text>'
            f'<text x="{x + (bar_w - 8) / 2:.1f}" y="{height - 8}" text-anchor="middle">{_h(stage)}</text>'
        )
    axis = f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 6}" y2="{top + plot_h}" stroke="#9aa0a6"/>'
    return _svg(width, height, "students per stage", axis + "".join(items))


def completion_chart(students: list[dict[str, Any]]) -> str:
    """Horizontal bars of completion, lowest first; big cohorts show the lowest ``MAX_BARS``."""
    rows = sorted(students, key=lambda r: (r["completion_rate"], r["student"]))
    shown = rows[:MAX_BARS]
    bars = [(r["student"], r["completion_rate"], f"{r['counts']['passed']}/{r['counts']['assigned']}") for r in shown]
    note = f"lowest {len(shown)} of {len(rows)} students" if len(rows) > len(shown) else ""
    return _hbars(bars, "completion per student", "#188038", note)


def confidence_chart(confidence: dict[str, float]) -> str:
    """Horizontal bars of the cohort's mean confidence per topic, lowest first."""
    items = sorted(confidence.items(), key=lambda kv: (kv[1], kv[0]))
    shown = items[:MAX_BARS]
    bars = [(topic, value, f"{value:.2f}") for topic, value in shown]
    note = f"lowest {len(shown)} of {len(items)} topics" if len(items) > len(shown) else ""
    return _hbars(bars, "confidence per topic", "#4285f4", note)


def _hbars(bars: list[tuple[str, float, str]], label: str, colour: str, note: str) -> str:
    """Bars on a 0..1 scale, one per (name, value, text) row."""
    width, row_h, left, right = 380, 18, 110, 44
    top = 18 if note else 4
    height = top + max(1, len(bars)) * row_h + 6
    plot_w = width - left - right
    items = [f'<text x="4" y="12" class="note">{escape(note)}</text>'] if note else []
    if not bars:
        items.append(f'<text x="{left}" y="{top + 12}">no data yet</text>')
    for i, (name, value, text) in enumerate(bars):
        y = top + i * row_h
        w = max(0.0, min(1.0, value)) * plot_w
        items.append(
            f'<text x="{left - 6}" y="{y + 12}" text-anchor="end">{_h(one_line(name, 18))}</text>'
            f'<rect x="{left}" y="{y + 2}" width="{plot_w}" height="{row_h - 5}" fill="#f1f3f4"/>'
            f'<rect class="bar" data-name="{_h(name)}" data-value="{value:.4f}" x="{left}" y="{y + 2}" '
            f'width="{w:.1f}" height="{row_h - 5}" fill="{colour}"><title>{_h(name)}: {_h(text)}</title></rect>'
            f'<text x="{left + plot_w + 4}" y="{y + 12}">{_h(text)}</text>'
        )
    return _svg(width, height, label, "".join(items))


def _svg(width: int, height: int, label: str, body: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}">{body}</svg>'
    )


def _h(value: object) -> str:
    """Wire text for the page: characters shown (``visible``), then markup escaped."""
    return escape(visible(value))


def _short_ts(ts: str) -> str:
    """``2026-01-31T12:00:00.123456Z`` → ``2026-01-31 12:00Z``; the full time is in the title."""
    date, _, time = ts.partition("T")
    return f"{date} {time[:5]}Z"


def _percent(rate: float) -> str:
    return f"{rate * 100:.0f}%"
