"""Anchors: fingerprints, relocation after edits and commits, and range shifting through LSP edits."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from colearner_lsp.core.anchor.anchor_fingerprint import make_fingerprint
from colearner_lsp.core.anchor.anchors import LineRange, Relocation, TextEdit, relocate_anchor, shift_range

SOURCE = '''\
"""Inventory helpers."""

import math


def parse_item(line):
    name, qty, price = line.split(",")
    return name.strip(), int(qty), float(price)


def total_value(items):
    total = 0.0
    for name, qty, price in items:
        if qty < 0:
            raise ValueError(f"negative quantity for {name}")
        total += qty * price
    return round(total, 2)


class Shelf:
    def __init__(self, label):
        self.label = label
        self.items = []

    def add(self, item):
        self.items.append(item)
        return len(self.items)


def cheapest(items):
    return min(items, key=lambda item: item[2])
'''

TOTAL = LineRange(11, 18)  # def total_value … return round(total, 2)
LOOP = LineRange(13, 16)  # the for loop inside total_value


def lines(text: str) -> list[str]:
    return text.split("\n")


def block(range_: LineRange, text: str = SOURCE) -> str:
    return "\n".join(lines(text)[range_.start_line - 1 : range_.end_line])


def relocate(range_: LineRange, new_text: str, hint: LineRange | None = "same", old: str = SOURCE) -> Relocation:  # type: ignore[assignment]
    fp = make_fingerprint(old, range_.start_line, range_.end_line)
    return relocate_anchor(fp, new_text, range_ if hint == "same" else hint)


# --- fingerprints -------------------------------------------------------------------------------


def test_fingerprint_is_compact_ascii_and_deterministic():
    fp = make_fingerprint(SOURCE, 11, 18)
    assert fp.isascii() and fp.startswith("v1.")
    assert fp == make_fingerprint(SOURCE, 11, 18)
    assert len(fp) < 1024


def test_fingerprint_of_a_huge_range_stays_under_4_kb():
    text = "\n".join(f"value_{i} = compute({i}, 'label {i * 7919 % 1000}')" for i in range(6000)) + "\n"
    fp = make_fingerprint(text, 10, 5990)
    assert len(fp) <= 4096
    assert relocate_anchor(fp, "# new header\n" + text, LineRange(10, 5990)) == Relocation("moved", LineRange(11, 5991), 1.0)


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (5, 3, "start_line 5 is after end_line 3"),
        (0, 3, "start_line must be 1 or more"),
        (-2, 3, "start_line must be 1 or more"),
        (30, 40, "end_line 40 is past the end of the file (31 lines)"),
        (1, 32, "end_line 32 is past the end of the file (31 lines)"),
    ],
)
def test_bad_ranges_are_refused_with_a_clear_message(start, end, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        make_fingerprint(SOURCE, start, end)


def test_empty_file_cannot_be_anchored_and_loses_anchors():
    with pytest.raises(ValueError, match="empty file"):
        make_fingerprint("", 1, 1)
    assert relocate(TOTAL, "") == Relocation("lost", None, 0.0)


def test_damaged_fingerprint_is_refused():
    with pytest.raises(ValueError, match="not an anchor fingerprint"):
        relocate_anchor("hello", SOURCE)
    with pytest.raises(ValueError, match="damaged"):
        relocate_anchor("v1.not-base64-zlib!!", SOURCE)


def test_line_range_and_text_edit_validate_themselves():
    with pytest.raises(ValueError, match="start_line 4 is after end_line 2"):
        LineRange(4, 2)
    with pytest.raises(ValueError, match="1 or more"):
        LineRange(0, 2)
    with pytest.raises(ValueError, match="after its end"):
        TextEdit(3, 0, 2, 0, "")
    with pytest.raises(ValueError, match="negative"):
        TextEdit(-1, 0, 2, 0, "")


# --- relocation ---------------------------------------------------------------------------------


def test_unchanged_code_at_the_hint_is_exact():
    assert relocate(TOTAL, SOURCE) == Relocation("exact", TOTAL, 1.0)
    assert relocate(TOTAL, SOURCE, hint=None) == Relocation("exact", TOTAL, 1.0)


def test_lines_inserted_above_are_followed():
    new = SOURCE.replace("import math\n", "import math\nimport os\nimport sys\n\nDEBUG = False\n")
    assert relocate(TOTAL, new) == Relocation("moved", LineRange(15, 22), 1.0)
    assert relocate(LOOP, new) == Relocation("moved", LineRange(17, 20), 1.0)


def test_hint_already_following_the_code_is_exact():
    new = "# header\n" + SOURCE
    assert relocate(TOTAL, new, hint=LineRange(12, 19)) == Relocation("exact", LineRange(12, 19), 1.0)


def test_editing_inside_grows_the_range():
    new = SOURCE.replace(
        "        total += qty * price\n",
        "        total += qty * price\n        if total > 1_000_000:\n            print('big order')\n",
    )
    found = relocate(TOTAL, new)
    assert found.status == "fuzzy"
    assert found.range == LineRange(11, 20)
    assert 0.5 < found.score < 1.0


def test_lightly_edited_body_is_found():
    new = SOURCE.replace('raise ValueError(f"negative quantity for {name}")', "continue").replace("round(total, 2)", "round(total, 3)")
    found = relocate(TOTAL, new)
    assert (found.status, found.range) == ("fuzzy", TOTAL)


def test_moved_function_is_found_where_it_went():
    total = block(LineRange(11, 20))  # the def and the two blank lines after it
    new = SOURCE.replace(total + "\n", "") + "\n\n" + block(TOTAL) + "\n"
    found = relocate(TOTAL, new)
    start = lines(new).index("def total_value(items):") + 1
    assert found == Relocation("moved", LineRange(start, start + 7), 1.0)
    assert block(found.range, new) == block(TOTAL)


def test_renamed_function_is_found():
    new = SOURCE.replace("def total_value(items):", "def inventory_value(items):")
    found = relocate(TOTAL, new)
    assert (found.status, found.range) == ("fuzzy", TOTAL)


def test_renamed_and_reformatted_signature_is_found_whole():
    new = SOURCE.replace("def total_value(items):", "def inventory_value(\n    items,\n):")
    found = relocate(TOTAL, new)
    assert (found.status, found.range) == ("fuzzy", LineRange(11, 20))


def test_statement_rewrapped_over_lines_is_taken_whole():
    old = "def f(a, b):\n    result = combine(a, b, mode='fast')\n    return result\n"
    new = "def f(a, b):\n    result = combine(\n        a,\n        b,\n        mode='fast',\n    )\n    return result\n"
    found = relocate(LineRange(2, 2), new, old=old)
    assert (found.status, found.range) == ("fuzzy", LineRange(2, 6))


def test_deleted_code_is_lost():
    new = SOURCE.replace(block(LineRange(11, 20)) + "\n", "")
    found = relocate(TOTAL, new)
    assert found.status == "lost" and found.range is None
    assert found.score < 0.5
    assert relocate(LOOP, new).status == "lost"


def test_deleting_the_whole_file_body_loses_every_anchor():
    assert relocate(LOOP, '"""Inventory helpers."""\n').status == "lost"


def test_of_identical_copies_the_nearest_to_the_hint_wins():
    twin = "SEP = 0\n\ndef helper(x):\n    y = x * 2\n    return y + 1\n\n"
    text = twin * 5 + "SEP = 0\n"
    starts = [i + 1 for i, line in enumerate(lines(text)) if line == "def helper(x):"]
    fp = make_fingerprint(text, starts[2], starts[2] + 2)
    shifted = "# one\n# two\n" + text  # every copy moved down by two lines: the hints are stale
    for start in starts[1:4]:  # copies whose surroundings are identical too
        found = relocate_anchor(fp, shifted, LineRange(start, start + 2))
        assert found == Relocation("moved", LineRange(start + 2, start + 4), 1.0)


def test_of_copies_the_one_in_the_same_surroundings_wins_over_a_nearer_one():
    twin = "def helper(x):\n    y = x * 2\n    return y + 1\n"
    text = "\n\n".join(["A = 1", twin, "B = 2", twin, "C = 3"]) + "\n"
    first, second = [i + 1 for i, line in enumerate(lines(text)) if line == "def helper(x):"]
    fp = make_fingerprint(text, second, second + 2)
    shifted = "# one\n# two\n" + text
    found = relocate_anchor(fp, shifted, LineRange(first, first + 2))
    assert found.range == LineRange(second + 2, second + 4)


def test_anchor_on_first_and_last_line():
    last = len(SOURCE.splitlines())
    first_fp, last_fp = make_fingerprint(SOURCE, 1, 1), make_fingerprint(SOURCE, last, last)
    new = SOURCE + "\n\ndef extra():\n    pass\n"
    assert relocate_anchor(first_fp, new) == Relocation("exact", LineRange(1, 1), 1.0)
    assert relocate_anchor(last_fp, new) == Relocation("exact", LineRange(last, last), 1.0)
    prefixed = "#!/usr/bin/env python\n" + new
    assert relocate_anchor(first_fp, prefixed) == Relocation("moved", LineRange(2, 2), 1.0)
    assert relocate_anchor(last_fp, prefixed) == Relocation("moved", LineRange(last + 1, last + 1), 1.0)


def test_whitespace_quotes_and_line_endings_do_not_matter():
    new = SOURCE.replace("    ", "\t").replace('f"negative', "f'negative").replace('}")', "}')")
    assert relocate(TOTAL, new.replace("\n", "\r\n")).range == TOTAL


def test_works_on_any_text_file():
    doc = "# Guide\n\n## Install\n\nRun the installer.\nThen restart.\n\n## Use\n\nOpen the app.\n"
    fp = make_fingerprint(doc, 3, 6)
    new = doc.replace("# Guide\n", "# Guide\n\nIntro paragraph.\nMore intro.\n").replace("Then restart.", "Then reboot.")
    found = relocate_anchor(fp, new, LineRange(3, 6))
    assert (found.status, found.range) == ("fuzzy", LineRange(6, 9))

    c_code = "int add(int a, int b) {\n    return a + b;\n}\n\nint sub(int a, int b) {\n    return a - b;\n}\n"
    fp = make_fingerprint(c_code, 5, 7)
    new = c_code.replace("int add", "static int add") + "\nint mul(int a, int b) {\n    return a * b;\n}\n"
    moved = new.replace(block(LineRange(5, 8), c_code) + "\n", "")
    moved += "\n" + block(LineRange(5, 7), c_code) + "\n"
    found = relocate_anchor(fp, moved, LineRange(5, 7))
    assert found.status == "moved" and block(found.range, moved) == block(LineRange(5, 7), c_code)


def test_five_hundred_anchors_in_a_ten_thousand_line_file_are_fast():
    body = []
    for f in range(500):
        body += [f"def handler_{f}(request):", f"    value = lookup_{f}(request, {f * 37 % 101})"]
        body += [f"    step_{k} = transform(value, {f}, {k})" for k in range(16)]
        body += ["    return value", ""]
    text = "\n".join(body) + "\n"
    assert len(text.splitlines()) == 10_000
    ranges = [LineRange(1 + 20 * f + 2, 1 + 20 * f + 6) for f in range(500)]
    fps = [make_fingerprint(text, r.start_line, r.end_line) for r in ranges]
    new = "import os\nimport sys\n\n" + text
    started = time.perf_counter()
    found = [relocate_anchor(fp, new, r) for fp, r in zip(fps, ranges)]
    elapsed = time.perf_counter() - started
    assert all(f.range == LineRange(r.start_line + 3, r.end_line + 3) for f, r in zip(found, ranges))
    assert elapsed < 5.0  # about 0.1 s on a laptop; a generous bound against accidental quadratic work


# --- shift_range --------------------------------------------------------------------------------

R = LineRange(10, 14)  # 0-based lines 9..13


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (TextEdit(2, 0, 2, 0, "a\nb\n"), LineRange(12, 16)),  # lines inserted above
        (TextEdit(9, 0, 9, 0, "new first line\n"), LineRange(11, 15)),  # inserted right at its start
        (TextEdit(8, 7, 8, 7, "\n"), LineRange(11, 15)),  # Enter at the end of the line above
        (TextEdit(2, 0, 5, 0, ""), LineRange(7, 11)),  # lines deleted above
        (TextEdit(11, 4, 11, 4, "x = 1\ny = 2\n"), LineRange(10, 16)),  # typed inside
        (TextEdit(11, 0, 13, 0, ""), LineRange(10, 12)),  # lines deleted inside
        (TextEdit(12, 3, 12, 9, "renamed"), R),  # edit within one line
        (TextEdit(14, 0, 14, 0, "after\n"), R),  # inserted right after it
        (TextEdit(20, 0, 22, 5, "zzz"), R),  # far below
        (TextEdit(7, 0, 11, 0, ""), LineRange(8, 10)),  # deletion overlapping its start
        (TextEdit(12, 0, 16, 0, ""), LineRange(10, 12)),  # deletion overlapping its end
        (TextEdit(9, 0, 14, 0, "one\ntwo\n"), LineRange(10, 11)),  # whole range replaced
        (TextEdit(10, 2, 12, 8, "p\nq\nr\ns"), LineRange(10, 15)),  # multi-line replace inside
        (TextEdit(8, 5, 9, 0, ""), LineRange(9, 13)),  # its first line joined onto the line above
        (TextEdit(9, 0, 9, 0, "a\r\nb\r"), LineRange(12, 16)),  # CRLF and CR count as line breaks
    ],
)
def test_shift_range_moves_like_an_editor_marker(edit, expected):
    assert shift_range(R, edit) == expected


@pytest.mark.parametrize(
    "edit",
    [
        TextEdit(9, 0, 14, 0, ""),  # exactly the range
        TextEdit(3, 0, 20, 0, ""),  # a larger span around it
        TextEdit(5, 2, 15, 1, "x"),  # replaced by a fragment joined to lines outside
    ],
)
def test_shift_range_deleting_the_whole_range_gives_none(edit):
    assert shift_range(R, edit) is None


def test_shift_range_follows_the_text_it_describes():
    text = "\n".join(f"line {i}" for i in range(30)) + "\n"
    edits = [TextEdit(2, 0, 2, 0, "new\n"), TextEdit(12, 0, 12, 0, "inside\n"), TextEdit(0, 0, 1, 0, "")]
    tracked = R
    for edit in edits:
        text = _apply(text, edit)
        tracked = shift_range(tracked, edit)
    got = lines(text)[tracked.start_line - 1 : tracked.end_line]
    assert got == ["line 9", "line 10", "inside", "line 11", "line 12", "line 13"]


def _apply(text: str, edit: TextEdit) -> str:
    rows = text.split("\n")
    start = sum(len(r) + 1 for r in rows[: edit.start_line]) + edit.start_char
    end = sum(len(r) + 1 for r in rows[: edit.end_line]) + edit.end_char
    return text[:start] + edit.new_text + text[end:]


# --- against real git history ----------------------------------------------------------------------


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    _git(tmp_path, "init", "--quiet")
    (tmp_path / "inventory.py").write_text(SOURCE)
    _git(tmp_path, "add", "inventory.py")
    _git(tmp_path, "commit", "--quiet", "-m", "v1")
    return tmp_path


def _commit_v2(repo: Path, text: str) -> tuple[str, str]:
    """Commit ``text`` as v2; return the v1 and v2 contents as git stores them."""
    (repo / "inventory.py").write_text(text)
    _git(repo, "commit", "--quiet", "-am", "v2")
    return _git(repo, "show", "HEAD~1:inventory.py"), _git(repo, "show", "HEAD:inventory.py")


def test_git_lines_inserted_above(repo: Path):
    v1, v2 = _commit_v2(repo, SOURCE.replace('"""Inventory helpers."""\n', '"""Inventory helpers.\n\nWith more words.\n"""\n'))
    found = relocate_anchor(make_fingerprint(v1, *_span(TOTAL)), v2, TOTAL)
    assert found == Relocation("moved", LineRange(14, 21), 1.0)


def test_git_function_moved(repo: Path):
    shelf = block(LineRange(21, 29))
    v1, v2 = _commit_v2(repo, SOURCE.replace(shelf + "\n", "").replace("import math\n", "import math\n\n\n" + shelf))
    anchor = LineRange(25, 27)  # Shelf.add
    found = relocate_anchor(make_fingerprint(v1, *_span(anchor)), v2, anchor)
    assert found.status == "moved"
    assert block(found.range, v2) == block(anchor, v1)


def test_git_function_renamed(repo: Path):
    v1, v2 = _commit_v2(repo, SOURCE.replace("def total_value(items):", "def stock_value(items):"))
    found = relocate_anchor(make_fingerprint(v1, *_span(TOTAL)), v2, TOTAL)
    assert (found.status, found.range) == ("fuzzy", TOTAL)


def test_git_code_deleted(repo: Path):
    v1, v2 = _commit_v2(repo, SOURCE.replace(block(LineRange(11, 20)) + "\n", ""))
    found = relocate_anchor(make_fingerprint(v1, *_span(TOTAL)), v2, TOTAL)
    assert found.status == "lost"


def _span(r: LineRange) -> tuple[int, int]:
    return r.start_line, r.end_line


# --- definitions followed by name, edges rewritten ----------------------------------------------

REWRITTEN_TOTAL = '''\
def total_value(items):
    """Sum of quantity times price, to the cent."""
    return round(sum(qty * price for _name, qty, price in items if qty >= 0), 2)
'''


def test_whole_definition_rewritten_beyond_recognition_is_found_by_its_name():
    """Only the name and the enclosing names are left: the one definition so named is the anchor's."""
    whole = LineRange(11, 17)  # exactly the def's block
    new = SOURCE.replace(block(whole) + "\n", "") + "\n\n" + REWRITTEN_TOTAL
    found = relocate(whole, new)
    start = lines(new).index("def total_value(items):") + 1
    assert (found.status, found.range) == ("fuzzy", LineRange(start, start + 2))
    assert found.score >= 0.5


def test_a_name_alone_is_not_enough_when_two_definitions_share_it():
    """Two methods named like the anchored one, in other classes: nothing to follow by name."""
    add = LineRange(25, 27)  # Shelf.add
    assert block(add).startswith("    def add(self, item):")
    rewritten = "class Shelf:\n    pass\n\n\nclass Bin:\n    def add(self, thing):\n        raise NotImplementedError\n"
    new = SOURCE[: SOURCE.index("class Shelf:")] + rewritten
    assert relocate(add, new).status == "lost"  # Bin.add is another method, though named alike


def test_a_rewritten_first_line_stays_in_a_short_anchor():
    old = "def f(rows):\n    count = 0\n    for row in rows:\n        count += row.size\n    return count\n"
    new = "def f(rows):\n    count: int = 0  # running\n    for row in rows:\n        count += row.size\n    return count\n"
    found = relocate(LineRange(2, 4), new, old=old)
    assert found.range == LineRange(2, 4)
