"""What this instance has published, remembered beside the ledger in a file of its own.

The ledger hands out each stream's next ``seq``. If the ledger is deleted,
truncated or restored from an older copy, its counters restart or go back, and
the next event would reuse a ``seq`` that peers already hold for another event.
This file (``.colearner/published.seq``) survives what happens to the ledger
file: one line ``sender<TAB>student<TAB>seq`` per acknowledged batch, appended
(O_APPEND, so a CLI and a language server writing at once do not interleave
within a line), compacted to one line per stream when it grows. Opening an
instance compares it with the ledger's counters: a ledger behind it is recovered
from the broker before anything is written (``Instance``).

Only acknowledged events count: a seq that never left the machine may be
reused harmlessly, and counting it would leave peers a gap no one can fill.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

COMPACT_FROM_BYTES = 64 * 1024


class PublishedMarks:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def record(self, tips: Iterable[tuple[str, str, int]]) -> None:
        """Note that the broker acknowledged events up to ``seq`` for each ``(sender, student, seq)``."""
        text = "".join(f"{sender}\t{student}\t{seq}\n" for sender, student, seq in tips)
        if not text:
            return
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, text.encode("utf-8"))
        finally:
            os.close(fd)

    def read(self) -> dict[tuple[str, str], int]:
        """``(sender, student) → highest seq acknowledged``; unreadable lines are skipped."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        marks: dict[tuple[str, str], int] = {}
        for line in data.decode("utf-8", "replace").splitlines():
            parts = line.split("\t")
            if len(parts) != 3 or not parts[2].isdigit():
                continue  # a line cut by a crash
            key, seq = (parts[0], parts[1]), int(parts[2])
            if seq > marks.get(key, 0):
                marks[key] = seq
        if len(data) > COMPACT_FROM_BYTES:
            self._compact(marks)
        return marks

    def _compact(self, marks: dict[tuple[str, str], int]) -> None:
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        text = "".join(f"{sender}\t{student}\t{seq}\n" for (sender, student), seq in sorted(marks.items()))
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, text.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.path)
