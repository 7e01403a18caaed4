"""The student's version of each evidence file, rebuilt on the coach's side.

Two ways, tried in this order:

- the student's blob itself, when the coach's repository has it (after a
  fetch of the student's branch, or for a file the student did not change);
- the file's patch in the shared diff (``share: diff``), applied to the file
  at the student's base commit, which the coach's repository usually has.

Either way the result is checked against the blob id the student sent, so
what is shown is what the student has on disk, or nothing is shown and the
coach is told why, and what would make it work (fetch a commit, a share
mode, asking for the one file). The student's base commit is not on the
wire: it is the commit the exercise was assigned at (when the student's
clone had it) or the student's HEAD; the patch's ``index`` line says which.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ScopeError
from ..sharing.evidence_diff import MAX_DIFF_CHARS
from ..sharing.repo_paths import lexical_repo_path
from .objects import GitObjects, ObjectInfo
from .patch import FilePatch, PatchError, SharedDiff, apply_patch, read_diff

MAX_SHOWN_BYTES = 2_000_000  # a version larger than this is named, not shown
_COMMIT = re.compile(r"[0-9a-f]{7,64}")
_NO_FILE = ("added", "untracked")  # statuses with nothing at the base


@dataclass(frozen=True)
class FileChange:
    """One evidence file: the base and the student's version, or why one of them cannot be had.

    ``student`` is None for a deleted file (``source`` "deleted") and when it
    cannot be rebuilt (``reason`` says why and what would make it work).
    ``notes`` say what kind of change it is, for every view to show as such.
    """

    path: str
    old_path: str | None
    status: str
    size: int
    base_commit: str | None
    base: str | None  # the file at the base; None when it did not exist there (or cannot be read)
    student: str | None
    source: str | None  # "blob", "diff", "deleted", or None when not rebuilt
    reason: str | None
    notes: tuple[str, ...]
    patch: str | None  # the file's patch as the student's instance shared it

    @property
    def rebuilt(self) -> bool:
        return self.reason is None

    def as_json(self, texts: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "path": self.path,
            "old_path": self.old_path,
            "status": self.status,
            "size": self.size,
            "base_commit": self.base_commit,
            "source": self.source,
            "rebuilt": self.rebuilt,
            "reason": self.reason,
            "notes": list(self.notes),
        }
        if texts:
            data.update(base=self.base, student=self.student)
        return data


@dataclass(frozen=True)
class _Wanted:
    entry: dict[str, Any]
    path: str
    old: str  # the name at the base
    patch: FilePatch | None


def rebuild_changes(root: Path, snapshot: dict[str, Any], bases: Sequence[str], paths: Sequence[str] | None = None) -> list[FileChange]:
    """Each evidence file of ``snapshot`` (or only ``paths``) with its base and student versions.

    ``bases`` are the commits the student's base may be, most likely first
    (the exercise's commit, the student's HEAD). Reads git objects of the
    repository at ``root``; never its working tree. A file whose name a peer
    should not send is left out.
    """
    only = None if paths is None else set(paths)  # the other files' hunks are not read
    shared = read_diff(snapshot["diff"], only) if isinstance(snapshot.get("diff"), str) else None
    wanted = _wanted(snapshot, shared, paths)
    commits = [c for c in dict.fromkeys(bases) if isinstance(c, str) and _COMMIT.fullmatch(c)]
    objects = GitObjects(root)
    names = [f"{c}^{{commit}}" for c in commits]
    names += [f"{c}:{w.old}" for c in commits for w in wanted]
    names += [str(w.entry.get("blob_sha") or "") for w in wanted]
    info = objects.info(name for name in names if name)
    present = [c for c in commits if info.get(f"{c}^{{commit}}") is not None]
    plans = [_plan(w, commits, present, info, shared, snapshot) for w in wanted]
    content = objects.read(sha for plan in plans for sha in (plan.base_sha, plan.student_sha) if sha)
    return [plan.finish(content) for plan in plans]


def _wanted(snapshot: dict[str, Any], shared: SharedDiff | None, paths: Sequence[str] | None) -> list[_Wanted]:
    chosen = set(paths) if paths is not None else None
    out = []
    for entry in snapshot.get("files", []):
        try:
            path = lexical_repo_path(entry.get("path"))
            old = lexical_repo_path(entry["old_path"]) if entry.get("old_path") else path
        except ScopeError:
            continue  # a name no peer should send: views leave it out, as the findings do
        if chosen is not None and path not in chosen:
            continue
        patch = shared.patches.get(path) if shared is not None else None
        out.append(_Wanted(entry, path, old, patch))
    return out


@dataclass
class _Plan:
    """What one file needs read, and what to say when it cannot be had."""

    wanted: _Wanted
    base_commit: str | None
    base_sha: str | None = None
    student_sha: str | None = None
    source: str | None = None
    reason: str | None = None
    base_reason: str | None = None

    def finish(self, content: dict[str, bytes]) -> FileChange:
        w = self.wanted
        entry = w.entry
        notes = list(_notes(entry, w.old))
        base = student = None
        reason = self.reason
        if self.base_sha is not None:
            base, note = _text(content.get(self.base_sha))
            if note:
                notes.append(f"base: {note}")
        if self.source == "blob" and self.student_sha is not None:
            student, note = _text(content.get(self.student_sha))
            if note:
                notes.append(note)
                reason = f"{note}: not shown as text" if student is None else reason
        elif self.source == "diff" and w.patch is not None and reason is None:
            if w.patch.old_path is not None and base is None:
                reason = self.base_reason or f"{w.old} at the base is not text the diff can apply to"
            else:
                student, reason = _applied(base or "", w.patch, entry, self.base_commit)
        source = self.source if reason is None else None
        return FileChange(
            path=w.path,
            old_path=entry.get("old_path"),
            status=str(entry.get("status", "modified")),
            size=int(entry.get("size") or 0),
            base_commit=self.base_commit,
            base=base,
            student=student if reason is None else None,
            source=source,
            reason=reason,
            notes=tuple(notes),
            patch=w.patch.text if w.patch is not None else None,
        )


def _plan(
    w: _Wanted, commits: list[str], present: list[str], info: dict[str, ObjectInfo | None], shared: SharedDiff | None, snap: dict[str, Any]
) -> _Plan:
    entry, status = w.entry, str(w.entry.get("status", "modified"))
    base_commit = _base_commit(w, present, info)
    plan = _Plan(w, base_commit)
    if status not in _NO_FILE:
        at_base = info.get(f"{base_commit}:{w.old}") if base_commit else None
        if at_base is not None and at_base.kind == "blob" and _fits(at_base):
            plan.base_sha = at_base.sha
        elif at_base is not None and at_base.kind == "blob":
            plan.base_reason = f"{w.old} at the base is {at_base.size:,} bytes, more than the {MAX_SHOWN_BYTES:,} shown here"
        elif base_commit is None:
            plan.base_reason = _no_base(commits, present, _old_blob(w))
        else:
            plan.base_reason = f"{w.old} is not in the base commit {base_commit[:7]} as your repository has it"
    if status == "deleted":
        plan.source = "deleted"
        return plan
    blob = info.get(str(entry.get("blob_sha") or ""))
    size = int(entry.get("size") or 0)
    if size > MAX_SHOWN_BYTES or (blob is not None and not _fits(blob)):
        plan.reason = f"{max(size, blob.size if blob else 0):,} bytes, more than the {MAX_SHOWN_BYTES:,} shown here; fetch the student's branch and open it with git"
    elif blob is not None and blob.kind == "blob":
        plan.source, plan.student_sha = "blob", blob.sha
    elif w.patch is not None:
        plan.source = "diff"
        if w.patch.binary:
            plan.reason = "a binary file: the shared diff does not carry its content; fetch the student's branch to see it"
        elif w.patch.old_path is not None and plan.base_sha is None:
            plan.reason = plan.base_reason
    else:
        plan.reason = _why_not(w, shared, snap, plan)
    return plan


def _base_commit(w: _Wanted, present: list[str], info: dict[str, ObjectInfo | None]) -> str | None:
    """The present candidate whose file is the one the patch was made from (its ``index`` line's
    old blob id); without such a line, the first present candidate."""
    old_blob = _old_blob(w)
    if not old_blob:
        return present[0] if present else None
    for commit in present:
        found = info.get(f"{commit}:{w.old}")
        if found is not None and found.sha.startswith(old_blob):
            return commit
    return None  # the diff was made against a commit this repository does not have


def _old_blob(w: _Wanted) -> str:
    """The abbreviated id of the file the patch was made from; "" for a new file or no index line."""
    if w.patch is None or w.patch.old_path is None or not w.patch.old_blob.strip("0"):
        return ""
    return w.patch.old_blob


def _why_not(w: _Wanted, shared: SharedDiff | None, snap: dict[str, Any], plan: _Plan) -> str:
    """Why neither the blob nor the diff gives the student's version, and what would."""
    fetch = "or fetch the student's branch (git fetch) so that their blob is in your repository"
    if shared is None:
        mode = "diffstat" if snap.get("diffstat") is not None else "hashes"
        return (
            f"the scope shares {mode} only (share: {mode}), so no content came with this evidence; "
            f"send the scope again with --share diff and ask for the evidence again, {fetch}"
        )
    if w.path in shared.broken:
        return f"its patch in the shared diff cannot be read ({shared.broken[w.path]}); {fetch}"
    if shared.left_out:
        return (
            f"the shared diff was cut at its size limit ({MAX_DIFF_CHARS:,} characters) before this file; "
            f"ask for evidence on this file alone (colearner request-evidence EXERCISE --path {w.path}), {fetch}"
        )
    if str(w.entry.get("status")) == "unchanged":
        return plan.base_reason or "the student did not change it, and your repository does not have it"
    return f"the shared diff has no patch for this file; {fetch}"


def _applied(base: str, patch: FilePatch, entry: dict[str, Any], base_commit: str | None) -> tuple[str | None, str | None]:
    """The patched text and None, or None and why it is not the student's file."""
    try:
        text = apply_patch(base, patch)
    except PatchError as exc:
        where = f" at {base_commit[:7]}" if base_commit else ""
        return None, f"the shared diff does not apply to your copy of the base{where}: {exc}"
    expected = str(entry.get("blob_sha") or "")
    if expected and blob_id(text.encode("utf-8", "surrogateescape"), len(expected)) != expected:
        return None, (
            "the shared diff does not rebuild the file the student described (its blob id differs): "
            "the file is probably not UTF-8 text; fetch the student's branch to see it"
        )
    return text, None


def blob_id(data: bytes, length: int = 40) -> str:
    """git's blob id of ``data`` (sha1, or sha256 for a 64-digit id)."""
    return hashlib.new("sha256" if length == 64 else "sha1", b"blob %d\0" % len(data) + data).hexdigest()


def _fits(found: ObjectInfo) -> bool:
    return found.size <= MAX_SHOWN_BYTES


def _text(data: bytes | None) -> tuple[str | None, str | None]:
    """(text, note): None for binary content (git's test: a NUL in the first 8,000 bytes)."""
    if data is None:
        return None, None
    if b"\0" in data[:8000]:
        return None, f"a binary file ({len(data):,} bytes)"
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError:
        return data.decode("utf-8", "replace"), "not UTF-8: undecodable bytes shown as �"


def _no_base(commits: list[str], present: list[str], old_blob: str) -> str:
    """Why no base commit of the student's is here, and what would bring it."""
    if not commits:
        return "the evidence names no base commit"
    fetch = "run git fetch (or fetch the student's branch) and try again"
    absent = [c for c in commits if c not in present]
    if absent:
        return f"the student's base commit ({' or '.join(c[:7] for c in absent)}) is not in your repository; {fetch}"
    return (
        f"the student's diff was made against a version of the file (blob {old_blob}) that is not at "
        f"{' or '.join(c[:7] for c in present)} in your repository; {fetch}"
    )


_NOTES = {
    "deleted": "deleted by the student",
    "untracked": "a new file, not yet added to git (untracked)",
    "added": "a new file",
    "unchanged": "unchanged since the base",
}


def _notes(entry: dict[str, Any], old: str) -> list[str]:
    status = str(entry.get("status", ""))
    if status == "renamed":
        return [f"renamed from {old}"]
    return [_NOTES[status]] if status in _NOTES else []


def display_diff(change: FileChange) -> str | None:
    """The diff a view prints for a file: its patch as shared, else one made from the rebuilt versions."""
    if change.patch is not None:
        return change.patch
    if not change.rebuilt or (change.base is None and change.student is None):
        return None
    old = (change.base or "").splitlines(keepends=True)
    new = (change.student or "").splitlines(keepends=True)
    head = f"a/{change.old_path or change.path}" if change.base is not None else "/dev/null"
    tail = f"b/{change.path}" if change.student is not None else "/dev/null"
    lines = list(difflib.unified_diff(old, new, head, tail))
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)
