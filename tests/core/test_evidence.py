"""Evidence snapshots, taken from real git repositories."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from colearner_lsp.core.sharing import evidence
from colearner_lsp.core.sharing.evidence import (
    MAX_DIFF_CHARS,
    EvidenceError,
    EvidencePreview,
    Withheld,
    blob_sha_of,
    candidate_paths,
    preview_snapshot,
    snapshot_with_preview,
    take_snapshot,
)
from colearner_lsp.core.sharing.scope import ScopeRules, plan_share

EVERYTHING = ScopeRules(allow=("**",))


@pytest.fixture(autouse=True)
def isolated_git(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No user or system git config (autocrlf, attributes) leaks into the tests."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        monkeypatch.delenv(name, raising=False)


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


def write(repo: Path, path: str, content: str | bytes) -> Path:
    full = repo / path
    full.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        content = content.encode()
    full.write_bytes(content)
    return full


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "work"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "student@example.invalid")
    git(root, "config", "user.name", "Student")
    git(root, "config", "commit.gpgsign", "false")
    return root


def commit_all(repo: Path, message: str = "work") -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD").strip()


def by_path(snapshot: dict) -> dict[str, dict]:
    return {entry["path"]: entry for entry in snapshot["files"]}


# --- Blob hashes -------------------------------------------------------------

CONTENTS = {
    "text.py": b"def f():\n    return 1\n",
    "empty.txt": b"",
    "no_newline.txt": b"one\ntwo",
    "crlf.txt": b"one\r\ntwo\r\n",
    "binary.bin": bytes(range(256)) * 40,
    "unicode.md": "caf\u00e9 \u2014 \u00fc\n".encode(),
    "only_newlines.txt": b"\n\n\n",
}
EXPECTED_LINES = {
    "text.py": 2,
    "empty.txt": 0,
    "no_newline.txt": 2,
    "crlf.txt": 2,
    "binary.bin": 0,
    "unicode.md": 1,
    "only_newlines.txt": 3,
}


def test_blob_sha_equals_git_hash_object(repo: Path) -> None:
    for name, content in CONTENTS.items():
        path = write(repo, name, content)
        assert blob_sha_of(path) == git(repo, "hash-object", name).strip(), name


def test_snapshot_hashes_sizes_and_lines(repo: Path) -> None:
    write(repo, "binary.bin", bytes(range(256)) * 40 + b"\n\n")
    for name, content in CONTENTS.items():
        write(repo, name, content)
    snapshot = take_snapshot(repo, EVERYTHING)
    files = by_path(snapshot)
    assert set(files) == set(CONTENTS)
    for name, content in CONTENTS.items():
        entry = files[name]
        assert entry["blob_sha"] == git(repo, "hash-object", name).strip(), name
        assert entry["size"] == len(content), name
        expected = EXPECTED_LINES[name] if name != "binary.bin" else content.count(b"\n") + 1
        assert entry["lines"] == expected, name
        assert entry["status"] == "untracked"


def test_blob_sha_follows_attributes_like_git(repo: Path) -> None:
    write(repo, ".gitattributes", "* text=auto\n")
    write(repo, "crlf.txt", b"one\r\ntwo\r\n")
    snapshot = take_snapshot(repo, EVERYTHING)
    expected = git(repo, "hash-object", "crlf.txt").strip()
    assert by_path(snapshot)["crlf.txt"]["blob_sha"] == expected
    assert expected != blob_sha_of(repo / "crlf.txt")  # git normalised the line endings


def test_symlink_is_hashed_as_the_blob_git_commits(repo: Path) -> None:
    write(repo, "src/main.py", "print(1)\n")
    os.symlink("src/main.py", repo / "entry.py")
    snapshot = take_snapshot(repo, EVERYTHING)
    git(repo, "add", "entry.py")
    staged = git(repo, "ls-files", "-s", "entry.py").split()[1]
    entry = by_path(snapshot)["entry.py"]
    assert entry["blob_sha"] == staged
    assert entry["size"] == len("src/main.py")


# --- Status, branch, dirty ---------------------------------------------------


def test_changes_since_head(repo: Path) -> None:
    write(repo, "keep.py", "a\nb\n")
    write(repo, "edit.py", "1\n2\n3\n")
    write(repo, "gone.py", "x\ny\n")
    write(repo, "old_name.py", "def moved():\n    return 42\n")
    commit_all(repo)
    write(repo, "edit.py", "1\nTWO\n3\n4\n")
    (repo / "gone.py").unlink()
    git(repo, "mv", "old_name.py", "new_name.py")
    write(repo, "staged_new.py", "n\n")
    git(repo, "add", "staged_new.py")
    write(repo, "scratch.py", "u\n")

    snapshot = take_snapshot(repo, EVERYTHING)

    files = by_path(snapshot)
    assert {path: entry["status"] for path, entry in files.items()} == {
        "edit.py": "modified",
        "gone.py": "deleted",
        "new_name.py": "renamed",
        "staged_new.py": "added",
        "scratch.py": "untracked",
    }
    assert files["new_name.py"]["old_path"] == "old_name.py"
    assert all(entry["old_path"] is None for path, entry in files.items() if path != "new_name.py")
    assert files["gone.py"] == {
        "path": "gone.py",
        "blob_sha": "",
        "size": 0,
        "lines": 0,
        "status": "deleted",
        "old_path": None,
    }
    assert files["edit.py"]["blob_sha"] == git(repo, "hash-object", "edit.py").strip()
    assert snapshot["branch"] == "main"
    assert snapshot["commit"] == git(repo, "rev-parse", "HEAD").strip()
    assert snapshot["dirty"] is True
    assert snapshot["withheld"] == 0
    head = snapshot["commit"][:7]
    assert snapshot["summary"] == (f"5 files (1 modified, 1 added, 1 deleted, 1 renamed, 1 untracked), +4 −3 lines since {head}")
    assert list(snapshot) == ["commit", "branch", "dirty", "files", "summary", "withheld", "diffstat", "diff"]
    assert list(files["edit.py"]) == ["path", "blob_sha", "size", "lines", "status", "old_path"]


def test_clean_repository(repo: Path) -> None:
    write(repo, "a.py", "a\n")
    write(repo, "build/out.o", "ignored\n")
    write(repo, ".gitignore", "build/\n")
    commit_all(repo)
    snapshot = take_snapshot(repo, EVERYTHING)
    assert snapshot["dirty"] is False
    assert snapshot["files"] == []
    assert snapshot["summary"].startswith("0 files, +0 −0 lines since ")


def test_ignored_files_do_not_count(repo: Path) -> None:
    write(repo, ".gitignore", "*.log\n")
    commit_all(repo)
    write(repo, "debug.log", "noise\n")
    snapshot = take_snapshot(repo, EVERYTHING)
    assert snapshot["dirty"] is False and snapshot["files"] == []


def test_only_staged_or_only_untracked_is_dirty(repo: Path) -> None:
    write(repo, "a.py", "a\n")
    commit_all(repo)
    write(repo, "u.py", "u\n")
    assert take_snapshot(repo, EVERYTHING)["dirty"] is True
    (repo / "u.py").unlink()
    write(repo, "a.py", "b\n")
    git(repo, "add", "a.py")
    assert take_snapshot(repo, EVERYTHING)["dirty"] is True


def test_detached_head(repo: Path) -> None:
    write(repo, "a.py", "a\n")
    first = commit_all(repo)
    write(repo, "a.py", "b\n")
    commit_all(repo)
    git(repo, "checkout", "-q", "--detach", first)
    snapshot = take_snapshot(repo, EVERYTHING)
    assert snapshot["branch"] == "HEAD"
    assert snapshot["commit"] == first
    assert snapshot["dirty"] is False


def test_other_branch_name(repo: Path) -> None:
    write(repo, "a.py", "a\n")
    commit_all(repo)
    git(repo, "checkout", "-q", "-b", "feature/parser")
    assert take_snapshot(repo, EVERYTHING)["branch"] == "feature/parser"


def test_repository_without_commits(repo: Path) -> None:
    empty = take_snapshot(repo, EVERYTHING)
    assert (empty["commit"], empty["branch"], empty["dirty"], empty["files"]) == ("", "main", False, [])
    write(repo, "staged.py", "s\n")
    git(repo, "add", "staged.py")
    write(repo, "loose.py", "l\nm\n")
    snapshot = take_snapshot(repo, EVERYTHING)
    assert snapshot["commit"] == ""
    assert snapshot["dirty"] is True
    assert {p: e["status"] for p, e in by_path(snapshot).items()} == {"staged.py": "added", "loose.py": "untracked"}
    assert snapshot["summary"] == "2 files (1 added, 1 untracked), +3 −0 lines since the empty repository"


def test_since_commit_includes_committed_staged_unstaged_and_untracked(repo: Path) -> None:
    write(repo, "a.py", "a\n")
    base = commit_all(repo)
    write(repo, "committed.py", "c\n")
    commit_all(repo)
    write(repo, "staged.py", "s\n")
    git(repo, "add", "staged.py")
    write(repo, "a.py", "a\nmore\n")
    write(repo, "untracked.py", "u\n")
    snapshot = take_snapshot(repo, EVERYTHING, since_commit=base[:10])
    assert {p: e["status"] for p, e in by_path(snapshot).items()} == {
        "committed.py": "added",
        "staged.py": "added",
        "a.py": "modified",
        "untracked.py": "untracked",
    }
    assert snapshot["summary"].endswith(f"since {base[:7]}")
    assert snapshot["dirty"] is True


def test_since_commit_on_a_clean_tree_is_not_dirty(repo: Path) -> None:
    write(repo, "a.py", "a\n")
    base = commit_all(repo)
    write(repo, "b.py", "b\n")
    commit_all(repo)
    snapshot = take_snapshot(repo, EVERYTHING, since_commit=base)
    assert [e["path"] for e in snapshot["files"]] == ["b.py"]
    assert snapshot["dirty"] is False


@pytest.mark.parametrize("since", ["nope", "--output=pwned.txt", "HEAD~5", "a b", ""])
def test_unknown_or_hostile_since_commit(repo: Path, since: str) -> None:
    write(repo, "a.py", "a\n")
    commit_all(repo)
    with pytest.raises(EvidenceError):
        take_snapshot(repo, EVERYTHING, since_commit=since)
    assert not (repo / "pwned.txt").exists()


def test_not_a_repository(tmp_path: Path) -> None:
    with pytest.raises(EvidenceError, match="not a git repository"):
        take_snapshot(tmp_path, EVERYTHING)


def test_large_repository_with_few_changes(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for i in range(3000):
        write(repo, f"pkg{i % 7}/mod{i % 13}/file{i}.py", f"value = {i}\n")
    commit_all(repo)
    write(repo, "pkg1/mod8/file8.py", "value = 'changed'\n")
    (repo / "pkg2/mod2/file2.py").unlink()
    write(repo, "pkg0/new.py", "fresh\n")
    hashed: list[Path] = []
    real_read = evidence._read_blob
    monkeypatch.setattr(evidence, "_read_blob", lambda path, *a: hashed.append(path) or real_read(path, *a))

    snapshot = take_snapshot(repo, EVERYTHING)

    assert {p: e["status"] for p, e in by_path(snapshot).items()} == {
        "pkg1/mod8/file8.py": "modified",
        "pkg2/mod2/file2.py": "deleted",
        "pkg0/new.py": "untracked",
    }
    assert len(hashed) == 2  # only the files that go, never the tree


# --- Scope inside the snapshot ----------------------------------------------


def _repo_with_secrets(repo: Path) -> None:
    write(repo, "src/app.py", "print('app')\n")
    commit_all(repo)
    write(repo, "src/app.py", "print('app v2')\n")
    write(repo, "prod-topsecret.env", "DB_PASSWORD=hunter2\n")
    write(repo, "deploy/server-cert.pem", "-----BEGIN PRIVATE KEY-----\n")
    write(repo, "notes/diary.md", "dear diary\n")


def test_default_policy_shares_nothing(repo: Path) -> None:
    _repo_with_secrets(repo)
    snapshot = take_snapshot(repo, ScopeRules())
    assert snapshot["files"] == []
    assert snapshot["withheld"] == 4
    assert snapshot["summary"].endswith("; 4 withheld")


def test_widening_policy_still_withholds_secrets_and_never_names_them(repo: Path) -> None:
    _repo_with_secrets(repo)
    snapshot = take_snapshot(repo, ScopeRules(allow=("**",), deny=("notes/",), share="diff"))
    assert [e["path"] for e in snapshot["files"]] == ["src/app.py"]
    assert snapshot["withheld"] == 3
    wire = json.dumps(snapshot, ensure_ascii=False)
    for leaked in ("topsecret", "server-cert", "diary", "hunter2", "PRIVATE KEY", "notes"):
        assert leaked not in wire


def test_max_files_in_a_snapshot(repo: Path) -> None:
    for name in "abcde":
        write(repo, f"{name}.py", f"{name}\n")
    snapshot = take_snapshot(repo, ScopeRules(allow=("**",), max_files=2))
    assert [e["path"] for e in snapshot["files"]] == ["a.py", "b.py"]
    assert snapshot["withheld"] == 3
    assert "c.py" not in json.dumps(snapshot)


def test_symlink_out_of_the_repository_is_withheld(repo: Path, tmp_path: Path) -> None:
    write(tmp_path, "outside.txt", "host secret\n")
    os.symlink(tmp_path / "outside.txt", repo / "looks_harmless.txt")
    snapshot = take_snapshot(repo, EVERYTHING)
    assert snapshot["files"] == [] and snapshot["withheld"] == 1


def test_rename_from_a_denied_name_hides_the_old_name_and_content(repo: Path) -> None:
    write(repo, "a.py", "a\n")
    write(repo, "prod.env", "API_KEY=abc123\nOTHER=1\n")
    commit_all(repo)
    git(repo, "mv", "prod.env", "settings.txt")
    write(repo, "settings.txt", "API_KEY=abc123\nOTHER=1\nMORE=2\n")
    git(repo, "add", "settings.txt")
    snapshot = take_snapshot(repo, ScopeRules(allow=("**",), share="diff"))
    entry = by_path(snapshot)["settings.txt"]
    assert (entry["status"], entry["old_path"]) == ("added", None)
    assert snapshot["diffstat"] == [{"path": "settings.txt", "added": 3, "removed": 0}]
    assert snapshot["withheld"] == 1
    assert "prod.env" not in json.dumps(snapshot)
    assert "new file mode 100644" in snapshot["diff"]


# --- Share modes -------------------------------------------------------------


def _repo_with_changes(repo: Path) -> None:
    write(repo, "src/a.py", "one\ntwo\nthree\n")
    write(repo, "src/b.py", "keep\n")
    write(repo, "src/old.py", "def old():\n    return 1\n")
    write(repo, "private/plan.md", "the plan\n")
    commit_all(repo)
    write(repo, "src/a.py", "one\n2\nthree\nfour\n")
    git(repo, "mv", "src/old.py", "src/renamed.py")
    write(repo, "src/new.py", "brand\nnew")
    write(repo, "private/plan.md", "the REAL plan\n")


def test_share_hashes_has_no_diffstat_or_diff(repo: Path) -> None:
    _repo_with_changes(repo)
    snapshot = take_snapshot(repo, ScopeRules(allow=("src/**",)))
    assert snapshot["diffstat"] is None and snapshot["diff"] is None
    assert snapshot["withheld"] == 1


def test_share_diffstat(repo: Path) -> None:
    _repo_with_changes(repo)
    snapshot = take_snapshot(repo, ScopeRules(allow=("src/**",), share="diffstat"))
    assert snapshot["diff"] is None
    assert snapshot["diffstat"] == [
        {"path": "src/a.py", "added": 2, "removed": 1},
        {"path": "src/new.py", "added": 2, "removed": 0},
        {"path": "src/renamed.py", "added": 0, "removed": 0},
    ]
    assert "+4 −1 lines" in snapshot["summary"]


def test_share_diff_holds_only_shared_files(repo: Path) -> None:
    _repo_with_changes(repo)
    snapshot = take_snapshot(repo, ScopeRules(allow=("src/**",), share="diff"))
    diff = snapshot["diff"]
    assert "diff --git a/src/a.py b/src/a.py" in diff
    assert "-two\n+2\n" in diff
    assert "rename from src/old.py\nrename to src/renamed.py" in diff
    assert "+++ b/src/new.py\n@@ -0,0 +1,2 @@\n+brand\n+new\n\\ No newline at end of file\n" in diff
    assert "plan" not in diff and "private" not in diff
    # the untracked file's patch is the one git itself would write
    git(repo, "add", "-N", "src/new.py")
    assert git(repo, "diff", "--", "src/new.py") in diff


# --- Paths and globs ---------------------------------------------------------


def test_explicit_paths(repo: Path) -> None:
    write(repo, "src/a.py", "a\n")
    write(repo, "src/pkg/b.py", "b\n")
    write(repo, "docs/guide.md", "g\n")
    commit_all(repo)
    write(repo, "src/pkg/b.py", "b2\n")
    write(repo, "src/pkg/c.py", "c\n")
    write(repo, "elsewhere.py", "changed but not attached\n")
    snapshot = take_snapshot(repo, EVERYTHING, paths=["docs/guide.md", "src/pkg", "../escape.py"])
    assert {p: e["status"] for p, e in by_path(snapshot).items()} == {
        "docs/guide.md": "unchanged",
        "src/pkg/b.py": "modified",
        "src/pkg/c.py": "untracked",
    }
    assert snapshot["withheld"] == 1
    assert "escape" not in json.dumps(snapshot)
    assert snapshot["dirty"] is True


def test_explicit_path_that_does_not_exist_is_withheld_as_such(repo: Path) -> None:
    write(repo, "a.py", "a\n")
    commit_all(repo)
    preview = preview_snapshot(repo, EVERYTHING, paths=["src/typo.py", "a.py"])
    assert preview == EvidencePreview(("a.py",), (Withheld("src/typo.py", "does not exist"),))
    snapshot, sent = snapshot_with_preview(repo, EVERYTHING, paths=["src/typo.py", "a.py"])
    assert sent == preview
    assert [e["path"] for e in snapshot["files"]] == ["a.py"] and snapshot["withheld"] == 1
    assert "typo" not in json.dumps(snapshot)


def test_explicit_ignored_file_is_withheld_unless_the_student_consents(repo: Path) -> None:
    write(repo, ".gitignore", "*.log\nbuild/\n")
    commit_all(repo)
    write(repo, "run.log", "token=42\n")
    write(repo, "build/out.bin", "x")
    write(repo, "app.py", "print(1)\n")
    attached = ["run.log", "build", "app.py"]
    preview = preview_snapshot(repo, EVERYTHING, paths=attached)
    assert preview.shared == ("app.py",)
    assert preview.withheld == (Withheld("run.log", "git-ignored"), Withheld("build/out.bin", "git-ignored"))
    snapshot = take_snapshot(repo, EVERYTHING, paths=attached)
    assert list(by_path(snapshot)) == ["app.py"] and snapshot["withheld"] == 2
    assert blob_sha_of(repo / "run.log") not in json.dumps(snapshot)  # not even its hash
    consented = take_snapshot(repo, EVERYTHING, paths=attached, include_ignored=True)
    assert by_path(consented)["run.log"] == {
        "path": "run.log",
        "blob_sha": blob_sha_of(repo / "run.log"),
        "size": 9,
        "lines": 1,
        "status": "untracked",
        "old_path": None,
    }
    assert set(by_path(consented)) == {"app.py", "run.log", "build/out.bin"} and consented["withheld"] == 0
    assert preview_snapshot(repo, EVERYTHING, paths=attached, include_ignored=True).withheld == ()


def test_an_ignored_file_the_scope_denies_gives_the_scope_reason(repo: Path) -> None:
    write(repo, ".gitignore", ".env\n")
    commit_all(repo)
    write(repo, ".env", "SECRET=1\n")
    for include_ignored in (False, True):
        preview = preview_snapshot(repo, EVERYTHING, paths=[".env"], include_ignored=include_ignored)
        assert preview.withheld == (Withheld(".env", "denied by student rule '*.env'"),)


def test_ignored_files_take_no_place_under_max_files(repo: Path) -> None:
    write(repo, ".gitignore", "*.log\n")
    commit_all(repo)
    write(repo, "a.log", "a\n")
    write(repo, "b.py", "b\n")
    preview = preview_snapshot(repo, ScopeRules(allow=("**",), max_files=1), paths=["a.log", "b.py"])
    assert preview.shared == ("b.py",) and preview.withheld == (Withheld("a.log", "git-ignored"),)


def test_preview_names_every_withheld_file_with_its_reason(repo: Path, tmp_path: Path) -> None:
    write(repo, "src/a.py", "a\n")
    write(repo, "notes/todo.md", "t\n")
    commit_all(repo)
    (repo / "empty").mkdir()
    write(repo, "src/a.py", "a2\n")
    for name in "xyz":
        write(repo, f"src/{name}.py", name)
    rules = ScopeRules(allow=("src/**",), max_files=2)
    attached = ["src", "notes/todo.md", "gone.py", "../outside.py", ".git/config", "empty"]
    preview = preview_snapshot(repo, rules, paths=attached)
    assert preview.shared == ("src/a.py", "src/x.py")
    assert {w.path: w.reason for w in preview.withheld} == {
        "gone.py": "does not exist",
        "empty": "is a directory without a file git knows",
        "../outside.py": "escapes the repository ('..')",
        ".git/config": "is inside .git",
        "src/y.py": "over max_files=2",
        "src/z.py": "over max_files=2",
        "notes/todo.md": "not in the coach's allow list",
    }
    snapshot = take_snapshot(repo, rules, paths=attached)
    assert snapshot["withheld"] == len(preview.withheld) == 7
    lines = preview.lines()
    assert lines[:3] == ["sharing 2 file(s):", "  + src/a.py", "  + src/x.py"]
    assert lines[3] == "withholding 7 file(s) (named here only; the coach sees just how many):"
    assert "  - gone.py: does not exist" in lines


def test_preview_of_a_rename_names_the_withheld_old_name(repo: Path) -> None:
    write(repo, "prod.env", "API_KEY=abc123\n")
    commit_all(repo)
    git(repo, "mv", "prod.env", "settings.txt")
    preview = preview_snapshot(repo, EVERYTHING)
    assert preview.shared == ("settings.txt",)
    assert preview.withheld == (Withheld("prod.env", "old name of settings.txt, denied by student rule '*.env'"),)
    assert take_snapshot(repo, EVERYTHING)["withheld"] == 1


def test_a_file_name_with_escape_sequences_is_shown_not_obeyed(repo: Path) -> None:
    write(repo, "a.py", "a\n")
    commit_all(repo)
    line = "\n".join(preview_snapshot(repo, EVERYTHING, paths=["evil\x1b[2J.py"]).lines())
    assert "\x1b" not in line and "evil" in line


def test_globs_select_tracked_and_untracked_files(repo: Path) -> None:
    write(repo, "src/a.py", "a\n")
    write(repo, "src/b.py", "b\n")
    write(repo, "src/gone.py", "g\n")
    write(repo, "README.md", "r\n")
    commit_all(repo)
    write(repo, "src/b.py", "b2\n")
    git(repo, "rm", "-q", "src/gone.py")
    write(repo, "src/new.py", "n\n")
    write(repo, "src/.env", "SECRET=1\n")
    write(repo, "README.md", "r2\n")
    snapshot = take_snapshot(repo, EVERYTHING, globs=["src/**"])
    assert {p: e["status"] for p, e in by_path(snapshot).items()} == {
        "src/a.py": "unchanged",
        "src/b.py": "modified",
        "src/gone.py": "deleted",
        "src/new.py": "untracked",
    }
    assert snapshot["withheld"] == 1
    assert snapshot["dirty"] is True


def test_progress_is_reported(repo: Path) -> None:
    write(repo, "a.py", "a\n")
    messages: list[str] = []
    take_snapshot(repo, EVERYTHING, progress=messages.append)
    assert messages and any("hashing 1 files" in m for m in messages)


def test_candidate_paths_let_the_student_see_what_is_held_back(repo: Path) -> None:
    _repo_with_secrets(repo)
    candidates = candidate_paths(repo)
    assert candidates == ["deploy/server-cert.pem", "notes/diary.md", "prod-topsecret.env", "src/app.py"]
    plan = plan_share(repo, candidates, ScopeRules(allow=("src/**",)))
    assert plan.shared == ("src/app.py",)
    assert dict(plan.refused)["prod-topsecret.env"] == "denied by student rule '*.env'"
    assert candidate_paths(repo, globs=["notes/**"]) == ["notes/diary.md"]


def test_diff_is_bounded_at_file_boundaries(repo: Path) -> None:
    write(repo, "a_small.py", "small\n")
    write(repo, "b_huge.txt", "x" * 99 + "\n" + ("y" * 99 + "\n") * 6000)
    snapshot = take_snapshot(repo, ScopeRules(allow=("**",), share="diff"))
    diff = snapshot["diff"]
    assert len(diff) <= MAX_DIFF_CHARS
    assert "+++ b/a_small.py" in diff and "b_huge.txt" not in diff
    assert diff.endswith("# 1 more file diff(s) left out: the diff is limited to 500000 characters\n")
    assert [e["path"] for e in snapshot["files"]] == ["a_small.py", "b_huge.txt"]  # still hashed and listed


def test_path_with_unusual_characters_is_quoted_like_git(repo: Path) -> None:
    write(repo, 'caf\u00e9 "q".py', "x\n")
    diff = take_snapshot(repo, ScopeRules(allow=("**",), share="diff"))["diff"]
    git(repo, "add", "-N", ".")
    assert git(repo, "diff") == diff


def test_snapshot_fits_the_evidence_snapshot_event(repo: Path) -> None:
    from colearner_lsp.core.protocol.events import EvidenceSnapshot

    _repo_with_changes(repo)
    for share in ("hashes", "diffstat", "diff"):
        snapshot = take_snapshot(repo, ScopeRules(allow=("src/**",), share=share))
        event = EvidenceSnapshot(exercise_id="ex-1", **snapshot)
        assert event.withheld == snapshot["withheld"] == 1
