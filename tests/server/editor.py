"""A real LSP client (pytest-lsp) driving ``colearner serve`` over stdio, for end-to-end tests.

``editor(root)`` starts the server in a repository the way an editor does
(initialize with that folder as root), waits for its first ``colearner/status``
and offers the few moves the tests make: open and edit files, wait for
diagnostics, list code actions, run commands.
"""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from concurrent.futures import Future
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Union

from lsprotocol import types
from pygls.uris import from_fs_path
from pytest_lsp import LanguageClient, client_capabilities
from pytest_lsp.client import make_test_lsp_client

from colearner_lsp.server.queries import plain
from tests.instances import cli_env
from tests.waiting import What, until_async

Diagnostics = Sequence[types.Diagnostic]


def capabilities(show_document: bool = True) -> types.ClientCapabilities:
    caps = client_capabilities("visual-studio-code")
    assert caps.window is not None
    caps.window.show_document = types.ShowDocumentClientCapabilities(support=show_document)
    if caps.workspace and caps.workspace.did_change_watched_files:
        # The server must also notice disk changes by itself (Neovim 0.7 cannot watch).
        caps.workspace.did_change_watched_files.dynamic_registration = False
    return caps


def fix_code_action_parsing(client: LanguageClient) -> None:
    """lsprotocol's client-side converter reads a CodeAction that carries a command as a Command
    (with the nested command object turned into a string); tell the two apart by that field."""
    converter = client.protocol._converter

    def structure(obj: dict[str, Any], _: Any) -> types.Command | types.CodeAction:
        if isinstance(obj.get("command"), str):
            return converter.structure(obj, types.Command)
        return converter.structure(obj, types.CodeAction)

    # typing.Union, not `|`: the hook is found by the very type lsprotocol's field is declared with
    converter.register_structure_hook(Union[types.Command, types.CodeAction], structure)  # noqa: UP007


class Editor:
    def __init__(self, client: LanguageClient, root: Path) -> None:
        self.client = client
        self.root = Path(root)
        self.statuses: list[dict[str, Any]] = []
        self.versions: dict[str, int] = {}
        self.lens_refreshes = 0
        # Run on each workspace/codeLens/refresh before it is answered (a client that asks for
        # its lenses again first, say); None: answered at once, as VS Code does.
        self.on_lens_refresh: Callable[[], Awaitable[None]] | None = None

    def uri(self, rel: str) -> str:
        return from_fs_path(str(self.root / rel)) or ""

    @property
    def status(self) -> dict[str, Any]:
        return self.statuses[-1] if self.statuses else {}

    async def until(self, check: Callable[[], Any], timeout: float = 15.0, what: What = "condition") -> Any:
        """Poll ``check`` until it returns something truthy (``tests.waiting.until_async``)."""
        return await until_async(check, what=what, timeout=timeout)

    def diagnostics(self, rel: str) -> Diagnostics:
        return self.client.diagnostics.get(self.uri(rel), [])

    async def wait_diagnostics(self, rel: str, check: Callable[[Diagnostics], bool], timeout: float = 15.0) -> Diagnostics:
        await self.until(lambda: check(self.diagnostics(rel)), timeout, lambda: f"diagnostics on {rel} (now {self.describe(rel)})")
        return self.diagnostics(rel)

    def describe(self, rel: str) -> list[tuple[str, int, int, str]]:
        return [(d.code, d.range.start.line, d.range.end.line, d.message[:60]) for d in self.diagnostics(rel)]  # type: ignore[misc]

    def open(self, rel: str, text: str | None = None) -> str:
        uri = self.uri(rel)
        text = (self.root / rel).read_text() if text is None else text
        self.versions[uri] = 1
        item = types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)
        self.client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=item))
        return uri

    def change(self, rel: str, start: tuple[int, int], end: tuple[int, int], text: str) -> None:
        uri = self.uri(rel)
        self.versions[uri] += 1
        edit = types.TextDocumentContentChangePartial(range=types.Range(start=types.Position(*start), end=types.Position(*end)), text=text)
        doc = types.VersionedTextDocumentIdentifier(uri=uri, version=self.versions[uri])
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(text_document=doc, content_changes=[edit]))

    def save(self, rel: str) -> None:
        self.client.text_document_did_save(types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=self.uri(rel))))

    def files_changed(self, *rels: str) -> None:
        """Tell the server these files changed on disk, as an editor watching files does."""
        changes = [types.FileEvent(uri=self.uri(rel), type=types.FileChangeType.Changed) for rel in rels]
        self.client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=changes))

    async def settled(self, rel: str) -> None:
        """Return once the server has handled every message sent before, and what it published for them has arrived.

        The server reads messages in order and runs each notification's handler to the end
        before reading the next, and this client reads what comes back in order: so the answer
        to a request sent now comes after all of it. The event to wait for when a test shows
        that something did not happen.
        """
        params = types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=self.uri(rel)))
        await self.client.text_document_code_lens_async(params)

    async def code_actions(self, rel: str, line: int, diagnostics: Diagnostics = ()) -> list[types.CodeAction]:
        position = types.Position(line=line, character=0)
        params = types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=self.uri(rel)),
            range=types.Range(start=position, end=position),
            context=types.CodeActionContext(diagnostics=list(diagnostics)),
        )
        return [a for a in await self.client.text_document_code_action_async(params) or [] if isinstance(a, types.CodeAction)]

    async def run(self, command: str, argument: Any) -> Any:
        arguments = [argument] if argument is not None else None
        return await self.client.workspace_execute_command_async(types.ExecuteCommandParams(command=command, arguments=arguments))

    async def run_action(self, action: types.CodeAction) -> Any:
        assert action.command is not None, action
        return await self.client.workspace_execute_command_async(
            types.ExecuteCommandParams(command=action.command.command, arguments=action.command.arguments)
        )

    async def raw_request(self, method: str, params: Any) -> Any:
        """Send a request as raw JSON, bypassing the client's own typing (to send malformed params)."""
        protocol = self.client.protocol
        msg_id = f"raw-{uuid.uuid4()}"
        answer: Future[Any] = Future()
        protocol._request_futures[msg_id] = answer
        body = json.dumps({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params}).encode()
        self.write_raw(body)
        return await asyncio.wrap_future(answer)

    def write_raw(self, body: bytes) -> None:
        self.client.protocol.writer.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    async def request(self, method: str, params: Any = None) -> Any:
        """A custom request's result as plain JSON values."""
        return plain(await self.client.protocol.send_request_async(method, params))


def server_env() -> dict[str, str]:
    env = cli_env()
    env["PYTHONUNBUFFERED"] = "1"
    return env


@asynccontextmanager
async def editor(
    root: Path, caps: types.ClientCapabilities | None = None, wait_status: bool = True, env: dict[str, str] | None = None
) -> AsyncIterator[Editor]:
    """``colearner serve`` started over stdio, initialized with ``root`` as the workspace (``env`` added to its environment)."""
    client = make_test_lsp_client()
    fix_code_action_parsing(client)
    ed = Editor(client, root)

    @client.feature("colearner/status")
    def on_status(client: LanguageClient, params: Any) -> None:
        ed.statuses.append(plain(params))

    @client.feature(types.WORKSPACE_CODE_LENS_REFRESH)
    async def on_lens_refresh(client: LanguageClient, params: None) -> None:
        ed.lens_refreshes += 1
        if ed.on_lens_refresh is not None:
            await ed.on_lens_refresh()

    await client.start_io(sys.executable, "-m", "colearner_lsp", "serve", cwd=str(root), env={**server_env(), **(env or {})})
    try:
        uri = from_fs_path(str(root))
        await client.initialize_session(
            types.InitializeParams(
                capabilities=caps or capabilities(),
                root_uri=uri,
                workspace_folders=[types.WorkspaceFolder(uri=uri or "", name=Path(root).name)],
            )
        )
        if wait_status:
            await ed.until(lambda: ed.statuses, 30.0, "the first colearner/status")
        yield ed
    finally:
        try:
            await asyncio.wait_for(client.shutdown_session(), 10)
        except Exception:  # a failed test must still stop the server
            pass
        process = client._server
        if process is not None and process.returncode is None:
            try:
                await asyncio.wait_for(process.wait(), 5)
            except TimeoutError:
                process.kill()
        await client.stop()
