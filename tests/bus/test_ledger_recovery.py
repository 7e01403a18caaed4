"""A lost ledger loses nothing: deleted, truncated, restored from an older copy or
corrupted, followed by the usual commands through the real CLI and a real broker.

What must hold each time: no ``seq`` is reused (the other side quarantines
nothing as "already taken"), nothing published is lost (both sides hold the
same events), and where the user must act they get one clear line.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from colearner_lsp.core import actions
from tests.bus.exchange import count_of
from tests.instances import assign_fixing, last_line, run_cli, sync


def ledger_of(root: Path) -> Path:
    return root / ".colearner" / "ledger.sqlite"


def remove_ledger(root: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        ledger_of(root).with_name("ledger.sqlite" + suffix).unlink(missing_ok=True)


def assign(pair, session_id: str, topic: str, *, offline: bool = False):
    args = ["--offline"] if offline else []
    return run_cli(
        pair.coach_root,
        *args,
        "assign",
        session_id,
        "--topic",
        topic,
        "--exercise",
        f"do {topic}",
        "--expected",
        "x",
        "--file",
        "app/inventory.py",
        "--lines",
        "5-8",
        env=pair.env(),
    )


def no_seq_reused(inst) -> None:
    reasons = [q["reason"] for q in inst.ledger.quarantined()]
    assert not [r for r in reasons if "already taken" in r], reasons


@pytest.fixture
def live(live):
    """The root conftest's session with one exercise, acknowledged, the coach knowing it."""
    pair, session_id, first = live
    coach, student = pair.coach(), pair.student()
    actions.acknowledge(student, first)
    sync(student, coach)
    coach.close()
    student.close()
    return pair, session_id, first


def test_coach_ledger_deleted(live):
    pair, session_id, first = live
    remove_ledger(pair.coach_root)

    # offline, the coach cannot know its seqs: one clear line, nothing written
    result = assign(pair, session_id, "offline", offline=True)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert "holds less than it published" in line and "colearner sync" in line

    # online: the command reads the coach's own events back first, then writes after them
    result = assign(pair, session_id, "after the loss")
    assert result.returncode == 0, result.stderr
    assert "recovered the ledger" in result.stderr
    second = last_line(result)

    coach, student = pair.coach(), pair.student()
    sync(student, coach)
    assert {first, second} <= set(student.state.exercises)
    assert coach.state.exercises[first].state == "acknowledged"  # the student's ack came back too
    no_seq_reused(student)
    assert count_of(coach, session_id) == count_of(student, session_id)


def test_student_ledger_restored_from_an_older_copy(live, tmp_path):
    pair, session_id, first = live
    backup = tmp_path / "ledger-backup.sqlite"
    shutil.copy(ledger_of(pair.student_root), backup)  # closed: the WAL is checkpointed into the file

    coach, student = pair.coach(), pair.student()
    second = assign_fixing(coach, session_id, "fix it")
    sync(coach, student)
    actions.acknowledge(student, second)  # published: seq 2 of the student's stream
    sync(student, coach)
    student.close()

    remove_ledger(pair.student_root)
    shutil.copy(backup, ledger_of(pair.student_root))  # back to before the second exercise

    result = run_cli(pair.student_root, "respond", second, "done", env=pair.env())
    assert result.returncode == 0, result.stderr
    coach, student = pair.coach(), pair.student()
    sync(coach)
    no_seq_reused(coach)
    assert coach.state.exercises[second].state == "responded"
    assert [r.text for r in coach.state.exercises[second].responses] == ["done"]
    assert student.state.exercises[second].state == "responded"
    assert count_of(coach, session_id) == count_of(student, session_id)


@pytest.mark.parametrize("damage", ["truncated", "corrupted"])
def test_damaged_ledger_is_reported_and_repaired(live, damage):
    pair, session_id, first = live
    path = ledger_of(pair.coach_root)
    data = path.read_bytes()
    assert len(data) > 3 * 4096
    if damage == "truncated":
        path.write_bytes(data[: len(data) // 2])
    else:
        path.write_bytes(data[:4096] + bytes([0xA5]) * (len(data) - 8192) + data[-4096:])

    result = run_cli(pair.coach_root, "dashboard", env=pair.env())
    assert result.returncode == 1 and "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert "ledger" in line and "colearner repair" in line

    doctor = run_cli(pair.coach_root, "doctor", env=pair.env())
    assert doctor.returncode == 1 and "Traceback" not in doctor.stderr
    assert "[!!] ledger integrity" in doctor.stdout and "colearner repair" in doctor.stdout

    repaired = run_cli(pair.coach_root, "repair", env=pair.env())
    assert repaired.returncode == 0, repaired.stderr + repaired.stdout
    assert "set the damaged ledger aside" in repaired.stdout and "rebuilt the ledger" in repaired.stdout
    assert list(path.parent.glob("ledger.damaged-*.sqlite"))  # kept, not deleted

    assert run_cli(pair.coach_root, "--offline", "doctor", env=pair.env()).returncode == 0
    result = assign(pair, session_id, "after the repair")
    assert result.returncode == 0, result.stderr
    coach, student = pair.coach(), pair.student()
    sync(student, coach)
    no_seq_reused(student)
    assert coach.state.exercises[first].state == "acknowledged"
    assert last_line(result) in student.state.exercises
    assert count_of(coach, session_id) == count_of(student, session_id)


def test_repair_leaves_a_sound_ledger_alone(live):
    pair, _, _ = live
    result = run_cli(pair.student_root, "repair", env=pair.env())
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "colearner: the ledger passes its integrity check; nothing to repair (pass --force to rebuild it from Kafka anyway)"
    ]
