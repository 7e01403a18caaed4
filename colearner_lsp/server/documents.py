"""Start-up, shutdown and document sync: keeping anchors on the code as it changes.

- ``didChange`` (incremental) moves every anchor of the file with the edits and
  publishes, throttled per file;
- ``didSave``, ``didClose`` and watched-file events search for the anchors
  again from their fingerprints (a live range survives a fuzzy search: the
  student is rewriting that code);
- ``didOpen`` searches the buffer, which may differ from the disk.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from lsprotocol import types
from pygls.uris import to_fs_path

from ..core.anchor.anchors import TextEdit
from .server import ColearnerServer

log = logging.getLogger(__name__)


def workspace_folder(ls: ColearnerServer) -> Path:
    """The folder the editor opened: its root, else its first workspace folder, else the current one."""
    root = ls.workspace.root_path
    if not root and ls.workspace.folders:
        root = to_fs_path(next(iter(ls.workspace.folders.values())).uri)
    return Path(root) if root else Path.cwd()


def edits_of(changes: Sequence[types.TextDocumentContentChangeEvent]) -> list[TextEdit] | None:
    """The changes as line edits, or None when one of them replaced the whole text."""
    edits = []
    for change in changes:
        if not isinstance(change, types.TextDocumentContentChangePartial):
            return None
        r = change.range
        edits.append(TextEdit(r.start.line, r.start.character, r.end.line, r.end.character, change.text))
    return edits


def register(ls: ColearnerServer) -> None:
    @ls.feature(types.INITIALIZED)
    async def initialized(ls: ColearnerServer, params: types.InitializedParams) -> None:
        await ls.start(workspace_folder(ls))
        if ls.inst is not None:
            ls.run_task(watch_files(ls), "register file watching")

    @ls.feature(types.SHUTDOWN)
    async def shutdown(ls: ColearnerServer, params: None) -> None:
        await ls.stop()

    @ls.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: ColearnerServer, params: types.DidOpenTextDocumentParams) -> None:
        path = ls.repo_path(params.text_document.uri)
        if path is None:
            return
        ls.opened(path, params.text_document.uri)
        if ls.live is not None:
            ls.publish(ls.live.relocated(path, params.text_document.text) | {path})

    @ls.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: ColearnerServer, params: types.DidChangeTextDocumentParams) -> None:
        path = ls.repo_path(params.text_document.uri)
        if path is None or ls.live is None:
            return
        edits = edits_of(params.content_changes)
        if edits is None:
            touched = ls.live.relocated(path, ls.text_of(path), keep_live=True)
        else:
            touched = ls.live.edited(path, edits)
        ls.publish_soon(touched)

    @ls.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: ColearnerServer, params: types.DidSaveTextDocumentParams) -> None:
        path = ls.repo_path(params.text_document.uri)
        if path is not None and ls.live is not None:
            ls.publish(ls.live.relocated(path, ls.text_of(path), keep_live=True) | ls.live.refresh_path(path))

    @ls.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: ColearnerServer, params: types.DidCloseTextDocumentParams) -> None:
        path = ls.repo_path(params.text_document.uri)
        if path is None or not ls.closed(path) or ls.live is None:
            return
        ls.publish(ls.live.relocated(path, ls.disk_text(path)) | {path})

    @ls.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def did_change_watched_files(ls: ColearnerServer, params: types.DidChangeWatchedFilesParams) -> None:
        if ls.live is None:
            return
        for change in params.changes:
            path = ls.repo_path(change.uri)
            if path is not None and not ls.is_open(path):
                ls.publish(ls.live.relocated(path, ls.disk_text(path)) | ls.live.refresh_path(path))


async def watch_files(ls: ColearnerServer) -> None:
    """Ask the client to report file changes on disk, when it can (polling covers the others)."""
    watched = ls.client_capabilities.workspace and ls.client_capabilities.workspace.did_change_watched_files
    if not (watched and watched.dynamic_registration):
        return
    options = types.DidChangeWatchedFilesRegistrationOptions(watchers=[types.FileSystemWatcher(glob_pattern="**/*")])
    registration = types.Registration(id="colearner-files", method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES, register_options=options)
    await ls.client_register_capability_async(types.RegistrationParams(registrations=[registration]))
