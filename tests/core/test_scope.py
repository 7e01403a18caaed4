"""Scope: which paths may leave the student's machine."""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from colearner_lsp.core.sharing.scope import (
    DEFAULT_STUDENT_DENY,
    ScopeError,
    ScopeRules,
    Verdict,
    normalize_repo_path,
    plan_share,
)

EVERYTHING = ScopeRules(allow=("**",))


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "src").mkdir(parents=True)
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text("[core]\n")
    (root / "src" / "main.py").write_text("print('hi')\n")
    (root / ".env").write_text("TOKEN=x\n")
    (tmp_path / "outside.txt").write_text("not yours\n")
    return root


# --- normalize_repo_path -----------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("../x", "escapes the repository"),
        ("src/../../x", "escapes the repository"),
        ("src/../main.py", "escapes the repository"),
        ("..\\x", "escapes the repository"),
        ("/etc/passwd", "is absolute"),
        ("C:\\Windows\\win.ini", "is absolute"),
        (".git/config", "inside .git"),
        (".GIT/config", "inside .git"),
        ("sub/.Git/HEAD", "inside .git"),
        (".git./config", "inside .git"),
        (".g\u200cit/config", "inside .git"),
        ("git~1/config", "inside .git"),
        ("src/a\x00b.py", "NUL byte"),
        ("src/a\nb.py", "control character"),
        ("src/a\x1b[31mb.py", "control character"),
        ("", "names no file"),
        ("./", "names no file"),
        ("src/... /x", "only of dots and spaces"),
        ("a" * 5000, "longer than 4096 bytes"),
        ("src/" + "b" * 256, "component longer than 255 bytes"),
        ("bad\udcff.py", "not valid UTF-8"),
    ],
)
def test_normalize_refuses(repo: Path, raw: str, why: str) -> None:
    with pytest.raises(ScopeError, match="refused") as caught:
        normalize_repo_path(repo, raw)
    assert why in str(caught.value)
    assert why in caught.value.reason


def test_refusal_message_names_the_path_and_the_problem(repo: Path) -> None:
    with pytest.raises(ScopeError) as caught:
        normalize_repo_path(repo, "../x")
    assert str(caught.value) == "refused: '../x' escapes the repository ('..')"


def test_very_long_path_message_stays_short(repo: Path) -> None:
    with pytest.raises(ScopeError) as caught:
        normalize_repo_path(repo, "a" * 5000)
    assert len(str(caught.value)) < 200


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("src/main.py", "src/main.py"),
        ("./src//main.py", "src/main.py"),
        ("src\\main.py", "src/main.py"),
        ("src/", "src"),
        (".gitignore", ".gitignore"),
        ("docs/.github/x.yml", "docs/.github/x.yml"),
        ("new/not/yet/there.py", "new/not/yet/there.py"),
    ],
)
def test_normalize_accepts(repo: Path, raw: str, expected: str) -> None:
    assert normalize_repo_path(repo, raw) == expected


def test_normalize_applies_nfc(repo: Path) -> None:
    assert normalize_repo_path(repo, "cafe\u0301.py") == "caf\u00e9.py"


def test_symlink_out_of_the_repository_is_refused(repo: Path) -> None:
    os.symlink(repo.parent / "outside.txt", repo / "link.txt")
    os.symlink(repo.parent, repo / "up")
    with pytest.raises(ScopeError, match="points outside the repository"):
        normalize_repo_path(repo, "link.txt")
    with pytest.raises(ScopeError, match="points outside the repository"):
        normalize_repo_path(repo, "up/outside.txt")


def test_symlink_into_git_dir_is_refused(repo: Path) -> None:
    os.symlink(".git/config", repo / "cfg")
    with pytest.raises(ScopeError, match="points into .git"):
        normalize_repo_path(repo, "cfg")


def test_symlink_inside_the_repository_is_accepted(repo: Path) -> None:
    os.symlink("src/main.py", repo / "main_link.py")
    assert normalize_repo_path(repo, "main_link.py") == "main_link.py"


def test_repository_reached_through_a_symlink(repo: Path, tmp_path: Path) -> None:
    os.symlink(repo, tmp_path / "alias")
    assert normalize_repo_path(tmp_path / "alias", "src/main.py") == "src/main.py"


# --- permits -----------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        ".env",
        "secrets.env",
        "SECRETS.env",
        "config/Prod.ENV",
        ".env.local",
        "\uff53\uff45\uff43\uff52\uff45\uff54\uff53.env",  # fullwidth "secrets"
        ".\uff45\uff4e\uff56",  # ".ｅｎｖ"
        ".e\u200bnv",  # zero-width space inside
        "server.PEM",
        "deploy/server.pem. ",  # Windows drops trailing dots and spaces
        "home/id_rsa",
        "home/id_ed25519.pub",
        "config/secrets/db.yml",
        "Secrets.yaml",
        "api.secret",
        ".git/config",
        ".colearner/ledger.sqlite",
        ".ssh/config",
        "infra/terraform.tfstate",
        "keystore/app.P12",
    ],
)
def test_student_deny_wins_over_a_widening_policy(path: str) -> None:
    verdict = EVERYTHING.permits(path)
    assert verdict == Verdict(False, verdict.reason)
    assert verdict.reason.startswith("denied by student rule")


def test_plain_files_are_allowed_by_a_widening_policy() -> None:
    assert EVERYTHING.permits("src/environment.py") == Verdict(True, "allowed by '**'")
    assert EVERYTHING.permits("docs/secret_santa.md").allowed
    assert EVERYTHING.permits(".envoy.yaml").allowed


def test_empty_allow_shares_nothing() -> None:
    verdict = ScopeRules().permits("src/main.py")
    assert not verdict.allowed
    assert "not in the coach's allow list" in verdict.reason


def test_allow_is_exact_case_and_not_folded() -> None:
    rules = ScopeRules(allow=("src/**",))
    assert rules.permits("src/a.py") == Verdict(True, "allowed by 'src/**'")
    assert rules.permits("SRC/a.py") == Verdict(False, "not in the coach's allow list")
    assert not rules.permits("\uff53rc/a.py").allowed  # fullwidth "s"


def test_coach_deny_is_case_insensitive_and_beats_allow() -> None:
    rules = ScopeRules(allow=("**",), deny=("tests/fixtures/",))
    assert rules.permits("TESTS/Fixtures/big.json") == Verdict(False, "denied by the coach's rule 'tests/fixtures/'")
    assert rules.permits("tests/test_a.py").allowed


def test_negation_in_allow_excludes() -> None:
    rules = ScopeRules(allow=("src/**", "!src/generated/**"))
    assert rules.permits("src/generated/x.py") == Verdict(False, "excluded from the coach's allow list by '!src/generated/**'")


def test_coach_cannot_reinclude_what_the_student_denies() -> None:
    rules = ScopeRules(allow=("**", "!.env"), deny=("!.env",))
    assert not rules.permits(".env").allowed


def test_default_deny_covers_the_documented_minimum() -> None:
    for rule in (
        ".env",
        ".env.*",
        "*.env",
        "*.pem",
        "*.key",
        "id_rsa*",
        "id_ed25519*",
        "*.p12",
        "*.pfx",
        "*.crt",
        "*.cer",
        "*.keystore",
        ".git/",
        ".colearner/",
        "**/secrets*",
        "*.secret",
    ):
        assert rule in DEFAULT_STUDENT_DENY


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"share": "everything"}, "share must be one of"),
        ({"max_files": -1}, "max_files"),
        ({"max_files": "10"}, "max_files"),
        ({"allow": "src/**"}, "list of globs"),
        ({"allow": ("a" * 2000,)}, "longer than"),
        ({"deny": tuple(f"x{i}" for i in range(1001))}, "at most 1000"),
    ],
)
def test_bad_policies_are_refused_with_a_clear_message(kwargs: dict, message: str) -> None:
    with pytest.raises(ScopeError, match=message):
        ScopeRules(**kwargs)


def test_rules_from_lists_are_frozen_tuples() -> None:
    rules = ScopeRules(allow=["src/**"], deny=[])  # type: ignore[arg-type]
    assert rules.allow == ("src/**",) and rules.deny == ()
    assert rules == ScopeRules(allow=("src/**",))


# --- plan_share --------------------------------------------------------------


def test_plan_counts_refusals_and_keeps_reasons_local(repo: Path) -> None:
    plan = plan_share(repo, ["src/main.py", ".env", "../x", "/etc/passwd", ".GIT/config"], EVERYTHING)
    assert plan.shared == ("src/main.py",)
    assert plan.withheld == 4
    assert dict(plan.refused) == {
        ".env": "denied by student rule '*.env'",
        "../x": "escapes the repository ('..')",
        "/etc/passwd": "is absolute; give a path relative to the repository root",
        ".GIT/config": "is inside .git",
    }


def test_plan_enforces_max_files_in_order(repo: Path) -> None:
    plan = plan_share(repo, ["a.py", "b.py", "c.py", ".env", "d.py"], ScopeRules(allow=("**",), max_files=2))
    assert plan.shared == ("a.py", "b.py")
    assert plan.withheld == 3
    assert dict(plan.refused)["c.py"] == "over max_files=2"
    assert dict(plan.refused)["d.py"] == "over max_files=2"


def test_plan_with_no_policy_shares_nothing(repo: Path) -> None:
    plan = plan_share(repo, ["src/main.py"], ScopeRules())
    assert plan.shared == () and plan.withheld == 1


def test_plan_shares_each_path_once(repo: Path) -> None:
    plan = plan_share(repo, ["src/main.py", "./src/main.py", "src//main.py", "../x", "../x"], EVERYTHING)
    assert plan.shared == ("src/main.py",)
    assert plan.withheld == 1


def test_plan_refuses_directories_and_special_files(repo: Path) -> None:
    os.mkfifo(repo / "pipe")
    plan = plan_share(repo, ["src", "pipe"], EVERYTHING)
    assert plan.shared == ()
    assert dict(plan.refused) == {
        "src": "is a directory; share the files inside it",
        "pipe": "is not a regular file",
    }


def test_plan_refuses_a_symlink_to_a_denied_file(repo: Path) -> None:
    os.symlink(".env", repo / "config.txt")
    os.symlink("src/main.py", repo / "entry.py")
    plan = plan_share(repo, ["config.txt", "entry.py"], EVERYTHING)
    assert plan.shared == ("entry.py",)
    assert dict(plan.refused) == {"config.txt": "leads to '.env', which is denied by student rule '*.env'"}


def test_plan_refuses_a_symlink_to_a_path_outside_the_allow_list(repo: Path) -> None:
    (repo / "private").mkdir()
    (repo / "private" / "notes.md").write_text("mine\n")
    os.symlink("../private/notes.md", repo / "src" / "notes.md")
    plan = plan_share(repo, ["src/notes.md", "src/main.py"], ScopeRules(allow=("src/**",)))
    assert plan.shared == ("src/main.py",)
    assert "which is not in the coach's allow list" in dict(plan.refused)["src/notes.md"]


def test_plan_refuses_a_path_through_a_symlinked_directory_out(repo: Path) -> None:
    os.symlink(repo.parent, repo / "src" / "up")
    plan = plan_share(repo, ["src/up/outside.txt"], EVERYTHING)
    assert plan.shared == ()
    assert dict(plan.refused) == {"src/up/outside.txt": "points outside the repository (through a symlink)"}


def test_plan_accepts_deleted_files(repo: Path) -> None:
    assert plan_share(repo, ["src/gone.py"], EVERYTHING).shared == ("src/gone.py",)


# --- property ----------------------------------------------------------------

_PIECES = st.sampled_from(
    [
        "..",
        ".",
        "",
        ".git",
        ".GIT",
        ".Git.",
        "git~1",
        "out",
        "in",
        "src",
        "main.py",
        "é",
        "e\u0301",
        "\uff0e\uff0e",
        "\x00",
        "\x7f",
        " ",
        "a b",
        "\\",
        "C:",
        "~",
        "\u200b",
    ]
)
_RAW_PATHS = st.one_of(
    st.text(max_size=60),
    st.lists(st.one_of(_PIECES, st.text(max_size=8)), max_size=8).map("/".join),
    st.lists(_PIECES, min_size=1, max_size=6).map("\\".join),
)


@pytest.fixture(scope="module")
def property_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("property")
    root = base / "repo"
    (root / "src").mkdir(parents=True)
    (root / ".git").mkdir()
    (root / "src" / "main.py").write_text("x\n")
    os.symlink(base, root / "out")  # leads out of the repository
    os.symlink("src", root / "in")  # stays inside
    os.symlink(".git", root / "src" / "g")  # leads into .git
    return root


@settings(max_examples=400, deadline=None)
@given(raw=_RAW_PATHS)
def test_normalized_paths_stay_inside(property_repo: Path, raw: str) -> None:
    try:
        path = normalize_repo_path(property_repo, raw)
    except ScopeError as error:
        assert str(error).startswith("refused: ")
        return
    parts = path.split("/")
    assert path and not path.startswith("/") and not Path(path).is_absolute()
    assert ".." not in parts and "" not in parts and "." not in parts
    assert not any(part.casefold().rstrip(". ") == ".git" for part in parts)
    assert path == unicodedata.normalize("NFC", path)
    assert "\x00" not in path and len(path.encode()) <= 4096
    root = os.path.realpath(property_repo)
    real = os.path.realpath(os.path.join(root, path))
    assert real == root or real.startswith(root + os.sep)
    assert ".git" not in os.path.relpath(real, root).split(os.sep)


def test_non_text_rules_are_refused() -> None:
    with pytest.raises(ScopeError, match="only text globs"):
        ScopeRules(allow=(["src"],))  # type: ignore[arg-type]
