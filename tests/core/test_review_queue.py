"""The queue of answers waiting for the coach's review: across students, the oldest first."""

from __future__ import annotations

from colearner_lsp.core.model.state import ExerciseState
from colearner_lsp.core.review.work import queue_of, unreviewed_evidence
from tests.exercises import answered, exercise_state
from tests.records import feedback


def exercise(n: int, student: str, state: str, responded_at: str | None, coach: str = "carol") -> ExerciseState:
    ex = exercise_state(f"ex-{n}", student, state, coach=coach, topic=f"topic {n}", responded_at=responded_at)
    if responded_at:
        answered(ex, n, responded_at, f"answer {n}", ["app/inventory.py", "README.md"])
    return ex


def test_oldest_first_across_students_only_answers_waiting_only_mine() -> None:
    exercises = [
        exercise(1, "sam", "responded", "2026-01-03T00:00:00.000000Z"),
        exercise(2, "alex", "responded", "2026-01-02T00:00:00.000000Z"),
        exercise(3, "sam", "revise", "2026-01-01T00:00:00.000000Z"),  # the coach has answered already
        exercise(4, "kim", "acknowledged", None),
        exercise(5, "lee", "responded", "2026-01-01T00:00:00.000000Z", coach="another-coach"),
        exercise(6, "alex", "passed", "2026-01-01T00:00:00.000000Z"),
        exercise(7, "bea", "responded", "2026-01-02T00:00:00.000000Z"),
    ]
    queue = queue_of(exercises, "carol")
    assert [(w.student, w.exercise_id) for w in queue] == [("alex", "ex-2"), ("bea", "ex-7"), ("sam", "ex-1")]
    first = queue[0].as_json()
    assert first["waiting_since"] == "2026-01-02T00:00:00.000000Z" and first["files"] == ["app/inventory.py", "README.md"]
    assert first["answer"] == "answer 2" and first["anchor"] == {"path": "app/inventory.py", "start_line": 1, "end_line": 2}


def test_evidence_already_reviewed_is_not_listed_again() -> None:
    ex = exercise(1, "sam", "responded", "2026-01-03T00:00:00.000000Z")
    ex.feedback.append(feedback("revise", "2026-01-04T00:00:00.000000Z"))
    assert unreviewed_evidence(ex) is None
    (waiting,) = queue_of([ex], "carol")
    assert waiting.files == ()


def test_a_thousand_students_waiting() -> None:
    exercises = [
        exercise(n, f"student-{n:04d}", "responded", f"2026-01-01T00:{n // 60 % 60:02d}:{n % 60:02d}.000000Z") for n in range(1000)
    ]
    queue = queue_of(reversed(exercises), "carol")
    assert len(queue) == 1000 and [w.waiting_since for w in queue] == sorted(w.waiting_since for w in queue)
