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

# Escaped wherever they stand: what opens or closes emphasis, code, links (and
# so images), HTML, entities, tables, strikethrough and quotes. An underscore
# between two letters or digits cannot open or close emphasis (CommonMark's
# flanking rule), so ``total_value`` stays as typed.
_ANYWHERE = re.compile(r"[\\`*\[\]<>|~&]|(?<![^\W_])_|_(?![^\W_])")
# Markup only at the start of a line (after up to three spaces): headings,
# list items (bullets and numbers), setext underlines and thematic breaks.
# Elsewhere these characters are plain text, so dates and hyphens read as
# typed in clients that show Markdown as its source (Neovim's hover).
_LINE_START = re.compile(r"(?m)^( {0,3})([-+#=]|\d{1,9}(?=[.)]))")
_BACKTICKS = re.compile(r"`+")


def cut(text: object, limit: int | None) -> str:
    """``text`` cut to ``limit`` characters with "…", before it is escaped (an escape is never cut in two)."""
    s = text if isinstance(text, str) else str(text)
    return s if limit is None or len(s) <= limit else s[: max(0, limit - 1)] + "…"


def markdown_text(text: object, limit: int | None = None) -> str:
    """Wire text as Markdown prose: characters shown, markup escaped, newlines kept; cut to ``limit``."""
    escaped = _ANYWHERE.sub(lambda m: "\\" + m.group(), visible(cut(text, limit)))
    return _LINE_START.sub(_escape_line_start, escaped)


def _escape_line_start(m: re.Match[str]) -> str:
    indent, mark = m.group(1), m.group(2)
    if mark.isdigit():  # "1." or "1)" would start a numbered list: escape what follows the number
        return indent + mark + "\\"
    return indent + "\\" + mark


def markdown_code(text: object, limit: int | None = 200) -> str:
    """Wire text as one inline code span (paths, ids, test commands), cut to ``limit``."""
    shown = one_line(text, limit)
    longest = max((len(run) for run in _BACKTICKS.findall(shown)), default=0)
    fence = "`" * (longest + 1)
    # A space on each side keeps a leading or trailing backtick off the fence;
    # CommonMark strips one such space from each end.
    return f"{fence} {shown} {fence}" if longest else f"{fence}{shown}{fence}"
