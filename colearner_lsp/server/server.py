"""The colearner language server: one ``Instance``, its Kafka bus, and what the editor shows.

State that belongs to the server lives here; the LSP handlers (the feature
modules) stay short and call these methods. Changes reach the editor through
one path, whoever caused them (the bus, the CLI writing to the same ledger, a
command run here): the instance tells ``_folded`` which exercises each fold
touched, on whatever thread folded; ``show_folded`` rebuilds them on the event
loop and publishes the files whose diagnostics changed. Nothing re-reads the
ledger for the editor's sake.
"""

from __future__ import annotations

import asyncio
import gc
import importlib.metadata
import logging
import threading
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.lsp.server import LanguageServer

from ..core.config import find_root
from ..core.errors import ColearnerError
from ..core.instance import Instance
from ..core.sharing.evidence import EvidenceError
from ..core.sharing.scope import ScopeError
from .bus_supervisor import BusSupervisor
from .diagnostic_json import DiagnosticJson, params_json
from .files import Checkout
from .live_state import LiveExercises, place_all
from .protocol import ColearnerProtocol, PreparedJson
from .status import status_of

log = logging.getLogger(__name__)
T = TypeVar("T")

REFRESH_S = 0.3  # how often the ledger (CLI writes) and anchored files on disk are looked at
THROTTLE_S = 0.03  # editing publishes a file's diagnostics at most this often
LENS_REFRESH_WAIT_S = 10.0  # a client that has not answered a lens refresh by then is asked anew at the next change
FREEZE_AFTER_ROWS = 100  # a fold touching this many exercises is a catch-up: see show_folded
REQUEST_FAILED = types.LSPErrorCodes.RequestFailed.value
NOT_SET_UP = (
    "colearner is not set up in this folder: run 'colearner init --role coach|student --id NAME' "
    "at the top of the repository, then restart the language server"
)


def user_error(exc: BaseException) -> JsonRpcException:
    """A JSON-RPC error carrying the message of an error the user can fix."""
    return JsonRpcException(message=str(exc), code=REQUEST_FAILED)


USER_ERRORS = (ColearnerError, ScopeError, EvidenceError)


def _version() -> str:
    try:
        return importlib.metadata.version("colearner")
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"


class ColearnerServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("colearner", _version(), protocol_cls=ColearnerProtocol)
        self.inst: Instance | None = None
        self.live: LiveExercises | None = None
        self.bus: Any = None  # KafkaBus, imported when started
        self.supervisor: BusSupervisor | None = None
        self.tasks: set[asyncio.Task[Any]] = set()
        self.checkout: Checkout | None = None  # set as soon as the repository is known
        self._unshown: set[str] | None = None  # exercises folded but not yet shown; None: nothing waits
        self._unshown_lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._published: dict[str, tuple[str, str]] = {}  # path → (uri, diagnostics sent, as JSON text)
        self._json: DiagnosticJson | None = None
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._last_publish: dict[str, float] = {}
        self._status: dict[str, Any] | None = None
        self._lens_refresh_pending = False
        self._lens_refresh_again = False
        self._watching: asyncio.Task[None] | None = None

    # ------------------------------------------------------------ background work

    def run_task(self, coro: Awaitable[T], name: str) -> asyncio.Task[T]:
        """Run ``coro`` in the background, keeping a reference and logging its failure."""
        task = asyncio.ensure_future(coro)
        self.tasks.add(task)

        def done(t: asyncio.Task[T]) -> None:
            self.tasks.discard(t)
            if not t.cancelled() and t.exception() is not None:
                log.error("%s failed", name, exc_info=t.exception())

        task.add_done_callback(done)
        return task

    # ------------------------------------------------------------ start and stop

    def require(self) -> Instance:
        if self.inst is None:
            raise user_error(ColearnerError(NOT_SET_UP))
        return self.inst

    async def start(self, folder: Path) -> None:
        """Open the instance for ``folder``, show its exercises, connect to Kafka."""
        root = find_root(folder)
        if root is not None:  # so that documents opened while the instance loads are known as open
            self.checkout = Checkout(root, lambda uri: self.workspace.get_text_document(uri).source)
        try:
            inst = await asyncio.to_thread(Instance.open, folder)
        except ColearnerError as exc:
            self.show_message(f"colearner is off here: {exc}", types.MessageType.Warning)
            return
        self.inst, self._loop = inst, asyncio.get_running_loop()
        inst.on_fold(self._folded)
        self.live = LiveExercises(inst.identity, inst.role, inst.root, inst.state.exercises, self.text_of)
        self._json = DiagnosticJson(self.uri_of, self.live.place_of)
        placed = await asyncio.to_thread(place_all, self.live.shown(), self.disk_text)
        self.publish(self.live.adopt(placed))
        for path in list(self._checkout().open_docs):
            self.publish(self.live.relocated(path, self.text_of(path)) | {path})
        self.refresh_from_ledger()
        # What start-up loaded lives as long as the server: keep the collector from walking it
        # again and again (a full collection over 10,000 exercises pauses for ~100 ms).
        gc.freeze()
        self.start_bus()
        self._watching = self.run_task(self.watch(), "ledger and file watch")
        self.send_status()

    def start_bus(self) -> None:
        from ..bus.kafka_bus import KafkaBus

        self.bus = KafkaBus(self.require(), on_status=lambda _up: self.send_status())
        self.supervisor = BusSupervisor(
            self.bus, on_change=self.send_status, tell_user=lambda text: self.show_message(text, types.MessageType.Error)
        )
        self.run_task(self.supervisor.run(), "kafka bus")

    async def stop(self) -> None:
        """Shut down: try once more to send the outbox, stop the bus and the watch, close the ledger."""
        if self._watching is not None:
            self._watching.cancel()
        if self.bus is not None:
            if self.bus.connected:
                try:
                    await asyncio.wait_for(self.bus.publish(), 2.0)
                except Exception:  # what is not sent stays in the outbox for the next start or 'colearner sync'
                    log.debug("final publish failed", exc_info=True)
            if self.supervisor is not None:
                self.supervisor.stop()
            else:
                self.bus.stop()
        pending = [t for t in self.tasks if not t.done()]
        if pending:
            _, late = await asyncio.wait(pending, timeout=2.0)
            for t in late:
                t.cancel()
        if self.inst is not None:
            self.inst.close()
            self.inst = None

    async def watch(self) -> None:
        """Fold what other processes wrote to the ledger; notice anchored files changed on disk."""
        while True:
            await asyncio.sleep(REFRESH_S)
            try:
                await self._look_around()
            except Exception:  # one bad turn must not stop the watch for the rest of the session
                log.exception("watching the ledger and files failed; trying again")

    async def _look_around(self) -> None:
        self.refresh_from_ledger()
        self.send_status()
        if self.checkout is None or self.live is None:
            return
        # On a worker thread, however few: each stat gives the GIL up, and while another thread
        # works (receiving a batch, an action) every one waits up to a switch interval to get it
        # back. A hundred files stalled the loop ~13 ms that way (bench_lsp.py --stalls).
        changed = await asyncio.to_thread(self.checkout.changed_on_disk, self._watched_paths())
        for path, text in changed.items():
            if not self.is_open(path):
                self.publish(self.live.relocated(path, text) | self.live.refresh_path(path))

    # ------------------------------------------------------------ ledger → editor

    def refresh_from_ledger(self) -> None:
        """Fold what other processes (the CLI) appended to the ledger; ``_folded`` hears of it."""
        if self.inst is not None:
            self.inst.refresh()
        self.show_folded()

    def _folded(self, exercise_ids: set[str]) -> None:
        """The instance folded events (on any thread, under its lock): note them, show them on the loop."""
        with self._unshown_lock:
            first = self._unshown is None
            self._unshown = (self._unshown or set()) | exercise_ids
        if first and self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self.show_folded)

    def show_folded(self) -> None:
        """Show what the folds since the last call touched: diagnostics, status, lenses."""
        with self._unshown_lock:
            exercise_ids, self._unshown = self._unshown, None
        if exercise_ids is None or self.live is None:
            return
        self.publish(self.live.update(exercise_ids))
        self.send_status()
        self.refresh_lenses()
        if len(exercise_ids) >= FREEZE_AFTER_ROWS:
            # A catch-up (a course's worth of exercises arriving) builds state that lives as long as
            # the server, like what start() loaded: freeze it too, or every full collection walks it
            # again (100-200 ms with 10,000 exercises, in the middle of someone's typing).
            gc.freeze()

    def refresh_lenses(self) -> None:
        """Lenses name the exercise's state: ask the client to ask again (it would only on the next edit).

        One refresh is in flight at a time. A change made while one is, is not covered by it: the
        client may have asked for its lenses already (some do before they answer), so it is told
        once more when it answers.
        """
        workspace = self.client_capabilities.workspace
        if not (workspace and workspace.code_lens and workspace.code_lens.refresh_support):
            return
        if self._lens_refresh_pending:
            self._lens_refresh_again = True
            return
        self._lens_refresh_pending = True

        async def refresh() -> None:
            try:
                again = True
                while again:
                    self._lens_refresh_again = False
                    await asyncio.wait_for(self.workspace_code_lens_refresh_async(None), LENS_REFRESH_WAIT_S)
                    again = self._lens_refresh_again
            except Exception:  # refused or unanswered: the client re-asks on its next edit, the next change asks again
                log.debug("workspace/codeLens/refresh refused or unanswered", exc_info=True)
            finally:
                self._lens_refresh_pending = False

        self.run_task(refresh(), "code lens refresh")

    def flush_outbox(self) -> None:
        """Publish what a command just wrote now, not at the bus's next turn."""
        bus = self.bus
        if bus is not None and bus.connected:

            async def publish() -> None:
                try:
                    await bus.publish()
                except Exception:  # the bus's own loop retries and reconnects
                    log.debug("early publish failed; the bus will retry", exc_info=True)

            self.run_task(publish(), "publish outbox")

    async def act(self, action: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a core action off the event loop, show what it changed, send it out."""
        inst = self.require()
        try:
            result = await asyncio.to_thread(action, inst, *args, **kwargs)
        except USER_ERRORS as exc:
            raise user_error(exc) from None
        self.show_folded()  # before answering: the editor shows what the command changed
        self.flush_outbox()
        return result

    def send_status(self) -> None:
        if self.inst is None:
            return
        health = self.supervisor.health() if self.supervisor is not None else None
        status = status_of(self.inst, bool(self.bus and self.bus.connected), health)
        if status != self._status:
            if status["broker"] == "offline" and (self._status or {}).get("broker") != "offline" and self.bus and self.bus.last_error:
                log.warning("Kafka is offline; events wait in the outbox (%s)", self.bus.last_error)
            self._status = status
            self.protocol.notify("colearner/status", status)

    # ------------------------------------------------------------ publishing

    def publish(self, paths: Iterable[str]) -> None:
        for path in paths:
            self._publish_now(path)

    def publish_soon(self, paths: Iterable[str]) -> None:
        """Publish at most once per THROTTLE_S per file: the first change at once, a burst once more at its end."""
        loop = asyncio.get_running_loop()
        for path in paths:
            if path in self._timers:
                continue
            wait = self._last_publish.get(path, -1e9) + THROTTLE_S - loop.time()
            if wait <= 0:
                self._publish_now(path)
            else:
                self._timers[path] = loop.call_later(wait, self._publish_now, path)

    def _publish_now(self, path: str) -> None:
        timer = self._timers.pop(path, None)
        if timer is not None:
            timer.cancel()
        if self.live is None or self._json is None:
            return
        uri = self.uri_of(path)
        before_uri, before = self._published.get(path, (uri, None))
        if before_uri != uri:  # the editor opened the file under another URI: clear the old one
            self.protocol.notify(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS, PreparedJson(params_json(before_uri, None, "[]")))
            before = None
        diagnostics = self._json.diagnostics(path, self.live.store.for_path(path))
        if diagnostics == before:
            return
        self._published[path] = (uri, diagnostics)
        self._last_publish[path] = asyncio.get_running_loop().time()
        version = self.workspace.get_text_document(uri).version if self.is_open(path) else None
        self.protocol.notify(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS, PreparedJson(params_json(uri, version, diagnostics)))

    def show_message(self, message: str, kind: types.MessageType = types.MessageType.Info) -> None:
        self.window_show_message(types.ShowMessageParams(type=kind, message=message))

    # ------------------------------------------------------------ files

    def repo_path(self, uri: str) -> str | None:
        """The repository path of a file URI; None outside the repository, or before colearner is set up here."""
        return self.checkout.repo_path(uri) if self.checkout else None

    def uri_of(self, path: str) -> str:
        return self._checkout().uri_of(path)

    def text_of(self, path: str) -> str | None:
        return self._checkout().text_of(path)

    def disk_text(self, path: str) -> str | None:
        return self._checkout().disk_text(path)

    def is_open(self, path: str) -> bool:
        return self.checkout is not None and path in self.checkout.open_docs

    def opened(self, path: str, uri: str) -> None:
        self._checkout().open_docs[path] = uri

    def closed(self, path: str) -> bool:
        """Forget an open document; False when it was not known as open."""
        return self.checkout is not None and self.checkout.open_docs.pop(path, None) is not None

    def _checkout(self) -> Checkout:
        if self.checkout is None:
            raise user_error(ColearnerError(NOT_SET_UP))
        return self.checkout

    def _watched_paths(self) -> list[str]:
        if self.live is None:
            return []
        return list(set(self.live.anchored_paths()) | set(self.live.store.paths()))
