"""The CLI's command handlers: parse what argparse gave, call one core action, print.

Commands that read or write exchange with Kafka first (publish the outbox, apply
what is waiting) so they act on the latest state, and publish what they wrote
before exiting; when Kafka is away the writes wait in the outbox and the
command says so.

Each handler imports the part of the core it needs, and the bus only when it
goes online: start-up (pydantic, the ledger, asyncio and aiokafka, git cost
most of a second together; bench/bench_cli.py).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ..core.errors import InvalidArgument
from .inbox_text import render_inbox

if TYPE_CHECKING:
    from ..core.instance import Instance

T = TypeVar("T")


def _open() -> Instance:
    from ..core.instance import Instance

    return Instance.open(Path.cwd())


def _tell_outbox(inst: Instance) -> None:
    _say_outbox(inst.ledger.outbox_length())


def _say_outbox(waiting: int) -> None:
    if waiting:
        print(
            f"colearner: {waiting} event(s) wait in the outbox; they go out with 'colearner sync' once Kafka is reachable", file=sys.stderr
        )


def _exchange(inst: Instance, args: argparse.Namespace, action: Callable[[], T] | None = None) -> T | None:
    """Sync with Kafka, run ``action``, publish what it wrote. Offline: run it anyway."""
    if args.offline:  # no bus: neither asyncio nor aiokafka is imported (start-up)
        try:
            result = action() if action else None
        finally:
            inst.flush_learning_json()  # as closing the bus does
        _tell_outbox(inst)
        return result

    import asyncio

    from ..bus.kafka_bus import BrokerUnreachable, KafkaBus

    async def go() -> T | None:
        bus = KafkaBus(inst)
        online = True
        try:
            await bus.sync(timeout=15)
        except BrokerUnreachable as exc:
            online = False
            print(f"colearner: {exc}", file=sys.stderr)
        try:
            result = action() if action else None
            if online and action:
                await bus.publish()
        finally:
            await bus.close()
        _tell_outbox(inst)
        return result

    return asyncio.run(go())


def _repo_path(inst: Instance, typed: str) -> str:
    """A path as the user typed it (relative to where they stand) → relative to the repository.

    What cannot be expressed inside the repository is passed on unchanged, so the
    one scope check refuses it with its own message.
    """
    import os

    candidate = Path(typed) if os.path.isabs(typed) else Path.cwd() / typed
    try:
        rel = os.path.relpath(os.path.normpath(candidate), inst.root)
    except ValueError:
        return typed
    outside = rel == os.pardir or rel.startswith(os.pardir + os.sep)
    return typed if outside else rel.replace(os.sep, "/")


def _print_id(value: str) -> None:
    print(value)


# ---------------------------------------------------------------- setup


def init(args: argparse.Namespace) -> int:
    from ..core.identity import init_instance

    config, public_key = init_instance(Path.cwd(), args.role, args.identity, args.bootstrap, force=args.force)
    print(f"{config.role} {config.identity!r} ready in .colearner/agent.yaml; private key at {config.key_file}")
    print("give this public key to your peer, who runs: colearner trust " + f"{config.identity} <key>")
    _print_id(public_key)
    return 0


def _instance_root() -> Path:
    from ..core.config import find_root

    root = find_root(Path.cwd())
    if root is None:
        from ..core.errors import ConfigError

        raise ConfigError("no .colearner/agent.yaml here or above; run 'colearner init' first")
    return root


def trust(args: argparse.Namespace) -> int:
    from ..core.identity import trust_peer

    done = trust_peer(_instance_root(), args.name, args.public_key, replace=args.replace)
    who = f"{done.peer.role} {args.name!r}"
    if done.outcome == "unchanged":
        print(f"already trusted: {who} ({done.fingerprint})")
    elif done.outcome == "replaced":
        print(f"replaced the key of {who}: {done.old_fingerprint} -> {done.fingerprint}")
    else:
        print(f"trusted {who} ({done.fingerprint})")
    return 0


def untrust(args: argparse.Namespace) -> int:
    from ..core.identity import untrust_peer

    peer = untrust_peer(_instance_root(), args.name)
    print(f"no longer trusted: {peer.role} {args.name!r}; what they send from now on is refused, what was accepted stays")
    return 0


def broker(args: argparse.Namespace) -> int:
    from ..bus.broker import run_broker_foreground

    return run_broker_foreground(args.port)


def serve(args: argparse.Namespace) -> int:
    from ..server.main import run_server

    return run_server(tcp=args.tcp)


# ---------------------------------------------------------------- coach


def session(args: argparse.Namespace) -> int:
    from ..core import actions

    inst = _open()
    session_id = _exchange(inst, args, lambda: actions.start_session(inst, args.student))
    print(f"session opened with {args.student}")
    _print_id(str(session_id))
    return 0


def _steps(raw: list[str]) -> list[tuple[str, str]]:
    steps = []
    for item in raw:
        if ":" not in item:
            raise InvalidArgument(f"--step {item!r}: write it as ID:TOPIC, e.g. --step step-1:'repo overview'")
        step_id, topic = item.split(":", 1)
        if not step_id.strip() or not topic.strip():
            raise InvalidArgument(f"--step {item!r}: both the id and the topic are needed")
        steps.append((step_id.strip(), topic.strip()))
    return steps


def plan(args: argparse.Namespace) -> int:
    from ..core import actions

    inst = _open()
    steps = _steps(args.step)
    event = _exchange(inst, args, lambda: actions.send_plan(inst, args.session, args.goal, steps))
    print(f"plan sent: {len(steps)} step(s)")
    _print_id(event.event_id)  # type: ignore[union-attr]
    return 0


def parse_lines(text: str) -> tuple[int, int]:
    """``A-B`` or ``A`` → (A, B), 1-based inclusive."""
    m = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", text)
    if not m:
        raise InvalidArgument(f"--lines {text!r}: write A-B with line numbers, e.g. --lines 10-24")
    a, b = int(m.group(1)), int(m.group(2) or m.group(1))
    if a < 1 or b < a:
        raise InvalidArgument(f"--lines {text!r}: need 1 <= A <= B")
    return a, b


def assign(args: argparse.Namespace) -> int:
    from ..core import actions

    inst = _open()
    start, end = parse_lines(args.lines)
    exercise_id = _exchange(
        inst,
        args,
        lambda: actions.assign_exercise(
            inst,
            args.session,
            topic=args.topic,
            exercise=args.exercise,
            expected=args.expected,
            path=_repo_path(inst, args.file),
            start_line=start,
            end_line=end,
            tests=args.test,
            step_id=args.step,
        ),
    )
    print(f"assigned '{args.topic}' at {args.file}:{start}-{end}")
    _print_id(str(exercise_id))
    return 0


def scope(args: argparse.Namespace) -> int:
    from ..core import actions

    inst = _open()
    version = _exchange(inst, args, lambda: actions.set_scope(inst, args.session, args.allow, args.deny, args.share, args.max_files))
    print(f"scope policy v{version} sent: allow {', '.join(args.allow)}; share {args.share}")
    return 0


def request_evidence(args: argparse.Namespace) -> int:
    from ..core import actions

    inst = _open()
    event_id = _exchange(inst, args, lambda: actions.request_evidence(inst, args.exercise, args.path, args.reason))
    print(f"evidence requested: {', '.join(args.path)}")
    _print_id(str(event_id))
    return 0


def parse_mistake(text: str) -> str | dict[str, Any]:
    """``path/to/file.py:12-14: what is wrong`` anchors a mistake; anything else is plain text."""
    m = re.fullmatch(r"([^\s:]+):(\d+)(?:-(\d+))?:\s*(.+)", text, re.S)
    if not m:
        return text
    start = int(m.group(2))
    return {"text": m.group(4), "path": m.group(1), "start_line": start, "end_line": int(m.group(3) or start)}


def feedback(args: argparse.Namespace) -> int:
    from ..core import actions

    inst = _open()
    if not -1.0 <= args.confidence_delta <= 1.0:
        raise InvalidArgument(f"--confidence-delta {args.confidence_delta}: must be between -1 and 1")
    mistakes = [parse_mistake(m) for m in args.mistake]
    event_id = _exchange(
        inst,
        args,
        lambda: actions.send_feedback(
            inst,
            args.exercise,
            grade=args.grade,
            next_step=args.next_step,
            confidence_delta=args.confidence_delta,
            mistakes=mistakes,
        ),
    )
    print(f"feedback sent: {args.grade}")
    _print_id(str(event_id))
    return 0


def review(args: argparse.Namespace) -> int:
    """The queue of answers waiting (no EXERCISE), or one exercise's answer, evidence and diff."""
    import os

    from ..core.review import work
    from ..views.review_text import render_queue, render_review, review_json

    inst = _open()
    work.review_queue(inst)  # a student is told at once that this is the coach's
    if args.evidence is not None and args.exercise is None:
        raise InvalidArgument("--evidence names a snapshot of one exercise: give the EXERCISE too")
    _exchange(inst, args)
    colour = sys.stdout.isatty() and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"
    if args.exercise is None:
        waiting = work.review_queue(inst)
        if args.json:
            print(json.dumps({"waiting": [w.as_json() for w in waiting]}, indent=2))
        else:
            sys.stdout.write(render_queue(waiting, colour))
        return 0
    done = work.review_exercise(inst, args.exercise, args.evidence)
    if args.json:
        print(json.dumps(review_json(done), indent=2))
    else:
        sys.stdout.write(render_review(done, colour))
    return 0


def advance(args: argparse.Namespace) -> int:
    from ..core import actions

    inst = _open()
    event_id = _exchange(inst, args, lambda: actions.advance_session(inst, args.session, args.to, args.reason))
    print(f"session moved to {args.to}")
    _print_id(str(event_id))
    return 0


# ---------------------------------------------------------------- student


def inbox(args: argparse.Namespace) -> int:
    if args.offline:
        from .snapshot_inbox import inbox_from_snapshot

        snapshot = inbox_from_snapshot(Path.cwd())
        if snapshot is not None:  # the ledger's state as learning.json holds it: no fold needed
            print(json.dumps(snapshot, indent=2) if args.json else render_inbox(snapshot))
            _say_outbox(snapshot["outbox"])
            return 0
    from ..core import actions

    inst = _open()
    _exchange(inst, args)
    data = actions.inbox(inst)
    print(json.dumps(data, indent=2) if args.json else render_inbox(data))
    return 0


def ack(args: argparse.Namespace) -> int:
    from ..core import actions

    inst = _open()
    event_id = _exchange(inst, args, lambda: actions.acknowledge(inst, args.exercise))
    print("acknowledged")
    _print_id(str(event_id))
    return 0


def _print_preview(preview: Any, include_ignored: bool) -> None:
    """What is shared and withheld: the same lines for the dry run and for what was sent."""
    from ..core.sharing.evidence import GIT_IGNORED

    for line in preview.lines():
        print(line)
    if not include_ignored and any(item.reason == GIT_IGNORED for item in preview.withheld):
        print("  (git-ignored files go only with --include-ignored: their hashes would be shared)")


def respond(args: argparse.Namespace) -> int:
    from ..core import actions

    inst = _open()
    evidence = args.evidence
    if evidence is not None:
        evidence = [] if evidence == ["."] else [_repo_path(inst, p) for p in evidence]
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

    event_id = _exchange(inst, args, act)
    if evidence is None:
        print("no evidence attached (add --evidence PATH, or --evidence . for every change)")
    for preview in shown:
        _print_preview(preview, args.include_ignored)
    if args.dry_run:
        print("dry run: nothing sent")
        return 0
    print("response sent")
    _print_id(str(event_id))
    return 0


def evidence(args: argparse.Namespace) -> int:
    from ..core import actions

    inst = _open()
    paths = [_repo_path(inst, p) for p in args.path] if args.path else None
    shown: list[Any] = []

    def act() -> Any:
        if args.dry_run:
            shown.append(actions.preview_evidence(inst, args.exercise, paths, args.request, include_ignored=args.include_ignored))
            return None
        return actions.attach_evidence(
            inst, args.exercise, paths, args.request, include_ignored=args.include_ignored, on_preview=shown.append
        )

    event = _exchange(inst, args, act)
    for preview in shown:
        _print_preview(preview, args.include_ignored)
    if args.dry_run:
        print("dry run: nothing sent")
        return 0
    print(f"evidence sent: {event.payload.summary}")  # type: ignore[union-attr]
    _print_id(event.event_id)  # type: ignore[union-attr]
    return 0


def progress(args: argparse.Namespace) -> int:
    from ..core import actions

    inst = _open()
    confidence: dict[str, float] = {}
    for item in args.confidence:
        topic, sep, value = item.rpartition("=")
        try:
            confidence[topic] = float(value)
        except ValueError:
            sep = ""
        if not sep or not topic:
            raise InvalidArgument(f"--confidence {item!r}: write TOPIC=VALUE with VALUE between 0 and 1")
    event_id = _exchange(inst, args, lambda: actions.submit_progress(inst, args.session, args.completed, confidence))
    print("progress sent")
    _print_id(str(event_id))
    return 0


# ---------------------------------------------------------------- both


def history(args: argparse.Namespace) -> int:
    from ..core.reports.history import session_history
    from ..views.history_text import render_history

    inst = _open()
    _exchange(inst, args)
    data = session_history(inst, args.session)
    print(json.dumps(data, indent=2) if args.json else render_history(data))
    return 0


def dashboard(args: argparse.Namespace) -> int:
    from ..core import actions
    from ..core.reports.metrics import dashboard_for
    from ..views.dashboard_html import render_dashboard_html
    from ..views.dashboard_text import render_dashboard

    inst = _open()
    actions.require_role(inst, "coach", "dashboard")
    _exchange(inst, args)
    data = dashboard_for(inst)
    if args.json:
        print(json.dumps(data, indent=2))
    elif args.html:
        Path(args.html).write_text(render_dashboard_html(data), encoding="utf-8")
        print(f"dashboard written to {args.html}")
    else:
        print(render_dashboard(data))
    return 0


def _sync(inst: Instance, timeout: float) -> Any:
    """One ``colearner sync`` of ``inst``: the bus's SyncReport, or BrokerUnreachable."""
    import asyncio

    from ..bus.kafka_bus import KafkaBus

    async def go() -> Any:
        bus = KafkaBus(inst)
        try:
            return await bus.sync(timeout=timeout)
        finally:
            await bus.close()

    return asyncio.run(go())


def sync(args: argparse.Namespace) -> int:
    inst = _open()
    report = _sync(inst, timeout=30)
    print(
        f"published {report.published}, received {report.received} "
        f"(applied {report.applied}, duplicates {report.duplicates}, quarantined {report.quarantined}"
        + (f", {report.held} waiting for the signed end of their batch" if report.held else "")
        + f"); outbox {inst.ledger.outbox_length()}"
    )
    if report.resets:
        print(f"the broker had lost {', '.join(report.resets)}; read again from the start and asked peers to resend")
    return 0


def doctor(args: argparse.Namespace) -> int:
    from .doctor import run_doctor

    return run_doctor(Path.cwd(), offline=args.offline, quarantine=args.quarantine)


REBUILD_LATER = "the new ledger is rebuilt from Kafka at the next 'colearner sync'; until then nothing is written"


def repair(args: argparse.Namespace) -> int:
    """Set a damaged ledger aside and rebuild it from Kafka and the peers."""
    from ..bus.kafka_bus import BrokerUnreachable
    from ..core.instance import Instance
    from ..core.store.repair import set_ledger_aside

    root = _instance_root()
    aside = set_ledger_aside(root, force=args.force)
    if aside is not None:
        print(f"set the damaged ledger aside as .colearner/{aside.name}")
    inst = Instance.open(root)
    inst.start_rebuild()
    if args.offline:
        print(REBUILD_LATER)
        return 0

    try:
        _sync(inst, timeout=60)
    except BrokerUnreachable as exc:
        print(f"colearner: {exc}", file=sys.stderr)
        print(REBUILD_LATER)
        return 1
    print(f"rebuilt the ledger: {inst.ledger.event_count()} event(s) read back from Kafka")
    if inst.recovering:
        print("Kafka did not answer in time to finish; run 'colearner sync' to finish the rebuild")
        return 1
    return 0


def schemas(args: argparse.Namespace) -> int:
    from ..core.schemas import check_schemas, write_schemas

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
    from ..demo import run_demo

    return run_demo(keep=args.keep)
