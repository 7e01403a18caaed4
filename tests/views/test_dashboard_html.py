"""The HTML dashboard, opened in a real headless Chromium: DOM and screenshot.

Chromium is Debian's ``chromium`` package (``./dev setup`` installs it). Without
it this test fails rather than skips: the page is only proven by a browser.
The screenshot is kept in ``artifacts/dashboard.png`` (git-ignored) for a person
to look at.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from colearner_lsp.core.reports.metrics import dashboard_for
from colearner_lsp.views.dashboard_html import MAX_BARS, completion_chart, render_dashboard_html
from tests.core.dashboard_scenario import hours_after_last, temporary_cohort

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
CHART_IDS = ("chart-stages", "chart-completion", "chart-confidence")


def chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    pytest.fail("chromium is not installed: run ./dev setup (it installs Debian's chromium package)")


def run_chromium(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [
        chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={tmp / 'chromium-profile'}",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with temporary_cohort(tmp_path_factory) as cohort:
        yield dashboard_for(cohort.coach, now=hours_after_last(cohort.coach, 80))  # late enough for every blocker


class Dom(HTMLParser):
    """Just enough of a DOM: every element with its attributes and its ancestors' tags and ids."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[dict[str, Any]] = []
        self.stack: list[dict[str, Any]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = {"tag": tag, "attrs": dict(attrs), "parents": [(p["tag"], p["attrs"].get("id")) for p in self.stack]}
        self.elements.append(element)
        if tag not in ("meta", "br", "img", "input", "link"):
            self.stack.append(element)

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            if self.stack.pop()["tag"] == tag:
                break

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def inside(self, element_id: str, tag: str) -> list[dict[str, Any]]:
        return [e for e in self.elements if e["tag"] == tag and any(pid == element_id for _, pid in e["parents"])]


def test_dashboard_page_in_headless_chromium(data: dict[str, Any], tmp_path: Path) -> None:
    page = tmp_path / "dashboard.html"
    page.write_text(render_dashboard_html(data), encoding="utf-8")

    dumped = run_chromium(tmp_path, "--dump-dom", page.as_uri()).stdout
    dom = Dom()
    dom.feed(dumped)

    # one row per student, each with its stage; the off-roster one flagged
    rows = [e for e in dom.inside("students", "tr") if "data-student" in e["attrs"]]
    assert {r["attrs"]["data-student"]: r["attrs"]["data-stage"] for r in rows} == {r["student"]: r["stage"] for r in data["students"]}
    assert {r["attrs"]["data-student"] for r in rows if r["attrs"]["data-on-roster"] == "false"} == {"erin"}
    # every blocker, oldest first
    blockers = [e for e in dom.inside("blockers", "tr") if "data-kind" in e["attrs"]]
    assert [(b["attrs"]["data-kind"], b["attrs"]["data-student"]) for b in blockers] == [
        (b["kind"], b["student"]) for b in data["blockers"]
    ]
    assert {"stalled", "unacknowledged", "repeated_revise", "evidence_unanswered", "quarantined"} <= {
        b["attrs"]["data-kind"] for b in blockers
    }
    # three inline SVG charts, each with bars of a real size
    for chart_id in CHART_IDS:
        [svg] = [e for e in dom.elements if e["tag"] == "svg" and e["attrs"].get("id") == chart_id]
        bars = [e for e in dom.inside(chart_id, "rect") if "bar" in (e["attrs"].get("class") or "")]
        assert bars, chart_id
        assert any(float(b["attrs"]["width"]) > 0 and float(b["attrs"]["height"]) > 0 for b in bars), chart_id
    stage_bars = {
        b["attrs"]["data-stage"]: int(b["attrs"]["data-value"]) for b in dom.inside("chart-stages", "rect") if "data-stage" in b["attrs"]
    }
    assert stage_bars == data["cohort"]["per_stage"]
    completion = {
        b["attrs"]["data-name"]: float(b["attrs"]["data-value"])
        for b in dom.inside("chart-completion", "rect")
        if "data-name" in b["attrs"]
    }
    assert completion == {r["student"]: pytest.approx(r["completion_rate"]) for r in data["students"]}
    topics = {b["attrs"]["data-name"] for b in dom.inside("chart-confidence", "rect") if "data-name" in b["attrs"]}
    assert topics == set(data["cohort"]["confidence"]) == {"deps", "graphs", "io"}

    # self-contained: no script, no stylesheet link, nothing fetched from anywhere
    assert not [e for e in dom.elements if e["tag"] in ("script", "link", "img", "iframe", "object")]
    source = page.read_text(encoding="utf-8")
    assert re.findall(r"https?://[^\"' )]+", source) == ["http://www.w3.org/2000/svg"] * source.count("<svg ")
    assert "url(" not in source and "@import" not in source and "@font-face" not in source

    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "dashboard.png"
    shot.unlink(missing_ok=True)
    run_chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,1000", page.as_uri())
    assert shot.stat().st_size > 10_000  # a real picture, not an empty canvas
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_text_is_escaped() -> None:
    evil = {
        "student": "<script>alert(1)</script>",
        "on_roster": True,
        "session_id": None,
        "stage": "none",
        "counts": {"assigned": 0, "acknowledged": 0, "responded": 0, "passed": 0, "revise": 0},
        "completion_rate": 0.0,
        "confidence": {"<b>x</b>": 0.5},
        "confidence_trend": {},
        "confidence_deltas": {},
        "last_activity": None,
        "idle_seconds": None,
        "time_to_pass_s": {},
        "sessions": [],
        "blockers": [],
        "quarantined": 0,
    }
    data = {
        "version": 1,
        "generated_at": "2026-01-01T00:00:00Z",
        "coach": "coach",
        "thresholds": {"stall_after_hours": 72, "unacknowledged_after_hours": 24},
        "students": [evil],
        "cohort": {
            "students": 1,
            "on_roster": 1,
            "sessions": 0,
            "open_sessions": 0,
            "completion_rate": 0.0,
            "median_time_to_pass_s": None,
            "per_stage": {"none": 1},
            "confidence": {"<b>x</b>": 0.5},
            "blocked_students": 0,
            "quarantined": 0,
            "quarantined_unattributed": 0,
        },
        "blockers": [],
    }
    page = render_dashboard_html(data)
    assert "<script>" not in page and "&lt;script&gt;" in page and "<b>x</b>" not in page


def test_big_cohort_chart_shows_the_lowest() -> None:
    students = [{"student": f"s{i:04d}", "completion_rate": i / 1000, "counts": {"passed": i, "assigned": 1000}} for i in range(1000)]
    svg = completion_chart(students)
    assert svg.count('class="bar"') == MAX_BARS
    assert f"lowest {MAX_BARS} of 1000 students" in svg and "s0000" in svg and "s0999" not in svg


def test_missing_chromium_fails_with_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(pytest.fail.Exception, match=r"run \./dev setup"):
        chromium()
