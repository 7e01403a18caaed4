"""Reviewing the student's work from the editor: "Show the student's change".

A code lens at the top of each file of a student's evidence not yet reviewed
(the coach's checkout has the file), and the same as a code action there, on
the evidence diagnostic and on the exercise's lines (for the anchor's file and
the evidence files the checkout lacks): clients that show no lenses (Helix,
eglot) get every lens as an action.

Each runs ``colearner.showStudentChange``, which calls the core's
``student_change`` and writes the two versions under
``.colearner/review/<student>/<exercise>-<evidence>/`` as read-only files
(``base-<commit>/PATH`` and ``<student>/PATH``). A client that supports
``window/showDocument`` is asked to open both; any other gets both texts in
the command's result, with the files' URIs (the README's Neovim setup opens
them side by side in diff mode). ``show: false`` opens nothing and returns the
texts: the VS Code extension shows them in its own diff editor.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from collections.abc import Collection
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.uris import from_fs_path

from ..core.config import CONFIG_DIR
from ..core.display import one_line
from ..core.errors import ColearnerError
from ..core.model.records import EvidenceRecord
from ..core.model.state import ExerciseState
from ..core.private_files import private_dir, write_private
from ..core.review import work
from ..core.review.versions import FileChange
from .coach_review import unreviewed_evidence
from .command_args import ShowChangeArgs, parse
from .diagnostics import EVIDENCE, SOURCE, safe_path
from .server import USER_ERRORS, ColearnerServer, user_error

SHOW = "colearner.showStudentChange"
REVIEW_DIR = "review"
MISSING_NAMED = 5  # evidence files the coach's checkout lacks, offered at the exercise's lines


# ---------------------------------------------------------------- what is offered where


def title(ex: ExerciseState, path: str) -> str:
    return f"Show the student's change: {path} ({ex.student})"


def argument(ex: ExerciseState, path: str, evidence: EvidenceRecord) -> dict[str, Any]:
    return {"exercise_id": ex.exercise_id, "path": path, "evidence_id": evidence.event_id}


def evidence_paths(ex: ExerciseState) -> tuple[EvidenceRecord | None, list[str]]:
    """The unreviewed snapshot of an exercise and the paths it names that a peer may name."""
    evidence = unreviewed_evidence(ex)
    if evidence is None:
        return None, []
    return evidence, [f.path for f in evidence.snapshot.files if safe_path(f.path)]


def exercises_with_evidence_in(ls: ColearnerServer, path: str) -> list[tuple[ExerciseState, EvidenceRecord]]:
    """The coach's open exercises whose unreviewed evidence names ``path``."""
    assert ls.live is not None
    found = []
    for exercise_id in {f.exercise_id for f in ls.live.store.for_path(path)} | {t.exercise_id for t in ls.live.tracker.in_path(path)}:
        ex = ls.live.exercises.get(exercise_id)
        if ex is None or not ls.live.wants(ex):
            continue
        snapshot, paths = evidence_paths(ex)
        if snapshot is not None and path in paths:
            found.append((ex, snapshot))
    return sorted(found, key=lambda pair: (pair[0].student, pair[0].exercise_id))


def lenses(ls: ColearnerServer, path: str) -> list[types.CodeLens]:
    """At the top of an evidence file: one lens per student whose evidence names it."""
    top = types.Position(line=0, character=0)
    return [
        types.CodeLens(
            range=types.Range(start=top, end=top),
            command=types.Command(title=one_line(title(ex, path)), command=SHOW, arguments=[argument(ex, path, snapshot)]),
        )
        for ex, snapshot in exercises_with_evidence_in(ls, path)
    ]


def offers(ls: ColearnerServer, path: str, params: types.CodeActionParams, here: list[ExerciseState]) -> list[tuple[str, dict[str, Any]]]:
    """(title, argument) of each action: the lenses' (on the file's top line, or on an evidence
    diagnostic), and at an exercise's lines its anchor's file and the evidence files the checkout lacks."""
    assert ls.live is not None
    found: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}
    named = {
        d.data.get("exercise_id")
        for d in params.context.diagnostics
        if d.source == SOURCE and isinstance(d.data, dict) and d.data.get("kind") == EVIDENCE
    }
    here_ids = {ex.exercise_id for ex in here}
    for ex, snapshot in exercises_with_evidence_in(ls, path):
        if params.range.start.line == 0 or ex.exercise_id in named or ex.exercise_id in here_ids:
            found[(ex.exercise_id, path)] = (title(ex, path), argument(ex, path, snapshot))
    for ex in here:
        latest, paths = evidence_paths(ex)
        if latest is None:
            continue
        missing = [p for p in paths if p != path and ls.live.blobs.sha(p) is None][:MISSING_NAMED]
        for other in missing:
            found.setdefault((ex.exercise_id, other), (title(ex, other), argument(ex, other, latest)))
    return list(found.values())


# ---------------------------------------------------------------- the command


def _safe_name(text: str) -> str:
    """A folder name from an id that came over the wire."""
    return re.sub(r"[^A-Za-z0-9-]", "_", text[:8]) or "_"


def review_folder(root: Path, student: str, exercise_id: str, evidence_id: str) -> Path:
    return root / CONFIG_DIR / REVIEW_DIR / _safe_name(student) / f"{_safe_name(exercise_id)}-{_safe_name(evidence_id)}"


def write_versions(root: Path, shown: work.StudentWork, waiting: Collection[ExerciseState] = ()) -> tuple[Path, Path]:
    """Both versions as read-only files under .colearner/review/; returns (base, student).

    The copies of answers no longer in ``waiting`` (reviewed since, or replaced by a newer
    answer) are removed first, so the folder holds what is still to review and no more.
    """
    ex, change = shown.exercise, shown.change
    folder = review_folder(root, ex.student, ex.exercise_id, shown.evidence.event_id)
    keep = {folder} | {review_folder(root, w.student, w.exercise_id, e.event_id) for w in waiting for e in w.evidence}
    remove_reviewed(root / CONFIG_DIR / REVIEW_DIR, keep)
    base_dir = folder / (f"base-{change.base_commit[:7]}" if change.base_commit else "base")
    student_dir = folder / _safe_name(ex.student)
    base = base_dir / (change.old_path if change.old_path and safe_path(change.old_path) else change.path)
    student = student_dir / change.path
    for target, text in ((base, change.base or ""), (student, change.student or "")):
        _write_read_only(target, text)
    return base, student


def remove_reviewed(review_dir: Path, keep: set[Path]) -> None:
    """Remove every answer's folder under ``review_dir`` (student/exercise-evidence) not in ``keep``.

    The files are read-only, their folders the owner's: unlinking needs only the folder's
    write bit. A folder that cannot be removed is left (the next write tries again).
    """
    if not review_dir.is_dir():
        return
    for student in review_dir.iterdir():
        if not student.is_dir() or student.is_symlink():
            continue
        for answer in student.iterdir():
            if answer not in keep and answer.is_dir() and not answer.is_symlink():
                shutil.rmtree(answer, ignore_errors=True)


def _write_read_only(target: Path, text: str) -> None:
    private_dir(target.parent)
    write_private(target, text)  # a new file renamed over the old one: its mode does not matter
    os.chmod(target, 0o400)  # read-only: an editor opening it says so


def result_of(shown: work.StudentWork, base: Path, student: Path, texts: bool, opened: bool) -> dict[str, Any]:
    ex, change = shown.exercise, shown.change
    left = f"{change.old_path or change.path} at {change.base_commit[:7]}" if change.base_commit else f"{change.path}: nothing at the base"
    right = f"{change.path}, {ex.student}'s version" + (" (deleted)" if change.student is None else "")
    sides = {"base": {"uri": from_fs_path(str(base)), "label": left}, "student": {"uri": from_fs_path(str(student)), "label": right}}
    if texts:
        sides["base"]["text"] = change.base
        sides["student"]["text"] = change.student
    return {
        "ok": True,
        "exercise_id": ex.exercise_id,
        "evidence_id": shown.evidence.event_id,
        "who": ex.student,
        "title": one_line(f"{left} ↔ {ex.student}'s version"),
        **{k: v for k, v in change.as_json().items() if k not in ("rebuilt", "reason")},
        **sides,
        "shown": opened,
    }


def refused(change: FileChange, ex: ExerciseState) -> ColearnerError:
    return ColearnerError(f"cannot show {one_line(ex.student, 60)}'s version of {one_line(change.path, 200)}: {change.reason}")


def register(ls: ColearnerServer) -> None:
    @ls.command(SHOW)
    async def show_student_change(ls: ColearnerServer, *arguments: Any) -> dict[str, Any]:
        args = parse(ShowChangeArgs, arguments, SHOW)
        inst = ls.require()
        try:
            shown = await asyncio.to_thread(work.student_change, inst, args.exercise_id, args.path, args.evidence_id)
            if not shown.change.rebuilt:
                raise refused(shown.change, shown.exercise)
            waiting = [e for e in inst.state.exercises.values() if e.state == "responded"]
            base, student = await asyncio.to_thread(write_versions, inst.root, shown, waiting)
        except USER_ERRORS as exc:
            raise user_error(exc) from None
        except OSError as exc:
            raise user_error(
                ColearnerError(f"cannot write the two versions under {CONFIG_DIR}/{REVIEW_DIR}: {exc.strerror or exc}")
            ) from None
        window = ls.client_capabilities.window
        opened = False
        if args.show and window and window.show_document and window.show_document.support:
            first = await ls.window_show_document_async(types.ShowDocumentParams(uri=from_fs_path(str(base)) or "", take_focus=False))
            second = await ls.window_show_document_async(types.ShowDocumentParams(uri=from_fs_path(str(student)) or "", take_focus=True))
            opened = bool(first and first.success and second and second.success)
        return result_of(shown, base, student, texts=not opened, opened=opened)
