"""What the coach sees inline: answers waiting for review and the evidence behind them.

Each file a student's latest (not yet reviewed) evidence snapshot names shows
up in the coach's own checkout, marked by comparing the student's git blob id
with the coach's file: it *matches*, *differs*, or is *not available* here.
Files the coach does not have are listed on the exercise's anchor instead, so
nothing is published for paths that do not exist locally.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..core.protocol.events import EvidenceFile
from ..core.review.work import unreviewed_evidence
from ..core.sharing.evidence import EvidenceError, blob_sha_of
from .diagnostics import safe_path

__all__ = ["MATCH_TEXT", "LocalBlobs", "match_of", "unreviewed_evidence"]

MATCH_TEXT = {
    "matches": "matches your checkout",
    "differs": "differs from your checkout",
    "missing": "is not available in your checkout",
}


class LocalBlobs:
    """Git blob ids of the coach's files, recomputed only when a file's mtime or size changes."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._cache: dict[str, tuple[int, int, str]] = {}

    def sha(self, path: str) -> str | None:
        """The blob id of the coach's file at ``path``; None when there is none, or when a peer
        named a path that is not a plain repository path (absolute, '..', .git, a NUL)."""
        if not safe_path(path):
            return None
        target = self.root / path
        try:
            info = os.stat(target)
        except (OSError, ValueError):  # ValueError: a path the OS cannot even name
            return None
        if not os.path.isfile(target):
            return None
        cached = self._cache.get(path)
        if cached and cached[:2] == (info.st_mtime_ns, info.st_size):
            return cached[2]
        try:
            sha = blob_sha_of(target)
        except (OSError, EvidenceError):
            return None
        self._cache[path] = (info.st_mtime_ns, info.st_size, sha)
        return sha


def match_of(file: EvidenceFile, local: str | None) -> str:
    if local is None:
        return "missing"
    return "matches" if file.blob_sha == local else "differs"
