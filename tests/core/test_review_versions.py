"""The student's version rebuilt on the coach's side, over real git repositories: a coach's
origin, a student's clone, the student's real snapshot (``take_snapshot``), and what the
coach's repository can make of it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from colearner_lsp.core.review.versions import MAX_SHOWN_BYTES, FileChange, display_diff, rebuild_changes
from colearner_lsp.core.sharing.evidence import MAX_DIFF_CHARS, take_snapshot
from colearner_lsp.core.sharing.scope import ScopeRules

DIFF = ScopeRules(allow=("**",), share="diff")
HASHES = ScopeRules(allow=("**",), share="hashes")
LONG = "".join(f"line {n} of the service\n" for n in range(1, 2001))


@pytest.fixture(autouse=True)
def isolated_git(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


def write(repo: Path, path: str, content: str | bytes) -> None:
    full = repo / path
    full.parent.mkdir(parents=True, exist_ok=True)
    full.write_bytes(content.encode() if isinstance(content, str) else content)


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    """(coach's origin, student's clone), one commit with a few files."""
    coach = tmp_path / "coach"
    coach.mkdir()
    git(coach, "init", "-q", "-b", "main")
    git(coach, "config", "user.email", "coach@example.invalid")
    git(coach, "config", "user.name", "Coach")
    for path, text in {
        "app/inventory.py": "def total(items):\n    total = 0\n    for item in items:\n        total += item\n    return total\n",
        "app/long.py": LONG,
        "app/old_name.py": "OLD = 1\nTWO = 2\n",
        "app/gone.py": "bye\n",
        "crlf.txt": "one\r\ntwo\r\n",
        "no_newline.txt": "one\ntwo",
        "logo.bin": b"\x89PNG\0\0\x01\x02",
        "with space.py": "x = 1\n",
    }.items():
        write(coach, path, text)
    git(coach, "add", "-A")
    git(coach, "commit", "-q", "-m", "initial")
    student = tmp_path / "student"
    git(tmp_path, "clone", "-q", str(coach), str(student))
    git(student, "config", "user.email", "student@example.invalid")
    git(student, "config", "user.name", "Student")
    return coach, student


def head(repo: Path) -> str:
    return git(repo, "rev-parse", "HEAD").strip()


def rebuilt(coach: Path, snapshot: dict, bases: list[str]) -> dict[str, FileChange]:
    return {change.path: change for change in rebuild_changes(coach, snapshot, bases)}


def on_disk(repo: Path, path: str) -> str:
    return (repo / path).read_bytes().decode()


def test_the_shared_diff_rebuilds_every_kind_of_text_change_exactly(pair: tuple[Path, Path]) -> None:
    coach, student = pair
    base = head(coach)
    write(student, "app/inventory.py", on_disk(student, "app/inventory.py").replace("total = 0", "total = 0.0  # a float"))
    write(student, "app/long.py", "".join(f"changed {n}\n" if n % 10 == 0 else f"line {n} of the service\n" for n in range(1, 2001)))
    write(student, "crlf.txt", "one\r\ntwo and a half\r\n")
    write(student, "no_newline.txt", "one\ntwo, still no newline")
    write(student, "with space.py", "x = 2\n")
    write(student, "app/new_untracked.py", "print('new')\n")
    write(student, "app/empty_new.py", "")
    git(student, "mv", "app/old_name.py", "app/new_name.py")
    write(student, "app/new_name.py", "OLD = 1\nTWO = 2\nTHREE = 3\n")
    git(student, "rm", "-q", "app/gone.py")
    snapshot = take_snapshot(student, DIFF, since_commit=base)
    changes = rebuilt(coach, snapshot, [base])
    for path in (
        "app/inventory.py",
        "app/long.py",
        "crlf.txt",
        "no_newline.txt",
        "with space.py",
        "app/new_untracked.py",
        "app/new_name.py",
    ):
        change = changes[path]
        assert change.rebuilt and change.source == "diff", (path, change.reason)
        assert change.student == on_disk(student, path), path
        assert change.base_commit == base
    assert changes["app/inventory.py"].base == on_disk(coach, "app/inventory.py")
    assert changes["app/new_name.py"].base == on_disk(coach, "app/old_name.py")
    assert changes["app/new_name.py"].notes == ("renamed from app/old_name.py",)
    assert changes["app/new_untracked.py"].base is None and "untracked" in changes["app/new_untracked.py"].notes[0]
    gone = changes["app/gone.py"]
    assert gone.source == "deleted" and gone.student is None and gone.base == "bye\n" and gone.notes == ("deleted by the student",)
    assert "+++ /dev/null" in (display_diff(gone) or "")
    assert changes["app/empty_new.py"].student == ""
    # the coach's working tree is untouched
    assert git(coach, "status", "--porcelain") == ""


def test_a_2000_line_file_with_200_changed_lines(pair: tuple[Path, Path]) -> None:
    coach, student = pair
    base = head(coach)
    text = "".join(f"changed {n}\n" if n % 10 == 0 else f"line {n} of the service\n" for n in range(1, 2001))
    write(student, "app/long.py", text)
    snapshot = take_snapshot(student, DIFF, paths=["app/long.py"], since_commit=base)
    (change,) = rebuild_changes(coach, snapshot, [base])
    assert change.student == text and change.base == LONG


def test_hashes_only_says_which_share_mode_or_fetch_would_do(pair: tuple[Path, Path]) -> None:
    coach, student = pair
    base = head(coach)
    write(student, "app/inventory.py", "changed\n")
    snapshot = take_snapshot(student, HASHES, since_commit=base)
    (change,) = rebuild_changes(coach, snapshot, [base])
    assert not change.rebuilt and change.student is None
    assert (
        change.reason is not None and "share: hashes" in change.reason and "--share diff" in change.reason and "git fetch" in change.reason
    )
    assert change.base == on_disk(coach, "app/inventory.py")  # the base is still shown
    diffstat = take_snapshot(student, ScopeRules(allow=("**",), share="diffstat"), since_commit=base)
    assert "share: diffstat" in (rebuild_changes(coach, diffstat, [base])[0].reason or "")


def test_the_blob_after_a_fetch_serves_without_any_diff(pair: tuple[Path, Path]) -> None:
    coach, student = pair
    base = head(coach)
    write(student, "app/inventory.py", "committed by the student\n")
    write(student, "logo.bin", b"\x89PNG\0\0\x03")
    git(student, "commit", "-q", "-am", "work")
    snapshot = take_snapshot(student, HASHES, since_commit=base)
    assert not rebuilt(coach, snapshot, [base])["app/inventory.py"].rebuilt
    git(coach, "fetch", "-q", str(student), "main:student-main")
    changes = rebuilt(coach, snapshot, [base, snapshot["commit"]])
    change = changes["app/inventory.py"]
    assert change.source == "blob" and change.student == "committed by the student\n"
    assert change.base == on_disk(coach, "app/inventory.py")
    logo = changes["logo.bin"]  # binary: named as such, not shown as text
    assert not logo.rebuilt and "binary" in (logo.reason or "") and logo.student is None
    assert git(coach, "status", "--porcelain") == ""


def test_base_commit_not_in_the_coach_repository(pair: tuple[Path, Path]) -> None:
    coach, student = pair
    write(student, "app/inventory.py", "first\n")
    git(student, "commit", "-q", "-am", "local commit the coach never saw")
    write(student, "app/inventory.py", "second\n")
    snapshot = take_snapshot(student, DIFF)  # against the student's own HEAD
    (change,) = rebuild_changes(coach, snapshot, [snapshot["commit"]])
    assert not change.rebuilt
    assert f"base commit ({snapshot['commit'][:7]}) is not in your repository" in (change.reason or "")
    assert "git fetch" in (change.reason or "")


def test_the_index_line_picks_the_right_base(pair: tuple[Path, Path]) -> None:
    """Of the exercise's commit and the student's HEAD, the one the diff was made against."""
    coach, student = pair
    first = head(coach)
    write(coach, "app/inventory.py", "the coach moved on\n")
    git(coach, "commit", "-q", "-am", "coach's next commit")
    git(student, "pull", "-q")
    second = head(student)
    write(student, "app/inventory.py", "the coach moved on\nand the student added\n")
    snapshot = take_snapshot(student, DIFF)  # against the student's HEAD = second
    (change,) = rebuild_changes(coach, snapshot, [first, second])
    assert change.base_commit == second and change.student == on_disk(student, "app/inventory.py")


def test_binary_change_through_the_diff(pair: tuple[Path, Path]) -> None:
    coach, student = pair
    base = head(coach)
    write(student, "logo.bin", b"\x89PNG\0\0\x09")
    snapshot = take_snapshot(student, DIFF, since_commit=base)
    (change,) = rebuild_changes(coach, snapshot, [base])
    assert not change.rebuilt and "binary file" in (change.reason or "")


def test_a_file_too_large_to_show(pair: tuple[Path, Path]) -> None:
    coach, student = pair
    base = head(coach)
    write(student, "big.txt", "x" * (MAX_SHOWN_BYTES + 10) + "\n")
    git(student, "add", "big.txt")
    git(student, "commit", "-q", "-m", "big")
    git(coach, "fetch", "-q", str(student), "main:student-main")
    snapshot = take_snapshot(student, DIFF, since_commit=base)
    (change,) = rebuild_changes(coach, snapshot, [base])
    assert not change.rebuilt and f"more than the {MAX_SHOWN_BYTES:,} shown here" in (change.reason or "")


def test_a_diff_cut_at_the_size_limit(pair: tuple[Path, Path]) -> None:
    coach, student = pair
    base = head(coach)
    block = "".join(f"{n:06d} " + "y" * 90 + "\n" for n in range(2000))  # ~200,000 characters a file
    for n in range(4):
        write(student, f"bulk/{n}.txt", block)
    snapshot = take_snapshot(student, DIFF, since_commit=base)
    assert len(snapshot["diff"]) <= MAX_DIFF_CHARS
    changes = rebuilt(coach, snapshot, [base])
    shown = [c for c in changes.values() if c.rebuilt]
    cut = [c for c in changes.values() if not c.rebuilt]
    assert shown and cut
    for change in shown:
        assert change.student == block
    for change in cut:
        assert "cut at its size limit" in (change.reason or "") and f"--path {change.path}" in (change.reason or "")


def test_a_diff_that_does_not_apply_or_does_not_rebuild_the_file(pair: tuple[Path, Path]) -> None:
    coach, student = pair
    base = head(coach)
    write(student, "app/inventory.py", on_disk(student, "app/inventory.py").replace("return total", "return round(total)"))
    snapshot = take_snapshot(student, DIFF, since_commit=base)
    wrong_context = dict(snapshot, diff=snapshot["diff"].replace(" total = 0", " total = 7"))
    (change,) = rebuild_changes(coach, wrong_context, [base])
    assert not change.rebuilt and "does not apply" in (change.reason or "")
    wrong_result = dict(snapshot, diff=snapshot["diff"].replace("+    return round(total)", "+    return total + 1"))
    (change,) = rebuild_changes(coach, wrong_result, [base])
    assert not change.rebuilt and "blob id differs" in (change.reason or "")
    garbage = dict(snapshot, diff="diff --git a/app/inventory.py b/app/inventory.py\n@@ nonsense\n")
    (change,) = rebuild_changes(coach, garbage, [base])
    assert not change.rebuilt and "cannot be read" in (change.reason or "")


def test_hostile_names_and_commits_are_never_looked_up(pair: tuple[Path, Path]) -> None:
    coach, student = pair
    base = head(coach)
    entry = {"blob_sha": "", "size": 1, "lines": 1, "status": "modified"}
    files = [
        {**entry, "path": path}
        for path in ("../outside.py", "/etc/passwd", ".git/config", "a\nb", "app/\x1b[2J.py", "C:/x", "app/../../x", ".GIT/HEAD")
    ]
    snapshot = {"files": files, "diff": None, "diffstat": None}
    changes = rebuild_changes(coach, snapshot, [base, "--output=/tmp/x", "HEAD", "main"])
    assert changes == []  # every one refused by its text alone, the control characters too
    (change,) = rebuild_changes(coach, {"files": [{**entry, "path": "app/inventory.py"}], "diff": None}, ["--all", "HEAD\nx", "HEAD"])
    assert change.base_commit is None and change.base is None and "share: hashes" in (change.reason or "")


def test_the_working_tree_of_the_coach_is_never_read(pair: tuple[Path, Path]) -> None:
    """A coach with uncommitted edits still sees the base as committed."""
    coach, student = pair
    base = head(coach)
    write(coach, "app/inventory.py", "the coach's own draft\n")
    write(student, "app/inventory.py", on_disk(student, "app/inventory.py") + "# student\n")
    snapshot = take_snapshot(student, DIFF, since_commit=base)
    (change,) = rebuild_changes(coach, snapshot, [base])
    assert change.base == git(coach, "show", f"{base}:app/inventory.py")
    assert change.student == on_disk(student, "app/inventory.py")
    assert on_disk(coach, "app/inventory.py") == "the coach's own draft\n"


def test_not_a_git_repository(tmp_path: Path) -> None:
    from colearner_lsp.core.errors import ColearnerError

    snapshot = {"files": [{"path": "a.py", "blob_sha": "0" * 40, "size": 1, "lines": 1, "status": "modified"}], "diff": None}
    os.environ.pop("GIT_DIR", None)
    with pytest.raises(ColearnerError, match="git cat-file failed"):
        rebuild_changes(tmp_path, snapshot, ["0" * 40])
