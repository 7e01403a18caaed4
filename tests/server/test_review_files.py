"""The copies under .colearner/review/ hold what is still to review and no more."""

from __future__ import annotations

import os
from pathlib import Path

from colearner_lsp.server.review import remove_reviewed, review_folder


def read_only_copy(folder: Path, name: str = "app/main.py") -> Path:
    target = folder / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("x = 1\n")
    os.chmod(target, 0o400)
    return target


def test_copies_of_answers_no_longer_waiting_are_removed(tmp_path: Path) -> None:
    waiting = review_folder(tmp_path, "sam", "e1aaaaaa-0000", "ev1aaaaa-0000")
    reviewed = review_folder(tmp_path, "sam", "e2bbbbbb-0000", "ev2bbbbb-0000")
    other_student = review_folder(tmp_path, "kim", "e3cccccc-0000", "ev3ccccc-0000")
    for folder in (waiting, reviewed, other_student):
        read_only_copy(folder / "sam")
    remove_reviewed(waiting.parent.parent, {waiting})
    assert waiting.is_dir() and (waiting / "sam/app/main.py").read_text() == "x = 1\n"
    assert not reviewed.exists() and not other_student.exists()
    assert other_student.parent.is_dir()  # the student's folder stays; only answers go


def test_a_link_placed_there_is_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    read_only_copy(outside)
    review_dir = tmp_path / "repo/.colearner/review"
    (review_dir / "sam").mkdir(parents=True)
    (review_dir / "sam/e1-ev1").symlink_to(outside, target_is_directory=True)
    (review_dir / "kim").symlink_to(outside, target_is_directory=True)
    remove_reviewed(review_dir, set())
    assert (outside / "app/main.py").read_text() == "x = 1\n"


def test_no_review_folder_yet_is_nothing_to_do(tmp_path: Path) -> None:
    remove_reviewed(tmp_path / "none", set())
    assert not (tmp_path / "none").exists()
