"""Checkout.repo_path: which repository file a URI names, on a real directory tree."""

from __future__ import annotations

from pathlib import Path

import pytest
from pygls.uris import from_fs_path

from colearner_lsp.server.files import Checkout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "app").mkdir(parents=True)
    (root / "app" / "main.py").write_text("print('hi')\n")
    (root / ".git").mkdir()
    return root


def uri(path: Path) -> str:
    return from_fs_path(str(path)) or ""


def checkout(root: Path) -> Checkout:
    return Checkout(root, lambda _uri: "")


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("app/main.py", "app/main.py"),
        ("app/missing.py", "app/missing.py"),  # a file not written yet is still the repository's
        (".git/config", None),
        (".", None),
        ("../elsewhere.py", None),
    ],
)
def test_a_uri_names_a_repository_path_or_none(repo: Path, where: str, expected: str | None) -> None:
    assert checkout(repo).repo_path(uri(repo / where)) == expected


def test_a_uri_through_a_symlinked_folder_names_the_same_file(repo: Path, tmp_path: Path) -> None:
    link = tmp_path / "link"
    link.symlink_to(repo, target_is_directory=True)
    assert checkout(repo).repo_path(uri(link / "app" / "main.py")) == "app/main.py"
    assert checkout(link).repo_path(uri(repo / "app" / "main.py")) == "app/main.py"


@pytest.mark.parametrize("given", ["untitled:Untitled-1", "https://example.invalid/app/main.py", "", "file:"])
def test_anything_but_a_file_uri_names_nothing(repo: Path, given: str) -> None:
    assert checkout(repo).repo_path(given) is None
