"""Unit tests: wire text in a Markdown hover renders as exactly the text, whatever it holds."""

from __future__ import annotations

import html
import re

from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from colearner_lsp.core.display import visible
from colearner_lsp.server.markdown import markdown_code, markdown_text

# CommonMark with GFM's tables and strikethrough, as editors render hovers.
RENDERER = MarkdownIt("commonmark").enable(["table", "strikethrough"])
PROSE_BLOCKS = {"paragraph_open", "paragraph_close", "inline"}
PROSE_INLINE = {"text", "softbreak", "hardbreak"}
TAG = re.compile(r"<[^>]+>")

# Letters, digits, spaces, newlines and every ASCII character that takes part in some Markdown construct.
markdownish = st.text(alphabet=st.sampled_from(list("ab1 _\n") + list("\\`*_[]()<>#+-=!|~&.:;/\"'{}")), max_size=60)


def rendered(markdown: str) -> tuple[set[str], str]:
    tokens = RENDERER.parse(markdown)
    kinds = {t.type for t in tokens} | {c.type for t in tokens for c in (t.children or [])}
    text = html.unescape(TAG.sub(" ", RENDERER.render(markdown)))
    return kinds, " ".join(text.split())


@settings(max_examples=400, deadline=None)
@given(markdownish)
def test_prose_renders_as_the_text_and_nothing_else(text: str) -> None:
    lines = [line.lstrip(" ") for line in text.split("\n")]  # four leading spaces would be a code block: shown, but not as prose
    text = "\n".join(lines)
    kinds, shown = rendered(markdown_text(text))
    assert kinds <= PROSE_BLOCKS | PROSE_INLINE, (text, kinds)
    assert shown == " ".join(visible(text).split()), text


def test_plain_punctuation_stays_as_typed() -> None:
    """Only what could start markup is escaped: dates, hyphens, snake_case and "!" read as typed (Neovim shows the source)."""
    assert markdown_text("total_value on 2026-01-02, a - b + c #3 wow!") == "total_value on 2026-01-02, a - b + c #3 wow!"
    assert markdown_text("- item\n# title\n1. first\n===") == "\\- item\n\\# title\n1\\. first\n\\==="
    assert markdown_text("_em_ *b* [l](u) ![i](u) <b> &amp;") == "\\_em\\_ \\*b\\* \\[l\\](u) !\\[i\\](u) \\<b\\> \\&amp;"


@given(st.text(alphabet=st.sampled_from(list("a `\\*")), max_size=30))
def test_code_spans_hold_any_backticks(text: str) -> None:
    kinds, _ = rendered(markdown_code(text))
    assert kinds <= PROSE_BLOCKS | {"text", "code_inline"} and "link_open" not in kinds
