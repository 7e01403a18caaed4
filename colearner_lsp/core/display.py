"""The one rule for showing text that came over the wire.

Anyone who can produce to a topic chooses these characters, and a terminal, an
editor or a browser would act on some of them: escape sequences clear the
screen, set colours or the window title; BEL rings; NUL cuts C strings;
bidirectional overrides make ``a‮b`` read backwards (the "Trojan Source" trick);
zero-width characters hide text. Every view (CLI, hover, diagnostics, tree,
history, dashboard, quarantine reasons) passes wire text through ``visible``
(or ``one_line``) so such characters are *shown*, never interpreted:

- C0 controls and DEL become their Unicode control pictures (ESC → ``␛``,
  BEL → ``␇``, NUL → ``␀``), so ``\\x1b[2J`` reads ``␛[2J``;
- C1 controls, bidirectional controls, zero-width and other invisible format
  characters, and line/paragraph separators become ``⟨U+202E⟩``;
- newlines and tabs are kept by ``visible`` (exercise text has paragraphs) and
  made visible by ``one_line`` (a table cell, a status line, a reason).

HTML views escape markup as well (``html.escape`` after ``visible``).
"""

from __future__ import annotations

import re

# Characters a view must not pass through raw. Kept in one class so the common
# case (nothing to change) is one regex search.
_UNSAFE_CHARS = (
    "\x00-\x08\x0b-\x1f\x7f"  # C0 controls but \t and \n, and DEL
    "\x80-\x9f"  # C1 controls (8-bit CSI among them)
    "\u00ad"  # soft hyphen (invisible)
    "\u061c"  # Arabic letter mark
    "\u115f\u1160\u3164\uffa0"  # Hangul fillers (blank "letters")
    "\u180e"  # Mongolian vowel separator
    "\u200b-\u200f"  # zero-width space/joiners, LRM, RLM
    "\u2028\u2029"  # line and paragraph separators
    "\u202a-\u202e"  # bidi embeddings and overrides
    "\u2060-\u206f"  # word joiner, invisible operators, bidi isolates, deprecated formats
    "\ufeff"  # zero-width no-break space (BOM)
    "\ufff9-\ufffb"  # interlinear annotations
    "\U000e0000-\U000e007f"  # tag characters
)
_UNSAFE = re.compile(f"[{_UNSAFE_CHARS}]")
_UNSAFE_ONE_LINE = re.compile(f"[{_UNSAFE_CHARS}\t\n]")


def _picture(match: re.Match[str]) -> str:
    ch = match.group()
    code = ord(ch)
    if code < 0x20:
        return chr(0x2400 + code)  # ␀ … ␟ (\n → ␊, \t → ␉)
    if code == 0x7F:
        return "\u2421"  # ␡
    return f"⟨U+{code:04X}⟩"


def visible(text: object) -> str:
    """``text`` with every control and invisible character shown, newlines and tabs kept."""
    s = text if isinstance(text, str) else str(text)
    return s if _UNSAFE.search(s) is None else _UNSAFE.sub(_picture, s)


def one_line(text: object, limit: int | None = None) -> str:
    """``visible`` for a single line: newlines and tabs shown too; cut to ``limit`` characters with ``…``."""
    s = text if isinstance(text, str) else str(text)
    if limit is not None and len(s) > limit:
        s = s[: max(0, limit - 1)] + "…"
    return s if _UNSAFE_ONE_LINE.search(s) is None else _UNSAFE_ONE_LINE.sub(_picture, s)
