"""The terminal dashboard and the history text: readable at 80 columns, blockers first."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from colearner_lsp.core.reports.metrics import dashboard_for
from colearner_lsp.views.dashboard_text import duration, render_dashboard
from tests.core.dashboard_scenario import hours_after_last, temporary_cohort


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with temporary_cohort(tmp_path_factory) as cohort:
        yield dashboard_for(cohort.coach, now=hours_after_last(cohort.coach, 80))  # late enough for every blocker


def test_fits_80_columns_with_blockers_first(data: dict[str, Any]) -> None:
    text = render_dashboard(data)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert lines[0].startswith("colearner dashboard · coach coach")
    assert "5 students · 4 open sessions" in lines[1]
    assert "stages: none 1 · init 0 · plan 1 · practice 2 · review 1 · done 0" in text
    blockers_at = next(i for i, line in enumerate(lines) if line.startswith("BLOCKERS"))
    students_at = next(i for i, line in enumerate(lines) if line.startswith("STUDENTS"))
    assert blockers_at < students_at
    assert f"BLOCKERS ({len(data['blockers'])}, oldest first)" in lines[blockers_at]
    for kind in ("stalled", "not acked", "revise x2+", "evidence", "quarantine"):
        assert kind in "\n".join(lines[blockers_at:students_at])
    # students table: blocked students first, carol (nothing) and erin (off roster) after them
    body = [line for line in lines[students_at + 1 :] if line.strip() and not line.startswith("*")]
    assert body[0].split()[:2] == ["Student", "Stage"] and set(body[1].strip()) == {"─"}
    table = [line.split()[0] for line in body[2:]]
    assert set(table[:3]) == {"alice", "bob", "dave"} and table[3:] == ["carol", "erin*"]
    bob = next(line for line in body if line.startswith("bob ")).split()
    assert bob[:5] == ["bob", "practice", "0/2", "0%", "1"]
    assert "* no longer on the roster; history kept" in text


def test_narrow_terminal_still_fits(data: dict[str, Any]) -> None:
    assert max(len(line) for line in render_dashboard(data, width=60).splitlines()) <= 60


def test_durations() -> None:
    assert [duration(s) for s in (5, 125, 3 * 3600 + 7 * 60, 26 * 3600, 3 * 86400 + 4 * 3600)] == [
        "5s",
        "2m",
        "3h07m",
        "26h",
        "3d4h",
    ]


def test_long_blocker_lists_are_cut_with_a_pointer(data: dict[str, Any]) -> None:
    text = render_dashboard(data, max_blockers=2)
    assert f"… and {len(data['blockers']) - 2} more: see --json or --html FILE" in text
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("BLOCKERS"))
    end = next(i for i, line in enumerate(lines) if line.startswith("… and"))
    ages = [line.split()[0] for line in lines[start + 3 : end] if line[:6].strip()]  # folded lines start blank
    assert len(ages) == 2
