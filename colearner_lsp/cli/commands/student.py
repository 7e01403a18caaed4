"""The student's commands: read the inbox, acknowledge and answer exercises, send
evidence (or see first what would be shared) and progress."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...core.errors import InvalidArgument
from ...core.protocol.vocabulary import CONFIDENCE_RANGE
from ..inbox_text import render_inbox
from .exchange import exchange, open_instance, print_id, repo_path, say_outbox

if TYPE_CHECKING:  # imported where used: the parser's commands start without pydantic
    from ...core.protocol.events import EnvelopeBase
    from ...core.sharing.evidence import EvidencePreview


def inbox(args: argparse.Namespace) -> int:
    if args.offline:
        from ..snapshot_inbox import inbox_from_snapshot

        snapshot = inbox_from_snapshot(Path.cwd())
        if snapshot is not None:  # the ledger's state as learning.json holds it: no fold needed
            print(json.dumps(snapshot, indent=2) if args.json else render_inbox(snapshot))
            say_outbox(snapshot["outbox"])
            return 0
    from ...core import actions

    inst = open_instance()
    exchange(inst, args)
    data = actions.inbox(inst)
    print(json.dumps(data, indent=2) if args.json else render_inbox(data))
    return 0


def ack(args: argparse.Namespace) -> int:
    from ...core import actions

    inst = open_instance()
    event_id = exchange(inst, args, lambda: actions.acknowledge(inst, args.exercise))
    print("acknowledged")
    print_id(str(event_id))
    return 0


def _print_preview(preview: EvidencePreview, include_ignored: bool) -> None:
    """What is shared and withheld: the same lines for the dry run and for what was sent."""
    from ...core.sharing.evidence import GIT_IGNORED

    for line in preview.lines():
        print(line)
    if not include_ignored and any(item.reason == GIT_IGNORED for item in preview.withheld):
        print("  (git-ignored files go only with --include-ignored: their hashes would be shared)")


def respond(args: argparse.Namespace) -> int:
    from ...core import actions

    inst = open_instance()
    evidence = args.evidence
    if evidence is not None:
        evidence = [] if evidence == ["."] else [repo_path(inst, p) for p in evidence]
    shown: list[Any] = []

    def act() -> str | None:
        if args.dry_run:
            if evidence is not None:
                shown.append(
                    actions.preview_evidence(inst, args.exercise, evidence, include_ignored=args.include_ignored, for_response=True)
                )
            else:  # the same refusals as the real command for a wrong role or exercise
                actions.require_role(inst, "student", "respond")
                actions.find_exercise(inst, args.exercise)
            return None
        return actions.respond(inst, args.exercise, args.text, evidence, include_ignored=args.include_ignored, on_preview=shown.append)

    event_id = exchange(inst, args, act)
    if evidence is None:
        print("no evidence attached (add --evidence PATH, or --evidence . for every change)")
    for preview in shown:
        _print_preview(preview, args.include_ignored)
    if args.dry_run:
        print("dry run: nothing sent")
        return 0
    print("response sent")
    print_id(str(event_id))
    return 0


def evidence(args: argparse.Namespace) -> int:
    from ...core import actions
    from ...core.protocol.events import EvidenceSnapshot

    inst = open_instance()
    paths = [repo_path(inst, p) for p in args.path] if args.path else None
    shown: list[EvidencePreview] = []

    def act() -> EnvelopeBase | None:
        if args.dry_run:
            shown.append(actions.preview_evidence(inst, args.exercise, paths, args.request, include_ignored=args.include_ignored))
            return None
        return actions.attach_evidence(
            inst, args.exercise, paths, args.request, include_ignored=args.include_ignored, on_preview=shown.append
        )

    event = exchange(inst, args, act)
    for preview in shown:
        _print_preview(preview, args.include_ignored)
    if event is None:
        print("dry run: nothing sent")
        return 0
    assert isinstance(event.payload, EvidenceSnapshot)  # what attach_evidence sends
    print(f"evidence sent: {event.payload.summary}")
    print_id(event.event_id)
    return 0


def progress(args: argparse.Namespace) -> int:
    from ...core import actions

    inst = open_instance()
    confidence: dict[str, float] = {}
    low, high = CONFIDENCE_RANGE
    for item in args.confidence:
        topic, sep, value = item.rpartition("=")
        try:
            confidence[topic] = float(value)
        except ValueError:
            sep = ""
        # said before a round trip to Kafka, not after
        if not sep or not topic or not low <= confidence[topic] <= high:
            raise InvalidArgument(f"--confidence {item!r}: write TOPIC=VALUE with VALUE between {low:g} and {high:g}")
    event_id = exchange(inst, args, lambda: actions.submit_progress(inst, args.session, args.completed, confidence))
    print("progress sent")
    print_id(str(event_id))
    return 0
