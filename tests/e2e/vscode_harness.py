"""A real VS Code (code-server) with the colearner extension, driven by headless Chromium.

``code_server(...)`` installs ``editor-client/colearner.vsix`` into a fresh
user-data and extensions folder, starts code-server on a free loopback port and
stops its whole process group afterwards (extension host and language server
included). ``run_driver(...)`` runs one of the node scripts in ``tests/e2e/js``
(playwright-core against Debian's Chromium) and returns the JSON it recorded.
Screenshots, results and logs go to ``artifacts/e2e/<name>/``.

Everything this needs is installed by ``./dev setup``; ``missing_tools()`` says
what is not there.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from tests.waiting import until

REPO = Path(__file__).resolve().parents[2]
VSIX = REPO / "editor-client" / "colearner.vsix"
CODE_SERVER = REPO / ".cache" / "code-server" / "node_modules" / ".bin" / "code-server"
NODE_MODULES = REPO / "editor-client" / "node_modules"  # playwright-core is a devDependency there
DRIVERS = Path(__file__).resolve().parent / "js"
ARTIFACTS = REPO / "artifacts" / "e2e"
CHROMIUM = Path(os.environ.get("COLEARNER_CHROMIUM", "/usr/bin/chromium"))
EXTENSION_ID = "colearner.colearner"

START_TIMEOUT_S = 60
INSTALL_TIMEOUT_S = 120

# Workbench settings for a quiet, trusted window: no welcome page, no prompts.
BASE_SETTINGS: dict[str, Any] = {
    "security.workspace.trust.enabled": False,
    "workbench.startupEditor": "none",
    "workbench.tips.enabled": False,
    "workbench.welcomePage.walkthroughs.openOnInstall": False,
    "workbench.enableExperiments": False,
    "telemetry.telemetryLevel": "off",
    "extensions.autoCheckUpdates": False,
    "extensions.autoUpdate": False,
    "update.mode": "none",
    "git.openRepositoryInParentFolders": "never",
    "colearner.trace.server": "messages",
}


class HarnessError(Exception):
    """code-server or a driver did not do what the test needs; the message says what happened."""


def missing_tools() -> list[str]:
    """What ``./dev setup`` has not installed yet (empty when all is there)."""
    needed = {
        "code-server": CODE_SERVER,
        "Chromium": CHROMIUM,
        "the extension's VSIX": VSIX,
        "playwright-core": NODE_MODULES / "playwright-core" / "package.json",
    }
    missing = [f"{what} ({path})" for what, path in needed.items() if not path.exists()]
    if shutil.which("node") is None:
        missing.append("node")
    return missing


@dataclass
class CodeServer:
    url: str
    process: subprocess.Popen[bytes]
    home: Path
    log: Path

    def workbench_url(self, folder: Path) -> str:
        """The address that opens the workbench on ``folder``."""
        return f"{self.url}/?folder={quote(str(Path(folder).resolve()))}"

    @property
    def user_data(self) -> Path:
        return self.home / "user-data"

    def colearner_output(self, lines: int = 40) -> str:
        """The end of the extension's "Colearner" output channel (server stderr, LSP trace)."""
        logs = sorted((self.user_data / "logs").glob("*/exthost*/output_logging_*/*-Colearner.log"))
        return tail(logs[-1], lines) if logs else "(no Colearner output yet)"

    def stop(self) -> None:
        """Ends code-server and everything it started (its process group)."""
        if self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        except ProcessLookupError:
            pass


def write_user_settings(user_data: Path, settings: dict[str, Any]) -> None:
    target = user_data / "User" / "settings.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(settings, indent=2))


@contextmanager
def code_server(
    home: Path,
    *,
    python: str = sys.executable,
    settings: dict[str, Any] | None = None,
    artifacts: Path | None = None,
) -> Iterator[CodeServer]:
    """code-server with the colearner extension, whose server runs on ``python``.

    ``home`` holds its user data, extensions and log; ``artifacts``, when
    given, receives the log and the workbench's logs (extension host, the
    Colearner output channel) when it stops.
    """
    if missing := missing_tools():
        raise HarnessError("not installed: " + "; ".join(missing) + ". Run ./dev setup")
    user_data, extensions = home / "user-data", home / "extensions"
    extensions.mkdir(parents=True, exist_ok=True)
    write_user_settings(user_data, {**BASE_SETTINGS, "colearner.python": python, **(settings or {})})
    config = home / "config.yaml"
    config.write_text("auth: none\ncert: false\n")  # keeps code-server away from ~/.config
    common = [
        str(CODE_SERVER),
        "--config",
        str(config),
        "--user-data-dir",
        str(user_data),
        "--extensions-dir",
        str(extensions),
    ]
    install = subprocess.run(
        [*common, "--install-extension", str(VSIX), "--force"],
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT_S,
    )
    if install.returncode != 0 or not any(extensions.glob(f"{EXTENSION_ID}-*")):
        raise HarnessError(f"installing {VSIX.name} failed ({install.returncode}): {install.stdout}{install.stderr}")

    port = free_port()
    log = home / "code-server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                *common,
                "--auth",
                "none",
                "--bind-addr",
                f"127.0.0.1:{port}",
                "--disable-telemetry",
                "--disable-update-check",
                "--disable-workspace-trust",
                "--disable-getting-started-override",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group, so stop() reaches the language server too
        )
    server = CodeServer(url=f"http://127.0.0.1:{port}", process=process, home=home, log=log)
    try:
        wait_healthy(server)
        yield server
    finally:
        server.stop()
        if artifacts is not None:
            keep_logs(server, artifacts)


def wait_healthy(server: CodeServer, timeout: float = START_TIMEOUT_S) -> None:
    def healthy() -> bool:
        if server.process.poll() is not None:
            raise HarnessError(f"code-server exited with {server.process.returncode}:\n{tail(server.log)}")
        try:
            with urllib.request.urlopen(f"{server.url}/healthz", timeout=2) as response:
                return response.status == 200
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False

    try:
        until(healthy, what="code-server to answer /healthz", timeout=timeout, every=0.25)
    except AssertionError as error:
        raise HarnessError(f"{error}:\n{tail(server.log)}") from None


def run_driver(script: str, params: dict[str, Any], artifacts: Path, timeout: float = 240) -> dict[str, Any]:
    """Runs ``tests/e2e/js/<script>`` and returns the ``result.json`` it wrote.

    Raises ``HarnessError`` with the driver's own account (the step it was on,
    the error, the workbench's notifications) when it fails.
    """
    artifacts.mkdir(parents=True, exist_ok=True)
    params_file = artifacts / "params.json"
    params_file.write_text(json.dumps({**params, "chromium": str(CHROMIUM), "artifacts": str(artifacts)}, indent=2))
    env = {**os.environ, "NODE_PATH": str(NODE_MODULES)}
    try:
        done = subprocess.run(
            ["node", str(DRIVERS / script), str(params_file)],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as expired:
        raise HarnessError(f"{script} ran over {timeout:.0f} s; steps so far:\n{expired.stderr}") from None
    result_file = artifacts / "result.json"
    result: dict[str, Any] = json.loads(result_file.read_text()) if result_file.exists() else {}
    if done.returncode != 0:
        raise HarnessError(
            f"{script} failed (see {artifacts}):\n{done.stderr.strip()}\n"
            f"error: {result.get('error', '?')}\nnotifications: {result.get('notifications', [])}"
        )
    return result


def keep_logs(server: CodeServer, artifacts: Path) -> None:
    artifacts.mkdir(parents=True, exist_ok=True)
    shutil.copy(server.log, artifacts / "code-server.log")
    logs = server.user_data / "logs"
    if logs.is_dir():
        shutil.copytree(logs, artifacts / "workbench-logs", dirs_exist_ok=True)


def artifact_dir(name: str) -> Path:
    """A clean ``artifacts/e2e/<name>`` for one test."""
    folder = ARTIFACTS / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
