"""Reading git objects of the coach's repository, never its working tree.

Two ``git cat-file`` processes answer a whole review: one says which of the
names asked for exist (``--batch-check``: commits, ``commit:path`` entries,
blob ids), the other reads the few blobs that are shown (``--batch``). Names
are written to git's standard input, one a line, so a name that holds a line
break is not asked (``askable``); it is simply not found.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..errors import ColearnerError

# Take no lock the coach's editor may need, and read no replaced object.
_ENV = {"GIT_OPTIONAL_LOCKS": "0", "GIT_NO_REPLACE_OBJECTS": "1"}


@dataclass(frozen=True)
class ObjectInfo:
    sha: str
    kind: str  # blob, tree, commit, tag
    size: int


def askable(name: str) -> bool:
    """Whether ``name`` can go to git's batch input as one line."""
    return bool(name) and "\n" not in name and "\r" not in name and "\0" not in name


class GitObjects:
    """The object database of the repository at ``root`` (its working tree is not read)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _run(self, mode: str, names: list[str]) -> bytes:
        env = {**os.environ, **_ENV}
        for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY"):
            env.pop(name, None)  # the coach's repository is the folder's, whatever the environment says
        try:
            done = subprocess.run(
                ["git", "cat-file", mode],
                cwd=self.root,
                input="".join(f"{name}\n" for name in names).encode("utf-8", "surrogateescape"),
                capture_output=True,
                env=env,
                check=False,
            )
        except FileNotFoundError:
            raise ColearnerError("git is not installed here; the student's version is rebuilt with git's objects") from None
        if done.returncode != 0:
            message = done.stderr.decode("utf-8", "replace").strip() or f"exit status {done.returncode}"
            raise ColearnerError(f"git cat-file failed in {self.root}: {message}")
        return done.stdout

    def info(self, names: Iterable[str]) -> dict[str, ObjectInfo | None]:
        """For each name (a commit, ``commit:path``, a blob id): what it is, or None when it is not here."""
        asked = list(dict.fromkeys(name for name in names if askable(name)))
        found: dict[str, ObjectInfo | None] = {name: None for name in names}
        if not asked:
            return found
        lines = self._run("--batch-check", asked).decode("utf-8", "replace").split("\n")
        for name, line in zip(asked, lines):
            parts = line.split(" ")
            if len(parts) == 3 and parts[2].isdigit():
                found[name] = ObjectInfo(parts[0], parts[1], int(parts[2]))
        return found

    def read(self, shas: Iterable[str]) -> dict[str, bytes]:
        """The content of each object id (ids that are not here are left out)."""
        asked = list(dict.fromkeys(sha for sha in shas if askable(sha)))
        if not asked:
            return {}
        out = self._run("--batch", asked)
        content: dict[str, bytes] = {}
        at = 0
        for sha in asked:
            end = out.index(b"\n", at)
            head = out[at:end].decode("utf-8", "replace").split(" ")
            at = end + 1
            if len(head) != 3 or not head[2].isdigit():
                continue  # "<name> missing"
            size = int(head[2])
            content[sha] = out[at : at + size]
            at += size + 1  # the content, then a newline
        return content
