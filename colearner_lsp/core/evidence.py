"""Evidence: what the student's instance tells the coach about its working tree.

`take_snapshot` asks git what changed (git already knows, from its index stat
cache), passes every candidate path through `scope.plan_share`, and reads
only the files that will be shared. It never walks the tree or hashes a file
git did not name, so its cost grows with the changes, not with the
repository; the git commands it needs run side by side.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import unicodedata
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterator, Sequence

import git
import pathspec

from .errors import ColearnerError
from .scope import ScopeError, ScopeRules, SharePlan, normalize_repo_path, plan_share

__all__ = ["MAX_DIFF_CHARS", "EvidenceError", "blob_sha_of", "candidate_paths", "take_snapshot"]

MAX_DIFF_CHARS = 500_000  # what an evidence_snapshot event carries at most

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
_CHUNK = 1 << 20
# git's status letters in our words; a copy is a new file, a type change or a
# conflict a modification.
_STATUS = {
    "M": "modified", "T": "modified", "U": "modified",
    "A": "added", "C": "added", "D": "deleted", "R": "renamed",
}


class EvidenceError(ColearnerError, ValueError):
    """A snapshot that cannot be taken, with a message a person can act on."""


# --- Hashing -----------------------------------------------------------------


@dataclass(frozen=True)
class _Blob:
    sha: str
    size: int
    lines: int
    mode: str  # git's file mode: 100644, 100755 or 120000


def _count_lines(newlines: int, size: int, last: bytes) -> int:
    return newlines + (1 if size and last != b"\n" else 0)


def _read_blob(path: Path, object_format: str = "sha1") -> _Blob:
    """Hash a working-tree file the way git stores it; count its bytes and lines.

    A symlink is hashed as its target text, the blob git commits for it
    (`git hash-object LINK` would follow the link and hash whatever it points
    to, which may be a file the scope withholds).
    """
    if stat.S_ISLNK(os.lstat(path).st_mode):
        data = os.readlink(os.fsencode(path))
        digest = hashlib.new(object_format, b"blob %d\0" % len(data) + data)
        return _Blob(digest.hexdigest(), len(data), _count_lines(data.count(b"\n"), len(data), data[-1:]), "120000")
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0))
    with os.fdopen(fd, "rb", buffering=0) as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise EvidenceError(f"{str(path)!r} is not a regular file")
        mode = "100755" if info.st_mode & stat.S_IXUSR else "100644"
        for _attempt in range(3):  # the header needs the size: read again if the file changed meanwhile
            digest = hashlib.new(object_format, b"blob %d\0" % info.st_size)
            size = newlines = 0
            last = b""
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
                size += len(chunk)
                newlines += chunk.count(b"\n")
                last = chunk[-1:]
            if size == info.st_size:
                return _Blob(digest.hexdigest(), size, _count_lines(newlines, size, last), mode)
            handle.seek(0)
            info = os.fstat(handle.fileno())
    raise EvidenceError(f"{str(path)!r} kept changing while it was read; try again")


def blob_sha_of(path: Path, object_format: str = "sha1") -> str:
    """The git blob id of a working-tree file: sha1 of "blob <size>\\0" + its bytes.

    Equal to `git hash-object PATH` when no clean filter or end-of-line
    conversion applies; for a symlink, the id of the link itself.
    """
    return _read_blob(Path(path), object_format).sha


# --- Asking git --------------------------------------------------------------


def _start(repo: git.Repo, command: str, *args: str) -> git.Git.AutoInterrupt:
    """Start one git command in the work tree, without waiting for it."""
    return getattr(repo.git, command.replace("-", "_"))(*args, as_process=True, env=_GIT_ENV)


def _finish(handle: git.Git.AutoInterrupt, command: str, args: tuple[str, ...]) -> tuple[int, bytes]:
    """Wait for a started command; (exit status, raw stdout).

    `diff --quiet` answers with its status (1 = differences); any other
    non-zero status is a failure.
    """
    out, err = handle.proc.communicate()
    status = handle.proc.returncode
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


@dataclass
class _Listing:
    changes: dict[str, _Change]
    tracked: set[str]
    untracked: set[str]
    candidates: list[str]
    dirty: bool


def _select(ctx: _Repo, paths: Sequence[str] | None, globs: Sequence[str] | None) -> _Listing:
    """Attached paths, else files matching globs, else every change since the base."""
    if isinstance(paths, str) or isinstance(globs, str):
        raise EvidenceError("paths and globs are lists; wrap a single one in a list")
    listing = ("ls-files", "-z", "-t", "--others", "--exclude-standard")
    jobs = {"changes": ("diff", ctx.base, "--raw", "--numstat", "-M", "-z", *_DIFF_OPTS)}
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
    else:
        jobs["files"] = (*listing, "--cached") if globs else listing
        if not ctx.head_is_base:
            jobs["dirty"] = ("diff", "--quiet", "HEAD")
    out = _git_parallel(ctx.repo, jobs)
    changes = _parse_changes(out["changes"][1])
    tracked, untracked = _split_tagged(out["files"][1]) if "files" in out else (set(), set())
    if paths:
        candidates = _attached(ctx.root, wanted, changes.keys() | tracked | untracked, untracked)
        return _Listing(changes, tracked, untracked, candidates, bool(out["dirty"][1]))
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


def _attached(root: Path, wanted: list[tuple[str, str | None]], known: set[str], untracked: set[str]) -> list[str]:
    """Expand attached paths (a directory stands for the files git knows in it)."""
    ordered = sorted(known)
    candidates: list[str] = []
    missing: list[str] = []
    for raw, path in wanted:
        if path is None:
            candidates.append(raw)
            continue
        found = [name for name in ordered if name == path or name.startswith(path + "/")]
        if not found and os.path.lexists(root / path) and not (root / path).is_dir():
            found = [path]  # a file git ignores, attached on purpose
            untracked.add(path)
        if not found:
            missing.append(repr(path))
        candidates.extend(found)
    if missing:
        raise EvidenceError(f"nothing to share at {', '.join(missing)}: no such file, or only files git ignores")
    return candidates


def candidate_paths(
    repo_root: Path,
    paths: Sequence[str] | None = None,
    since_commit: str | None = None,
    globs: Sequence[str] | None = None,
) -> list[str]:
    """The paths `take_snapshot` with the same arguments puts to the scope.

    For showing the student, locally, what would go and what would be held
    back (`plan_share(repo_root, candidate_paths(...), rules)`).
    """
    with _opened(Path(repo_root), since_commit) as ctx:
        return _select(ctx, paths, globs).candidates


# --- The snapshot ------------------------------------------------------------


def take_snapshot(
    repo_root: Path,
    rules: ScopeRules,
    paths: Sequence[str] | None = None,
    since_commit: str | None = None,
    globs: Sequence[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Describe the student's work for the coach, within `rules`.

    Files are the `paths` the student attached (a directory stands for the
    files git knows in it), else those matching the coach's `globs`, else
    every file changed since `since_commit` (default HEAD): committed, staged,
    unstaged and untracked. Every candidate goes through `plan_share`; refused
    ones only add to `withheld`, and their names never appear in the result.

    Returns `commit`, `branch`, `dirty`, `files` (each `path`, `blob_sha`,
    `size`, `lines`, `status`, `old_path`), `summary`, `withheld`, and
    `diffstat` / `diff` when `rules.share` asks for them (else None).
    Raises EvidenceError for a missing repository, commit or attached path.
    """
    say = progress or (lambda _message: None)
    with _opened(Path(repo_root), since_commit) as ctx:
        say(f"listing files since {ctx.label}")
        listing = _select(ctx, paths, globs)
        say(f"checking {len(listing.candidates)} files against the scope")
        plan = plan_share(ctx.root, listing.candidates, rules)
        entries, withheld = _entries(ctx.root, rules, plan, listing)
        say(f"hashing {sum(1 for entry in entries if entry.status != 'deleted')} files")
        _hash_entries(ctx, entries)
        diffstat = [{"path": e.path, "added": e.added, "removed": e.removed} for e in entries]
        diff = None
        if rules.share == "diff":
            say("building the diff")
            diff = _diff_text(ctx, entries)
        files = [entry.as_file() for entry in entries]
        return {
            "commit": ctx.commit,
            "branch": ctx.branch,
            "dirty": listing.dirty,
            "files": files,
            "summary": _summary(files, diffstat, ctx.label, withheld),
            "withheld": withheld,
            "diffstat": diffstat if rules.share in ("diffstat", "diff") else None,
            "diff": diff,
        }


@dataclass
class _Entry:
    path: str
    status: str
    old_path: str | None = None
    added: int = 0
    removed: int = 0
    own_patch: bool = False  # git cannot diff it (untracked) or must not (its old name is withheld)
    blob: _Blob | None = None

    def as_file(self) -> dict:
        blob = self.blob or _Blob("", 0, 0, "")
        return {
            "path": self.path,
            "blob_sha": blob.sha,
            "size": blob.size,
            "lines": blob.lines,
            "status": self.status,
            "old_path": self.old_path,
        }


def _entries(root: Path, rules: ScopeRules, plan: SharePlan, listing: _Listing) -> tuple[list[_Entry], int]:
    """File entries for the shared paths, and the withheld count."""
    by_nfc = {unicodedata.normalize("NFC", name): name for name in listing.changes}
    entries: list[_Entry] = []
    for path in plan.shared:
        change = listing.changes.get(by_nfc.get(path, path))
        if path in listing.untracked and (change is None or change.status == "deleted"):
            entries.append(_Entry(path, "untracked", own_patch=True))  # also `git rm --cached`
        elif change is not None:
            entries.append(_Entry(path, change.status, change.old_path, change.added, change.removed))
        elif path in listing.tracked:
            entries.append(_Entry(path, "unchanged"))
        else:
            entries.append(_Entry(path, "untracked", own_patch=True))
    renames = [entry for entry in entries if entry.old_path]
    if not renames:
        return entries, plan.withheld
    # A rename also tells the old name, so that name must pass the scope too.
    # It is the same file: it does not count against max_files.
    sources = [entry.old_path for entry in renames if entry.old_path]
    sources_plan = plan_share(root, sources, replace(rules, max_files=len(sources)))
    refused = {raw for raw, _reason in sources_plan.refused}
    for entry in renames:
        if entry.old_path in refused:  # shown as new, without the withheld name or content
            entry.status, entry.old_path, entry.own_patch = "added", None, True
        else:
            entry.old_path = unicodedata.normalize("NFC", entry.old_path or "")
    return entries, plan.withheld + sources_plan.withheld


def _hash_entries(ctx: _Repo, entries: list[_Entry]) -> None:
    for entry in entries:
        if entry.status == "deleted":
            continue
        try:
            entry.blob = _read_blob(ctx.root / entry.path, ctx.object_format)
        except FileNotFoundError:  # removed since git listed it
            entry.status, entry.old_path, entry.added, entry.removed = "deleted", None, 0, 0
            continue
        if entry.own_patch:
            entry.added, entry.removed = entry.blob.lines, 0
    regular = [e.path for e in entries if e.blob is not None and e.blob.mode != "120000"]
    if regular and _git_converts(ctx):
        hashes: dict[str, str] = {}
        for start in range(0, len(regular), _ARGS_PER_CALL):
            batch = regular[start : start + _ARGS_PER_CALL]
            hashes.update(zip(batch, _git(ctx.repo, "hash-object", "--", *batch)[1].decode().split()))
        for entry in entries:
            if entry.path in hashes and entry.blob is not None:
                entry.blob = replace(entry.blob, sha=hashes[entry.path])


def _git_converts(ctx: _Repo) -> bool:
    """True when git may convert content before hashing it (attributes, autocrlf).

    Then `git hash-object` hashes the shared files, so blob ids match git's.
    Only the attribute files git reads for every path are looked at: a
    `.gitattributes` in a subdirectory alone is not noticed.
    """
    config = ctx.repo.config_reader()
    if str(config.get_value("core", "autocrlf", "false")).lower() in ("true", "input"):
        return True
    if config.get_value("core", "attributesFile", ""):
        return True
    xdg = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    places = (ctx.root / ".gitattributes", Path(ctx.repo.git_dir, "info", "attributes"), Path(xdg, "git", "attributes"))
    return any(place.exists() for place in places)


# --- Diff and summary --------------------------------------------------------


def _diff_text(ctx: _Repo, entries: list[_Entry]) -> str:
    """Unified diff of the shared files only, at most MAX_DIFF_CHARS long."""
    names: list[str] = []
    for entry in entries:
        if not entry.own_patch and entry.status != "unchanged":
            names.append(entry.path)
            if entry.old_path:
                names.append(entry.old_path)  # both names, so git pairs the rename
    patches: list[str] = []
    prefixes = ("--src-prefix=a/", "--dst-prefix=b/")
    for start in range(0, len(names), _ARGS_PER_CALL):
        batch = names[start : start + _ARGS_PER_CALL]
        _status, out = _git(ctx.repo, "diff", ctx.base, "-M", *_DIFF_OPTS, *prefixes, "--", *batch)
        text = out.decode("utf-8", "replace")
        patches += [patch for patch in re.split(r"(?m)^(?=diff --git )", text) if patch]
    patches += [_new_file_patch(ctx.root, entry) for entry in entries if entry.own_patch and entry.blob]
    kept: list[str] = []
    size = 0
    for patch in patches:
        if size + len(patch) > MAX_DIFF_CHARS - 200:
            left = len(patches) - len(kept)
            kept.append(f"# {left} more file diff(s) left out: the diff is limited to {MAX_DIFF_CHARS} characters\n")
            break
        kept.append(patch)
        size += len(patch)
    return "".join(kept)


def _new_file_patch(root: Path, entry: _Entry) -> str:
    """The patch git prints for a new file; written here because git cannot diff it."""
    assert entry.blob is not None
    full = root / entry.path
    data = os.readlink(os.fsencode(full)) if entry.blob.mode == "120000" else full.read_bytes()
    new = _quote("b/" + entry.path)
    lines = [
        f"diff --git {_quote('a/' + entry.path)} {new}",
        f"new file mode {entry.blob.mode}",
        f"index 0000000..{entry.blob.sha[:7]}",
    ]
    if not data:
        return "\n".join(lines) + "\n"
    if b"\0" in data[:8000]:  # git's own test for binary content
        return "\n".join([*lines, f"Binary files /dev/null and {new} differ"]) + "\n"
    body = data.decode("utf-8", "replace").split("\n")
    complete = body[-1] == ""
    if complete:
        body.pop()
    tab = "\t" if " " in new else ""  # git marks where a name with spaces ends
    lines += ["--- /dev/null", f"+++ {new}{tab}", "@@ -0,0 +1 @@" if len(body) == 1 else f"@@ -0,0 +1,{len(body)} @@"]
    lines += ["+" + line for line in body]
    if not complete:
        lines.append("\\ No newline at end of file")
    return "\n".join(lines) + "\n"


_ESCAPES = {7: "\\a", 8: "\\b", 9: "\\t", 10: "\\n", 11: "\\v", 12: "\\f", 13: "\\r", 34: '\\"', 92: "\\\\"}


def _quote(name: str) -> str:
    """Quote a path the way git's diff headers do (core.quotePath's default)."""
    data = name.encode("utf-8", "surrogateescape")
    if not any(byte < 0x20 or byte >= 0x7F or byte in (34, 92) for byte in data):
        return name
    escaped = "".join(
        _ESCAPES.get(byte) or (f"\\{byte:03o}" if byte < 0x20 or byte >= 0x7F else chr(byte)) for byte in data
    )
    return f'"{escaped}"'


_SUMMARY_ORDER = ("modified", "added", "deleted", "renamed", "untracked", "unchanged")


def _summary(files: list[dict], diffstat: list[dict], label: str, withheld: int) -> str:
    """One line for people: "3 files (2 modified, 1 added), +40 −12 lines since abc1234; 1 withheld"."""
    counts = Counter(file["status"] for file in files)
    kinds = ", ".join(f"{counts[status]} {status}" for status in _SUMMARY_ORDER if counts[status])
    added = sum(item["added"] for item in diffstat)
    removed = sum(item["removed"] for item in diffstat)
    text = f"{len(files)} file{'' if len(files) == 1 else 's'}" + (f" ({kinds})" if kinds else "")
    text += f", +{added} −{removed} lines since {label}"
    return text + (f"; {withheld} withheld" if withheld else "")
