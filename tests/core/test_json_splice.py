"""json_splice: a document written around kept pieces is what json.dumps writes for the whole."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from colearner_lsp.core.json_splice import Encoded, Spliced, dump_parts, encode_at

# Text a peer could send: quotes, backslashes, line breaks, control and bidi characters, non-ASCII.
TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12) | st.sampled_from(
    ['"exercises": []', "\n", '\\"', "\u202e", "\x00", "}\n  ]"]
)
LEAVES = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT
VALUES = st.recursive(LEAVES, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4), max_leaves=30)


def with_pieces(value: Any, indent: int | None, level: int, every: int, counter: list[int]) -> Any:
    """``value`` with some of its parts replaced by their Encoded text, the containers around them
    Spliced, and some containers left whole."""
    counter[0] += 1
    if level and counter[0] % every == 0:
        return encode_at(value, indent, level)
    if counter[0] % every == 1 and every > 2:
        return value  # left to json.dumps whole
    if isinstance(value, dict):
        return Spliced({k: with_pieces(v, indent, level + 1, every, counter) for k, v in value.items()})
    if isinstance(value, list):
        return Spliced([with_pieces(v, indent, level + 1, every, counter) for v in value])
    return value


@settings(max_examples=300, deadline=None)
@given(value=VALUES, indent=st.sampled_from([None, 2, 4]), every=st.integers(1, 4))
def test_spliced_text_is_byte_for_byte_json_dumps(value: Any, indent: int | None, every: int) -> None:
    spliced = with_pieces(value, indent, 0, every, [0])
    assert "".join(dump_parts(spliced, indent)) == json.dumps(value, indent=indent, ensure_ascii=False)


@pytest.mark.parametrize("indent", [None, 2])
def test_a_learning_json_shaped_document(indent: int | None) -> None:
    exercises = [{"exercise_id": f"e{n}", "tests": [], "anchor": {"path": "a.py", "start_line": n}, "note": 'say "hi"\n'} for n in range(3)]
    session = {"session_id": "s", "plan": {"goals": [], "steps": []}, "exercises": exercises, "anomalies": ["x"], "confidence": {}}
    whole = {"version": 1, "sessions": [session], "ledger_pos": 7}
    kept = Spliced(
        {**whole, "sessions": Spliced([Spliced({**session, "exercises": Spliced([encode_at(e, indent, 4) for e in exercises])})])}
    )
    assert "".join(dump_parts(kept, indent)) == json.dumps(whole, indent=indent, ensure_ascii=False)
    assert json.loads("".join(dump_parts(kept, indent))) == whole


def test_a_piece_made_for_another_level_is_refused() -> None:
    with pytest.raises(ValueError, match="encoded for level 2 sits at level 1"):
        "".join(dump_parts(Spliced([encode_at({"a": [1]}, 2, 2)]), 2))


def test_keys_are_written_as_json_writes_them() -> None:
    value = {1: "a", 2.5: "b", False: "c", None: "d"}
    assert "".join(dump_parts(Spliced(value), None)) == json.dumps(value)
    with pytest.raises(TypeError, match="keys must be"):
        "".join(dump_parts(Spliced({(1, 2): 3}), None))
    assert isinstance(encode_at([], None, 0), Encoded)
