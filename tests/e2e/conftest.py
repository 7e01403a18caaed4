"""Workspaces for the VS Code tests, built with the real CLI, instances and broker."""

from __future__ import annotations

from typing import Any

import pytest

from tests.instances import Pair, sync
from tests.server.scenario import FILE, assign, cli, start_session


@pytest.fixture
def student_with_assignment(pair: Pair) -> dict[str, Any]:
    """The student's checkout after the coach assigned an exercise on app/inventory.py:12-16."""
    session_id = start_session(pair)
    exercise_id = assign(pair, session_id)

    def coach_ledger_has_ack() -> bool:
        coach = pair.coach()
        try:
            sync(coach)
            return coach.state.exercises[exercise_id].acknowledged_at is not None
        finally:
            coach.close()

    return {"workspace": pair.student_root, "path": FILE, "line": 12, "coach_ledger_has_ack": coach_ledger_has_ack}


@pytest.fixture
def coach_with_student(pair: Pair) -> dict[str, Any]:
    """The coach's checkout with one student who acknowledged an exercise (stage practice)."""
    session_id = start_session(pair)
    cli(pair, "coach", "plan", session_id, "--goal", "read the service", "--step", "step-1:loops")
    exercise_id = assign(pair, session_id)
    cli(pair, "student", "ack", exercise_id)
    return {"workspace": pair.coach_root, "student": pair.student_id, "stage": "practice"}


HOSTILE_TOPIC = "loops \x1b[31mRED\x1b[0m\u202eevil"
HOSTILE_EXERCISE = "Explain \x1b]0;owned\x07 total_value\u200b; ring\x07"


@pytest.fixture
def student_with_hostile_text(pair: Pair) -> dict[str, Any]:
    """The student's checkout after an exercise whose topic and text hold escape sequences,
    a bidirectional override, BEL and a zero-width space."""
    session_id = start_session(pair)
    cli(
        pair,
        "coach",
        "assign",
        session_id,
        "--topic",
        HOSTILE_TOPIC,
        "--exercise",
        HOSTILE_EXERCISE,
        "--expected",
        "a paragraph",
        "--file",
        FILE,
        "--lines",
        "12-16",
    )
    return {"workspace": pair.student_root, "path": FILE, "line": 12, "topic_word": "RED"}


@pytest.fixture
def coach_and_student_with_exercise(pair: Pair) -> dict[str, Any]:
    """Both checkouts after the coach assigned an exercise on app/inventory.py:12-16 (not yet acknowledged)."""
    session_id = start_session(pair)
    exercise_id = assign(pair, session_id)
    return {"pair": pair, "exercise_id": exercise_id, "path": FILE, "line": 12, "topic": "loops"}


MISTAKE_HERE = "the discount is not validated"  # lines 13-14, inside the exercise's 12-16
MISTAKE_ELSEWHERE = "low_stock should use the same threshold"  # lines 18-19


@pytest.fixture
def student_with_revise(pair: Pair) -> dict[str, Any]:
    """The student's checkout after one round: answered, then sent back with a mistake on the
    exercise's lines and one on lines 18-19."""
    session_id = start_session(pair)
    exercise_id = assign(pair, session_id)
    cli(pair, "student", "ack", exercise_id)
    cli(pair, "student", "respond", exercise_id, "I sum price times qty")
    cli(pair, "coach", "sync")
    cli(
        pair,
        "coach",
        "feedback",
        exercise_id,
        "--grade",
        "revise",
        "--next-step",
        "apply an optional discount",
        "--confidence-delta",
        "-0.1",
        "--mistake",
        f"{FILE}:13-14: {MISTAKE_HERE}",
        "--mistake",
        f"{FILE}:18-19: {MISTAKE_ELSEWHERE}",
    )
    return {"pair": pair, "exercise_id": exercise_id, "path": FILE, "topic": "loops", "here": MISTAKE_HERE, "elsewhere": MISTAKE_ELSEWHERE}


@pytest.fixture
def student_with_changed_file(pair: Pair) -> dict[str, Any]:
    """The student's checkout after acknowledging an exercise on app/inventory.py:12-16 and
    changing that file (not committed); the scope shares Python files."""
    session_id = start_session(pair)
    exercise_id = assign(pair, session_id)
    cli(pair, "student", "ack", exercise_id)
    anchored = pair.student_root / FILE
    anchored.write_text(anchored.read_text().replace("total = 0", "total = 0.0"))
    return {"pair": pair, "exercise_id": exercise_id, "path": FILE, "line": 12, "topic": "loops"}


@pytest.fixture
def coach_with_answer(pair: Pair) -> dict[str, Any]:
    """The coach's checkout once the student answered an exercise on app/inventory.py:12-16."""
    session_id = start_session(pair)
    exercise_id = assign(pair, session_id)
    cli(pair, "student", "respond", exercise_id, "I sum price times qty")
    cli(pair, "coach", "sync")
    return {"pair": pair, "exercise_id": exercise_id, "path": FILE, "line": 12}
