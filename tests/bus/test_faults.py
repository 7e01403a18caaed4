"""Faults on a real broker: it is away at start, it dies and forgets everything,
an instance is SIGKILLed, every message arrives twice. Each test ends with the
same check: both ledgers hold the session's events exactly once, and both sides
fold them to the same state.
"""

from __future__ import annotations

import asyncio

import pytest

from colearner_lsp.bus.broker import EmbeddedBroker, free_port
from colearner_lsp.bus.kafka_bus import KafkaBus
from colearner_lsp.core import actions
from tests.bus.exchange import (
    BusLoop,
    BusProcess,
    assert_converged,
    count_of,
    emit_progress,
    session_state,
)
from tests.instances import last_line, make_pair, run_cli, sync
from tests.kafka_harness import HostileProducer, raw_consume
from tests.waiting import until

BIG = 1000
BATCH = 50


def open_session(pair) -> str:
    """A session with a plan and one exercise, delivered to both sides."""
    coach = pair.coach()
    session_id = actions.start_session(coach, pair.student_id)
    actions.send_plan(coach, session_id, ["read the service"], [("s1", "reading"), ("s2", "fixing")])
    actions.assign_exercise(
        coach,
        session_id,
        topic="reading",
        exercise="explain total_value",
        expected="a paragraph",
        path="app/inventory.py",
        start_line=12,
        end_line=16,
    )
    sync(coach, pair.student(), coach)
    return session_id


# ---------------------------------------------------------------- broker away at start


def test_broker_absent_at_start_then_everything_queued_is_delivered(tmp_path):
    port = free_port()
    pair = make_pair(tmp_path, f"127.0.0.1:{port}")
    env = pair.env()

    opened = run_cli(pair.coach_root, "session", "start", "--student", "sam", env=env)
    assert opened.returncode == 0, opened.stderr
    session_id = last_line(opened)
    assert "wait in the outbox" in opened.stderr and "Traceback" not in opened.stderr
    planned = run_cli(pair.coach_root, "plan", session_id, "--goal", "learn", "--step", "s1:reading", env=env)
    assigned = run_cli(
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
        "12-16",
        env=env,
    )
    for result in (planned, assigned):
        assert result.returncode == 0, result.stderr
        assert "wait in the outbox" in result.stderr
    exercise_id = last_line(assigned)
    assert pair.coach().ledger.outbox_length() == 4  # opened, plan, its stage move, the assignment: none sent

    refused = run_cli(pair.student_root, "sync", env=env)
    assert refused.returncode != 0
    [line] = refused.stderr.strip().splitlines()
    assert f"cannot reach Kafka at 127.0.0.1:{port}" in line and "colearner broker" in line

    with EmbeddedBroker(port):
        synced = run_cli(pair.coach_root, "sync", env=env)
        assert synced.returncode == 0, synced.stderr
        assert "published 4" in synced.stdout and "outbox 0" in synced.stdout
        inbox = run_cli(pair.student_root, "inbox", "--json", env=env)
        assert inbox.returncode == 0, inbox.stderr
        assert exercise_id in inbox.stdout
        acked = run_cli(pair.student_root, "ack", exercise_id, env=env)
        assert acked.returncode == 0 and acked.stderr == "", acked.stderr
        sync(pair.coach())
        assert_converged(pair.coach(), pair.student(), session_id, expected=6)
        assert session_state(pair.coach(), session_id)["stage"] == "practice"


def test_bus_loop_waits_for_a_broker_that_starts_late(tmp_path):
    """A live loop (as in the language server) started before the broker connects once it is up."""
    port = free_port()
    pair = make_pair(tmp_path, f"127.0.0.1:{port}")
    coach, student = pair.coach(), pair.student()
    statuses: list[bool] = []
    session_id = actions.start_session(coach, pair.student_id)
    with BusLoop(coach, student) as loop:
        for bus in loop.buses:
            bus.on_status = statuses.append
        until(lambda: all(b.last_error for b in loop.buses), timeout=30, what="both loops to report the broker away")
        assert "cannot reach Kafka" in loop.buses[0].last_error
        with EmbeddedBroker(port):
            until(lambda: session_id in student.state.sessions, timeout=60, what="the session to reach the student")
            emit_progress(pair.student(), session_id, 10)
            until(lambda: count_of(coach, session_id) == 11, timeout=60, what="the progress to reach the coach")
            loop.stop()
    assert True in statuses
    assert_converged(coach, student, session_id, expected=11)


# ---------------------------------------------------------------- broker dies, loses memory


@pytest.mark.parametrize("pump", ["run", "sync"])
def test_broker_killed_and_restarted_empty_mid_exchange(pair, broker, pump):
    """1,000 progress events; halfway the broker is SIGKILLed and comes back empty."""
    session_id = open_session(pair)
    coach, student = pair.coach(), pair.student()
    writer, coach_writer = pair.student(), pair.coach()  # the CLI's own handles on the ledgers
    base = count_of(coach, session_id)
    expected = base + BIG + 1

    def pump_until(condition, what: str, timeout: float = 120) -> None:
        if pump == "run":
            until(condition, timeout=timeout, what=what)
        else:
            until(lambda: (sync(student, coach, student, timeout=20), condition())[1], timeout=timeout, what=what, every=0)

    loop = BusLoop(coach, student).start() if pump == "run" else None
    try:
        for n in range(0, BIG // 2, BATCH):
            emit_progress(writer, session_id, BATCH, start=n)
        pump_until(lambda: count_of(coach, session_id) >= base + BIG // 4, "the coach to read a quarter")
        broker.kill()
        broker.start()  # same port, empty memory
        for n in range(BIG // 2, BIG, BATCH):
            emit_progress(writer, session_id, BATCH, start=n)
        # The coach also writes after the restart: its stream must survive too.
        [exercise_id] = list(coach_writer.state.exercises)
        actions.request_evidence(coach_writer, exercise_id, ["app/*.py"], "show the file")
        pump_until(lambda: count_of(coach, session_id) == expected, f"all {expected} events at the coach")
        pump_until(lambda: count_of(student, session_id) == expected and student.ledger.outbox_length() == 0, "the student to settle")
    finally:
        if loop is not None:
            loop.stop()
    sync(student, coach, student)
    assert_converged(coach, student, session_id, expected=expected)
    assert not coach.ledger.quarantined() and not student.ledger.quarantined()


def test_broker_lost_a_tail_nobody_wrote_after(pair, broker):
    """The broker acked events, then died before the coach read them, and the
    student writes nothing more: no gap shows, the coach must ask for the tail."""
    session_id = open_session(pair)
    coach, student = pair.coach(), pair.student()
    emit_progress(student, session_id, 20)
    sync(student)  # acked by the broker, never read by the coach
    assert student.ledger.outbox_length() == 0
    broker.kill()
    broker.start()
    reports = sync(coach, student, coach, student)
    assert reports[0].resets and reports[1].resets
    assert_converged(coach, student, session_id, expected=count_of(student, session_id))


def test_broker_lost_the_first_events_before_anyone_read_them(pair, broker):
    """The coach's CLI published and exited, never reading its log back (its
    positions are all 0); the broker then forgot everything."""
    opened = run_cli(pair.coach_root, "session", "start", "--student", "sam", env=pair.env())
    assert opened.returncode == 0 and opened.stderr == "", opened.stderr
    session_id = last_line(opened)
    assert pair.coach().ledger.outbox_length() == 0 and not pair.coach().ledger.positions()
    broker.kill()
    broker.start()
    coach, student = pair.coach(), pair.student()
    [report] = sync(coach)
    assert report.published == 1 and report.resets
    sync(student)
    assert session_id in student.state.sessions
    assert_converged(coach, student, session_id, expected=1)


# ---------------------------------------------------------------- an instance dies


def test_instances_killed_mid_exchange_and_restarted(pair, broker):
    session_id = open_session(pair)
    coach, student = pair.coach(), pair.student()
    expected = count_of(coach, session_id) + BIG
    coach_bus, student_bus = BusProcess(pair.coach_root), BusProcess(pair.student_root)
    with coach_bus, student_bus:
        for n in range(0, BIG // 2, BATCH):
            emit_progress(student, session_id, BATCH, start=n)
        until(lambda: count_of(coach, session_id) >= expected - BIG + 100, timeout=120, what="the coach to read some")
        coach_bus.kill()
        for n in range(BIG // 2, BIG, BATCH):
            emit_progress(student, session_id, BATCH, start=n)
            if n == 3 * BIG // 4:
                student_bus.kill()
                student_bus.start()
        coach_bus.start()
        until(lambda: count_of(coach, session_id) == expected, timeout=180, what=f"all {expected} events at the coach")
        until(lambda: student.ledger.outbox_length() == 0, timeout=60, what="the student's outbox to drain")
    sync(student, coach, student)
    assert_converged(coach, student, session_id, expected=expected)


# ---------------------------------------------------------------- every message twice


def _exchange_with_feedback(pair) -> str:
    session_id = open_session(pair)
    coach, student = pair.coach(), pair.student()
    [exercise_id] = list(student.state.exercises)
    actions.acknowledge(student, exercise_id)
    actions.respond(student, exercise_id, "it sums price times quantity", ["app/inventory.py"])
    actions.submit_progress(student, session_id, ["s1"], {"reading": 0.7})
    sync(student, coach)
    actions.send_feedback(coach, exercise_id, grade="revise", next_step="mention rounding", confidence_delta=-0.1, mistakes=["no rounding"])
    sync(coach, student)
    return session_id


def test_every_event_published_twice_is_applied_once(pair, broker):
    session_id = _exchange_with_feedback(pair)
    coach, student = pair.coach(), pair.student()
    assert_converged(coach, student, session_id)
    before = {i.identity: (i.ledger.event_count(), session_state(i, session_id)) for i in (coach, student)}

    # Both senders publish their whole history again, as after a lost ack.
    for inst in (coach, student):
        assert inst.ledger.requeue(inst.identity, pair.student_id, 1) > 0
    reports = sync(coach, student, coach)
    assert reports[0].published > 0 and reports[1].published > 0
    assert sum(r.duplicates for r in reports) > 0 and sum(r.applied for r in reports) == 0

    for inst in (coach, student):
        assert (inst.ledger.event_count(), session_state(inst, session_id)) == before[inst.identity]
    assert_converged(coach, student, session_id)


def test_every_message_reproduced_by_another_client_is_applied_once(pair, broker):
    session_id = _exchange_with_feedback(pair)
    coach, student = pair.coach(), pair.student()
    before = {i.identity: (i.ledger.event_count(), session_state(i, session_id)) for i in (coach, student)}

    copied = 0
    with HostileProducer(broker.bootstrap) as hostile:
        for topic in coach.topics():
            for record in asyncio.run(raw_consume(broker.bootstrap, topic, 1000, timeout=3)):
                hostile.send(topic, record.key, record.value)
                copied += 1
    assert copied >= count_of(coach, session_id)
    reports = sync(coach, student)
    assert sum(r.duplicates for r in reports) >= copied
    for inst in (coach, student):
        assert (inst.ledger.event_count(), session_state(inst, session_id)) == before[inst.identity]
        assert not inst.ledger.quarantined()
    assert_converged(coach, student, session_id)


def test_bus_sync_reports_unreachable_without_a_traceback(tmp_path):
    pair = make_pair(tmp_path, f"127.0.0.1:{free_port()}")

    async def attempt() -> str:
        bus = KafkaBus(pair.student())
        try:
            await bus.sync(timeout=10)
        except Exception as exc:  # noqa: BLE001 - the type is what we check
            return f"{type(exc).__name__}: {exc}"
        finally:
            await bus.close()
        return "connected"

    outcome = asyncio.run(attempt())
    assert outcome.startswith("BrokerUnreachable: cannot reach Kafka")
