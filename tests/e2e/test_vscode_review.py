"""Issue 15 in a real VS Code (code-server, headless Chromium), both editors: the coach opens the
diff editor from the code lens and sees the student's added line, adds a mistake from a selection
in the student's version, sends feedback; the student's VS Code shows the warning on the right
line. Screenshots in ``artifacts/e2e/<test>/`` (coach-review-0N-*, student-review-01-*)."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_vscode import ACK_TIMEOUT_S, drive, harness_failures_fail_the_test
from tests.e2e.vscode_harness import artifact_dir, code_server
from tests.instances import Pair, sync
from tests.server.scenario import FILE, assign, cli
from tests.waiting import until

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

ADDED = '        discount = item.get("discount", 0)  # the student\'s added line'
MISTAKE = "low_stock ignores the discount too"
NEXT_STEP = "apply the discount in low_stock as well"


@pytest.fixture
def coach_with_diff_answer(pair: Pair) -> dict[str, Any]:
    """A share: diff session; the student added a line inside total_value (line 14 of their file,
    so low_stock is at 19-20 there) and answered with that file as evidence; the coach has it."""
    session_id = cli(pair, "coach", "session", "start", "--student", pair.student_id)
    cli(pair, "coach", "scope", session_id, "--allow", "**/*.py", "--share", "diff")
    exercise_id = assign(pair, session_id)
    cli(pair, "student", "sync")
    lines = (pair.student_root / FILE).read_text().splitlines(keepends=True)
    lines.insert(13, ADDED + "\n")
    (pair.student_root / FILE).write_text("".join(lines))
    cli(pair, "student", "respond", exercise_id, "the discount is read per item", "--evidence", FILE)
    cli(pair, "coach", "sync")
    return {"pair": pair, "exercise_id": exercise_id}


def test_coach_reviews_the_diff_adds_a_mistake_and_the_student_sees_it(coach_with_diff_answer: dict[str, Any], tmp_path: Path) -> None:
    given = coach_with_diff_answer
    pair, exercise_id = given["pair"], given["exercise_id"]
    artifacts = artifact_dir("test_coach_reviews_the_diff_adds_a_mistake_and_the_student_sees_it")
    with ExitStack() as running:
        with harness_failures_fail_the_test():
            coach = running.enter_context(code_server(tmp_path / "coach-vscode", artifacts=artifacts / "coach-code-server"))
        reviewed = drive(
            coach,
            "coach_review.js",
            {
                "url": coach.workbench_url(pair.coach_root),
                "path": FILE,
                "who": pair.student_id,
                "topic": "loops",
                "added": ADDED,
                "mistake_from": 19,
                "mistake_to": 20,
                "mistake": MISTAKE,
                "next_step": NEXT_STEP,
            },
            artifacts / "1-coach-reviews",
        )
        assert "Waiting for Review" in reviewed["view_titles"], reviewed["view_titles"]
        assert any(f"{pair.student_id} · loops" in row for row in reviewed["sidebar_rows"]), reviewed["sidebar_rows"]
        assert reviewed["opened_from_tree"].startswith("inventory.py"), reviewed["opened_from_tree"]
        assert reviewed["lens"] == f"Show the student's change: {FILE} (sam)", reviewed["lens"]
        assert reviewed["tab"].startswith(f"{FILE} at ") and reviewed["tab"].endswith("↔ sam's version"), reviewed["tab"]
        assert ADDED.strip() in reviewed["modified_text"] and ADDED.strip() not in reviewed["original_text"], reviewed
        assert reviewed["inserted_lines"] >= 1, reviewed
        assert reviewed["unchanged_after_typing"] and "read-only" in reviewed["read_only_message"], reviewed
        assert f"{FILE}:19-20" in reviewed["collected"] and "1 mistake collected" in reviewed["collected"], reviewed["collected"]
        assert reviewed["grades"][0].startswith("revise"), reviewed["grades"]
        assert "feedback sent (revise, 1 mistake)" in reviewed["sent"] and "nothing to review" in reviewed["status_bar_after"], reviewed

        seen: dict[str, Any] = {}

        def coach_sent_it() -> bool:
            inst = pair.coach()
            try:
                seen["feedback"] = inst.state.exercises[exercise_id].latest_feedback
                return seen["feedback"] is not None
            finally:
                inst.close()

        with harness_failures_fail_the_test(coach):
            until(coach_sent_it, timeout=ACK_TIMEOUT_S, what="the coach's ledger to have the feedback", every=0.5)
        feedback = seen["feedback"]
        assert feedback.grade == "revise" and feedback.next_step == NEXT_STEP
        assert [(m.text, m.path, m.start_line, m.end_line) for m in feedback.mistakes] == [(MISTAKE, FILE, 19, 20)]

        def student_has_it() -> bool:
            inst = pair.student()
            try:
                sync(inst)
                return inst.state.exercises[exercise_id].state == "revise"
            finally:
                inst.close()

        with harness_failures_fail_the_test(coach):
            until(student_has_it, timeout=ACK_TIMEOUT_S, what="the student's ledger to have the revise", every=0.5)
        with harness_failures_fail_the_test():
            student = running.enter_context(code_server(tmp_path / "student-vscode", artifacts=artifacts / "student-code-server"))
        warned = drive(
            student,
            "student_review_warning.js",
            {"url": student.workbench_url(pair.student_root), "path": FILE, "line": 19, "mistake": MISTAKE},
            artifacts / "2-student-sees-the-warning",
        )
        assert "[Ln 19, Col 1]" in warned["row"], warned["row"]
        assert any("warning" in icon for icon in warned["row_icons"]), warned["row_icons"]
        assert warned["warning_squiggles"] >= 1, warned
