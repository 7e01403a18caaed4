"""Findings as publishDiagnostics JSON text, encoding only what moves.

On a file with hundreds of anchors every keystroke moves every diagnostic.
Building lsprotocol objects for cattrs, or even plain dicts for ``json.dumps``,
costs more than the rest of the edit (for 500 diagnostics, ~2 ms to build and
encode dicts against ~0.3 ms here). So each finding's unchanging part
(severity, source, code, message, data) is encoded once, and a publish only
writes the line numbers around it. The result is sent as it is
(``protocol.PreparedJson``). Text is escaped as ``json.dumps`` does by default
(ASCII only).

A message quotes wire text (topics, exercises, mistakes, reasons, paths), so
it passes through ``one_line`` here, where every finding becomes what the
editor shows: an escape sequence or a bidi override is seen, not obeyed, and
a message stays one line as editors list it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable

from ..core.display import one_line
from .diagnostics import END_OF_LINE, SEVERITY, SOURCE, Finding, Related

COMPACT = (",", ":")
_RANGE = '{"start":{"line":%d,"character":0},"end":{"line":%d,"character":' + str(END_OF_LINE) + "}}"
_RELATED = '{"location":{"uri":%s,"range":%s},"message":%s}'
# A diagnostic is _OPEN + first line + _MID + last line + its tail (what follows the range).
_OPEN, _MID = '{"range":{"start":{"line":', ',"character":0},"end":{"line":'
_CLOSE_RANGE = ',"character":' + str(END_OF_LINE) + "}},"


class _Encoded:
    """What does not move, for one finding: the JSON after its range, and its related locations
    (path, lines, message JSON), whose ranges move too."""

    __slots__ = ("finding", "tail", "related")

    def __init__(self, f: Finding) -> None:
        self.finding = f
        static = {
            "severity": SEVERITY[f.severity].value,
            "source": SOURCE,
            "code": f.kind,
            "message": one_line(f.message),
            "data": f.data(),
        }
        # A related location equal to the diagnostic's own adds nothing but bytes.
        self.related = [(r.path, r.lines, json.dumps(one_line(r.message))) for r in f.related if not _same_place(r, f)]
        members = json.dumps(static, separators=COMPACT)[1:-1]
        self.tail = _CLOSE_RANGE + members + (',"relatedInformation":[' if self.related else "}")


def _same_place(r: Related, f: Finding) -> bool:
    """Whether a related location is the finding's own (AT_ANCHOR means the exercise's anchor only
    for a finding that follows no place of its own)."""
    return r.path == f.path and r.lines == f.lines and (r.lines is not None or f.place is None)


class DiagnosticJson:
    """Per file, the JSON array of its diagnostics, from findings and where their anchors are now."""

    def __init__(self, uri_of: Callable[[str], str], place_of: Callable[[str], tuple[int, int]]) -> None:
        self.uri_of = uri_of  # a file's URI
        self.place_of = place_of  # a tracked place's lines now (0-based): an exercise's anchor, a mistake's lines
        # Per file, by finding (keyed by identity: hashing every finding costs more than encoding it).
        self._encoded: dict[str, dict[int, _Encoded]] = {}

    def diagnostics(self, path: str, findings: Iterable[Finding]) -> str:
        """The ``diagnostics`` array of ``path``, as JSON text."""
        before = self._encoded.get(path, {})
        now: dict[int, _Encoded] = {}
        place_of = self.place_of
        parts: list[str] = []
        for f in findings:
            known = before.get(id(f))
            if known is None or known.finding is not f:
                known = _Encoded(f)
            now[id(f)] = known
            first, last = f.lines or place_of(f.tracked_as)  # no lines (AT_ANCHOR): where its code is now
            parts += (_OPEN, str(first), _MID, str(last), known.tail)
            if known.related:
                parts += (self._related(known, f.exercise_id), "]}")
            parts.append(",")
        self._encoded[path] = now
        if parts:
            parts.pop()  # the last comma
        return "[" + "".join(parts) + "]"

    def _related(self, known: _Encoded, exercise_id: str) -> str:
        related = []
        for path, lines, message in known.related:
            first, last = lines or self.place_of(exercise_id)  # no lines (AT_ANCHOR): where the exercise's code is now
            related.append(_RELATED % (json.dumps(self.uri_of(path)), _RANGE % (first, last), message))
        return ",".join(related)


def params_json(uri: str, version: int | None, diagnostics: str) -> str:
    """publishDiagnostics params around a ``diagnostics`` array (version only for an open document, as LSP asks)."""
    if version is None:
        return '{"uri":%s,"diagnostics":%s}' % (json.dumps(uri), diagnostics)
    return '{"uri":%s,"version":%d,"diagnostics":%s}' % (json.dumps(uri), version, diagnostics)
