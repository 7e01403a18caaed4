"""Payloads sealed to their readers (wire v2).

A payload's plaintext is encrypted once, with a fresh 32-byte key, by
XChaCha20-Poly1305 (libsodium's IETF AEAD); the event's header is its
associated data, so a ciphertext moved under another header does not open.
That key is wrapped for each reader with NaCl ``crypto_box`` (X25519 +
XSalsa20-Poly1305). The X25519 keys are the Ed25519 identity keys converted
(as age does for ssh-ed25519 recipients), so no second key pair is exchanged,
and the shared key of each peer pair is computed once (``crypto_box_beforenm``)
and cached: a receiver pays one scalar multiplication per peer, not per event.

Opening and sealing call libsodium through PyNaCl's own cffi binding
(``nacl._sodium``) rather than its checked wrappers: the wrappers' argument
checks and padding cost ~25 µs an event on the receive path, several times the
cryptography itself. Every length is checked here before a call, and a call
that fails is a ``CannotOpen`` as before.

The sealed form on the wire::

    {"nonce": b64(24 bytes), "sealed": b64(ciphertext + tag),
     "keys": {reader identity: b64(wrapped key, 48 bytes)}}

One nonce serves the AEAD and every wrap: the data key is fresh for each
event, and each wrap is under a different shared key.
"""

from __future__ import annotations

import binascii
import os
from binascii import a2b_base64
from collections.abc import Mapping
from functools import lru_cache

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from nacl._sodium import ffi, lib
from nacl.bindings import crypto_box_beforenm, crypto_sign_ed25519_pk_to_curve25519, crypto_sign_ed25519_sk_to_curve25519

from .signing import libsodium_secret

NONCE_BYTES = 24
KEY_BYTES = 32
TAG_BYTES = 16  # Poly1305, of the AEAD and of crypto_box alike
WRAPPED_BYTES = KEY_BYTES + TAG_BYTES
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
    nonce = os.urandom(NONCE_BYTES)
    data_key = os.urandom(KEY_BYTES)
    sealed = ffi.new("unsigned char[]", len(plaintext) + TAG_BYTES)
    lib.crypto_aead_xchacha20poly1305_ietf_encrypt(
        sealed, ffi.NULL, plaintext, len(plaintext), header, len(header), ffi.NULL, nonce, data_key
    )
    keys = {name: _b64(_wrap(data_key, nonce, key)) for name, key in sorted(readers.items())}
    return {"nonce": _b64(nonce), "sealed": _b64(ffi.buffer(sealed)[:]), "keys": keys}


def _wrap(data_key: bytes, nonce: bytes, key: bytes) -> bytes:
    """``crypto_box`` of the data key under a shared key (tag, then ciphertext: NaCl's box without its zero padding)."""
    if len(key) != KEY_BYTES:
        raise ValueError("a shared key is 32 bytes")
    out = ffi.new("unsigned char[]", WRAPPED_BYTES)
    lib.crypto_box_easy_afternm(out, data_key, KEY_BYTES, nonce, key)
    wrapped: bytes = ffi.buffer(out)[:]
    return wrapped


def open_sealed(sealed: Mapping[str, object], header: bytes, reader: str, key: bytes) -> bytes:
    """The plaintext, for ``reader`` holding ``key`` (shared with the sender); ``CannotOpen`` says why not."""
    keys = sealed.get("keys")
    if not (type(keys) is dict or isinstance(keys, Mapping)) or reader not in keys:  # (dict first: an ABC check costs ~1 µs)
        names = ", ".join(sorted(str(k) for k in keys)[:MAX_READERS]) if isinstance(keys, Mapping) else "nobody"
        raise CannotOpen(f"not addressed to {reader!r} (sealed for: {names or 'nobody'})")
    nonce_text, wrapped_text, body_text = sealed.get("nonce"), keys[reader], sealed.get("sealed")
    try:  # the usual case in one go; whichever part fails is named below
        if type(nonce_text) is not str or type(wrapped_text) is not str or type(body_text) is not str:
            raise ValueError("not text")
        nonce = a2b_base64(nonce_text, strict_mode=True)
        wrapped = a2b_base64(wrapped_text, strict_mode=True)
        body = a2b_base64(body_text, strict_mode=True)
    except (binascii.Error, ValueError):
        nonce = _unb64(nonce_text, "nonce")
        wrapped = _unb64(wrapped_text, "wrapped key")
        body = _unb64(body_text, "ciphertext")
    if len(nonce) != NONCE_BYTES or len(wrapped) != WRAPPED_BYTES or len(key) != KEY_BYTES:
        raise CannotOpen("a nonce or wrapped key of the wrong length")
    if len(body) < TAG_BYTES:
        raise CannotOpen("the payload does not open under this header (altered, or moved from another event)")
    data_key = ffi.new("unsigned char[]", KEY_BYTES)
    if lib.crypto_box_open_easy_afternm(data_key, wrapped, WRAPPED_BYTES, nonce, key) != 0:
        raise CannotOpen(f"the key wrapped for {reader!r} does not open with the sender's key")
    plain = ffi.new("unsigned char[]", len(body) - TAG_BYTES)
    if (
        lib.crypto_aead_xchacha20poly1305_ietf_decrypt(plain, ffi.NULL, ffi.NULL, body, len(body), header, len(header), nonce, data_key)
        != 0
    ):
        raise CannotOpen("the payload does not open under this header (altered, or moved from another event)")
    opened: bytes = ffi.buffer(plain)[:]
    return opened


def _b64(data: bytes) -> str:
    return binascii.b2a_base64(data, newline=False).decode("ascii")


def _unb64(value: object, what: str) -> bytes:
    if not isinstance(value, str):
        raise CannotOpen(f"the {what} is not base64 text")
    try:
        return binascii.a2b_base64(value, strict_mode=True)  # what base64.b64decode(validate=True) calls
    except (binascii.Error, ValueError):
        raise CannotOpen(f"the {what} is not base64") from None
