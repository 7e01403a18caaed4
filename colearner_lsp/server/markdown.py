"""Wire text inside Markdown hovers: shown as written, never read as markup.

``core.display`` makes control, bidi and invisible characters visible; in
Markdown that is not enough. A link or an image would send the editor to
fetch a URL, raw HTML or an entity such as ``&#x202E;`` would put back the
very character ``visible`` showed, and a backtick would end a code span early.
So prose gets a backslash before every character that can start markup
(CommonMark renders an escaped punctuation character as itself), and code
spans get a fence longer than any run of backticks inside them.
"""

from __future__ import annotations

import re

from ..core.display import one_line, visible

# ASCII punctuation that opens or closes some Markdown construct: emphasis,
# code, links, images, HTML, entities, headings, tables, strikethrough, quotes.
_MARKUP = re.compile(r"([\\`*_\[\]<>#+\-!|~&])")
_BACKTICKS = re.compile(r"`+")


def cut(text: object, limit: int | None) -> str:
    """``text`` cut to ``limit`` characters with "…", before it is escaped (an escape is never cut in two)."""
    s = text if isinstance(text, str) else str(text)
    return s if limit is None or len(s) <= limit else s[: max(0, limit - 1)] + "…"


def markdown_text(text: object, limit: int | None = None) -> str:
    """Wire text as Markdown prose: characters shown, markup escaped, newlines kept; cut to ``limit``."""
    return _MARKUP.sub(r"\\\1", visible(cut(text, limit)))


def markdown_code(text: object, limit: int | None = 200) -> str:
    """Wire text as one inline code span (paths, ids, test commands), cut to ``limit``."""
    shown = one_line(text, limit)
    longest = max((len(run) for run in _BACKTICKS.findall(shown)), default=0)
    fence = "`" * (longest + 1)
    # A space on each side keeps a leading or trailing backtick off the fence;
    # CommonMark strips one such space from each end.
    return f"{fence} {shown} {fence}" if longest else f"{fence}{shown}{fence}"
