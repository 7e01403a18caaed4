"""``colearner review`` on a real pair (coach's origin, student's clone, real broker, the real
command): the queue, one exercise's answer, evidence and diff, the reasons when the student's
version cannot be rebuilt, colour only on a terminal, and bad input as one line."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.test_cli import mistake
from tests.cli.test_hostile_text import terminal_output
from tests.instances import Pair, add_student, last_line, run_cli
from tests.repos import git

FILE = "app/inventory.py"
ADDED = "    # the student's added line"


def cli(pair: Pair, who: str, *args: str, root: Path | None = None) -> str:
    cwd = root or (pair.coach_root if who == "coach" else pair.student_root)
    result = run_cli(cwd, *args, env=pair.env())
    assert result.returncode == 0, f"colearner {' '.join(args)}: {result.stderr}"
    return result.stdout


def last_line_of(out: str) -> str:
    return out.strip().splitlines()[-1]


def assign(pair: Pair, share: str, student: str | None = None) -> str:
    session_id = last_line_of(cli(pair, "coach", "session", "start", "--student", student or pair.student_id))
    cli(pair, "coach", "scope", session_id, "--allow", "**", "--share", share)
    out = cli(
        pair,
        "coach",
        "assign",
        session_id,
        "--topic",
        f"loops-{share}",
        "--exercise",
        "make it",
        "--expected",
        "x",
        "--file",
        FILE,
        "--lines",
        "5-8",
    )
    return last_line_of(out)


def student_edits(root: Path) -> str:
    text = (root / FILE).read_text()
    lines = text.splitlines(keepends=True)
    lines.insert(6, ADDED + "\n")
    (root / FILE).write_text("".join(lines))
    (root / "app/discount.py").write_text("RATE = 0.1\n")
    return "".join(lines)


def test_the_queue_and_one_review_with_the_diff(pair: Pair) -> None:
    exercise_id = assign(pair, "diff")
    cli(pair, "student", "sync")
    edited = student_edits(pair.student_root)
    cli(pair, "student", "respond", exercise_id, "added the discount", "--evidence", ".")

    queue = cli(pair, "coach", "review")
    assert "1 answer waiting for your review, oldest first" in queue
    row = next(line for line in queue.splitlines() if exercise_id[:8] in line)
    assert pair.student_id in row and "loops-diff" in row and FILE in row and "app/discount.py" in row
    data = json.loads(cli(pair, "coach", "review", "--json"))
    (waiting,) = data["waiting"]
    assert (
        waiting["exercise_id"] == exercise_id
        and waiting["student"] == pair.student_id
        and set(waiting["files"]) == {FILE, "app/discount.py"}
    )

    shown = cli(pair, "coach", "review", exercise_id[:8])
    assert "added the discount" in shown and "evidence (" in shown and "2 files" in shown
    assert f"{FILE}  modified  rebuilt from the shared diff" in shown
    assert "app/discount.py  untracked  a new file, not yet added to git (untracked)  rebuilt from the shared diff" in shown
    assert f"+{ADDED}" in shown and "\x1b[" not in shown  # piped: plain
    review = json.loads(cli(pair, "coach", "review", exercise_id, "--json"))
    files = {f["path"]: f for f in review["evidence"]["files"]}
    assert files[FILE]["rebuilt"] and files[FILE]["source"] == "diff" and f"+{ADDED}" in files[FILE]["diff"]
    assert review["answer"]["text"] == "added the discount" and review["student"] == pair.student_id
    assert git(pair.coach_root, "status", "--porcelain") == ""  # the coach's checkout untouched
    assert (pair.coach_root / FILE).read_text() != edited

    # Reviewed: the queue empties.
    cli(pair, "coach", "feedback", exercise_id, "--grade", "pass", "--next-step", "go on", "--confidence-delta", "0.1")
    assert "no answer is waiting for your review" in cli(pair, "coach", "review")


def test_reasons_when_the_version_cannot_be_rebuilt(pair: Pair, tmp_path: Path) -> None:
    # share: hashes, nothing fetched: the share mode and the fetch that would do
    hashes_id = assign(pair, "hashes")
    cli(pair, "student", "sync")
    student_edits(pair.student_root)
    cli(pair, "student", "respond", hashes_id, "done", "--evidence", FILE)
    shown = cli(pair, "coach", "review", hashes_id)
    assert "cannot be shown" in shown
    assert "the scope shares hashes only (share: hashes)" in shown and "--share diff" in shown and "git fetch" in shown

    # share: diff, but the student's base is a commit of their own the coach never fetched
    alex = add_student(pair, tmp_path, "alex")
    (alex / FILE).write_text((alex / FILE).read_text() + "# alex's own line\n")
    git(alex, "commit", "-q", "-am", "alex's own commit")
    (pair.coach_root / "README.md").write_text("# inventory, moved on\n")
    git(pair.coach_root, "commit", "-q", "-am", "a commit alex does not have")
    diff_id = assign(pair, "diff", "alex")
    cli(pair, "alex", "sync", root=alex)
    student_edits(alex)
    cli(pair, "alex", "respond", diff_id, "done", "--evidence", FILE, root=alex)
    shown = cli(pair, "coach", "review", diff_id)
    alex_head = git(alex, "rev-parse", "HEAD").strip()
    assert f"the student's base commit ({alex_head[:7]}) is not in your repository; run git fetch" in shown
    # ... and once fetched, the same evidence shows
    git(pair.coach_root, "fetch", "-q", str(alex), "main:alex-main")
    shown = cli(pair, "coach", "review", diff_id)
    assert "rebuilt from the shared diff" in shown and f"+{ADDED}" in shown


def test_colour_on_a_terminal(pair: Pair) -> None:
    exercise_id = assign(pair, "diff")
    cli(pair, "student", "sync")
    student_edits(pair.student_root)
    cli(pair, "student", "respond", exercise_id, "done", "--evidence", FILE)
    cli(pair, "coach", "sync")
    out = on_a_terminal(pair.coach_root, "--offline", "review", exercise_id, env=pair.env())
    assert f"\x1b[32m+{ADDED}\x1b[0m" in out and "\x1b[36m@@" in out
    plain = on_a_terminal(pair.coach_root, "--offline", "review", exercise_id, env={**pair.env(), "NO_COLOR": "1"})
    assert "\x1b[" not in plain and f"+{ADDED}" in plain


def on_a_terminal(cwd: Path, *args: str, env: dict[str, str]) -> str:
    """What the command prints when its stdout is a terminal (a pseudo-terminal)."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "colearner_lsp", *args], cwd=cwd, env=env, stdout=follower, stderr=subprocess.PIPE)
    os.close(follower)
    out = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the other end closed
            break
        if not chunk:
            break
        out += chunk
    proc.wait(60)
    os.close(leader)
    assert proc.returncode == 0, proc.stderr.read().decode() if proc.stderr else ""
    return out.decode().replace("\r\n", "\n")


def test_wire_text_in_the_answer_and_the_diff_is_shown_not_obeyed(pair: Pair) -> None:
    evil = "\x1b[2J\x1b]0;pwned\x07\u202eevil"
    exercise_id = assign(pair, "diff")
    cli(pair, "student", "sync")
    (pair.student_root / FILE).write_text((pair.student_root / FILE).read_text() + f"# {evil}\n")
    cli(pair, "student", "respond", exercise_id, f"answer {evil}", "--evidence", FILE)
    cli(pair, "coach", "sync")
    for args in (("review",), ("review", exercise_id), ("review", exercise_id, "--json")):
        out = terminal_output(pair.coach_root, "--offline", *args, env=pair.env())
        if "--json" not in args and len(args) == 2:
            assert "␛[2J" in out and "⟨U+202E⟩evil" in out


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("review", "no-such-exercise"), "no exercise 'no-such-exercise' here"),
        (("review", "--evidence", "abc"), "give the EXERCISE too"),
        (("review", "\x1b[2J"), "no exercise"),
    ],
)
def test_bad_input_is_one_line(pair: Pair, args: tuple[str, ...], says: str) -> None:
    mistake(pair.coach_root, "--offline", *args, env=pair.env(), says=says)


def test_unknown_evidence_and_the_student_side(pair: Pair) -> None:
    exercise_id = assign(pair, "diff")
    mistake(pair.coach_root, "--offline", "review", exercise_id, "--evidence", "nope", env=pair.env(), says="has no evidence 'nope'")
    mistake(pair.student_root, "--offline", "review", env=pair.env(), says="'review' is for a coach")
    assert last_line(run_cli(pair.coach_root, "--offline", "review", exercise_id, env=pair.env())) == "no evidence attached"
