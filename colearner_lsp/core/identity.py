"""Creating an instance and pinning peers' keys (``colearner init`` / ``trust``)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .config import (
    CONFIG_DIR,
    RESPONSES_DIR,
    AgentConfig,
    Peer,
    config_path,
    default_key_dir,
    load_config,
    save_config,
    validate_config,
)
from .errors import ConfigError, InvalidArgument, KeyProblem
from .fingerprint import fingerprint, raw_public_key
from .private_files import private_dir
from .protocol.events import IDENTITY_PATTERN
from .protocol.signing import generate_key, load_private_key, public_key_text, save_private_key


def init_instance(
    root: Path,
    role: str,
    identity: str,
    bootstrap: str | None = None,
    key_dir: Path | None = None,
    force: bool = False,
) -> tuple[AgentConfig, str]:
    """Write ``.colearner/agent.yaml`` and a new key pair; returns the config and public key.

    Re-running on an existing instance keeps its key (a new key would orphan every
    peer's trust) unless ``force`` is given.
    """
    import re

    root = Path(root).resolve()
    if role not in ("coach", "student"):
        raise InvalidArgument(f"--role must be coach or student, not {role!r}")
    if not re.match(IDENTITY_PATTERN, identity):
        raise InvalidArgument(f"--id {identity!r}: use letters, digits, '.', '_', '@' or '-' (at most 64)")
    existing = config_path(root)
    if existing.exists() and not force:
        config = load_config(root)
        if config.identity != identity or config.role != role:
            raise ConfigError(
                f"{existing} already belongs to {config.role} {config.identity!r}; "
                "pass --force to replace it (peers will have to trust the new key)"
            )
        return config, public_key_text(load_private_key(Path(config.key_file)))
    # One key per instance: the repository's path is part of the file name so two
    # checkouts on one machine (the demo, tests) never share a key.
    digest = hashlib.sha256(str(root).encode()).hexdigest()[:12]
    key_file = Path(key_dir or default_key_dir()) / f"{identity}-{digest}.pem"
    kafka = {"bootstrap_servers": [bootstrap]} if bootstrap else {}
    # Validated as a whole so a bad --bootstrap is a ConfigError, before any key is written.
    config = validate_config(
        {"identity": identity, "role": role, "kafka": kafka, "key_file": str(key_file)},
        "--bootstrap" if bootstrap else "agent.yaml",
    )
    key = generate_key()
    save_private_key(key, key_file)
    save_config(root, config)
    private_dir(root / CONFIG_DIR / RESPONSES_DIR)
    return config, public_key_text(key)


@dataclass(frozen=True)
class Trusted:
    """What ``trust_peer`` did: ``added``, ``unchanged`` (the same key again) or ``replaced``."""

    peer: Peer
    outcome: Literal["added", "unchanged", "replaced"]
    fingerprint: str
    old_fingerprint: str | None = None


def trust_peer(root: Path, name: str, public_key: str, role: str | None = None, replace: bool = False) -> Trusted:
    """Pin a peer's key. A coach's peers are its roster of students; a student's are its coaches.

    Like an ssh host key, a pinned key is never replaced silently: the same key
    again changes nothing, a different one is refused (naming both
    fingerprints) unless ``replace`` is given.
    """
    import re

    config = load_config(root)
    if not re.match(IDENTITY_PATTERN, name):
        raise InvalidArgument(f"{name!r} is not a valid identity name")
    if name == config.identity:
        raise InvalidArgument(f"{name!r} is this instance's own name; trust the other side's name and key")
    new_raw = raw_public_key(public_key)  # raises a clear KeyProblem
    new_fp = fingerprint(public_key)
    peer_role = role or ("student" if config.role == "coach" else "coach")
    if peer_role == config.role:
        raise InvalidArgument(f"a {config.role} trusts {('students' if config.role == 'coach' else 'coaches')}, not another {config.role}")
    pinned = config.peers.get(name)
    old_fp = None
    if pinned is not None:
        try:
            same = raw_public_key(pinned.public_key) == new_raw
            old_fp = fingerprint(pinned.public_key)
        except KeyProblem:  # a hand-edited agent.yaml: whatever is pinned is not a key
            same, old_fp = False, "(not a valid key)"
        if same and pinned.role == peer_role:
            return Trusted(pinned, "unchanged", new_fp)
        if not same and not replace:
            raise KeyProblem(
                f"{name!r} is already trusted with key {old_fp}, not {new_fp}; "
                f"if {name} really has a new key, run 'colearner trust {name} KEY --replace'"
            )
    peer = Peer(role=peer_role, public_key=public_key.strip())
    config.peers[name] = peer
    save_config(root, config)
    return Trusted(peer, "added" if pinned is None else "replaced", new_fp, old_fp)


def untrust_peer(root: Path, name: str) -> Peer:
    """Remove a peer (a coach takes a student off the roster); its events stay in the ledger.

    Returns the peer as it was pinned."""
    config = load_config(root)
    if name not in config.peers:
        raise InvalidArgument(f"{name!r} is not trusted here")
    peer = config.peers.pop(name)
    save_config(root, config)
    return peer
