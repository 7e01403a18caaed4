"""The coach's commands: open a session, send its plan, exercises and scope, ask for
evidence, review answers and grade them, move a session on by hand."""

from __future__ import annotations

import argparse
import json
import re
import sys
from typing import Any

from ...core.errors import InvalidArgument
from ...core.protocol.vocabulary import DELTA_RANGE
from .exchange import exchange, open_instance, print_id, repo_path


def session(args: argparse.Namespace) -> int:
    from ...core import actions

    inst = open_instance()
    session_id = exchange(inst, args, lambda: actions.start_session(inst, args.student))
    print(f"session opened with {args.student}")
    print_id(str(session_id))
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
    from ...core import actions

    inst = open_instance()
    steps = _steps(args.step)
    event = exchange(inst, args, lambda: actions.send_plan(inst, args.session, args.goal, steps))
    print(f"plan sent: {len(steps)} step(s)")
    print_id(event.event_id)
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
    from ...core import actions

    inst = open_instance()
    start, end = parse_lines(args.lines)
    exercise_id = exchange(
        inst,
        args,
        lambda: actions.assign_exercise(
            inst,
            args.session,
            topic=args.topic,
            exercise=args.exercise,
            expected=args.expected,
            path=repo_path(inst, args.file),
            start_line=start,
            end_line=end,
            tests=args.test,
            step_id=args.step,
        ),
    )
    print(f"assigned '{args.topic}' at {args.file}:{start}-{end}")
    print_id(str(exercise_id))
    return 0


def scope(args: argparse.Namespace) -> int:
    from ...core import actions

    inst = open_instance()
    version = exchange(inst, args, lambda: actions.set_scope(inst, args.session, args.allow, args.deny, args.share, args.max_files))
    print(f"scope policy v{version} sent: allow {', '.join(args.allow)}; share {args.share}")
    return 0


def request_evidence(args: argparse.Namespace) -> int:
    from ...core import actions

    inst = open_instance()
    event_id = exchange(inst, args, lambda: actions.request_evidence(inst, args.exercise, args.path, args.reason))
    print(f"evidence requested: {', '.join(args.path)}")
    print_id(str(event_id))
    return 0


def parse_mistake(text: str) -> str | dict[str, Any]:
    """``path/to/file.py:12-14: what is wrong`` anchors a mistake; anything else is plain text."""
    m = re.fullmatch(r"([^\s:]+):(\d+)(?:-(\d+))?:\s*(.+)", text, re.S)
    if not m:
        return text
    start = int(m.group(2))
    return {"text": m.group(4), "path": m.group(1), "start_line": start, "end_line": int(m.group(3) or start)}


def feedback(args: argparse.Namespace) -> int:
    from ...core import actions

    inst = open_instance()
    low, high = DELTA_RANGE
    if not low <= args.confidence_delta <= high:  # said before a round trip to Kafka, not after
        raise InvalidArgument(f"--confidence-delta {args.confidence_delta}: must be between {low:g} and {high:g}")
    mistakes = [parse_mistake(m) for m in args.mistake]
    event_id = exchange(
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
    print_id(str(event_id))
    return 0


def review(args: argparse.Namespace) -> int:
    """The queue of answers waiting (no EXERCISE), or one exercise's answer, evidence and diff."""
    import os

    from ...core.review import work
    from ...views.review_text import render_queue, render_review, review_json

    inst = open_instance()
    work.review_queue(inst)  # a student is told at once that this is the coach's
    if args.evidence is not None and args.exercise is None:
        raise InvalidArgument("--evidence names a snapshot of one exercise: give the EXERCISE too")
    exchange(inst, args)
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
    from ...core import actions

    inst = open_instance()
    event_id = exchange(inst, args, lambda: actions.advance_session(inst, args.session, args.to, args.reason))
    print(f"session moved to {args.to}")
    print_id(str(event_id))
    return 0
