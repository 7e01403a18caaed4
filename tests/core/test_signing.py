"""Canonical JSON and Ed25519 signatures: any changed byte breaks the signature."""

from __future__ import annotations

import base64
import copy
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from colearner_lsp.core.errors import KeyProblem
from colearner_lsp.core.protocol.signing import (
    canonical_json,
    generate_key,
    load_private_key,
    parse_public_key,
    public_key_text,
    save_private_key,
    sign_envelope,
    signing_bytes,
    verify_envelope,
)
from tests.core.conftest import envelope

PAYLOAD = {
    "topic": "dependency graph",
    "exercise": "Trace the call path — with ünïcode.",
    "expected": "modules",
    "tests": ["go test ./...", "pytest -q"],
    "exercise_id": "ex-1",
    "step_id": "step-1",
    "anchor": {"path": "a/b.py", "start_line": 3, "end_line": 9, "commit": "", "fingerprint": "v1.xyz", "start_char": 0},
}


@pytest.fixture(scope="module")
def key():  # type: ignore[no-untyped-def]
    return generate_key()


@pytest.fixture
def signed(key) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return sign_envelope(envelope("exercise_assigned", copy.deepcopy(PAYLOAD), seq=7), key)


def leaves(obj: Any, path: tuple = ()) -> Iterator[tuple[tuple, Any]]:
    """Every scalar inside ``obj`` with the path to it."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from leaves(v, path + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from leaves(v, path + (i,))
    else:
        yield path, obj


def changed(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str):
        return value[:-1] + chr(ord(value[-1]) ^ 1) if value else "x"
    return "changed"


def set_at(obj: Any, path: tuple, value: Any) -> None:
    for p in path[:-1]:
        obj = obj[p]
    obj[path[-1]] = value


# ---------------------------------------------------------------- canonical JSON


def test_canonical_json_is_sorted_compact_utf8() -> None:
    assert canonical_json({"b": 1, "a": [1, {"d": 2, "c": "é"}]}) == '{"a":[1,{"c":"é","d":2}],"b":1}'.encode()


def test_canonical_json_ignores_key_order() -> None:
    a = {"x": 1, "y": {"p": 1, "q": 2}}
    b = {"y": {"q": 2, "p": 1}, "x": 1}
    assert canonical_json(a) == canonical_json(b)


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_canonical_json_refuses_nan(bad: float) -> None:
    with pytest.raises(ValueError):
        canonical_json({"v": bad})


def test_signing_bytes_leave_out_sig_only(signed: dict[str, Any]) -> None:
    without = {k: v for k, v in signed.items() if k != "sig"}
    assert signing_bytes(signed) == canonical_json(without)
    assert b'"sig"' not in signing_bytes(signed)


# ---------------------------------------------------------------- sign and verify


def test_round_trip(key, signed: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    assert verify_envelope(signed, key.public_key())
    assert len(base64.b64decode(signed["sig"])) == 64


def test_sign_does_not_touch_the_input(key) -> None:  # type: ignore[no-untyped-def]
    env = envelope("progress_update", {"completed": ["s"]})
    before = copy.deepcopy(env)
    out = sign_envelope(env, key)
    assert env == before and "sig" in out and "sig" not in env


def test_verification_ignores_key_order_and_whitespace(key, signed: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    import json

    reordered = json.loads(json.dumps(dict(reversed(list(signed.items()))), indent=4))
    assert verify_envelope(reordered, key.public_key())


def test_every_changed_value_fails(key, signed: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    paths = [p for p, _ in leaves(signed) if p != ("sig",)]
    # every envelope field and every nested payload value, down to the anchor's numbers
    assert ("payload", "anchor", "start_line") in paths and ("payload", "tests", 1) in paths and ("seq",) in paths
    for path, value in leaves(signed):
        if path == ("sig",):
            continue
        tampered = copy.deepcopy(signed)
        set_at(tampered, path, changed(value))
        assert not verify_envelope(tampered, key.public_key()), path


def test_added_or_removed_fields_fail(key, signed: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    for path in [("extra",), ("payload", "extra"), ("payload", "anchor", "end_char")]:
        tampered = copy.deepcopy(signed)
        set_at(tampered, path, 1)
        assert not verify_envelope(tampered, key.public_key()), path
    for field in ["ts", "payload", "seq"]:
        tampered = copy.deepcopy(signed)
        del tampered[field]
        assert not verify_envelope(tampered, key.public_key()), field
    tampered = copy.deepcopy(signed)
    del tampered["payload"]["anchor"]["fingerprint"]
    assert not verify_envelope(tampered, key.public_key())


def test_type_changes_fail(key, signed: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    tampered = copy.deepcopy(signed)
    tampered["seq"] = str(signed["seq"])  # same digits, different JSON
    assert not verify_envelope(tampered, key.public_key())
    tampered = copy.deepcopy(signed)
    tampered["seq"] = float(signed["seq"])
    assert not verify_envelope(tampered, key.public_key())


def test_every_byte_of_the_signature_matters(key, signed: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    raw = base64.b64decode(signed["sig"])
    for i in range(len(raw)):
        for bit in (0x01, 0x80):
            bad = bytearray(raw)
            bad[i] ^= bit
            tampered = {**signed, "sig": base64.b64encode(bytes(bad)).decode()}
            assert not verify_envelope(tampered, key.public_key()), (i, bit)


@pytest.mark.parametrize("sig", [None, "", "not base64!", 12, "AAAA", base64.b64encode(b"\0" * 64).decode()])
def test_missing_or_malformed_signature(key, signed: dict[str, Any], sig: object) -> None:  # type: ignore[no-untyped-def]
    tampered = {**signed, "sig": sig}
    if sig is None:
        del tampered["sig"]
    assert not verify_envelope(tampered, key.public_key())


def test_signed_by_another_key(signed: dict[str, Any]) -> None:
    assert not verify_envelope(signed, generate_key().public_key())


# ---------------------------------------------------------------- key files


def test_private_key_file_is_owner_only(tmp_path: Path, key) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "keys" / "me.pem"
    save_private_key(key, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert not list(path.parent.glob("*.tmp"))
    loaded = load_private_key(path)
    assert public_key_text(loaded) == public_key_text(key)


def test_saving_again_keeps_mode(tmp_path: Path) -> None:
    path = tmp_path / "me.pem"
    save_private_key(generate_key(), path)
    second = generate_key()
    save_private_key(second, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert public_key_text(load_private_key(path)) == public_key_text(second)


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660, 0o644, 0o610])
def test_refuses_a_key_others_can_read(tmp_path: Path, key, mode: int) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "me.pem"
    save_private_key(key, path)
    os.chmod(path, mode)
    with pytest.raises(KeyProblem) as exc:
        load_private_key(path)
    assert str(exc.value) == f"private key {path} is readable by others; run: chmod 600 {path}"


def test_missing_key_file(tmp_path: Path) -> None:
    path = tmp_path / "gone.pem"
    with pytest.raises(KeyProblem) as exc:
        load_private_key(path)
    assert str(path) in str(exc.value) and "colearner init" in str(exc.value)


def test_refuses_a_key_of_another_kind(tmp_path: Path) -> None:
    path = tmp_path / "ec.pem"
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.write_bytes(pem)
    path.chmod(0o600)
    with pytest.raises(KeyProblem) as exc:
        load_private_key(path)
    assert "does not hold an Ed25519 private key" in str(exc.value)


# ---------------------------------------------------------------- public keys


def test_public_key_text_round_trip(key) -> None:  # type: ignore[no-untyped-def]
    text = public_key_text(key)
    assert text.startswith("ed25519:") and len(text) == len("ed25519:") + 44
    assert public_key_text(key.public_key()) == text
    assert public_key_text(parse_public_key(text)) == text
    assert public_key_text(parse_public_key(f"  {text}\n")) == text
    assert public_key_text(parse_public_key(text[len("ed25519:") :])) == text  # the prefix may be left off


@pytest.mark.parametrize(
    "text",
    [
        "",
        "ed25519:",
        "ed25519:not-base64!!",
        "ed25519:" + base64.b64encode(b"\1" * 31).decode(),
        "ed25519:" + base64.b64encode(b"\1" * 33).decode(),
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI",
    ],
)
def test_parse_public_key_errors(text: str) -> None:
    with pytest.raises(KeyProblem) as exc:
        parse_public_key(text)
    message = str(exc.value)
    assert repr(text) in message
    assert "is not a colearner public key" in message and "'ed25519:'" in message and "colearner init" in message
