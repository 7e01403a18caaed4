"""``sealing`` calls libsodium directly: what it seals PyNaCl's own functions open and the
other way round, and every malformed part is a ``CannotOpen`` with its reason, never a crash."""

from __future__ import annotations

import base64
import os

import pytest
from nacl.bindings import (
    crypto_aead_xchacha20poly1305_ietf_decrypt,
    crypto_aead_xchacha20poly1305_ietf_encrypt,
    crypto_box_afternm,
    crypto_box_open_afternm,
)

from colearner_lsp.core.protocol.sealing import CannotOpen, open_sealed, seal, shared_key
from colearner_lsp.core.protocol.signing import generate_key, raw_public_key

ALICE, BOB = generate_key(), generate_key()
AB = shared_key(ALICE, raw_public_key(BOB.public_key()))
BA = shared_key(BOB, raw_public_key(ALICE.public_key()))
HEADER = b'{"actor":"coach"}'


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_what_is_sealed_pynacls_wrappers_open() -> None:
    sealed = seal(b'{"x":1}', HEADER, {"bob": AB})
    nonce = base64.b64decode(sealed["nonce"])  # type: ignore[arg-type]
    data_key = crypto_box_open_afternm(base64.b64decode(sealed["keys"]["bob"]), nonce, BA)  # type: ignore[index]
    assert crypto_aead_xchacha20poly1305_ietf_decrypt(base64.b64decode(sealed["sealed"]), HEADER, nonce, data_key) == b'{"x":1}'  # type: ignore[arg-type]


def test_what_pynacls_wrappers_seal_opens() -> None:
    nonce, data_key = os.urandom(24), os.urandom(32)
    sealed = {
        "nonce": b64(nonce),
        "sealed": b64(crypto_aead_xchacha20poly1305_ietf_encrypt(b"[]", HEADER, nonce, data_key)),
        "keys": {"bob": b64(crypto_box_afternm(data_key, nonce, AB))},
    }
    assert open_sealed(sealed, HEADER, "bob", BA) == b"[]"


def test_an_empty_plaintext_seals_and_opens() -> None:
    assert open_sealed(seal(b"", HEADER, {"bob": AB}), HEADER, "bob", BA) == b""


GOOD = seal(b'{"x":1}', HEADER, {"bob": AB})


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"nonce": b64(os.urandom(23))}, "wrong length"),
        ({"nonce": b64(os.urandom(25))}, "wrong length"),
        ({"nonce": "!!!!"}, "nonce is not base64"),
        ({"nonce": 5}, "nonce is not base64 text"),
        ({"nonce": "é" * 32}, "nonce is not base64"),
        ({"keys": {"bob": b64(os.urandom(47))}}, "wrong length"),
        ({"keys": {"bob": b64(os.urandom(48))}}, "does not open with the sender's key"),
        ({"keys": {"bob": None}}, "wrapped key is not base64 text"),
        ({"keys": {"carol": GOOD["keys"]["bob"]}}, "not addressed to 'bob'"),  # type: ignore[index]
        ({"keys": []}, "not addressed to 'bob'"),
        ({"sealed": ""}, "does not open under this header"),
        ({"sealed": b64(os.urandom(15))}, "does not open under this header"),
        ({"sealed": b64(os.urandom(16))}, "does not open under this header"),
        ({"sealed": b64(os.urandom(400))}, "does not open under this header"),
        ({"sealed": "AA=A"}, "ciphertext is not base64"),
        ({"sealed": "AAAA\n"}, "ciphertext is not base64"),
    ],
)
def test_every_malformed_part_is_refused_with_its_reason(change: dict[str, object], reason: str) -> None:
    with pytest.raises(CannotOpen, match=reason):
        open_sealed({**GOOD, **change}, HEADER, "bob", BA)


def test_another_header_or_key_does_not_open() -> None:
    with pytest.raises(CannotOpen, match="does not open under this header"):
        open_sealed(GOOD, HEADER + b" ", "bob", BA)
    with pytest.raises(CannotOpen, match="does not open with the sender's key"):
        open_sealed(GOOD, HEADER, "bob", os.urandom(32))
    with pytest.raises(CannotOpen, match="wrong length"):
        open_sealed(GOOD, HEADER, "bob", b"short")
