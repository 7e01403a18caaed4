"""The exercises this editor shows: their anchors as they move, and their findings.

``LiveExercises`` joins the folded state (``Instance.state``), the anchor
tracker and the diagnostic store. Every method returns the files whose
diagnostics changed, for the server to publish; nothing here speaks LSP or
touches the network. A student sees their own open exercises; a coach sees
the answers and evidence of their students' open exercises.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path

from ..core.anchor.anchors import LineRange, Relocation, TextEdit
from ..core.model.state import ExerciseState
from .anchor_tracker import AnchorTracker, Tracked, locate
from .coach_findings import coach_findings
from .coach_review import LocalBlobs
from .diagnostics import AT_ANCHOR, MISTAKE, DiagnosticStore, Finding, safe_path, student_findings

log = logging.getLogger(__name__)

TextOf = Callable[[str], "str | None"]


def anchored_path(ex: ExerciseState) -> str | None:
    path = ex.anchor.path if ex.anchor is not None else None
    return path if path and safe_path(path) else None


def place_all(exercises: Iterable[ExerciseState], text_of: TextOf) -> dict[str, Relocation]:
    """Find every exercise's code in the current files (reads each file once); for a worker thread."""
    texts: dict[str, str | None] = {}
    placed = {}
    for ex in exercises:
        path = anchored_path(ex)
        if path is None or ex.anchor is None:
            continue
        if path not in texts:
            texts[path] = text_of(path)
        placed[ex.exercise_id] = locate(ex.anchor, texts[path])
    return placed


MISTAKE_MARK = "#mistake-"  # tracker keys of mistakes' places: "<exercise id>#mistake-<feedback>-<n>"


def mistake_key(exercise_id: str, feedback_id: str, n: int) -> str:
    return f"{exercise_id}{MISTAKE_MARK}{feedback_id}-{n}"


def owner(key: str) -> str:
    """The exercise a tracker key belongs to (itself, or the exercise of a mistake's place)."""
    return key.split(MISTAKE_MARK, 1)[0]


class LiveExercises:
    def __init__(self, identity: str, role: str, root: Path, exercises: dict[str, ExerciseState], text_of: TextOf) -> None:
        self.identity, self.role = identity, role
        self.exercises = exercises  # the instance's folded state, read only
        self.text_of = text_of
        self.tracker = AnchorTracker()
        self.store = DiagnosticStore()
        self.blobs = LocalBlobs(root)
        self._mistakes: dict[str, set[str]] = {}  # exercise → the tracker keys of its mistakes' places

    def wants(self, ex: ExerciseState) -> bool:
        mine = ex.student == self.identity if self.role == "student" else ex.coach == self.identity
        return mine and ex.state != "passed"

    def shown(self) -> list[ExerciseState]:
        return [ex for ex in list(self.exercises.values()) if self.wants(ex)]

    def findings(self, ex: ExerciseState) -> list[Finding]:
        t = self.tracker.get(ex.exercise_id)
        if self.role == "student":
            return self._follow_mistakes(ex, student_findings(ex, t))
        return coach_findings(ex, t, self.blobs)

    def _follow_mistakes(self, ex: ExerciseState, found: list[Finding]) -> list[Finding]:
        """The student's mistakes on lines of their own follow edits as anchors do: each is tracked
        from the lines the coach named (under a key of its own, see ``mistake_key``) and its
        finding placed wherever those lines are now. A new feedback's mistakes start afresh."""
        feedback_id = ex.latest_feedback.event_id[:8] if ex.latest_feedback is not None else ""
        keys: set[str] = set()
        out = []
        texts: dict[str, str | None] = {}
        for n, f in enumerate(found):
            if f.kind != MISTAKE or f.lines is None:
                out.append(f)
                continue
            key = mistake_key(ex.exercise_id, feedback_id, n)
            keys.add(key)
            if key not in self.tracker:
                if f.path not in texts:
                    texts[f.path] = self.text_of(f.path)
                lines = LineRange(f.lines[0] + 1, f.lines[1] + 1)
                self.tracker.add(key, f.path, lines, locate(lines, texts[f.path]))
            out.append(replace(f, lines=AT_ANCHOR, place=key))
        self._forget_mistakes(ex.exercise_id, keep=keys)
        if keys:
            self._mistakes[ex.exercise_id] = keys
        return out

    def _forget_mistakes(self, exercise_id: str, keep: frozenset[str] | set[str] = frozenset()) -> None:
        for key in self._mistakes.pop(exercise_id, set()) - keep:
            self.tracker.remove(key)

    # ------------------------------------------------------------ changes

    def adopt(self, placed: dict[str, Relocation]) -> set[str]:
        """Track anchors placed by ``place_all`` and build every finding."""
        touched: set[str] = set()
        for ex in self.shown():
            found = placed.get(ex.exercise_id)
            path = anchored_path(ex)
            if found is not None and ex.anchor is not None and path is not None and ex.exercise_id not in self.tracker:
                self.tracker.add(ex.exercise_id, path, ex.anchor, found)
            touched |= self.store.set(ex.exercise_id, self.findings(ex))
        return touched

    def update(self, exercise_ids: Iterable[str]) -> set[str]:
        """Rebuild what changed exercises show (placing new anchors, dropping passed ones)."""
        touched: set[str] = set()
        texts: dict[str, str | None] = {}  # a batch of new exercises reads each file once
        for exercise_id in exercise_ids:
            ex = self.exercises.get(exercise_id)
            if ex is None or not self.wants(ex):
                self.tracker.remove(exercise_id)
                self._forget_mistakes(exercise_id)
                touched |= self.store.set(exercise_id, [])
                continue
            path = anchored_path(ex)
            if ex.anchor is not None and path is not None and exercise_id not in self.tracker:
                if path not in texts:
                    texts[path] = self.text_of(path)
                self.tracker.add(exercise_id, path, ex.anchor, locate(ex.anchor, texts[path]))
            touched |= self.store.set(exercise_id, self.findings(ex))
        return touched

    def edited(self, path: str, edits: list[TextEdit]) -> set[str]:
        """An open document changed: carry its anchors along (messages are rebuilt only for anchors just lost)."""
        moved = self.tracker.apply_edits(path, edits)
        lost = {owner(key) for key in moved if (t := self.tracker.get(key)) is not None and t.lost and key == owner(key)}
        return self.update(lost) | self.paths_of(owner(key) for key in moved)

    def relocated(self, path: str, text: str | None, keep_live: bool = False) -> set[str]:
        """A file's text changed in a way we did not follow edit by edit: search for its anchors again."""
        changed = {owner(key) for key in self.tracker.relocate_path(path, text, keep_live)}
        return self.update(changed) | self.paths_of(changed)

    def refresh_path(self, path: str) -> set[str]:
        """Rebuild the findings that depend on a file's content (the coach's blob comparison)."""
        return self.update({f.exercise_id for f in self.store.for_path(path)})

    def paths_of(self, exercise_ids: Iterable[str]) -> set[str]:
        """The files showing something about these exercises (their places may have moved)."""
        return {f.path for eid in exercise_ids for f in self.store.by_exercise.get(eid, ())}

    # ------------------------------------------------------------ queries

    def at(self, path: str, first: int, last: int) -> list[ExerciseState]:
        """Open exercises whose anchor in ``path`` touches 0-based lines ``first..last``."""
        found = []
        for t in self.tracker.in_path(path):
            ex = self.exercises.get(t.exercise_id)
            if ex is not None and t.covers(first, last) and self.wants(ex):
                found.append(ex)
        return found

    def tracked(self, exercise_id: str) -> Tracked | None:
        return self.tracker.get(exercise_id)

    def place_of(self, exercise_id: str) -> tuple[int, int]:
        """0-based first and last line of an exercise's code now (line 0 when lost)."""
        return self.tracker.place(exercise_id)

    def lines_of(self, f: Finding) -> tuple[int, int]:
        return f.lines or self.place_of(f.tracked_as)  # no lines (AT_ANCHOR): where its code is now

    def anchored_paths(self) -> list[str]:
        return self.tracker.paths()
