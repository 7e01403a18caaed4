"""Dashboard metrics from ledgers with a known history, built through the real core."""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from colearner_lsp.core import actions
from colearner_lsp.core.instance import Instance
from colearner_lsp.core.protocol.events import parse_ts
from colearner_lsp.core.reports.blockers import BLOCKER_KINDS
from colearner_lsp.core.reports.metrics import STAGE_ORDER, compute_dashboard, dashboard_for
from tests.core.conftest import make_pair
from tests.core.dashboard_scenario import Cohort, assign, exchange, hours_after_last, ship, temporary_cohort

STUDENT_KEYS = {
    "student",
    "on_roster",
    "session_id",
    "stage",
    "sessions",
    "counts",
    "completion_rate",
    "confidence",
    "confidence_trend",
    "confidence_deltas",
    "last_activity",
    "idle_seconds",
    "time_to_pass_s",
    "blockers",
    "quarantined",
}
COHORT_KEYS = {
    "students",
    "on_roster",
    "sessions",
    "open_sessions",
    "completion_rate",
    "median_time_to_pass_s",
    "per_stage",
    "confidence",
    "blocked_students",
    "quarantined",
    "quarantined_unattributed",
}
BLOCKER_KEYS = {"kind", "reason", "since", "age_s", "student", "session_id", "exercise_id"}


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cohort]:
    with temporary_cohort(tmp_path_factory) as built:
        yield built


def rows(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["student"]: row for row in data["students"]}


def ledger_events(inst: Instance, **match: str) -> list[dict[str, Any]]:
    out = []
    for stored in inst.ledger.events_after(0):
        env = json.loads(stored.raw)
        if all(env.get(k) == v or env["payload"].get(k) == v for k, v in match.items()):
            out.append(env)
    return out


def seconds_between(a: str, b: str) -> float:
    return (parse_ts(b) - parse_ts(a)).total_seconds()


# ---------------------------------------------------------------- shape


def test_json_shape_is_stable_and_serialisable(cohort: Cohort) -> None:
    data = dashboard_for(cohort.coach, now=hours_after_last(cohort.coach, 80))
    assert set(data) == {"version", "generated_at", "coach", "thresholds", "students", "cohort", "blockers"}
    assert data["coach"] == "coach"
    for row in data["students"]:
        assert set(row) == STUDENT_KEYS
        assert set(row["counts"]) == {"assigned", "acknowledged", "responded", "passed", "revise"}
        for b in row["blockers"]:
            assert set(b) == BLOCKER_KEYS
    assert set(data["cohort"]) == COHORT_KEYS
    assert list(data["cohort"]["per_stage"]) == list(STAGE_ORDER)
    assert {b["kind"] for b in data["blockers"]} <= set(BLOCKER_KINDS)
    assert json.loads(json.dumps(data)) == data  # plain JSON values only
    assert [r["student"] for r in data["students"]] == sorted(r["student"] for r in data["students"])


def test_dashboard_for_is_compute_dashboard_on_the_instance(cohort: Cohort) -> None:
    now = hours_after_last(cohort.coach, 1)
    c = cohort.coach
    assert dashboard_for(c, now=now) == compute_dashboard(c.state, c.config, c.ledger.quarantined(), now)


# ---------------------------------------------------------------- per student


def test_student_with_no_events_has_a_row(cohort: Cohort) -> None:
    carol = rows(dashboard_for(cohort.coach, now=hours_after_last(cohort.coach, 100)))["carol"]
    assert carol["on_roster"] is True
    assert carol["stage"] == "none" and carol["session_id"] is None and carol["sessions"] == []
    assert carol["counts"] == {"assigned": 0, "acknowledged": 0, "responded": 0, "passed": 0, "revise": 0}
    assert carol["completion_rate"] == 0.0
    assert carol["last_activity"] is None and carol["idle_seconds"] is None
    assert carol["blockers"] == [] and carol["quarantined"] == 0


def test_session_reopened_by_revise_then_passed(cohort: Cohort) -> None:
    c, ids = cohort.coach, cohort.ids
    alice = rows(dashboard_for(c, now=hours_after_last(c, 1)))["alice"]
    # the row shows the open second session; counts cover both
    assert alice["session_id"] == ids["alice.s2"] and alice["stage"] == "plan"
    assert [(s["session_id"], s["stage"]) for s in alice["sessions"]] == [(ids["alice.s1"], "done"), (ids["alice.s2"], "plan")]
    assert alice["counts"] == {"assigned": 1, "acknowledged": 1, "responded": 1, "passed": 1, "revise": 0}
    assert alice["completion_rate"] == 1.0
    moves = [(t.from_, t.to) for t in c.state.sessions[ids["alice.s1"]].transitions]
    assert moves == [
        (None, "init"),
        ("init", "plan"),
        ("plan", "practice"),
        ("practice", "review"),
        ("review", "practice"),
        ("practice", "review"),
        ("review", "done"),
    ]
    # confidence: neutral 0.5, revise -0.1, the student's own 0.45, pass +0.2
    assert alice["confidence"] == {"deps": pytest.approx(0.65)}
    assert alice["confidence_trend"]["deps"] == pytest.approx([0.4, 0.45, 0.65])
    assert alice["confidence_deltas"] == {"deps": [-0.1, 0.2]}
    # time to pass, from the ledger's own events
    assigned = ledger_events(c, event_type="exercise_assigned", exercise_id=ids["alice.ex"])[0]["ts"]
    passed = [
        e for e in ledger_events(c, event_type="assessment_feedback", exercise_id=ids["alice.ex"]) if e["payload"]["grade"] == "pass"
    ][0]["ts"]
    assert alice["time_to_pass_s"] == {ids["alice.ex"]: pytest.approx(seconds_between(assigned, passed), abs=1e-3)}
    assert alice["blockers"] == []  # the revised exercise passed; the new session is fresh


def test_last_activity_and_idle_time(cohort: Cohort) -> None:
    c = cohort.coach
    now = hours_after_last(c, 5)
    data = dashboard_for(c, now=now)
    for name in ("alice", "bob", "dave"):
        newest = max(ledger_events(c, student=name), key=lambda e: parse_ts(e["ts"]))["ts"]
        row = rows(data)[name]
        assert row["last_activity"] == newest
        assert row["idle_seconds"] == pytest.approx((now - parse_ts(newest)).total_seconds(), abs=1e-3)


def test_out_of_order_delivery_gives_the_same_counts_on_both_sides(cohort: Cohort) -> None:
    c, b, ids = cohort.coach, cohort.students["bob"], cohort.ids
    bob = rows(dashboard_for(c, now=hours_after_last(c, 1)))["bob"]
    assert bob["stage"] == "practice"
    assert bob["counts"] == {"assigned": 2, "acknowledged": 1, "responded": 1, "passed": 0, "revise": 1}
    assert bob["completion_rate"] == 0.0 and bob["time_to_pass_s"] == {}
    assert bob["confidence"] == {"graphs": pytest.approx(0.1), "io": 0.3}
    assert bob["confidence_trend"] == {"io": [0.3], "graphs": pytest.approx([0.3, 0.1])}
    # the student's fold, fed the later feedback before the earlier request, agrees
    ex_c, ex_b = c.state.exercises[ids["bob.ex1"]], b.state.exercises[ids["bob.ex1"]]
    assert (ex_b.state, ex_b.revise_count, len(ex_b.evidence_requests)) == (ex_c.state, ex_c.revise_count, 1) == ("revise", 2, 1)
    assert b.state.sessions[ids["bob.s"]].stage == c.state.sessions[ids["bob.s"]].stage == "practice"


# ---------------------------------------------------------------- blockers


def by_kind(data: dict[str, Any], student: str) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for b in rows(data)[student]["blockers"]:
        out.setdefault(b["kind"], []).append(b)
    return out


def test_blockers_right_after_the_last_event(cohort: Cohort) -> None:
    c, ids = cohort.coach, cohort.ids
    data = dashboard_for(c, now=hours_after_last(c, 1))
    bob = by_kind(data, "bob")
    assert set(bob) == {"repeated_revise", "evidence_unanswered"}  # nothing time-based yet
    revises = [e for e in ledger_events(c, event_type="assessment_feedback", exercise_id=ids["bob.ex1"])]
    revises.sort(key=lambda e: parse_ts(e["ts"]))
    [rr] = bob["repeated_revise"]
    assert (rr["exercise_id"], rr["session_id"], rr["since"]) == (ids["bob.ex1"], ids["bob.s"], revises[1]["ts"])
    assert "revise 2 times" in rr["reason"]
    [ev] = bob["evidence_unanswered"]
    request = ledger_events(c, event_id=ids["bob.request"])[0]
    assert (ev["exercise_id"], ev["since"]) == (ids["bob.ex1"], request["ts"])
    assert "show the graph" in ev["reason"] and "service.py" in ev["reason"]

    [q] = by_kind(data, "dave")["quarantined"]
    assert "bad signature" in q["reason"] and q["session_id"] is None
    assert rows(data)["dave"]["quarantined"] == 1
    assert set(by_kind(data, "alice")) == set() and set(by_kind(data, "carol")) == set()


def test_unacknowledged_after_the_configured_time(cohort: Cohort) -> None:
    c, ids = cohort.coach, cohort.ids
    assigned_at = parse_ts(ledger_events(c, event_type="exercise_assigned", exercise_id=ids["bob.ex2"])[0]["ts"])
    hours = c.config.unacknowledged_after_hours
    before = dashboard_for(c, now=assigned_at + timedelta(hours=hours) - timedelta(seconds=1))
    after = dashboard_for(c, now=assigned_at + timedelta(hours=hours))
    assert "unacknowledged" not in by_kind(before, "bob")
    [u] = by_kind(after, "bob")["unacknowledged"]
    assert u["exercise_id"] == ids["bob.ex2"] and "'io'" in u["reason"]
    assert parse_ts(u["since"]) == assigned_at and u["age_s"] == hours * 3600
    # dave acknowledged his: never an unacknowledged blocker
    assert "unacknowledged" not in by_kind(after, "dave")


def test_stalled_sessions_and_sorting_by_age(cohort: Cohort) -> None:
    c, ids = cohort.coach, cohort.ids
    hours = c.config.stall_after_hours
    data = dashboard_for(c, now=hours_after_last(c, hours + 1))
    stalled = {b["session_id"] for b in data["blockers"] if b["kind"] == "stalled"}
    # open sessions of rostered students; alice's finished session and erin (off roster) are not
    assert stalled == {ids["alice.s2"], ids["bob.s"], ids["dave.s"]}
    for b in data["blockers"]:
        if b["kind"] == "stalled":
            assert b["since"] == c.state.sessions[b["session_id"]].last_activity
    ages = [b["age_s"] for b in data["blockers"]]
    assert ages == sorted(ages, reverse=True)  # oldest first
    sinces = [parse_ts(b["since"]) for b in data["blockers"]]
    assert sinces == sorted(sinces)
    every = [b for r in data["students"] for b in r["blockers"]]
    assert len(data["blockers"]) == len(every) and all(b in every for b in data["blockers"])
    assert data["cohort"]["blocked_students"] == 3  # alice (stalled), bob, dave


def test_student_removed_from_roster_keeps_history(cohort: Cohort) -> None:
    c, ids = cohort.coach, cohort.ids
    data = dashboard_for(c, now=hours_after_last(c, 500))
    erin = rows(data)["erin"]
    assert erin["on_roster"] is False
    assert erin["session_id"] == ids["erin.s"] and erin["stage"] == "review"
    assert erin["counts"] == {"assigned": 1, "acknowledged": 1, "responded": 1, "passed": 0, "revise": 0}
    # what she sent after removal was refused: counted, but she blocks nobody now
    assert erin["quarantined"] == 1 and erin["blockers"] == []
    assert "erin" not in c.config.peers


def test_cohort_figures(cohort: Cohort) -> None:
    c = cohort.coach
    data = dashboard_for(c, now=hours_after_last(c, 1))
    co = data["cohort"]
    assert co["students"] == 5 and co["on_roster"] == 4
    assert co["per_stage"] == {"none": 1, "init": 0, "plan": 1, "practice": 2, "review": 1, "done": 0}
    assert co["sessions"] == 5 and co["open_sessions"] == 4
    assert co["completion_rate"] == pytest.approx(1 / 5)  # one pass out of five exercises
    [alice_pass] = rows(data)["alice"]["time_to_pass_s"].values()
    assert co["median_time_to_pass_s"] == pytest.approx(alice_pass)
    assert co["confidence"] == {"deps": pytest.approx(0.65), "graphs": pytest.approx(0.1), "io": pytest.approx(0.3)}
    # dave's forged message, erin's after removal, mallory's: mallory names no known student
    assert co["quarantined"] == 3 and co["quarantined_unattributed"] == 1
    assert "mallory" not in rows(data)
    assert co["blocked_students"] == 2  # bob and dave


def test_median_time_to_pass_over_several_passes(tmp_path: Path) -> None:
    coach, (s1, s2) = make_pair(tmp_path, students=("ann", "ben"))
    try:
        for student in (s1, s2):
            sid = actions.start_session(coach, student.identity)
            actions.send_plan(coach, sid, ["g"], [("s1", "t")])
            ex_ids = [assign(coach, sid, "t"), assign(coach, sid, "u")]
            exchange(coach, student)
            for ex in ex_ids:
                actions.respond(student, ex, "answer")
            exchange(student, coach)
            for ex in ex_ids if student is s1 else ex_ids[:1]:
                actions.send_feedback(coach, ex, grade="pass", next_step="-", confidence_delta=0.1)
            ship(coach, student)
        data = dashboard_for(coach)
        times = [t for r in data["students"] for t in r["time_to_pass_s"].values()]
        assert len(times) == 3
        assert data["cohort"]["median_time_to_pass_s"] == pytest.approx(statistics.median(times), abs=1e-3)
        assert data["cohort"]["completion_rate"] == pytest.approx(3 / 4)
        assert {r["student"]: r["stage"] for r in data["students"]} == {"ann": "done", "ben": "review"}
        assert data["cohort"]["per_stage"]["done"] == 1 and data["cohort"]["per_stage"]["review"] == 1
    finally:
        coach.close()
        s1.close()
        s2.close()


def test_a_students_own_view(cohort: Cohort) -> None:
    bob = cohort.students["bob"]
    data = dashboard_for(bob, now=hours_after_last(cohort.coach, 1))
    [row] = data["students"]
    assert (row["student"], row["on_roster"], row["stage"]) == ("bob", True, "practice")
    coach_row = rows(dashboard_for(cohort.coach, now=hours_after_last(cohort.coach, 1)))["bob"]
    # both sides folded the same events: same figures, same blockers
    for key in ("counts", "confidence_trend", "confidence_deltas", "last_activity", "session_id"):
        assert row[key] == coach_row[key], key
    assert [(b["kind"], b["since"]) for b in row["blockers"]] == [(b["kind"], b["since"]) for b in coach_row["blockers"]]
