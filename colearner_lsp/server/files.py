"""The repository as the editor sees it: paths and URIs, open buffers, files changed on disk."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from pygls.uris import from_fs_path, to_fs_path

from .diagnostics import safe_path


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_mtime_ns, info.st_size


def _relative(path: Path, base: Path) -> str | None:
    try:
        return path.relative_to(base).as_posix()
    except ValueError:
        return None


class Checkout:
    """One repository: which of its files the editor has open, and what each holds now."""

    def __init__(self, root: Path, buffer_text: Callable[[str], str]) -> None:
        self.root = Path(root)
        self.buffer_text = buffer_text  # the editor's text for an open document's URI
        self.open_docs: dict[str, str] = {}  # repository path → the URI the editor uses for it
        self._mtimes: dict[str, tuple[int, int] | None] = {}

    def repo_path(self, uri: str) -> str | None:
        """The repository-relative path of a file URI, or None outside the repository (or in .git)."""
        fs = to_fs_path(uri) if uri.startswith("file:") else None
        if fs is None:
            return None
        # As given first: resolving costs a stat per path component, on every request.
        rel = _relative(Path(fs), self.root)
        if rel is None:
            rel = _relative(Path(os.path.realpath(fs)), self.root.resolve())
        return rel if rel is not None and rel != "." and safe_path(rel) else None

    def uri_of(self, path: str) -> str:
        return self.open_docs.get(path) or from_fs_path(str(self.root / path)) or ""

    def text_of(self, path: str) -> str | None:
        """A file's text as the user sees it: the editor's buffer when open, else the disk."""
        uri = self.open_docs.get(path)
        return self.buffer_text(uri) if uri is not None else self.disk_text(path)

    def disk_text(self, path: str) -> str | None:
        """The file on disk (None when missing); the first read also sets the baseline ``changed_on_disk`` compares with."""
        target = self.root / path
        self._mtimes.setdefault(path, _stamp(target))
        try:
            return target.read_text(encoding="utf-8", errors="replace")
        except (OSError, ValueError):
            return None

    def changed_on_disk(self, paths: list[str]) -> dict[str, str | None]:
        """Closed files whose mtime or size changed since the last look, with their new text (for a worker thread).

        A commit, a checkout or another editor's save shows up here; open files
        are left to the editor, which reports its own changes.
        """
        changed: dict[str, str | None] = {}
        for path in paths:
            if path in self.open_docs:
                continue
            seen = _stamp(self.root / path)
            if path in self._mtimes and self._mtimes[path] != seen:
                self._mtimes[path] = seen
                changed[path] = self.disk_text(path)
            self._mtimes[path] = seen
        return changed
