"""Malformed frames on the language server's stdin: skipped and answered, or a
clear stop, never a hang. The real server process over real pipes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from colearner_lsp.core.identity import init_instance
from tests.repos import make_origin


def frame(body: bytes) -> bytes:
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def message(method: str, id_: int | None = None, params: dict | None = None) -> bytes:
    msg: dict = {"jsonrpc": "2.0", "method": method, "params": params or {}}
    if id_ is not None:
        msg["id"] = id_
    return frame(json.dumps(msg).encode())


INITIALIZE = message("initialize", 1, {"processId": None, "rootUri": None, "capabilities": {}})
SHUTDOWN_AND_EXIT = message("shutdown", 2) + message("exit")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = make_origin(tmp_path / "repo")
    init_instance(root, "student", "sam", "127.0.0.1:1")  # no broker: the server works offline
    return root


def serve(repo: Path, stdin: bytes) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "colearner_lsp", "serve"], cwd=repo, input=stdin, capture_output=True, timeout=30)


def replies(stdout: bytes) -> list[dict]:
    out = []
    while stdout:
        head, _, rest = stdout.partition(b"\r\n\r\n")
        [length] = [int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")]
        out.append(json.loads(rest[:length]))
        stdout = rest[length:]
    return [r for r in out if "id" in r]  # responses, not the server's notifications


@pytest.mark.parametrize(
    ("bad", "code"),
    [(frame(b"{oops!}"), -32700), (frame(b"[1, 2]"), -32600), (frame(b'{"no": "jsonrpc"}'), -32600)],
    ids=["not-json", "not-an-object", "not-json-rpc"],
)
def test_a_bad_body_is_answered_and_the_server_goes_on(repo: Path, bad: bytes, code: int) -> None:
    result = serve(repo, bad + INITIALIZE + SHUTDOWN_AND_EXIT)
    assert result.returncode == 0, result.stderr.decode()
    answers = replies(result.stdout)
    assert answers[0]["error"]["code"] == code and answers[0]["id"] is None
    assert [a.get("id") for a in answers[1:]] == [1, 2] and "capabilities" in answers[1]["result"]


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        (b"Content-Length: abc\r\n\r\n{}", "Content-Length"),
        (b"Content-Length: -5\r\n\r\n{}", "Content-Length"),
        (b"Content-Length: 1000000000000\r\n\r\n", "over the limit"),
        (b'Content-Length: 500\r\n\r\n{"jsonrpc": "2.0"', "ended"),
    ],
    ids=["not-a-number", "negative", "huge", "cut-short"],
)
def test_an_unframeable_stream_stops_the_server_clearly(repo: Path, bad: bytes, says: str) -> None:
    result = serve(repo, INITIALIZE + bad + SHUTDOWN_AND_EXIT)  # whatever follows cannot be trusted
    assert result.returncode == 1
    errors = [line for line in result.stderr.decode().splitlines() if line.strip()]
    assert "Traceback" not in result.stderr.decode()
    assert any(says in line for line in errors), errors
    assert [a.get("id") for a in replies(result.stdout)] == [1]  # the good message before it was answered
