"""Session replay: ordered by (ts, sender, seq), identical on the coach's and the student's side."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from colearner_lsp.core.errors import NotFound
from colearner_lsp.core.protocol.events import parse_event, parse_ts
from colearner_lsp.core.reports.history import replay_key, session_history, summarize
from colearner_lsp.views.history_text import render_history
from tests.core.conftest import envelope
from tests.core.dashboard_scenario import Cohort, temporary_cohort
from tests.recorded import Run, names, recording


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cohort]:
    with temporary_cohort(tmp_path_factory) as built:
        yield built


def test_coach_and_student_replays_agree(cohort: Cohort) -> None:
    for name, key in (("alice", "alice.s1"), ("alice", "alice.s2"), ("bob", "bob.s"), ("dave", "dave.s")):
        sid = cohort.ids[key]
        on_coach = session_history(cohort.coach, sid)
        on_student = session_history(cohort.students[name], sid)
        assert on_coach["events"] and on_coach == on_student, key


def test_replay_order_is_creation_order_not_arrival_order(cohort: Cohort) -> None:
    sid = cohort.ids["bob.s"]
    bob = cohort.students["bob"]
    arrival = [json.loads(e.raw) for e in bob.ledger.session_events(sid)]
    replayed = session_history(bob, sid)["events"]
    assert [e["event_id"] for e in replayed] == [e["event_id"] for e in sorted(arrival, key=replay_key)]
    # the coach's messages reached bob out of order across topics (lifecycle before plan, feedback
    # before request), yet each stream's chain held them until it linked: the ledger took them in seq order
    for sender in ("coach", "bob"):
        seqs = [e["seq"] for e in arrival if e["sender"] == sender]
        assert seqs == sorted(seqs) and len(seqs) > 3
    keys = [(parse_ts(e["ts"]), e["sender"], e["seq"]) for e in replayed]
    assert keys == sorted(keys)
    # each sender's own events keep their seq order
    for sender in ("coach", "bob"):
        seqs = [e["seq"] for e in replayed if e["sender"] == sender]
        assert seqs == sorted(seqs)


ABOUT_EXERCISE = {"exercise_assigned", "exercise_acknowledged", "exercise_response", "assessment_feedback"}
EVENT_FIELDS = {"ts", "sender", "actor", "seq", "event_type", "event_id", "exercise_id", "summary"}
SUMMARIES = {  # by the event's place in the session's history
    0: "session opened in init (session opened)",
    1: "plan of 1 step: deps; goal: read the dependency graph",
    3: "assigned 'deps' at service.py:4-6: Explain deps in handler()",
    4: "acknowledged 'deps'",
    5: "stage plan → practice (first exercise acknowledged)",
    6: "responded to 'deps': first try",
    8: "feedback revise on 'deps': 2 mistakes, Δ-0.1; next: look at imports",
    9: "stage review → practice (feedback: revise)",
    10: "progress: confidence deps=0.45",
    13: "feedback pass on 'deps': 0 mistakes, Δ+0.2; next: move on",
}


@pytest.fixture(scope="module")
def reopened(cohort: Cohort) -> Run:
    """The coach's history of alice's first session, reopened by a revise, read once for the checks below."""
    with recording() as run:
        sid = run.kept["session id"] = cohort.ids["alice.s1"]
        run.kept["exercise id"] = cohort.ids["alice.ex"]
        h = session_history(cohort.coach, sid)
        run["the session, student, coach and stage"] = (h["session_id"], h["student"], h["coach"], h["stage"])
        run["the lifecycle: from, to, sender"] = [(t["from"], t["to"], t["sender"]) for t in h["lifecycle"]]
        run["the lifecycle: transitions not applied"] = [(t["from"], t["to"]) for t in h["lifecycle"] if not t["applied"]]
        run["the events' types"] = [e["event_type"] for e in h["events"]]
        summaries = [e["summary"] for e in h["events"]]
        for place in SUMMARIES:
            run[f"the summary of event {place}"] = summaries[place] if place < len(summaries) else None
        run["the exercise of the events about it"] = {e["exercise_id"] for e in h["events"] if e["event_type"] in ABOUT_EXERCISE}
        run["the exercise of the other events"] = {e["exercise_id"] for e in h["events"] if e["event_type"] not in ABOUT_EXERCISE}
        run["the fields of events with other fields"] = [sorted(e) for e in h["events"] if set(e) != EVENT_FIELDS]
    return run


REOPENED = [
    ("the session, student, coach and stage", lambda kept: (kept["session id"], "alice", "coach", "done")),
    (
        "the lifecycle: from, to, sender",
        [
            (None, "init", "coach"),
            ("init", "plan", "coach"),
            ("plan", "practice", "alice"),
            ("practice", "review", "alice"),
            ("review", "practice", "coach"),
            ("practice", "review", "alice"),
            ("review", "done", "coach"),
        ],
    ),
    ("the lifecycle: transitions not applied", []),
    (
        "the events' types",
        [
            "session_lifecycle",
            "learning_plan",
            "session_lifecycle",
            "exercise_assigned",
            "exercise_acknowledged",
            "session_lifecycle",
            "exercise_response",
            "session_lifecycle",
            "assessment_feedback",
            "session_lifecycle",
            "progress_update",
            "exercise_response",
            "session_lifecycle",
            "assessment_feedback",
            "session_lifecycle",
        ],
    ),
    *((f"the summary of event {place}", summary) for place, summary in SUMMARIES.items()),
    ("the exercise of the events about it", lambda kept: {kept["exercise id"]}),
    ("the exercise of the other events", {None}),
    ("the fields of events with other fields", []),
]


@pytest.mark.parametrize(("check", "expected"), REOPENED, ids=names(REOPENED))
def test_replay_content_for_a_session_reopened_by_revise(reopened: Run, check: str, expected: Any) -> None:
    actual, expected = reopened.actual(check), reopened.expected(expected)
    assert actual == expected


def test_replay_content_for_a_session_reopened_by_revise_read_to_the_end_with_every_check(reopened: Run) -> None:
    ends = reopened.loose_ends(REOPENED)
    assert not ends, "\n".join(ends)


def test_evidence_request_and_forgeries(cohort: Cohort) -> None:
    h = session_history(cohort.coach, cohort.ids["bob.s"])
    [req] = [e for e in h["events"] if e["event_type"] == "evidence_request"]
    assert req["summary"] == "requested evidence for 'graphs': service.py — show the graph you drew"
    # dave's forged response was quarantined, so it is not part of his session's history
    dave = session_history(cohort.coach, cohort.ids["dave.s"])
    assert "exercise_response" not in [e["event_type"] for e in dave["events"]]
    assert [e["seq"] for e in dave["events"] if e["sender"] == "dave"] == [1, 2]


def test_unknown_session_and_prefix(cohort: Cohort) -> None:
    with pytest.raises(NotFound, match="no session"):
        session_history(cohort.coach, "00000000-0000-0000-0000-00000000dead")
    sid = cohort.ids["erin.s"]
    assert session_history(cohort.coach, sid[:8])["session_id"] == sid


def test_render_history_text(cohort: Cohort) -> None:
    h = session_history(cohort.coach, cohort.ids["alice.s1"])
    text = render_history(h)
    lines = text.splitlines()
    assert lines[0] == f"session {cohort.ids['alice.s1']}"
    assert "student alice · coach coach · stage done" in lines[1]
    assert any("review → practice (feedback: revise)" in line for line in lines)
    assert f"events ({len(h['events'])}):" in lines
    event_lines = lines[lines.index(f"events ({len(h['events'])}):") + 1 :]
    assert len(event_lines) == len(h["events"])
    assert all(len(line.split("  ")) >= 3 for line in event_lines)
    assert "alice#" in text and "coach#1" in text


def test_summarize_every_event_type() -> None:
    ex = "11111111-2222-3333-4444-555555555555"
    cases = {
        "scope_policy": (
            {"allow": ["src/**"], "deny": ["src/secret/*"], "share": "hashes", "max_files": 50, "version": 2},
            "scope v2: allow src/**, deny src/secret/*, share hashes",
        ),
        "evidence_snapshot": (
            {
                "exercise_id": ex,
                "commit": "a" * 40,
                "branch": "main",
                "dirty": True,
                "withheld": 2,
                "files": [{"path": "a.py", "blob_sha": "b" * 40, "size": 1, "lines": 1, "status": "modified"}],
            },
            "evidence for 'deps': 1 file, 2 withheld at aaaaaaaa on main, dirty",
        ),
        "resync_request": ({"sender": "coach", "from_seq": 4, "to_seq": 9}, "asked coach to resend from seq 4 to 9"),
        "progress_update": ({"completed": ["s1"], "confidence": {"deps": 0.8}}, "progress: completed s1; confidence deps=0.8"),
        "exercise_acknowledged": ({"exercise_id": "99999999-0000"}, "acknowledged exercise 99999999"),
    }
    for event_type, (payload, expected) in cases.items():
        env = envelope(event_type, payload, actor="student", sender="alice")
        assert summarize(env, {ex: "deps"}) == expected
        assert summarize(parse_event(env), {ex: "deps"}) == expected  # a typed event too
    long = envelope(
        "exercise_response", {"exercise_id": ex, "response": "line one\nline two " + "x" * 500}, actor="student", sender="alice"
    )
    text = summarize(long)
    assert "\n" not in text and len(text) <= 160 and text.startswith("responded to exercise 11111111: line one line two")


def test_replay_key_compares_times_not_text() -> None:
    # "…:00Z" sorts after "…:00.5Z" as text; as times it is earlier
    early = envelope("progress_update", {}, actor="student", sender="alice", ts="2026-01-31T12:00:00Z", seq=1)
    late = envelope("progress_update", {}, actor="student", sender="alice", ts="2026-01-31T12:00:00.5Z", seq=2)
    assert replay_key(early) < replay_key(late)
    assert replay_key(parse_event(early)) == replay_key(early)
    same_time = envelope("progress_update", {}, actor="coach", sender="coach", ts="2026-01-31T12:00:00.000Z", seq=9)
    assert sorted([early, same_time], key=replay_key) == [early, same_time]  # then by sender name
