"""Payloads sealed to their readers (wire v2).

A payload's plaintext is encrypted once, with a fresh 32-byte key, by
XChaCha20-Poly1305 (libsodium's IETF AEAD); the event's header is its
associated data, so a ciphertext moved under another header does not open.
That key is wrapped for each reader with NaCl ``crypto_box`` (X25519 +
XSalsa20-Poly1305). The X25519 keys are the Ed25519 identity keys converted
(as age does for ssh-ed25519 recipients), so no second key pair is exchanged,
and the shared key of each peer pair is computed once (``crypto_box_beforenm``)
and cached: a receiver pays one scalar multiplication per peer, not per event.

The sealed form on the wire::

    {"nonce": b64(24 bytes), "sealed": b64(ciphertext + tag),
     "keys": {reader identity: b64(wrapped key, 48 bytes)}}

One nonce serves the AEAD and every wrap: the data key is fresh for each
event, and each wrap is under a different shared key.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from functools import lru_cache

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from nacl.bindings import (
    crypto_aead_xchacha20poly1305_ietf_decrypt,
    crypto_aead_xchacha20poly1305_ietf_encrypt,
    crypto_box_afternm,
    crypto_box_beforenm,
    crypto_box_open_afternm,
    crypto_sign_ed25519_pk_to_curve25519,
    crypto_sign_ed25519_sk_to_curve25519,
    randombytes,
)
from nacl.exceptions import CryptoError

from .signing import libsodium_secret

NONCE_BYTES = 24
KEY_BYTES = 32
WRAPPED_BYTES = KEY_BYTES + 16
MAX_READERS = 16  # a student, the session's coach and the sender, with room for co-coaches


class CannotOpen(Exception):
    """The sealed payload does not open for this reader; the message says why."""


@lru_cache(maxsize=1024)
def shared_key(own: Ed25519PrivateKey, peer_public: bytes) -> bytes:
    """The ``crypto_box`` key between ``own`` and a peer's raw Ed25519 public key (cached)."""
    try:
        peer_x = crypto_sign_ed25519_pk_to_curve25519(peer_public)
    except Exception as exc:  # noqa: BLE001 - libsodium refuses points that are not on the curve
        raise CannotOpen(f"a public key that is not an Ed25519 point ({exc.__class__.__name__})") from None
    own_x = crypto_sign_ed25519_sk_to_curve25519(libsodium_secret(own))
    return bytes(crypto_box_beforenm(peer_x, own_x))


def seal(plaintext: bytes, header: bytes, readers: Mapping[str, bytes]) -> dict[str, object]:
    """The sealed form of ``plaintext`` for ``readers`` (identity → shared key), bound to ``header``."""
    nonce = randombytes(NONCE_BYTES)
    data_key = randombytes(KEY_BYTES)
    sealed = crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, header, nonce, data_key)
    keys = {name: _b64(crypto_box_afternm(data_key, nonce, key)) for name, key in sorted(readers.items())}
    return {"nonce": _b64(nonce), "sealed": _b64(sealed), "keys": keys}


def open_sealed(sealed: Mapping[str, object], header: bytes, reader: str, key: bytes) -> bytes:
    """The plaintext, for ``reader`` holding ``key`` (shared with the sender); ``CannotOpen`` says why not."""
    keys = sealed.get("keys")
    if not isinstance(keys, Mapping) or reader not in keys:
        names = ", ".join(sorted(str(k) for k in keys)[:MAX_READERS]) if isinstance(keys, Mapping) else "nobody"
        raise CannotOpen(f"not addressed to {reader!r} (sealed for: {names or 'nobody'})")
    nonce = _unb64(sealed.get("nonce"), "nonce")
    wrapped = _unb64(keys[reader], "wrapped key")
    body = _unb64(sealed.get("sealed"), "ciphertext")
    if len(nonce) != NONCE_BYTES or len(wrapped) != WRAPPED_BYTES:
        raise CannotOpen("a nonce or wrapped key of the wrong length")
    try:
        data_key = crypto_box_open_afternm(wrapped, nonce, key)
    except CryptoError:
        raise CannotOpen(f"the key wrapped for {reader!r} does not open with the sender's key") from None
    try:
        return bytes(crypto_aead_xchacha20poly1305_ietf_decrypt(body, header, nonce, data_key))
    except CryptoError:
        raise CannotOpen("the payload does not open under this header (altered, or moved from another event)") from None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(value: object, what: str) -> bytes:
    if not isinstance(value, str):
        raise CannotOpen(f"the {what} is not base64 text")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise CannotOpen(f"the {what} is not base64") from None
