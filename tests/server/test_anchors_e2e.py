"""Anchors stay on the code: through the editor's edits, and through commits on disk."""

from __future__ import annotations

import asyncio

from tests.instances import Pair, sync
from tests.repos import git
from tests.server.editor import editor
from tests.server.scenario import FILE, assign, lines_of, of_kind, start_session

FUNCTION = "11-15"  # def total_value … return total


async def student_with_exercise(pair: Pair) -> str:
    session_id = await asyncio.to_thread(start_session, pair)
    exercise_id = await asyncio.to_thread(assign, pair, session_id, FUNCTION)
    await asyncio.to_thread(sync, pair.student())
    return exercise_id


def exercise_lines(ed) -> tuple[int, int] | None:  # type: ignore[no-untyped-def]
    found = of_kind(ed.diagnostics(FILE), "exercise")
    return lines_of(found[0]) if found else None


def commit(pair: Pair, text: str, message: str) -> None:
    (pair.student_root / FILE).write_text(text)
    git(pair.student_root, "commit", "-q", "-am", message)


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines()) if needle in line)


async def test_edits_in_the_editor_move_the_anchor(pair: Pair) -> None:
    await student_with_exercise(pair)
    async with editor(pair.student_root) as ed:
        await ed.wait_diagnostics(FILE, lambda ds: of_kind(ds, "exercise"))
        assert exercise_lines(ed) == (10, 14)
        original = (pair.student_root / FILE).read_text()
        ed.open(FILE)

        ed.change(FILE, (0, 0), (0, 0), "# one\n# two\n")  # two lines above
        await ed.until(lambda: exercise_lines(ed) == (12, 16), what="the anchor moved down by two")

        ed.change(FILE, (14, 0), (14, 0), "        total += 0\n")  # a line inside the function
        await ed.until(lambda: exercise_lines(ed) == (12, 17), what="the anchor grown by one")

        ed.change(FILE, (12, 0), (18, 0), "")  # the whole function deleted
        await ed.until(lambda: exercise_lines(ed) == (0, 0), what="the lost anchor at the top")
        (d,) = of_kind(ed.diagnostics(FILE), "exercise")
        assert "has moved or been deleted (was app/inventory.py:13-18)" in d.message
        ed.save(FILE)  # searching again does not find it either
        await ed.settled(FILE)
        assert exercise_lines(ed) == (0, 0)

        # Pasting the function back lower down: found again on save.
        body = "".join(original.splitlines(True)[10:15])
        end = len(original.splitlines()) + 2 + 1 - 6  # the end of the buffer now
        ed.change(FILE, (end, 0), (end, 0), "\n\n" + body)
        ed.save(FILE)
        await ed.until(lambda: exercise_lines(ed) == (end + 2, end + 6), what="the anchor found again after saving")


async def test_commits_on_disk_relocate_the_anchor(pair: Pair) -> None:
    await student_with_exercise(pair)
    async with editor(pair.student_root) as ed:
        await ed.wait_diagnostics(FILE, lambda ds: of_kind(ds, "exercise"))
        text = (pair.student_root / FILE).read_text()

        # Lines inserted above.
        text = text.replace('"""A tiny inventory service."""\n', '"""A tiny inventory service."""\n\nimport os\nimport sys\n')
        await asyncio.to_thread(commit, pair, text, "imports")
        await ed.until(lambda: exercise_lines(ed) == (13, 17), what="the anchor three lines lower")

        # The function moved below another one.
        lines = text.splitlines(True)
        start = line_of(text, "def total_value")
        function, rest = lines[start : start + 5], lines[:start] + lines[start + 5 :]
        text = "".join(rest).rstrip("\n") + "\n\n\n" + "".join(function)
        await asyncio.to_thread(commit, pair, text, "move")
        moved = line_of(text, "def total_value")
        await ed.until(lambda: exercise_lines(ed) == (moved, moved + 4), what="the anchor following the moved function")

        # The function renamed: still the same code.
        text = text.replace("def total_value", "def inventory_value")
        await asyncio.to_thread(commit, pair, text, "rename")
        # Nothing is published when the anchor stays where it was; the server's own look at the
        # disk comes at no event of ours, so it is told of the commit as a watching editor would,
        # which runs the same relocation, and has handled that once it answers what comes next.
        ed.files_changed(FILE)
        await ed.settled(FILE)
        assert exercise_lines(ed) == (moved, moved + 4)
        (d,) = of_kind(ed.diagnostics(FILE), "exercise")
        assert "moved or been deleted" not in d.message

        # The function deleted: shown at the top, never dropped.
        kept = text.splitlines(True)
        text = "".join(kept[:moved] + kept[moved + 5 :])
        await asyncio.to_thread(commit, pair, text, "delete")
        await ed.until(lambda: exercise_lines(ed) == (0, 0), what="the lost anchor")
        (d,) = of_kind(ed.diagnostics(FILE), "exercise")
        assert f"was app/inventory.py:{moved + 1}-{moved + 5}" in d.message
