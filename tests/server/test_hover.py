"""Unit tests: the hover reads as the exercise's thread, newest first, short, nothing repeated."""

from __future__ import annotations

from pathlib import Path

from colearner_lsp.server.coach_review import LocalBlobs
from colearner_lsp.server.hover import coach_markdown, history_of, student_markdown
from tests.records import evidence, feedback, request, response
from tests.server.test_findings import EID, exercise, tracker_at

FIRST = feedback("revise", "2026-01-01T12:00:00Z", "add a test", [{"text": "no test at all"}])
LATEST = feedback(
    "revise",
    "2026-01-02T10:00:00Z",
    "validate it",
    [{"text": "not validated", "path": "app/a.py", "start_line": 4, "end_line": 5}, {"text": "explain why"}],
)


def thread(state: str = "revise", **fields):  # type: ignore[no-untyped-def]
    """Two rounds: answered, revise, answered again, revise again."""
    rounds = dict(
        acknowledged_at="2026-01-01T09:05:00Z",
        responses=[
            response("first answer", "2026-01-01T10:00:00Z", "ev1"),
            response("second answer", "2026-01-02T09:00:00Z"),
        ],
        evidence=[
            evidence(
                "ev1",
                "2026-01-01T10:00:00Z",
                [{"path": "app/a.py", "blob_sha": "0" * 40, "status": "modified"}],
                summary="1 file changed",
                branch="main",
                commit="abcdef1234",
            )
        ],
        feedback=[FIRST, LATEST],
    )
    return exercise(state, **{**rounds, **fields})


def positions(text: str, *parts: str) -> list[int]:
    found = [text.find(part) for part in parts]
    assert -1 not in found, [p for p, at in zip(parts, found) if at == -1]
    return found


def test_student_reads_the_exercise_then_the_latest_feedback_then_the_history() -> None:
    text = student_markdown(thread(), tracker_at(3).get(EID))
    order = positions(
        text,
        "### loops — to revise · next: Respond",
        "fix the loop",
        "**Expected:** a passing test · **Tests:** `pytest`",
        "**Latest feedback** (revise, 2026-01-02 10:00): validate it",
        "- not validated (`app/a.py:4-5`)",
        "- explain why",
        "**History:**",
        "From carol · `app/a.py:3-5` · id `e1234567`",
    )
    assert order == sorted(order)
    history = text[text.index("**History:**") :].splitlines()[0]
    assert history == (
        "**History:** 2026-01-01 00:00 assigned by carol · 09:05 acknowledged · 10:00 answered with evidence · "
        "12:00 feedback: revise · 2026-01-02 09:00 answered"
    )  # the latest feedback is above, in full
    for said in ("validate it", "not validated", "explain why", "fix the loop", "e1234567"):
        assert text.count(said) == 1, said
    assert "no test at all" not in text and EID not in text  # earlier rounds in short; a short id only
    assert len(text.splitlines()) <= 14


def test_open_requests_come_with_the_newest_first() -> None:
    asked = request("r1", "2026-01-03T08:00:00Z", ["app/*.py"], "show the module")
    text = student_markdown(thread(evidence_requests=[asked]), tracker_at(3).get(EID))
    assert text.startswith("### loops — to revise · next: Answer evidence request")
    order = positions(
        text, "**Evidence requested** (2026-01-03 08:00): `app/*.py` — show the module", "**Latest feedback**", "**History:**"
    )
    assert order == sorted(order) and "evidence requested" not in text  # open: shown above, not in the history


def test_coach_reads_the_newest_exchange_first(tmp_path: Path) -> None:
    blobs = LocalBlobs(tmp_path)
    waiting = thread("responded", responses=[*thread().responses, response("third answer", "2026-01-03T09:00:00Z")])
    text = coach_markdown(waiting, tracker_at(3).get(EID), blobs)
    order = positions(
        text,
        "### sam · loops — responded",
        "fix the loop",
        "**Answer** (2026-01-03 09:00):\n\n> third answer",
        "**Your feedback** (revise, 2026-01-02 10:00): validate it",
        "- not validated",
        "**History:**",
        "`app/a.py:3-5` · id `e1234567`",
    )
    assert order == sorted(order)
    assert "second answer" not in text and text.count("third answer") == 1 and text.count("validate it") == 1
    # Revised: the coach's own feedback is the newest, above the answer it was about.
    text = coach_markdown(thread(), tracker_at(3).get(EID), blobs)
    order = positions(text, "**Your feedback** (revise, 2026-01-02 10:00)", "**Answer** (2026-01-02 09:00)", "**Evidence**")
    assert order == sorted(order)


def test_history_leaves_out_what_is_shown_and_counts_the_oldest() -> None:
    ex = thread()
    assert [what for _, what in history_of(ex, [ex.feedback[-1]])][-1] == "answered"
    many = exercise("responded", responses=[response(f"a{i}", f"2026-01-0{1 + i // 10}T10:{i % 10:02d}:00Z") for i in range(12)])
    text = student_markdown(many, tracker_at(3).get(EID))
    line = next(x for x in text.splitlines() if x.startswith("**History:**"))
    assert line.startswith("**History:** 5 earlier · ") and line.count("answered") == 8
