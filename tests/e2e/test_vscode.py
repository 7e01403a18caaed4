"""The colearner extension in a real VS Code (code-server), driven by headless Chromium.

The workspaces come from fixtures in ``tests/e2e/conftest.py``:

- ``student_with_assignment``: a student checkout that has received an
  exercise; a dict with ``workspace`` (Path), ``path`` (the anchored file,
  relative to the workspace or absolute), ``line`` (1-based line inside the
  anchor) and ``coach_ledger_has_ack`` (callable: True once the coach's
  instance has received the acknowledgement).
- ``coach_with_student``: a coach checkout with one student on its roster;
  a dict with ``workspace`` (Path) and ``student`` (the student's identity).

The extension starts ``python -m colearner_lsp serve`` with this test run's
Python (``colearner.python`` = ``sys.executable``). Screenshots, the drivers'
results and the workbench logs are kept in ``artifacts/e2e/<test>/``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.vscode_harness import (
    CodeServer,
    HarnessError,
    artifact_dir,
    code_server,
    run_driver,
)
from tests.instances import sync
from tests.waiting import until

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

ACK_TIMEOUT_S = 60


@pytest.fixture
def artifacts(request: pytest.FixtureRequest) -> Path:
    return artifact_dir(request.node.name)


@pytest.fixture
def start_vscode(tmp_path: Path, artifacts: Path) -> Iterator[Callable[[], CodeServer]]:
    """Starts code-server with the colearner VSIX installed, inside the test.

    Started from the test body, so that a missing tool or a code-server that
    will not start fails the test (saying to run ./dev setup when something is
    not installed), and so that code-server inherits the environment the
    workspace fixtures set. Stopped, with its language server, afterwards.
    """
    with ExitStack() as running:

        def start() -> CodeServer:
            with harness_failures_fail_the_test():
                return running.enter_context(code_server(tmp_path / "code-server", artifacts=artifacts))

        yield start


def drive(vscode: CodeServer, script: str, params: dict[str, Any], artifacts: Path) -> dict[str, Any]:
    with harness_failures_fail_the_test(vscode):
        return run_driver(script, params, artifacts)


@contextmanager
def harness_failures_fail_the_test(vscode: CodeServer | None = None) -> Iterator[None]:
    """A HarnessError fails the test with its message alone, plus the
    extension's Colearner output (server stderr, LSP trace) when code-server runs."""
    try:
        yield
    except HarnessError as error:
        output = f"\n--- Colearner output (end) ---\n{vscode.colearner_output()}" if vscode else ""
        raise pytest.fail.Exception(f"{error}{output}", pytrace=False) from None


def test_student_acknowledges_exercise_from_its_action_menu(
    student_with_assignment: dict[str, Any], start_vscode: Callable[[], CodeServer], artifacts: Path
) -> None:
    """The exercise shows on its line; its code action menu (Ctrl+.) offers actions, not quick fixes,
    Acknowledge first; that acknowledges it, and the coach receives it."""
    vscode = start_vscode()
    workspace = Path(student_with_assignment["workspace"])
    anchored = workspace / student_with_assignment["path"]
    line = int(student_with_assignment["line"])

    result = drive(
        vscode,
        "student_acknowledge.js",
        {
            "url": vscode.workbench_url(workspace),
            "path": anchored.relative_to(workspace).as_posix(),
            "line": line,
        },
        artifacts,
    )

    # The status bar says what waits for you; the broker only when it is out of reach.
    assert "colearner: 1 to answer" in result["status_bar"], result["status_bar"]
    assert "offline" not in result["status_bar"], result["status_bar"]
    assert result["squiggles"] >= 1, f"no squiggle in the editor: {result}"
    assert result["problem_at_line"], f"no Problems-panel entry at line {line}: {result['problems']}"
    # VS Code heads actions of a kind of their own "More Actions..."; the next move comes first.
    menu = result["menu"]
    assert "Quick Fix" not in menu and menu[:2] == ["More Actions...", "Acknowledge 'loops'"], menu
    assert result["acknowledged_via"] == "Acknowledge 'loops'", result
    with harness_failures_fail_the_test(vscode):
        until(
            student_with_assignment["coach_ledger_has_ack"],
            timeout=ACK_TIMEOUT_S,
            what="the coach's ledger to have the acknowledgement",
            every=0.5,
        )


def test_coach_dashboard_lists_student(coach_with_student: dict[str, Any], start_vscode: Callable[[], CodeServer], artifacts: Path) -> None:
    """ "Colearner: Open Dashboard" renders a row for the student, read from the webview's DOM."""
    vscode = start_vscode()
    student = coach_with_student["student"]

    result = drive(
        vscode,
        "coach_dashboard.js",
        {"url": vscode.workbench_url(Path(coach_with_student["workspace"])), "student": student},
        artifacts,
    )

    assert "colearner: nothing to review" in result["status_bar"], result["status_bar"]
    assert result["headers"][:4] == ["Student", "Stage", "Completion", "Blockers"], result["headers"]
    row = result["row"]
    assert row["student"] == student
    assert row["stage"] == coach_with_student["stage"], row
    assert row["completion"].endswith("%"), row
    assert (artifacts / "dashboard.png").is_file()


def test_wire_text_is_shown_not_interpreted(
    student_with_hostile_text: dict[str, Any], start_vscode: Callable[[], CodeServer], artifacts: Path
) -> None:
    """Escape sequences, BEL, a bidi override and a zero-width space in an exercise read as marks
    in the tree, the Problems panel and the hover (screenshots in the artefacts)."""
    vscode = start_vscode()
    workspace = Path(student_with_hostile_text["workspace"])
    result = drive(
        vscode,
        "student_hostile_text.js",
        {
            "url": vscode.workbench_url(workspace),
            "path": student_with_hostile_text["path"],
            "line": student_with_hostile_text["line"],
            "topic_word": student_with_hostile_text["topic_word"],
        },
        artifacts,
    )

    shown_topic = "loops ␛[31mRED␛[0m⟨U+202E⟩evil"
    assert shown_topic in result["tree_row"], result["tree_row"]
    assert any(shown_topic in row for row in result["problems"]), result["problems"]
    assert shown_topic in result["hover"] and "␛]0;owned␇" in result["hover"] and "⟨U+200B⟩" in result["hover"], result["hover"]
    seen = " ".join([*result["tree_rows"], *result["problems"], result["hover"], result["status_bar"]])
    assert not any(ch in seen for ch in "\x1b\x07\u202e\u200b"), repr(seen)
    for shot in ("01-tree", "02-problems", "03-hover"):
        assert (artifacts / f"{shot}.png").is_file()


ANSWER = "I apply the discount to each price before summing"
VERDICT = "Well done: the discount is applied once"


def test_one_thread_per_exercise_in_both_editors(coach_and_student_with_exercise: dict[str, Any], tmp_path: Path, artifacts: Path) -> None:
    """Issue 18: the exercise's thread shows at its anchor for the student (badge and status bar count
    it); the student's reply from the thread reaches the coach, whose badge and status bar count it;
    the dashboard's link opens the thread; the coach's reply chosen as a pass resolves it on both
    sides. Screenshots of each step in the artefacts (student-0N-*, coach-0N-*)."""
    given = coach_and_student_with_exercise
    pair, exercise_id = given["pair"], given["exercise_id"]
    common = {"path": given["path"], "line": given["line"], "topic": given["topic"], "answer": ANSWER, "verdict": VERDICT}
    with ExitStack() as running:
        with harness_failures_fail_the_test():
            student = running.enter_context(code_server(tmp_path / "student-vscode", artifacts=artifacts / "student-code-server"))
            coach = running.enter_context(code_server(tmp_path / "coach-vscode", artifacts=artifacts / "coach-code-server"))

        answered = drive(
            student,
            "student_thread.js",
            {**common, "url": student.workbench_url(pair.student_root), "phase": "answer"},
            artifacts / "1-student-answers",
        )
        assert answered["status_bar"].endswith("colearner: 1 to answer") and answered["badge"] == "1", answered
        thread = answered["thread"]
        assert "loops" in thread["head"] and exercise_id[:8] in thread["head"] and "Acknowledge" in thread["head"], thread
        assert any("total_value ignores discounts" in c and "carol" in c for c in thread["comments"]), thread
        assert answered["thread_top_line"] in (15, 16, 17), answered["thread_top_line"]  # the zone sits under the anchored lines 12-16
        assert any(ANSWER in c and pair.student_id in c for c in answered["thread_after"]["comments"]), answered["thread_after"]
        assert "nothing to answer" in answered["status_bar_after"] and answered["badge_after"] == "", answered

        def coach_has_answer() -> bool:
            inst = pair.coach()
            try:
                sync(inst)
                return bool(inst.state.exercises[exercise_id].responses)
            finally:
                inst.close()

        with harness_failures_fail_the_test(coach):
            until(coach_has_answer, timeout=ACK_TIMEOUT_S, what="the coach's ledger to have the answer", every=0.5)

        reviewed = drive(
            coach,
            "coach_thread.js",
            {**common, "url": coach.workbench_url(pair.coach_root), "exercise_id": exercise_id},
            artifacts / "2-coach-passes",
        )
        assert "1 to review" in reviewed["status_bar"] and reviewed["badge"] == "1", reviewed
        assert reviewed["headings"][0].startswith("Answers waiting for your review (1)"), reviewed["headings"]
        assert ANSWER in reviewed["review"] and pair.student_id in reviewed["review"], reviewed["review"]
        assert reviewed["link_href"].startswith("command:colearner.ui.openThread?"), reviewed["link_href"]
        assert any(ANSWER in c for c in reviewed["thread"]["comments"]), reviewed["thread"]
        assert "Review" in reviewed["thread"]["head"], reviewed["thread"]
        assert [c for c in reviewed["choices"] if "Pass" in c] and [c for c in reviewed["choices"] if "revision" in c], reviewed["choices"]
        after = reviewed["thread_after"]
        assert any(VERDICT in c and "pass" in c for c in after["comments"]) and "passed" in after["head"], after
        assert not after["can_reply"], after
        assert "nothing to review" in reviewed["status_bar_after"] and reviewed["badge_after"] == "", reviewed
        # The Comments panel marks the thread resolved (its icon loses the unresolved dot).
        (row,) = [r for r in reviewed["comments_panel"] if "total_value ignores discounts" in r["text"]]
        icons = " ".join(row["html_icons"])
        assert "codicon-comment" in icons and "comment-unresolved" not in icons, row

        resolved = drive(
            student,
            "student_thread.js",
            {**common, "url": student.workbench_url(pair.student_root), "phase": "passed"},
            artifacts / "3-student-sees-the-pass",
        )
        assert "nothing to answer" in resolved["status_bar"], resolved
        assert "passed" in resolved["thread"]["head"] and not resolved["thread"]["can_reply"], resolved["thread"]
        assert [c for c in resolved["thread"]["comments"] if VERDICT in c], resolved["thread"]
        assert [c for c in resolved["thread"]["comments"] if ANSWER in c], resolved["thread"]


def test_a_mistake_elsewhere_is_a_thread_that_replies_into_the_exercise(
    student_with_revise: dict[str, Any], start_vscode: Callable[[], CodeServer], artifacts: Path
) -> None:
    """After a revise with a mistake on the exercise's lines and one on lines 18-19, the student has the
    exercise's thread (its feedback lists both) and a thread at lines 18-19 for the other mistake; a
    reply from that one is an answer to the exercise, after which its mark goes."""
    given = student_with_revise
    vscode = start_vscode()
    answer = "Fixed: low_stock uses the shared threshold"
    result = drive(
        vscode,
        "student_mistake.js",
        {
            "url": vscode.workbench_url(given["pair"].student_root),
            "path": given["path"],
            "topic": given["topic"],
            "here": given["here"],
            "elsewhere": given["elsewhere"],
            "answer": answer,
        },
        artifacts,
    )
    assert result["threads"] == 2, result
    mistake, exercise = result["mistake_thread"], result["exercise_thread"]
    assert mistake["head"].startswith("Mistake in loops") and any(given["elsewhere"] in c for c in mistake["comments"]), mistake
    assert not any(given["here"] in c for c in mistake["comments"]), mistake
    assert result["mistake_after_line"] in (19, 20), result["mistake_after_line"]  # the zone sits under lines 18-19
    feedback = [c for c in exercise["comments"] if "feedback: revise" in c]
    assert feedback and given["here"] in feedback[0] and "apply an optional discount" in feedback[0], exercise
    assert [c for c in result["exercise_after"]["comments"] if answer in c], result["exercise_after"]
    assert result["threads_after"] == 1 and "nothing to answer" in result["status_bar_after"], result


@pytest.mark.parametrize("via", ["lens", "palette"])
def test_response_document_lists_the_changed_file_and_sends(
    via: str, student_with_changed_file: dict[str, Any], start_vscode: Callable[[], CodeServer], artifacts: Path
) -> None:
    """The exercise's "Respond" lens, or "Colearner: Respond to Exercise…" on its lines, opens its
    response document, named after the topic, listing the changed anchored file as evidence, with
    its "Send response" lens; the answer written there goes to the coach with that file. The lens's
    delay after the tab is in result.json (a figure, not a check)."""
    given = student_with_changed_file
    pair, exercise_id = given["pair"], given["exercise_id"]
    vscode = start_vscode()
    answer = "I apply the discount before summing"
    result = drive(
        vscode,
        "student_response_document.js",
        {
            "url": vscode.workbench_url(pair.student_root),
            "workspace": str(pair.student_root),
            "path": given["path"],
            "line": given["line"],
            "topic": given["topic"],
            "answer": answer,
            "via": via,
        },
        artifacts,
    )
    assert result["respond_lens"].endswith("Respond"), result["respond_lens"]
    assert result["tab"].startswith(f"loops-{exercise_id.replace('-', '')[:8]}.md"), result["tab"]
    assert result["evidence_shown"] is True, result
    assert "nothing to answer" in result["status_bar_after"], result
    seen: dict[str, Any] = {}

    def coach_has_answer() -> bool:
        inst = pair.coach()
        try:
            sync(inst)
            seen["exercise"] = inst.state.exercises[exercise_id]
            return bool(seen["exercise"].responses)
        finally:
            inst.close()

    with harness_failures_fail_the_test(vscode):
        until(coach_has_answer, timeout=ACK_TIMEOUT_S, what="the coach's ledger to have the answer", every=0.5)
    ex = seen["exercise"]
    assert ex.responses[-1].text == answer and [f.path for f in ex.evidence[-1].snapshot.files] == [given["path"]], ex


def test_coach_passes_from_the_action_menu_and_the_review_lens_goes(
    coach_with_answer: dict[str, Any], start_vscode: Callable[[], CodeServer], artifacts: Path
) -> None:
    """The coach's lens says an answer waits; the action menu offers Pass first (not as a quick fix);
    after the pass the lens no longer offers a review."""
    given = coach_with_answer
    pair = given["pair"]
    vscode = start_vscode()
    result = drive(
        vscode,
        "coach_pass.js",
        {"url": vscode.workbench_url(pair.coach_root), "path": given["path"], "line": given["line"]},
        artifacts,
    )
    assert result["lens_before"] == "colearner · sam · loops · responded · review: see the code actions", result
    menu = result["menu"]
    assert "Quick Fix" not in menu and menu[:3] == ["More Actions...", "Pass 'loops' (sam)", "Request revision of 'loops' (sam)"], menu
    assert result["passed_via"] == "Pass 'loops' (sam)" and "nothing to review" in result["status_bar_after"], result
    assert not [lens for lens in result["lenses_after"] if "review" in lens], result["lenses_after"]
