"""``.colearner/learning.json``: the folded state written out for people and tools.

Written when the state changed: at once after an action, and while a stream of events
arrives at most every ``LEARNING_JSON_EVERY_S[role]``, on a worker thread, its snapshot
taken a piece at a time under the instance's lock. Each exercise's JSON text is kept
and encoded again only when a fold changed it (``json_splice``), so writing the file
costs what changed, not the whole state. ``Instance`` has these methods.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from .config import CONFIG_DIR
from .json_splice import Encoded, Spliced, dump_parts, encode_at
from .model.state import ExerciseState, State
from .protocol.events import now_ts

# While a stream of events arrives, rewrite learning.json at most this often. A
# student's file is small; a coach's holds every student (tens of MB, ~0.15 s to
# write at 100k events), so it is a slower-moving export: the dashboard is live.
LEARNING_JSON_EVERY_S = {"student": 1.0, "coach": 10.0}
EXERCISE_LEVEL = 4  # document → sessions → a session → its exercises → an exercise


class LearningJson:
    """The instance's ``learning.json``: when it is due, its snapshot, writing it."""

    # the instance's, read here
    root: Path
    state: State
    _lock: threading.RLock
    _pos: int

    @property
    def identity(self) -> str:
        raise NotImplementedError

    @property
    def role(self) -> str:
        raise NotImplementedError

    def __init__(self) -> None:
        self._learning_dirty = False
        self._learning_written = 0.0
        self._learning_taken = 0  # snapshots of the state taken for learning.json, and the newest on disk
        self._learning_on_disk = 0
        self._learning_file_lock = threading.Lock()
        # Per exercise: how many folds changed it, and its text as last encoded (with the object
        # and count it was encoded from: a session folded again makes new objects).
        self._learning_changes: dict[str, int] = {}
        self._learning_pieces: dict[str, tuple[ExerciseState, int, Encoded]] = {}

    def learning_changed(self, exercise_ids: set[str]) -> None:
        """A fold changed the state, and these exercises in it (called under the instance's lock)."""
        self._learning_dirty = True
        changes = self._learning_changes
        for exercise_id in exercise_ids:
            changes[exercise_id] = changes.get(exercise_id, 0) + 1

    def learning_json_due(self, idle: bool) -> bool:
        """Whether a deferred ``learning.json`` should be written now: at once when
        the bus fell idle, at most every ``LEARNING_JSON_EVERY_S[role]`` while busy."""
        if not self._learning_dirty:
            return False
        return idle or time.monotonic() - self._learning_written >= LEARNING_JSON_EVERY_S[self.role]

    def flush_learning_json(self) -> None:
        """Write ``learning.json`` if the state changed since it was last written.

        Only the snapshot of the state takes the instance's lock, a piece at a time
        (``_learning_data``): encoding and writing a big state (~0.4 s at 10,000
        exercises) must not hold up the bus or the editor, so the bus calls this on a
        worker thread. The file is marked clean before the snapshot: a fold during
        it marks it dirty again.
        """
        with self._lock:
            if not self._learning_dirty:
                return
            self._learning_dirty = False
            self._learning_written = time.monotonic()
            self._learning_taken += 1
            taken = self._learning_taken
        parts = list(dump_parts(self._learning_data(), self._learning_indent))
        with self._learning_file_lock:
            if taken > self._learning_on_disk:  # a newer snapshot may have been written already
                self._write_learning_file(parts)
                self._learning_on_disk = taken

    @property
    def _learning_indent(self) -> int | None:
        # A student's file is small and read by people; a coach's holds every student (tens
        # of MB at 100k events), so it is written compact.
        return 2 if self.role == "student" else None

    def _exercise_piece(self, exercise_id: str, session_id: str) -> Encoded | None:
        """An exercise's text for the snapshot: kept, or encoded now (under the lock: as one fold left it).

        A kept text is used while neither its object nor its count of changes moved. Read
        without the lock, a fold in progress may have changed the exercise and not yet
        counted it; that fold marks the file dirty, so the next write has it."""
        ex = self.state.exercises.get(exercise_id)
        kept = self._learning_pieces.get(exercise_id)
        if kept is not None and kept[0] is ex and kept[1] == self._learning_changes.get(exercise_id, 0):
            return kept[2] if ex is not None and ex.session_id == session_id else None
        with self._lock:
            ex = self.state.exercises.get(exercise_id)
            if ex is None or ex.session_id != session_id:
                return None
            changes = self._learning_changes.get(exercise_id, 0)
            piece = encode_at(ex.to_json(), self._learning_indent, EXERCISE_LEVEL)
        self._learning_pieces[exercise_id] = (ex, changes, piece)
        return piece

    def _learning_data(self) -> Spliced:
        """A snapshot of the state for ``learning.json``, taken a piece at a time.

        The sessions and their exercise lists are taken under the instance's lock, then
        each exercise under the lock on its own: every exercise is as one fold left it,
        and the lock is never held for the whole state (tens of ms at 2,000 exercises),
        which would stall the event loop that folds arriving events and answers the
        editor. What the fold does meanwhile marks the file dirty again: written next.
        ``to_json`` copies every container; the records in them never change.
        """
        student = self.identity if self.role == "student" else None
        state = self.state
        with self._lock:
            chosen = sorted(
                (s for s in state.sessions.values() if student is None or s.student == student),
                key=lambda s: (s.opened_at or "", s.session_id),
            )
            sessions = [(s.to_json(with_exercises=False), s.session_id, list(s.exercise_ids)) for s in chosen]
            pos = self._pos
        shown = []
        for data, session_id, exercise_ids in sessions:
            pieces = (self._exercise_piece(exercise_id, session_id) for exercise_id in exercise_ids)
            shown.append(Spliced({**data, "exercises": Spliced([p for p in pieces if p is not None])}))
        return Spliced(
            {
                "version": 1,
                "sessions": Spliced(shown),
                "identity": self.identity,
                "role": self.role,
                "written_at": now_ts(),
                "ledger_pos": pos,  # the last ledger row this state has seen (cli/snapshot_inbox.py)
            }
        )

    def _write_learning_file(self, parts: list[str]) -> None:
        path = self.root / CONFIG_DIR / "learning.json"
        tmp = path.with_name(f".learning.{os.getpid()}.{threading.get_ident()}.tmp")
        # owner only, like everything under .colearner/ (it holds answers and grades)
        with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as fh:
            fh.writelines(parts)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
