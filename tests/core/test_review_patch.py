"""Reading git's diff back and applying it: git's own output for arbitrary texts and names,
and hostile diffs refused with a reason."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from colearner_lsp.core.review.patch import PatchError, apply_patch, read_diff, read_patch
from colearner_lsp.core.review.versions import rebuild_changes
from colearner_lsp.core.sharing.evidence import take_snapshot
from colearner_lsp.core.sharing.scope import ScopeRules


def git(repo: Path, *args: str, check: bool = True) -> str:
    done = subprocess.run(["git", *args], cwd=repo, check=False, capture_output=True)
    if check and done.returncode not in (0, 1):
        raise AssertionError(done.stderr.decode())
    return done.stdout.decode("utf-8", "replace")


LINE = st.sampled_from(["a", "b", "", "  indented", "tab\there", "crlf\r", "ünï", "+plus", "-minus", " space", "\\ back", "@@ x @@"])
TEXT = st.builds(lambda lines, end: "\n".join(lines) + ("\n" if end and lines else ""), st.lists(LINE, max_size=30), st.booleans())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(old=TEXT, new=TEXT)
def test_git_diff_applied_gives_the_new_text(tmp_path: Path, old: str, new: str) -> None:
    (tmp_path / "old").write_bytes(old.encode())
    (tmp_path / "new").write_bytes(new.encode())
    diff = git(tmp_path, "diff", "--no-index", "--no-color", "--no-ext-diff", "old", "new")
    if not diff:
        assert old == new
        return
    diff = diff.replace("a/old", "a/f").replace("b/new", "b/f")
    (patch,) = read_diff(diff).patches.values()
    assert apply_patch(old, patch) == new


@pytest.mark.parametrize(
    "name",
    ['with "quotes".py', "emoji 🎉.py", "ünïcode.py", "per%cent & $dollar.py", "sp ace/b file.py", "a b/b c.py"],
)
def test_git_quoted_names_are_read_back(tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    repo = tmp_path / "r"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "-c", "user.email=a@b.invalid", "-c", "user.name=a", "commit", "-q", "--allow-empty", "-m", "0")
    target = repo / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("one\n")
    git(repo, "add", "-A")
    git(repo, "-c", "user.email=a@b.invalid", "-c", "user.name=a", "commit", "-q", "-m", "1")
    base = git(repo, "rev-parse", "HEAD").strip()
    target.write_text("one\ntwo\n")
    snapshot = take_snapshot(repo, ScopeRules(allow=("**",), share="diff"), since_commit=base)
    assert name in read_diff(snapshot["diff"]).patches
    (change,) = rebuild_changes(repo, snapshot, [base])
    assert change.path == name and change.student == "one\ntwo\n"


def test_a_rename_with_spaces_is_named_by_its_rename_lines() -> None:
    patch = read_patch("diff --git a/old name.py b/new name.py\nsimilarity index 100%\nrename from old name.py\nrename to new name.py\n")
    assert (patch.old_path, patch.new_path, patch.hunks) == ("old name.py", "new name.py", ())
    assert apply_patch("same\n", patch) == "same\n"


HEADER = "diff --git a/f b/f\nindex 1234567..89abcde 100644\n--- a/f\n+++ b/f\n"


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ("@@ -1 +1 @@\n-a\n", "ends inside a hunk"),
        ("@@ -1 +1 @@\n-a\n+b\n+c\n", "should start a hunk"),
        ("@@ -1,2 +1 @@\n x\n y\n", "does not fit"),
        ("@@ -99999999 +1 @@\n-a\n+b\n", "past any file"),
        ("@@ -1 +1 @@\n\\ No newline at end of file\n-a\n+b\n", "follows no line"),
        ("garbage header\n", "not a git diff header"),
    ],
)
def test_malformed_patches_are_refused_with_where(body: str, why: str) -> None:
    head = HEADER if not body.startswith("garbage") else "diff --git a/f b/f\n"
    with pytest.raises(PatchError, match=why):
        read_patch(head + body)
    shared = read_diff(head + body)
    assert not shared.patches and why in shared.broken["f"]


@pytest.mark.parametrize(
    ("base", "why"),
    [("b\n", "not the one the diff was made against"), ("", "not the one the diff was made against")],
)
def test_a_patch_on_another_base_is_refused(base: str, why: str) -> None:
    patch = read_patch(HEADER + "@@ -1 +1 @@\n-a\n+b\n")
    with pytest.raises(PatchError, match=why):
        apply_patch(base, patch)


def test_hunks_out_of_order_are_refused() -> None:
    patch = read_patch(HEADER + "@@ -3 +3 @@\n-c\n+C\n@@ -1 +1 @@\n-a\n+A\n")
    with pytest.raises(PatchError, match="before the one above"):
        apply_patch("a\nb\nc\n", patch)


def test_the_left_out_line_is_counted_not_read_as_content() -> None:
    diff = HEADER + "@@ -1 +1 @@\n-a\n+# 9 more file diff(s) left out\n# 3 more file diff(s) left out: the diff is limited\n"
    shared = read_diff(diff)
    assert shared.left_out == 3 and apply_patch("a\n", shared.patches["f"]) == "# 9 more file diff(s) left out\n"
    assert read_diff("# 5 more file diff(s) left out: the diff is limited to 500000 characters\n").left_out == 5


def test_bad_quoted_names() -> None:
    for line in ('diff --git "a/x b/x\n', 'diff --git "a/\\q" "b/\\q"\n'):
        with pytest.raises(PatchError):
            read_patch(line + "--- " + line[11:].split(" ")[0] + "\n")


def test_c_quoted_names_with_escapes_and_octal_bytes() -> None:
    patch = read_patch(
        'diff --git "a/back\\\\slash \\"q\\" \\303\\274.py" "b/back\\\\slash \\"q\\" \\303\\274.py"\nindex 1234567..89abcde 100644\n'
    )
    assert patch.path == 'back\\slash "q" ü.py'


def test_only_the_wanted_patches_are_read() -> None:
    other = "diff --git a/g b/g\nindex 1234567..89abcde 100644\n--- a/g\n+++ b/g\n@@ broken\n"
    renamed = "diff --git a/old b/new\nsimilarity index 90%\nrename from old\nrename to new\n"
    wanted = HEADER + "@@ -1 +1 @@\n-a\n+b\n"
    shared = read_diff(other + renamed + wanted, {"f", "new"})
    assert set(shared.patches) == {"f", "new"} and not shared.broken
    assert "g" in read_diff(other + wanted).broken
