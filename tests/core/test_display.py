"""The one rule for showing wire text: what ``visible`` and ``one_line`` make of hostile characters."""

from __future__ import annotations

import re

import pytest

from colearner_lsp.core.display import one_line, visible

# What no view may pass through raw: C0 but \t and \n, DEL, C1, bidi controls,
# zero-width characters and line separators.
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("\x1b[2J\x1b[H", "␛[2J␛[H"),  # clear the screen, cursor home
        ("\x1b[31mred\x1b[0m", "␛[31mred␛[0m"),  # colours
        ("\x1b]0;pwned\x07", "␛]0;pwned␇"),  # OSC: set the window title, ended by BEL
        ("\x1b]0;pwned\x1b\\", "␛]0;pwned␛\\"),  # the same, ended by ST
        ("ding\x07", "ding␇"),
        ("cut\x00here", "cut␀here"),
        ("back\x08space", "back␈space"),
        ("del\x7f", "del␡"),
        ("carriage\rreturn", "carriage␍return"),
        ("\x9b2J", "⟨U+009B⟩2J"),  # 8-bit CSI
        ("\x9d0;title\x9c", "⟨U+009D⟩0;title⟨U+009C⟩"),  # 8-bit OSC and ST
    ],
)
def test_controls_become_pictures(text: str, shown: str) -> None:
    assert visible(text) == shown
    assert one_line(text) == shown
    assert RAW.search(visible(text)) is None


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("admin\u202e//txt.exe", "admin⟨U+202E⟩//txt.exe"),  # right-to-left override
        ("a\u202db\u202ac\u202bd\u202ce", "a⟨U+202D⟩b⟨U+202A⟩c⟨U+202B⟩d⟨U+202C⟩e"),  # overrides, embeddings, pop
        ("x\u2066y\u2067z\u2068w\u2069", "x⟨U+2066⟩y⟨U+2067⟩z⟨U+2068⟩w⟨U+2069⟩"),  # isolates
        ("\u200e\u200f\u061c", "⟨U+200E⟩⟨U+200F⟩⟨U+061C⟩"),  # LRM, RLM, Arabic letter mark
        ("pass\u200bword", "pass⟨U+200B⟩word"),  # zero-width space
        ("a\u200cb\u200dc\u2060d\ufeffe", "a⟨U+200C⟩b⟨U+200D⟩c⟨U+2060⟩d⟨U+FEFF⟩e"),  # joiners, word joiner, BOM
        ("soft\u00adhyphen", "soft⟨U+00AD⟩hyphen"),
        ("tag\U000e0041", "tag⟨U+E0041⟩"),  # tag characters
        ("one\u2028two\u2029three", "one⟨U+2028⟩two⟨U+2029⟩three"),  # line and paragraph separators
    ],
)
def test_bidi_and_invisible_characters_are_named(text: str, shown: str) -> None:
    assert visible(text) == shown
    assert one_line(text) == shown
    assert RAW.search(visible(text)) is None


def test_newlines_and_tabs_kept_by_visible_shown_by_one_line() -> None:
    text = "first paragraph\n\n\tindented\x1b[2J"
    assert visible(text) == "first paragraph\n\n\tindented␛[2J"
    assert one_line(text) == "first paragraph␊␊␉indented␛[2J"
    assert "\n" not in one_line(text) and "\t" not in one_line(text)


def test_one_line_cuts_with_an_ellipsis() -> None:
    assert one_line("abcdefghij", 5) == "abcd…"
    assert one_line("abcde", 5) == "abcde"  # exactly the limit: no cut
    assert one_line("abc", None) == "abc"
    assert one_line("\x1b\x1b\x1b\x1b\x1b\x1b", 4) == "␛␛␛…"  # cut first, then shown: no half sequence
    assert one_line("ab\ncd", 10) == "ab␊cd"


def test_plain_text_is_unchanged() -> None:
    for text in ("", "plain", "naïve café — “quotes” · 漢字 😀", "a\nb\tc", "<b>&amp;</b> [x](y) `z`"):
        assert visible(text) == text
        assert visible(text) is text  # nothing to change: the same object, no copy
    assert one_line("naïve café — 漢字") == "naïve café — 漢字"


def test_non_str_values_are_shown_as_text() -> None:
    assert visible(None) == "None"
    assert visible(3) == "3"
    assert one_line(0.5) == "0.5"
    assert one_line(["a\x1b"]) == "['a\\x1b']"  # a list's repr escapes on its own
    assert visible(b"\x1b") == "b'\\x1b'"


def test_the_pictures_are_safe_to_show_again() -> None:
    hostile = "\x1b[2J\u202e\x00\n\t\u2028"
    once = one_line(hostile)
    assert one_line(once) == once and visible(once) == once
    assert RAW.search(once) is None
