"""Asking git about the student's work tree, and choosing the snapshot's candidate files.

Runs git (side by side where the commands are independent, without taking
locks the editor may need), opens the repository at the base "changed" is
measured against, and lists the candidates: attached paths, else files
matching the coach's globs, else every change since the base. Apart from
`evidence`, which puts those candidates through the scope and hashes the
ones that go, because this part only reads what git already knows.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import git
import pathspec

from ..errors import EvidenceError, ScopeError
from .repo_paths import normalize_repo_path

# git's well-known empty tree: the base of a repository without commits.
_EMPTY_TREE = {
    "sha1": "4b825dc642cb6eb9a060e54bf8d69288fbee4904",
    "sha256": "6ef19b41225c5369f1c104d45d8d85efa9b057b53b14b4b9b939dd74decc5321",
}
# Take no index.lock while the student works (the editor runs git too), and
# read paths given to git as names, never as globs or pathspec magic.
_GIT_ENV = {"GIT_OPTIONAL_LOCKS": "0", "GIT_LITERAL_PATHSPECS": "1"}
_DIFF_OPTS = ("--no-color", "--no-ext-diff", "--no-textconv")
_ARGS_PER_CALL = 500  # paths per git command line, well under any OS limit
# git's status letters in our words; a copy is a new file, a type change or a
# conflict a modification.
_STATUS = {
    "M": "modified",
    "T": "modified",
    "U": "modified",
    "A": "added",
    "C": "added",
    "D": "deleted",
    "R": "renamed",
}


# --- Asking git --------------------------------------------------------------


def _start(repo: git.Repo, command: str, *args: str) -> git.Git.AutoInterrupt:
    """Start one git command in the work tree, without waiting for it."""
    started: git.Git.AutoInterrupt = getattr(repo.git, command.replace("-", "_"))(*args, as_process=True, env=_GIT_ENV)
    return started


def _finish(handle: git.Git.AutoInterrupt, command: str, args: tuple[str, ...]) -> tuple[int, bytes]:
    """Wait for a started command; (exit status, raw stdout).

    `diff --quiet` answers with its status (1 = differences); any other
    non-zero status is a failure.
    """
    proc = handle.proc
    assert proc is not None  # as_process=True always starts one
    out, err = proc.communicate()
    status = proc.returncode
    if status != 0 and not (status == 1 and "--quiet" in args):
        message = err.decode("utf-8", "replace").strip() or f"exit status {status}"
        raise EvidenceError(f"git {command} failed: {message}")
    return status, out


def _git(repo: git.Repo, command: str, *args: str) -> tuple[int, bytes]:
    """Run one git command in the work tree; (exit status, raw stdout)."""
    return _finish(_start(repo, command, *args), command, args)


def _git_parallel(repo: git.Repo, jobs: dict[str, tuple[str, ...]]) -> dict[str, tuple[int, bytes]]:
    """Run independent read-only git commands side by side.

    All are started before any is read: one that fills its pipe simply waits
    until its turn, so none can block another.
    """
    started = {name: _start(repo, *command) for name, command in jobs.items()}
    return {name: _finish(started[name], command[0], command[1:]) for name, command in jobs.items()}


@dataclass
class _Change:
    status: str
    old_path: str | None = None
    added: int = 0
    removed: int = 0


def _parse_changes(out: bytes) -> dict[str, _Change]:
    """Parse `git diff --raw --numstat -z` output, keyed by (new) path."""
    tokens = out.split(b"\0")
    changes: dict[str, _Change] = {}
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if not token:
            i += 1
        elif token.startswith(b":"):  # ":old_mode new_mode old_sha new_sha STATUS", then its path(s)
            letter = token.rsplit(b" ", 1)[-1][:1].decode()
            if letter in "RC":
                old, new = os.fsdecode(tokens[i + 1]), os.fsdecode(tokens[i + 2])
                i += 3
            else:
                old, new = None, os.fsdecode(tokens[i + 1])
                i += 2
            changes[new] = _Change(_STATUS.get(letter, "modified"), old if letter == "R" else None)
        else:  # "added\tremoved\tpath", or "added\tremoved\t" then old and new for a rename
            added, removed, name = token.split(b"\t", 2)
            if name:
                i += 1
            else:
                name = tokens[i + 2]
                i += 3
            change = changes.get(os.fsdecode(name))
            if change is not None and added != b"-":  # "-" marks a binary file
                change.added, change.removed = int(added), int(removed)
    return changes


def _split_tagged(out: bytes) -> tuple[set[str], set[str]]:
    """Split `git ls-files -t -z` output into (tracked, untracked) paths."""
    tracked: set[str] = set()
    untracked: set[str] = set()
    for token in out.split(b"\0"):
        if token:
            tag, _, name = os.fsdecode(token).partition(" ")
            (untracked if tag == "?" else tracked).add(name)
    return tracked, untracked


@dataclass(frozen=True)
class _Repo:
    repo: git.Repo
    root: Path
    object_format: str
    commit: str  # HEAD, or "" before the first commit
    branch: str  # "HEAD" when detached
    base: str  # what "changed" is measured against

    @property
    def head_is_base(self) -> bool:
        return self.base == (self.commit or _EMPTY_TREE[self.object_format])

    @property
    def label(self) -> str:
        return "the empty repository" if self.base == _EMPTY_TREE[self.object_format] else self.base[:7]


@contextmanager
def _opened(repo_root: Path, since_commit: str | None) -> Iterator[_Repo]:
    try:
        repo = git.Repo(repo_root)
    except (git.NoSuchPathError, git.InvalidGitRepositoryError):
        raise EvidenceError(f"{str(repo_root)!r} is not a git repository; run `git init` there first") from None
    try:
        if repo.bare or repo.working_tree_dir is None:
            raise EvidenceError(f"{str(repo_root)!r} is a bare repository; evidence needs a working tree")
        object_format = str(repo.config_reader("repository").get_value("extensions", "objectformat", "sha1"))
        if object_format not in _EMPTY_TREE:
            raise EvidenceError(f"git object format {object_format!r} is not supported")
        try:  # HEAD and branch come from the ref files: no git process needed
            commit = git.SymbolicReference.dereference_recursive(repo, "HEAD")
        except ValueError:  # a branch without commits yet
            commit = ""
        branch = "HEAD" if repo.head.is_detached else repo.head.reference.name
        base = _resolve_base(repo, since_commit) if since_commit is not None else commit or _EMPTY_TREE[object_format]
        yield _Repo(repo, Path(repo.working_tree_dir), object_format, commit, branch, base)
    finally:
        repo.close()


def _resolve_base(repo: git.Repo, since_commit: str) -> str:
    if (
        not isinstance(since_commit, str)
        or not since_commit
        or since_commit.startswith("-")  # never let it reach git as an option
        or len(since_commit) > 256
        or any(ch.isspace() or unicodedata.category(ch) == "Cc" for ch in since_commit)
    ):
        raise EvidenceError(f"since_commit {since_commit!r} is not a commit name")
    try:
        _status, out = _git(repo, "rev-parse", "--verify", "--end-of-options", f"{since_commit}^{{commit}}")
    except EvidenceError:
        raise EvidenceError(f"unknown commit {since_commit!r}; give a commit id or a branch name") from None
    return out.decode().strip()


# --- Choosing the files ------------------------------------------------------


# Why an attached path is not even put to the scope (the scope gives its own reasons).
GIT_IGNORED = "git-ignored"
DOES_NOT_EXIST = "does not exist"
NOT_LISTED = "is not listed by git here (inside a nested repository, or reached through a symbolic link)"
NO_FILES = "is a directory without a file git knows"


@dataclass
class _Listing:
    changes: dict[str, _Change]
    tracked: set[str]
    untracked: set[str]
    candidates: list[str]
    dirty: bool
    ignored: list[str] = field(default_factory=list)  # attached git-ignored files, not shared without consent
    withheld: list[tuple[str, str]] = field(default_factory=list)  # (path as attached, reason)


def _select(ctx: _Repo, paths: Sequence[str] | None, globs: Sequence[str] | None, include_ignored: bool = False) -> _Listing:
    """Attached paths, else files matching globs, else every change since the base.

    Only attached paths can name a git-ignored file (git lists none otherwise):
    it is a candidate with `include_ignored`, else kept in `ignored`.
    """
    if isinstance(paths, str) or isinstance(globs, str):
        raise EvidenceError("paths and globs are lists; wrap a single one in a list")
    listing = ("ls-files", "-z", "-t", "--others", "--exclude-standard")
    jobs: dict[str, tuple[str, ...]] = {"changes": ("diff", ctx.base, "--raw", "--numstat", "-M", "-z", *_DIFF_OPTS)}
    wanted: list[tuple[str, str | None]] = []
    if paths:
        for raw in paths:
            try:
                wanted.append((raw, normalize_repo_path(ctx.root, raw)))
            except ScopeError:
                wanted.append((raw, None))  # plan_share refuses it again, and counts it
        named = [path for _raw, path in wanted if path is not None]
        jobs["dirty"] = ("status", "--porcelain", "-z")
        if named:
            jobs["files"] = (*listing, "--cached", "--", *named)
            jobs["ignored"] = ("ls-files", "-z", "--others", "--ignored", "--exclude-standard", "--", *named)
    else:
        jobs["files"] = (*listing, "--cached") if globs else listing
        if not ctx.head_is_base:
            jobs["dirty"] = ("diff", "--quiet", "HEAD")
    out = _git_parallel(ctx.repo, jobs)
    changes = _parse_changes(out["changes"][1])
    tracked, untracked = _split_tagged(out["files"][1]) if "files" in out else (set(), set())
    if paths:
        ignored = {os.fsdecode(name) for name in out["ignored"][1].split(b"\0") if name} if "ignored" in out else set()
        chosen = _attached(ctx.root, wanted, changes.keys() | tracked | untracked, ignored)
        if include_ignored:
            chosen.candidates.extend(chosen.ignored)
            untracked.update(chosen.ignored)
            chosen.ignored = []
        return _Listing(changes, tracked, untracked, chosen.candidates, bool(out["dirty"][1]), chosen.ignored, chosen.withheld)
    pool = changes.keys() | tracked | untracked
    if globs:
        spec = _glob_spec(globs)
        pool = {path for path in pool if spec.match_file(path)}
    head_changed = bool(changes) if ctx.head_is_base else out["dirty"][0] != 0
    return _Listing(changes, tracked, untracked, sorted(pool), head_changed or bool(untracked))


def _glob_spec(globs: Sequence[str]) -> pathspec.GitIgnoreSpec:
    try:
        if not all(isinstance(glob, str) for glob in globs):
            raise TypeError("every glob must be a string")
        return pathspec.GitIgnoreSpec.from_lines(globs)
    except Exception as exc:  # pathspec raises its own error types for bad globs
        raise EvidenceError(f"invalid evidence globs {list(globs)!r}: {exc}") from None


@dataclass
class _Attached:
    candidates: list[str]
    ignored: list[str]
    withheld: list[tuple[str, str]]


def _attached(root: Path, wanted: list[tuple[str, str | None]], known: set[str], ignored: set[str]) -> _Attached:
    """Expand attached paths (a directory stands for the files git knows in it).

    A path git knows nothing about is not an error: it is withheld with its
    reason, which the student sees in the preview and in what was sent.
    """
    ordered = sorted(known)
    chosen = _Attached([], [], [])
    seen: set[str] = set()
    for raw, path in wanted:
        if path is None:
            chosen.candidates.append(raw)
            continue
        if path in seen:
            continue
        seen.add(path)
        found = [name for name in ordered if name == path or name.startswith(path + "/")]
        if found:
            chosen.candidates.extend(found)
            continue
        found = sorted(name for name in ignored if name == path or name.startswith(path + "/"))
        if found:
            chosen.ignored.extend(found)
        elif not os.path.lexists(root / path):
            chosen.withheld.append((raw, DOES_NOT_EXIST))
        elif (root / path).is_dir():
            chosen.withheld.append((raw, NO_FILES))
        else:
            chosen.withheld.append((raw, NOT_LISTED))
    return chosen
