"""The seed's acceptance criteria, end to end: two instances in real git
repositories, a real broker, every step through the real ``colearner`` CLI.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from colearner_lsp.bus.broker import EmbeddedBroker
from colearner_lsp.core import actions
from tests.bus.exchange import BusLoop, assert_converged, session_event_ids
from tests.instances import Pair, last_line, module_pair, run_cli
from tests.recorded import Run, failure_of, names, recording
from tests.waiting import until


def cli(root, *args, env):
    """Run one command; it must succeed quietly (nothing on stderr)."""
    result = run_cli(root, *args, env=env)
    assert result.returncode == 0, f"colearner {' '.join(args)} failed: {result.stderr}"
    assert result.stderr == "", f"colearner {' '.join(args)} wrote to stderr: {result.stderr}"
    return result


def learning(root) -> dict:
    return json.loads((root / ".colearner" / "learning.json").read_text())


def seed_acceptance_through_the_cli(pair: Pair, run: Run) -> None:
    env, coach, student = pair.env(), pair.coach_root, pair.student_root

    # The coach opens a session, plans, sets the scope and assigns remotely.
    session_id = run.kept["session id"] = last_line(cli(coach, "session", "start", "--student", "sam", env=env))
    cli(coach, "plan", session_id, "--goal", "understand the inventory service", "--step", "s1:reading", "--step", "s2:fixing", env=env)
    cli(coach, "scope", session_id, "--allow", "app/**", "--share", "hashes", env=env)
    exercise_id = run.kept["exercise id"] = last_line(
        cli(
            coach,
            "assign",
            session_id,
            "--topic",
            "reading",
            "--exercise",
            "explain total_value",
            "--expected",
            "one paragraph",
            "--file",
            "app/inventory.py",
            "--lines",
            "12-16",
            "--step",
            "s1",
            env=env,
        )
    )

    # The student receives it, anchored in its own checkout.
    inbox = json.loads(cli(student, "inbox", "--json", env=env).stdout)
    [session] = inbox["sessions"]
    [exercise] = session["exercises"]
    run["assigned, the student's inbox: the session and its stage"] = (session["session_id"], session["stage"])
    run["assigned, the student's inbox: the exercise and its state"] = (exercise["exercise_id"], exercise["state"])
    run["assigned, the student's inbox: the anchor's file and first line"] = (exercise["anchor"]["path"], exercise["anchor"]["start_line"])
    shown = cli(student, "inbox", env=env).stdout
    run.saw("assigned, the student's inbox as text: the exercise's short id", exercise_id[:8] in shown, shown)

    # It acknowledges and answers with evidence.
    cli(student, "ack", exercise_id, env=env)
    (student / "app" / "inventory.py").write_text((student / "app" / "inventory.py").read_text() + "\n# discount next\n")
    response_id = last_line(cli(student, "respond", exercise_id, "it sums price times qty", "--evidence", "app/inventory.py", env=env))
    run.kept["response id"] = response_id
    cli(student, "progress", session_id, "--completed", "s1", "--confidence", "reading=0.6", env=env)

    # The coach sees the response and the evidence, and asks for a revision.
    dashboard = json.dumps(json.loads(cli(coach, "dashboard", "--json", env=env).stdout))
    run.saw("answered, the coach's dashboard: the student", "sam" in dashboard, dashboard)
    coach_view = pair.coach().state.exercises[exercise_id]
    run["answered, the coach: the exercise's state and response"] = (coach_view.state, coach_view.responses[0].event_id)
    run["answered, the coach: the evidence's files"] = [f.path for f in coach_view.evidence[0].snapshot.files]
    cli(
        coach,
        "feedback",
        exercise_id,
        "--grade",
        "revise",
        "--mistake",
        "app/inventory.py:14-15: no rounding",
        "--next-step",
        "round to cents",
        "--confidence-delta",
        "-0.1",
        env=env,
    )

    # Feedback updates the student's progress and learning.json.
    cli(student, "sync", env=env)
    state = learning(student)
    [mine] = state["sessions"]
    [ex] = mine["exercises"]
    run["revise, learning.json: the exercise's state and its mistake's first line"] = (
        ex["state"],
        ex["feedback"][0]["mistakes"][0]["start_line"],
    )
    run["revise, learning.json: the confidence and the stage"] = (mine["confidence"]["reading"], mine["stage"])
    run["revise, learning.json: the identity"] = state["identity"]

    cli(student, "respond", exercise_id, "now rounds to cents", env=env)
    cli(coach, "feedback", exercise_id, "--grade", "pass", "--next-step", "on to s2", "--confidence-delta", "0.3", env=env)
    cli(student, "sync", env=env)
    [mine] = learning(student)["sessions"]
    run["passed, learning.json: the stage and the exercise's state"] = (mine["stage"], mine["exercises"][0]["state"])
    run["passed, learning.json: the confidence"] = mine["confidence"]["reading"]

    # The whole history replays the same on both sides.
    cli(coach, "sync", env=env)
    coach_history = json.loads(cli(coach, "history", session_id, "--json", env=env).stdout)
    run.kept["the student's history"] = json.loads(cli(student, "history", session_id, "--json", env=env).stdout)
    run["history: the coach's events"] = coach_history["events"]
    run["history: the coach's lifecycle"] = coach_history["lifecycle"]
    run["history: the coach's whole history"] = coach_history
    run["history: the stages"] = [t["to"] for t in coach_history["lifecycle"]]
    run.kept["the session's events in the coach's ledger"] = len(session_event_ids(pair.coach(), session_id))
    run["history: the coach's events, counted"] = len(coach_history["events"])
    run["history: the two ledgers converged"] = failure_of(lambda: assert_converged(pair.coach(), pair.student(), session_id))
    run["history: quarantined by the coach and by the student"] = (pair.coach().ledger.quarantined(), pair.student().ledger.quarantined())


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory, broker_module: EmbeddedBroker) -> Run:
    """The seed's whole loop through the CLI, run once for the checks below: what each step showed, recorded as it happens."""
    with module_pair(tmp_path_factory, broker_module.bootstrap) as pair, recording() as run:
        seed_acceptance_through_the_cli(pair, run)
    return run


SEED = [
    ("assigned, the student's inbox: the session and its stage", lambda kept: (kept["session id"], "plan")),
    ("assigned, the student's inbox: the exercise and its state", lambda kept: (kept["exercise id"], "assigned")),
    ("assigned, the student's inbox: the anchor's file and first line", ("app/inventory.py", 12)),
    ("assigned, the student's inbox as text: the exercise's short id", True),
    ("answered, the coach's dashboard: the student", True),
    ("answered, the coach: the exercise's state and response", lambda kept: ("responded", kept["response id"])),
    ("answered, the coach: the evidence's files", ["app/inventory.py"]),
    ("revise, learning.json: the exercise's state and its mistake's first line", ("revise", 14)),
    ("revise, learning.json: the confidence and the stage", (0.5, "practice")),
    ("revise, learning.json: the identity", "sam"),
    ("passed, learning.json: the stage and the exercise's state", ("done", "passed")),
    ("passed, learning.json: the confidence", 0.8),
    ("history: the coach's events", lambda kept: kept["the student's history"]["events"]),
    ("history: the coach's lifecycle", lambda kept: kept["the student's history"]["lifecycle"]),
    ("history: the coach's whole history", lambda kept: kept["the student's history"]),
    ("history: the stages", ["init", "plan", "practice", "review", "practice", "review", "done"]),
    ("history: the coach's events, counted", lambda kept: kept["the session's events in the coach's ledger"]),
    ("history: the two ledgers converged", None),  # else what assert_converged failed with
    ("history: quarantined by the coach and by the student", ([], [])),
]


@pytest.mark.parametrize(("check", "expected"), SEED, ids=names(SEED))
def test_seed_acceptance_through_the_cli(seed: Run, check: str, expected: Any) -> None:
    actual, expected = seed.actual(check), seed.expected(expected)
    assert actual == expected, seed.context.get(check, "")


def test_seed_acceptance_ran_to_the_end_with_every_step_checked(seed: Run) -> None:
    ends = seed.loose_ends(SEED)
    assert not ends, "\n".join(ends)


def test_a_live_student_loop_applies_an_assignment_made_with_the_cli(pair):
    """The language server's path: ``KafkaBus.run()`` with ``on_applied``."""
    coach, student = pair.coach(), pair.student()
    session_id = actions.start_session(coach, pair.student_id)
    applied: list = []
    with BusLoop(student, on_applied=applied.extend) as loop:
        until(lambda: loop.buses[0].connected, timeout=30, what="the student's loop to connect")
        started = time.monotonic()
        exercise_id = last_line(
            cli(
                pair.coach_root,
                "assign",
                session_id,
                "--topic",
                "reading",
                "--exercise",
                "explain it",
                "--expected",
                "a paragraph",
                "--file",
                "app/inventory.py",
                "--lines",
                "5-8",
                env=pair.env(),
            )
        )
        until(
            lambda: any(getattr(e.payload, "exercise_id", None) == exercise_id for e in applied),
            timeout=30,
            what="the assignment to be applied",
        )
        latency = time.monotonic() - started
    anchor = student.state.exercises[exercise_id].anchor
    assert anchor is not None and anchor.start_line == 5
    assert latency < 15, f"{latency:.1f}s from 'colearner assign' to the student's loop"
