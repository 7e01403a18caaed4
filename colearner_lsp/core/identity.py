"""Creating an instance and pinning peers' keys (``colearner init`` / ``trust``)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from .config import (
    CONFIG_DIR,
    AgentConfig,
    Peer,
    config_path,
    default_key_dir,
    load_config,
    save_config,
    validate_config,
)
from .errors import ConfigError, InvalidArgument
from .events import IDENTITY_PATTERN
from .signing import generate_key, load_private_key, parse_public_key, public_key_text, save_private_key


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
    (root / CONFIG_DIR / "responses").mkdir(exist_ok=True)
    return config, public_key_text(key)


def trust_peer(root: Path, name: str, public_key: str, role: str | None = None) -> Peer:
    """Pin a peer's key. A coach's peers are its roster of students; a student's are its coaches."""
    import re

    config = load_config(root)
    if not re.match(IDENTITY_PATTERN, name):
        raise InvalidArgument(f"{name!r} is not a valid identity name")
    if name == config.identity:
        raise InvalidArgument(f"{name!r} is this instance's own name; trust the other side's name and key")
    parse_public_key(public_key)  # raises a clear KeyProblem
    peer_role = role or ("student" if config.role == "coach" else "coach")
    if peer_role == config.role:
        raise InvalidArgument(f"a {config.role} trusts {('students' if config.role == 'coach' else 'coaches')}, not another {config.role}")
    peer = Peer(role=peer_role, public_key=public_key.strip())  # type: ignore[arg-type]
    config.peers[name] = peer
    save_config(root, config)
    return peer


def untrust_peer(root: Path, name: str) -> None:
    """Remove a peer (a coach takes a student off the roster); its events stay in the ledger."""
    config = load_config(root)
    if name not in config.peers:
        raise InvalidArgument(f"{name!r} is not trusted here")
    del config.peers[name]
    save_config(root, config)
