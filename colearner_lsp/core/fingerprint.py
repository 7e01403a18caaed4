"""Short fingerprints of public keys, for people comparing keys by eye.

Shown the way ssh shows host keys: ``SHA256:`` and the unpadded base64 of the
SHA-256 of the raw 32-byte Ed25519 public key. Two spellings of one key (with
or without the ``ed25519:`` prefix, stray whitespace) have one fingerprint.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.hazmat.primitives import serialization

from .protocol.signing import parse_public_key


def raw_public_key(text: str) -> bytes:
    """The 32 raw bytes of a pasted public key; KeyProblem when it is not one."""
    return parse_public_key(text).public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def fingerprint(text: str) -> str:
    """``SHA256:…`` of a public key as ``colearner init`` prints it."""
    digest = hashlib.sha256(raw_public_key(text)).digest()
    return "SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")
