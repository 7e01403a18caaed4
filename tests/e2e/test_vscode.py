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
    wait_until,
)

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


def test_student_acknowledges_exercise_with_quick_fix(
    student_with_assignment: dict[str, Any], start_vscode: Callable[[], CodeServer], artifacts: Path
) -> None:
    """The exercise shows on its line; the quick fix acknowledges it, and the coach receives it."""
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

    assert "colearner: student" in result["status_bar"], result["status_bar"]
    assert "connected" in result["status_bar"], result["status_bar"]
    assert result["squiggles"] >= 1, f"no squiggle in the editor: {result}"
    assert result["problem_at_line"], f"no Problems-panel entry at line {line}: {result['problems']}"
    assert any("Acknowledge" in fix for fix in result["quick_fixes"]), result["quick_fixes"]
    with harness_failures_fail_the_test(vscode):
        wait_until(student_with_assignment["coach_ledger_has_ack"], ACK_TIMEOUT_S, "the coach's ledger has the acknowledgement")


def test_coach_dashboard_lists_student(
    coach_with_student: dict[str, Any], start_vscode: Callable[[], CodeServer], artifacts: Path
) -> None:
    """"Colearner: Open Dashboard" renders a row for the student, read from the webview's DOM."""
    vscode = start_vscode()
    student = coach_with_student["student"]

    result = drive(
        vscode,
        "coach_dashboard.js",
        {"url": vscode.workbench_url(Path(coach_with_student["workspace"])), "student": student},
        artifacts,
    )

    assert "colearner: coach" in result["status_bar"], result["status_bar"]
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
