"""Making an exercise's anchor from the coach's checkout."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import InvalidArgument, NotFound, ScopeError
from ..protocol.events import Anchor
from ..sharing.repo_paths import normalize_repo_path
from .anchor_fingerprint import make_fingerprint
from .anchor_text import lines_of

if TYPE_CHECKING:  # gitpython is imported when a repository is first asked (start-up)
    import git


def head_commit(root: Path) -> str:
    """HEAD's sha, or '' for a folder that is not a git repository or has no commit.

    Read from the ref files (no git process, no commit object): an assignment
    from the editor should not wait on git.
    """
    import git

    try:
        repo = _repo(str(root))
        return git.SymbolicReference.dereference_recursive(repo, "HEAD")
    except (git.InvalidGitRepositoryError, git.NoSuchPathError, ValueError):
        return ""


@lru_cache(maxsize=8)
def _repo(root: str) -> git.Repo:
    import git

    return git.Repo(root, search_parent_directories=False)


def read_text(root: Path, rel: str) -> str:
    path = root / rel
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        raise NotFound(f"{rel} does not exist in {root}") from None
    except IsADirectoryError:
        raise InvalidArgument(f"{rel} is a folder; anchor an exercise to a file") from None


def anchor_for(
    root: Path,
    path: str,
    start_line: int,
    end_line: int,
    start_char: int | None = None,
    end_char: int | None = None,
) -> Anchor:
    """An anchor on lines ``start_line..end_line`` (1-based, inclusive) of ``path``."""
    try:
        rel = normalize_repo_path(root, path)
    except ScopeError as exc:
        raise InvalidArgument(str(exc)) from None
    text = read_text(root, rel)
    total = len(lines_of(text))  # lines as LSP counts them, the same the fingerprint uses
    if total == 0:
        raise InvalidArgument(f"{rel} is empty; there is no code to anchor an exercise to")
    if start_line < 1 or end_line < start_line:
        raise InvalidArgument(f"lines {start_line}-{end_line} are not a range; write --lines A-B with 1 <= A <= B")
    if end_line > total:
        raise InvalidArgument(f"{rel} has {total} lines; lines {start_line}-{end_line} are outside it")
    return Anchor(
        path=rel,
        start_line=start_line,
        end_line=end_line,
        start_char=start_char,
        end_char=end_char,
        commit=head_commit(root),
        fingerprint=make_fingerprint(text, start_line, end_line),
    )
