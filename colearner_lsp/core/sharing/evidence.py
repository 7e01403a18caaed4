"""Evidence: what the student's instance tells the coach about its working tree.

`take_snapshot` asks git what changed (git already knows, from its index stat
cache), passes every candidate path through `scope.plan_share`, and reads
only the files that will be shared. It never walks the tree or hashes a file
git did not name, so its cost grows with the changes, not with the
repository; the git commands it needs run side by side. `preview_snapshot`
makes the same decision without reading a file: the dry run shows it, and
the real snapshot hands back the one it was taken from, so both say the same.

Asking git and choosing the candidates is in `evidence_git`; the entries,
the diff and the summary line in `evidence_diff`.
"""

from __future__ import annotations

import hashlib
import os
import stat
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..display import one_line
from ..errors import EvidenceError
from .evidence_diff import MAX_DIFF_CHARS, _Blob, _diff_text, _Entry, _summary
from .evidence_git import _ARGS_PER_CALL, GIT_IGNORED, _git, _Listing, _opened, _Repo, _select
from .scope import ScopeRules, plan_share

__all__ = [
    "GIT_IGNORED",
    "MAX_DIFF_CHARS",
    "EvidenceError",
    "EvidencePreview",
    "Withheld",
    "blob_sha_of",
    "candidate_paths",
    "preview_snapshot",
    "snapshot_with_preview",
    "take_snapshot",
]

_CHUNK = 1 << 20


# --- Hashing -----------------------------------------------------------------


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


def candidate_paths(
    repo_root: Path,
    paths: Sequence[str] | None = None,
    since_commit: str | None = None,
    globs: Sequence[str] | None = None,
) -> list[str]:
    """The paths `take_snapshot` with the same arguments puts to the scope."""
    with _opened(Path(repo_root), since_commit) as ctx:
        return _select(ctx, paths, globs).candidates


# --- What goes and what stays ------------------------------------------------


@dataclass(frozen=True)
class Withheld:
    """A file the snapshot does not share, and why. For the student's eyes only."""

    path: str
    reason: str


@dataclass(frozen=True)
class EvidencePreview:
    """What a snapshot shares and withholds: the dry run shows it, the real command sends it.

    Only `shared` (with hashes) and the number of `withheld` files leave the
    machine; the withheld names and reasons are for the student.
    """

    shared: tuple[str, ...]
    withheld: tuple[Withheld, ...]

    def lines(self) -> list[str]:
        """The preview for people: one line per file, shared ones first."""
        out = [f"sharing {len(self.shared)} file(s)" + (":" if self.shared else "")]
        out += [f"  + {one_line(path)}" for path in self.shared]
        if self.withheld:
            out.append(f"withholding {len(self.withheld)} file(s) (named here only; the coach sees just how many):")
            out += [f"  - {one_line(item.path)}: {one_line(item.reason)}" for item in self.withheld]
        return out

    def as_json(self) -> dict[str, Any]:
        return {"shared": list(self.shared), "withheld": [{"path": w.path, "reason": w.reason} for w in self.withheld]}


def preview_snapshot(
    repo_root: Path,
    rules: ScopeRules,
    paths: Sequence[str] | None = None,
    since_commit: str | None = None,
    globs: Sequence[str] | None = None,
    include_ignored: bool = False,
) -> EvidencePreview:
    """What `take_snapshot` with the same arguments would share and withhold; reads no file."""
    with _opened(Path(repo_root), since_commit) as ctx:
        return _plan(ctx, rules, paths, globs, include_ignored)[2]


def _plan(
    ctx: _Repo, rules: ScopeRules, paths: Sequence[str] | None, globs: Sequence[str] | None, include_ignored: bool
) -> tuple[_Listing, list[_Entry], EvidencePreview]:
    """The one decision of what goes: the listing, an entry per shared file, and the preview of it."""
    listing = _select(ctx, paths, globs, include_ignored)
    plan = plan_share(ctx.root, listing.candidates, rules)
    withheld = [Withheld(raw, reason) for raw, reason in listing.withheld]
    withheld += [Withheld(raw, reason) for raw, reason in plan.refused]
    if listing.ignored:
        # A scope refusal says more than "git-ignored" (consent would not change it);
        # these files take no place under max_files, since they do not go.
        ignored = plan_share(ctx.root, listing.ignored, replace(rules, max_files=len(listing.ignored)))
        withheld += [Withheld(raw, reason) for raw, reason in ignored.refused]
        withheld += [Withheld(path, GIT_IGNORED) for path in ignored.shared]
    entries, renamed_from = _entries(ctx.root, rules, plan.shared, listing)
    return listing, entries, EvidencePreview(tuple(entry.path for entry in entries), tuple(withheld + renamed_from))


# --- The snapshot ------------------------------------------------------------


def take_snapshot(
    repo_root: Path,
    rules: ScopeRules,
    paths: Sequence[str] | None = None,
    since_commit: str | None = None,
    globs: Sequence[str] | None = None,
    progress: Callable[[str], None] | None = None,
    include_ignored: bool = False,
) -> dict[str, Any]:
    """Describe the student's work for the coach, within `rules`.

    Files are the `paths` the student attached (a directory stands for the
    files git knows in it; a git-ignored file goes only with
    `include_ignored`), else those matching the coach's `globs`, else every
    file changed since `since_commit` (default HEAD): committed, staged,
    unstaged and untracked. Every candidate goes through `plan_share`; refused
    ones only add to `withheld`, and their names never appear in the result.

    Returns `commit`, `branch`, `dirty`, `files` (each `path`, `blob_sha`,
    `size`, `lines`, `status`, `old_path`), `summary`, `withheld`, and
    `diffstat` / `diff` when `rules.share` asks for them (else None).
    Raises EvidenceError for a missing repository or commit.
    """
    return snapshot_with_preview(repo_root, rules, paths, since_commit, globs, progress, include_ignored)[0]


def snapshot_with_preview(
    repo_root: Path,
    rules: ScopeRules,
    paths: Sequence[str] | None = None,
    since_commit: str | None = None,
    globs: Sequence[str] | None = None,
    progress: Callable[[str], None] | None = None,
    include_ignored: bool = False,
) -> tuple[dict[str, Any], EvidencePreview]:
    """`take_snapshot`, and the preview it was taken from (what `preview_snapshot` says)."""
    say = progress or (lambda _message: None)
    with _opened(Path(repo_root), since_commit) as ctx:
        say(f"listing files since {ctx.label}")
        listing, entries, preview = _plan(ctx, rules, paths, globs, include_ignored)
        say(f"hashing {sum(1 for entry in entries if entry.status != 'deleted')} files")
        _hash_entries(ctx, entries)
        diffstat = [{"path": e.path, "added": e.added, "removed": e.removed} for e in entries]
        diff = None
        if rules.share == "diff":
            say("building the diff")
            diff = _diff_text(ctx, entries)
        files = [entry.as_file() for entry in entries]
        snapshot = {
            "commit": ctx.commit,
            "branch": ctx.branch,
            "dirty": listing.dirty,
            "files": files,
            "summary": _summary(files, diffstat, ctx.label, len(preview.withheld)),
            "withheld": len(preview.withheld),
            "diffstat": diffstat if rules.share in ("diffstat", "diff") else None,
            "diff": diff,
        }
        return snapshot, preview


def _entries(root: Path, rules: ScopeRules, shared: Sequence[str], listing: _Listing) -> tuple[list[_Entry], list[Withheld]]:
    """File entries for the shared paths, and the old names of renames the scope withholds."""
    by_nfc = {unicodedata.normalize("NFC", name): name for name in listing.changes}
    entries: list[_Entry] = []
    for path in shared:
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
        return entries, []
    # A rename also tells the old name, so that name must pass the scope too.
    # It is the same file: it does not count against max_files.
    sources = [entry.old_path for entry in renames if entry.old_path]
    sources_plan = plan_share(root, sources, replace(rules, max_files=len(sources)))
    refused = dict(sources_plan.refused)
    withheld: list[Withheld] = []
    for entry in renames:
        if entry.old_path in refused:  # shown as new, without the withheld name or content
            withheld.append(Withheld(entry.old_path, f"old name of {entry.path}, {refused[entry.old_path]}"))
            entry.status, entry.old_path, entry.own_patch = "added", None, True
        else:
            entry.old_path = unicodedata.normalize("NFC", entry.old_path or "")
    return entries, withheld


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
