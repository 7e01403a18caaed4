"""Setting an instance up: ``init`` (its identity and key pair), ``trust`` and
``untrust`` (the peers whose keys it pins)."""

from __future__ import annotations

import argparse
from pathlib import Path

from .exchange import instance_root, print_id


def init(args: argparse.Namespace) -> int:
    from ...core.identity import init_instance

    config, public_key = init_instance(Path.cwd(), args.role, args.identity, args.bootstrap, force=args.force)
    print(f"{config.role} {config.identity!r} ready in .colearner/agent.yaml; private key at {config.key_file}")
    print("give this public key to your peer, who runs: colearner trust " + f"{config.identity} <key>")
    print_id(public_key)
    return 0


def trust(args: argparse.Namespace) -> int:
    from ...core.identity import trust_peer

    done = trust_peer(instance_root(), args.name, args.public_key, replace=args.replace)
    who = f"{done.peer.role} {args.name!r}"
    if done.outcome == "unchanged":
        print(f"already trusted: {who} ({done.fingerprint})")
    elif done.outcome == "replaced":
        print(f"replaced the key of {who}: {done.old_fingerprint} -> {done.fingerprint}")
    else:
        print(f"trusted {who} ({done.fingerprint})")
    return 0


def untrust(args: argparse.Namespace) -> int:
    from ...core.identity import untrust_peer

    peer = untrust_peer(instance_root(), args.name)
    print(f"no longer trusted: {peer.role} {args.name!r}; what they send from now on is refused, what was accepted stays")
    return 0
