"""Unit tests: live anchor ranges per document (no LSP, no I/O)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from colearner_lsp.core.anchor.anchor_fingerprint import make_fingerprint
from colearner_lsp.core.anchor.anchors import LineRange, Relocation, TextEdit, shift_range
from colearner_lsp.core.protocol.events import Anchor
from colearner_lsp.server.anchor_tracker import AnchorTracker, locate

TEXT = "".join(f"def f{n}(x):\n    return x + {n}\n\n" for n in range(10))


def anchor(start: int, end: int, text: str = TEXT) -> Anchor:
    return Anchor(path="m.py", start_line=start, end_line=end, fingerprint=make_fingerprint(text, start, end))


def tracked(*anchors: Anchor) -> AnchorTracker:
    tracker = AnchorTracker()
    for n, a in enumerate(anchors):
        tracker.add(f"ex{n}", "m.py", a, locate(a, TEXT))
    return tracker


def test_edits_above_inside_and_over_a_range() -> None:
    tracker = tracked(anchor(4, 5), anchor(10, 11))
    assert tracker.apply_edits("m.py", [TextEdit(0, 0, 0, 0, "# a\n# b\n")]) == ["ex0", "ex1"]
    assert tracker.get("ex0").range == LineRange(6, 7) and tracker.get("ex0").status == "edited"
    tracker.apply_edits("m.py", [TextEdit(6, 0, 6, 0, "    y = 1\n")])  # inside ex0
    assert tracker.get("ex0").range == LineRange(6, 8) and tracker.get("ex1").range == LineRange(13, 14)
    assert tracker.apply_edits("m.py", [TextEdit(5, 0, 9, 0, "")]) == ["ex0", "ex1"]  # ex0 deleted
    lost = tracker.get("ex0")
    assert lost.lost and lost.last_seen == LineRange(6, 8) and lost.covers(0, 0)
    assert tracker.get("ex1").range == LineRange(9, 10)


def test_relocation_keeps_a_live_range_over_a_fuzzy_search() -> None:
    tracker = tracked(anchor(4, 5))
    rewritten = TEXT.replace("    return x + 1\n", "    total = x\n    return total + 1\n")
    tracker.apply_edits("m.py", [TextEdit(4, 0, 5, 0, "    total = x\n    return total + 1\n")])
    assert tracker.get("ex0").range == LineRange(4, 6)
    assert tracker.relocate_path("m.py", rewritten, keep_live=True) == []
    assert tracker.get("ex0").range == LineRange(4, 6)


def test_relocation_follows_moved_code_and_reports_lost_code() -> None:
    tracker = tracked(anchor(4, 5))
    moved = "# header\n" * 7 + TEXT
    assert tracker.relocate_path("m.py", moved) == ["ex0"]
    assert tracker.get("ex0").range == LineRange(11, 12) and tracker.get("ex0").status == "moved"
    gone = "".join(f"def g{n}():\n    pass\n\n" for n in range(3))
    tracker.relocate_path("m.py", gone)
    assert tracker.get("ex0").lost and tracker.get("ex0").last_seen == LineRange(11, 12)
    assert locate(anchor(4, 5), None).status == "lost"  # the file itself is gone


def test_index_by_file() -> None:
    tracker = tracked(anchor(1, 2), anchor(4, 5))
    tracker.add("other", "n.py", anchor(1, 2), locate(anchor(1, 2), TEXT))
    assert {t.exercise_id for t in tracker.in_path("m.py")} == {"ex0", "ex1"}
    tracker.remove("other")
    assert tracker.paths() == ["m.py"] and len(tracker) == 2


@settings(max_examples=300, deadline=None)
@given(
    ranges=st.lists(st.tuples(st.integers(1, 12), st.integers(0, 3)), min_size=1, max_size=6),
    edits=st.lists(
        st.tuples(
            st.integers(0, 14),
            st.integers(0, 3),
            st.integers(0, 3),
            st.integers(0, 3),
            st.sampled_from(["", "x", "\n", "a\nb", "\r\n\n", "y\r"]),
        ),
        min_size=1,
        max_size=4,
    ),
)
def test_edits_move_ranges_as_shift_range_says(ranges: list[tuple[int, int]], edits: list[tuple[int, int, int, int, str]]) -> None:
    """The tracker's shortcut for ranges above or below an edit agrees with ``shift_range`` everywhere."""
    tracker = AnchorTracker()
    expected: dict[str, LineRange | None] = {}
    for n, (start, length) in enumerate(ranges):
        tracker.add(f"ex{n}", "m.py", LineRange(start, start + length), Relocation("exact", LineRange(start, start + length), 1.0))
        expected[f"ex{n}"] = LineRange(start, start + length)
    for line, char, lines, end_char, text in edits:
        edit = TextEdit(line, char, line + lines, end_char if lines else char + end_char, text)
        tracker.apply_edits("m.py", [edit])
        expected = {eid: shift_range(r, edit) if r is not None else None for eid, r in expected.items()}
        assert {eid: tracker.get(eid).range for eid in expected} == expected
