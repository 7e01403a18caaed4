"""Unit tests: ``LineDocument`` reads exactly as pygls's ``TextDocument`` after the same changes."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from lsprotocol import types
from pygls.workspace import TextDocument

from colearner_lsp.server.line_document import LineDocument, LineWorkspace
from colearner_lsp.server.main import create_server

PIECES = ["", "a", "é", "😋", "\n", "\r", "\r\n", "\x0c", "xy\nz", "\u2028"]
text = st.lists(st.sampled_from(PIECES), max_size=12).map("".join)
position = st.tuples(st.integers(0, 6), st.integers(0, 6)).map(lambda p: types.Position(line=p[0], character=p[1]))


def partial(start: types.Position, end: types.Position, new: str) -> types.TextDocumentContentChangePartial:
    return types.TextDocumentContentChangePartial(range=types.Range(start=start, end=end), text=new)


@settings(max_examples=400, deadline=None)
@given(initial=text, changes=st.lists(st.tuples(position, position, text), min_size=1, max_size=6))
def test_incremental_changes_read_as_pygls_reads_them(initial: str, changes: list) -> None:  # type: ignore[type-arg]
    ours, theirs = LineDocument("file:///t.py", initial), TextDocument("file:///t.py", initial)
    for start, end, new in changes:  # some ranges run backwards: garbage in, the same garbage out
        # Each gets its own copy: pygls's codec clamps a position in place.
        ours.apply_change(partial(types.Position(start.line, start.character), types.Position(end.line, end.character), new))
        theirs.apply_change(partial(types.Position(start.line, start.character), types.Position(end.line, end.character), new))
        assert ours.lines == theirs.lines
    assert ours.source == theirs.source


def test_a_full_change_replaces_the_lines() -> None:
    doc = LineDocument("file:///t.py", "a\nb\n")
    doc.apply_change(partial(types.Position(0, 0), types.Position(0, 0), "x"))
    doc.apply_change(types.TextDocumentContentChangeWholeDocument(text="new\ntext"))
    assert doc.source == "new\ntext" and list(doc.lines) == ["new\n", "text"]
    doc.apply_change(partial(types.Position(1, 0), types.Position(1, 4), "line"))
    assert doc.source == "new\nline"


def test_the_workspace_opens_line_documents() -> None:
    workspace = LineWorkspace("file:///r")
    workspace.put_text_document(types.TextDocumentItem(uri="file:///r/a.py", language_id="python", version=1, text="x\n"))
    workspace.update_text_document(
        types.VersionedTextDocumentIdentifier(uri="file:///r/a.py", version=2), partial(types.Position(1, 0), types.Position(1, 0), "y\n")
    )
    doc = workspace.get_text_document("file:///r/a.py")
    assert isinstance(doc, LineDocument) and doc.source == "x\ny\n" and doc.version == 2


def test_the_server_keeps_open_documents_as_lines() -> None:
    ls = create_server()
    initializing = ls.protocol.lsp_initialize(types.InitializeParams(capabilities=types.ClientCapabilities(), root_uri="file:///r"))
    for _ in initializing:  # no INITIALIZE handler of ours to yield to; run pygls's to the end
        pass
    assert isinstance(ls.workspace, LineWorkspace)
