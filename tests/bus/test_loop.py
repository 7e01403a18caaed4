"""The seed's acceptance criteria, end to end: two instances in real git
repositories, a real broker, every step through the real ``colearner`` CLI.
"""

from __future__ import annotations

import json
import time

from colearner_lsp.core import actions
from tests.bus.exchange import BusLoop, assert_converged, session_event_ids
from tests.instances import last_line, run_cli
from tests.waiting import until


def cli(root, *args, env):
    """Run one command; it must succeed quietly (nothing on stderr)."""
    result = run_cli(root, *args, env=env)
    assert result.returncode == 0, f"colearner {' '.join(args)} failed: {result.stderr}"
    assert result.stderr == "", f"colearner {' '.join(args)} wrote to stderr: {result.stderr}"
    return result


def learning(root) -> dict:
    return json.loads((root / ".colearner" / "learning.json").read_text())


def test_seed_acceptance_through_the_cli(pair):
    env, coach, student = pair.env(), pair.coach_root, pair.student_root

    # The coach opens a session, plans, sets the scope and assigns remotely.
    session_id = last_line(cli(coach, "session", "start", "--student", "sam", env=env))
    cli(coach, "plan", session_id, "--goal", "understand the inventory service", "--step", "s1:reading", "--step", "s2:fixing", env=env)
    cli(coach, "scope", session_id, "--allow", "app/**", "--share", "hashes", env=env)
    exercise_id = last_line(
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
    assert (session["session_id"], session["stage"]) == (session_id, "plan")
    assert exercise["exercise_id"] == exercise_id and exercise["state"] == "assigned"
    assert exercise["anchor"]["path"] == "app/inventory.py" and exercise["anchor"]["start_line"] == 12
    assert exercise_id[:8] in cli(student, "inbox", env=env).stdout

    # It acknowledges and answers with evidence.
    cli(student, "ack", exercise_id, env=env)
    (student / "app" / "inventory.py").write_text((student / "app" / "inventory.py").read_text() + "\n# discount next\n")
    response_id = last_line(cli(student, "respond", exercise_id, "it sums price times qty", "--evidence", "app/inventory.py", env=env))
    cli(student, "progress", session_id, "--completed", "s1", "--confidence", "reading=0.6", env=env)

    # The coach sees the response and the evidence, and asks for a revision.
    dashboard = json.loads(cli(coach, "dashboard", "--json", env=env).stdout)
    assert "sam" in json.dumps(dashboard)
    coach_view = pair.coach().state.exercises[exercise_id]
    assert coach_view.state == "responded" and coach_view.responses[0].event_id == response_id
    assert [f.path for f in coach_view.evidence[0].snapshot.files] == ["app/inventory.py"]
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
    assert ex["state"] == "revise" and ex["feedback"][0]["mistakes"][0]["start_line"] == 14
    assert mine["confidence"]["reading"] == 0.5 and mine["stage"] == "practice"
    assert state["identity"] == "sam"

    cli(student, "respond", exercise_id, "now rounds to cents", env=env)
    cli(coach, "feedback", exercise_id, "--grade", "pass", "--next-step", "on to s2", "--confidence-delta", "0.3", env=env)
    cli(student, "sync", env=env)
    [mine] = learning(student)["sessions"]
    assert mine["stage"] == "done" and mine["exercises"][0]["state"] == "passed"
    assert mine["confidence"]["reading"] == 0.8

    # The whole history replays the same on both sides.
    cli(coach, "sync", env=env)
    coach_history = json.loads(cli(coach, "history", session_id, "--json", env=env).stdout)
    student_history = json.loads(cli(student, "history", session_id, "--json", env=env).stdout)
    assert coach_history["events"] == student_history["events"]
    assert coach_history["lifecycle"] == student_history["lifecycle"]
    assert coach_history == student_history
    assert [t["to"] for t in coach_history["lifecycle"]] == ["init", "plan", "practice", "review", "practice", "review", "done"]
    assert len(coach_history["events"]) == len(session_event_ids(pair.coach(), session_id))
    assert_converged(pair.coach(), pair.student(), session_id)
    assert not pair.coach().ledger.quarantined() and not pair.student().ledger.quarantined()


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
