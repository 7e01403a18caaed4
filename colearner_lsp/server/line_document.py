"""Open documents kept as lists of lines, so that a keystroke costs what it touches.

pygls's ``TextDocument`` rebuilds the whole text on every incremental change
(splitting it into lines to find the change, then writing every line out
again): ~3.5 ms per keystroke on a 10,000-line file, before any of our work.
``LineDocument`` replaces only the lines a change spans and joins the text
again only when someone asks for it (a save, a command reading the buffer).

Positions are converted by pygls's own codec, and the lines are what
``str.splitlines(keepends=True)`` gives for the whole text, so ``source`` and
``lines`` read exactly as pygls's would.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lsprotocol import types
from pygls.workspace import TextDocument, Workspace

LINE_ENDS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"  # what str.splitlines breaks after


class LineDocument(TextDocument):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lines: list[str] | None = None  # split on the first change
        self._joined = True  # whether ``_source`` holds the text of ``_lines``

    @property
    def source(self) -> str:
        if not self._joined:
            self._source = "".join(self._lines or ())
            self._joined = True
        return super().source

    @property
    def lines(self) -> Sequence[str]:
        return tuple(self._lines) if self._lines is not None else super().lines

    def _apply_full_change(self, change: types.TextDocumentContentChangeEvent) -> None:
        self._lines, self._joined = None, True
        super()._apply_full_change(change)

    def _apply_incremental_change(self, change: types.TextDocumentContentChangePartial) -> None:
        if self._lines is None:
            self._lines = self.source.splitlines(True)
        lines = self._lines
        r = self.position_codec.range_from_client_units(lines, change.range)
        start, end = (r.start.line, r.start.character), (r.end.line, r.end.character)
        if end < start:  # a range backwards: leave its odd meaning to pygls, on the joined text
            self._source, self._lines, self._joined = self.source, None, True
            super()._apply_incremental_change(change)
            return
        first, after = start[0], end[0] + 1
        head = lines[first][: start[1]] if first < len(lines) else ""
        tail = lines[end[0]][end[1] :] if end[0] < len(lines) else ""
        piece = head + change.text + tail
        # The piece's last line runs on into the next line unless it ends a line; and "\r" then
        # "\n" is one line break, so a seam between them is split as a whole.
        if first > 0 and lines[first - 1].endswith("\r"):
            first -= 1
            piece = lines[first] + piece
        if piece and (piece[-1] not in LINE_ENDS or piece[-1] == "\r") and after < len(lines):
            piece += lines[after]
            after += 1
        lines[first:after] = piece.splitlines(True)
        self._joined = False


class LineWorkspace(Workspace):
    """pygls's workspace, holding ``LineDocument``s."""

    def _create_text_document(
        self, doc_uri: str, source: str | None = None, version: int | None = None, language_id: str | None = None
    ) -> TextDocument:
        return LineDocument(
            doc_uri,
            source=source,
            version=version,
            language_id=language_id,
            sync_kind=self._sync_kind,
            position_codec=self._position_codec,
        )
