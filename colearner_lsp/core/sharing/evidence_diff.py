"""The snapshot's file entries, and the text written from them: the diff and the summary.

`evidence` makes an entry for every shared file and hashes it; the diff and
the summary line are written here from those entries. The diff holds only
the shared files: git writes the patches of the ones it can diff, and the
patch of a file git cannot diff (untracked) or must not (its old name is
withheld) is written here the way git would. Apart from `evidence` because
writing patches is its own craft (git's quoting, binary content, the size
cap) and needs nothing of the scope.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .evidence_git import _ARGS_PER_CALL, _DIFF_OPTS, _git, _Repo

MAX_DIFF_CHARS = 500_000  # what an evidence_snapshot event carries at most


@dataclass(frozen=True)
class _Blob:
    sha: str
    size: int
    lines: int
    mode: str  # git's file mode: 100644, 100755 or 120000


@dataclass
class _Entry:
    path: str
    status: str
    old_path: str | None = None
    added: int = 0
    removed: int = 0
    own_patch: bool = False  # git cannot diff it (untracked) or must not (its old name is withheld)
    blob: _Blob | None = None

    def as_file(self) -> dict[str, Any]:
        blob = self.blob or _Blob("", 0, 0, "")
        return {
            "path": self.path,
            "blob_sha": blob.sha,
            "size": blob.size,
            "lines": blob.lines,
            "status": self.status,
            "old_path": self.old_path,
        }


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
    escaped = "".join(_ESCAPES.get(byte) or (f"\\{byte:03o}" if byte < 0x20 or byte >= 0x7F else chr(byte)) for byte in data)
    return f'"{escaped}"'


_SUMMARY_ORDER = ("modified", "added", "deleted", "renamed", "untracked", "unchanged")


def _summary(files: list[dict[str, Any]], diffstat: list[dict[str, Any]], label: str, withheld: int) -> str:
    """One line for people: "3 files (2 modified, 1 added), +40 −12 lines since abc1234; 1 withheld"."""
    counts = Counter(file["status"] for file in files)
    kinds = ", ".join(f"{counts[status]} {status}" for status in _SUMMARY_ORDER if counts[status])
    added = sum(item["added"] for item in diffstat)
    removed = sum(item["removed"] for item in diffstat)
    text = f"{len(files)} file{'' if len(files) == 1 else 's'}" + (f" ({kinds})" if kinds else "")
    text += f", +{added} −{removed} lines since {label}"
    return text + (f"; {withheld} withheld" if withheld else "")
