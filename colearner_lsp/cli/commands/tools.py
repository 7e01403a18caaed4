"""What the package runs besides an instance's commands: the embedded ``broker``, the
language server (``serve``), the JSON ``schemas`` and the ``demo``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def broker(args: argparse.Namespace) -> int:
    from ...bus.broker import run_broker_foreground

    return run_broker_foreground(args.port)


def serve(args: argparse.Namespace) -> int:
    from ...server.main import run_server

    return run_server(tcp=args.tcp)


def schemas(args: argparse.Namespace) -> int:
    from ...core.schemas import check_schemas, write_schemas

    folder = Path(args.dir)
    if args.write:
        written = write_schemas(folder)
        print(f"wrote {len(written)} schema(s) to {folder}")
        return 0
    drift = check_schemas(folder)
    if drift:
        print(
            f"colearner: schemas in {folder} differ from the models: {', '.join(drift)}; run 'colearner schemas --write'", file=sys.stderr
        )
        return 1
    print(f"schemas in {folder} match the models")
    return 0


def demo(args: argparse.Namespace) -> int:
    from ...demo import run_demo

    return run_demo(keep=args.keep)
