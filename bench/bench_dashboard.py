"""Benchmark: dashboard computation for a big cohort, and replay of a long session.

    python bench/bench_dashboard.py                    # 1,000 students x 100 events; a 10,000-event session
    python bench/bench_dashboard.py --students 200     # smaller cohort

Events are generated as signed envelopes (``signing.sign_envelope``) and folded
through the real ``apply_event``; the long session goes through a real ledger in
a temporary folder (the coach's own events appended, the student's received and
judged like any message from the bus). Timed: ``compute_dashboard`` on the
folded state, and ``session_history`` on the ledger. Goals: dashboard <= 1 s,
replay <= 0.5 s. Prints figures only; it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # colearner_lsp when not installed

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402

from colearner_lsp.core.config import AgentConfig  # noqa: E402
from colearner_lsp.core.model.fold import apply_event  # noqa: E402
from colearner_lsp.core.model.state import State  # noqa: E402
from colearner_lsp.core.protocol.events import EVENT_ADAPTER  # noqa: E402
from colearner_lsp.core.protocol.signing import generate_key, public_key_text, sign_envelope  # noqa: E402
from colearner_lsp.core.reports.history import session_history  # noqa: E402
from colearner_lsp.core.reports.metrics import compute_dashboard  # noqa: E402
from colearner_lsp.views.dashboard_html import render_dashboard_html  # noqa: E402
from colearner_lsp.views.dashboard_text import render_dashboard  # noqa: E402

DASHBOARD_GOAL_S = 1.0
REPLAY_GOAL_S = 0.5
TOPICS = ("deps", "tests", "io", "logging", "config", "errors", "async", "types")
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


class SessionWriter:
    """Builds one session's signed envelopes in creation order, with a synthetic clock."""

    def __init__(self, coach: tuple[str, Ed25519PrivateKey], student: tuple[str, Ed25519PrivateKey], start: datetime) -> None:
        self.coach, self.student = coach, student
        self.session_id = str(uuid.uuid4())
        self.clock = start
        self.seq = {"coach": 0, "student": 0}
        self.events: list[tuple[str, dict[str, Any]]] = []  # (actor, signed envelope)

    def emit(self, actor: str, event_type: str, payload: dict[str, Any]) -> None:
        name, key = self.coach if actor == "coach" else self.student
        self.seq[actor] += 1
        self.clock += timedelta(minutes=random.randint(1, 90))
        envelope = {
            "ts": self.clock.isoformat(timespec="microseconds").replace("+00:00", "Z"),
            "actor": actor,
            "session_id": self.session_id,
            "event_type": event_type,
            "payload": payload,
            "event_id": str(uuid.uuid4()),
            "sender": name,
            "student": self.student[0],
            "seq": self.seq[actor],
        }
        self.events.append((actor, sign_envelope(envelope, key)))

    def move(self, actor: str, from_: str | None, to: str, reason: str) -> None:
        self.emit(actor, "session_lifecycle", {"from": from_, "to": to, "reason": reason})


def write_session(w: SessionWriter, budget: int) -> None:
    """A plausible session of about ``budget`` events: plan, then exercise cycles."""
    topics = random.sample(TOPICS, 4)
    w.move("coach", None, "init", "session opened")
    w.emit(
        "coach",
        "learning_plan",
        {"goals": ["onboard"], "plan": [{"id": f"s{i}", "topic": t, "status": "next"} for i, t in enumerate(topics)]},
    )
    w.move("coach", "init", "plan", "learning plan sent")
    stage = "plan"
    confidence = {t: 0.5 for t in topics}
    n = 0
    while len(w.events) < budget:
        n += 1
        topic = topics[n % len(topics)]
        exercise_id = str(uuid.uuid4())
        w.emit(
            "coach",
            "exercise_assigned",
            {
                "topic": topic,
                "exercise": f"exercise {n} on {topic}",
                "expected": "a note",
                "exercise_id": exercise_id,
                "anchor": {"path": "src/app.py", "start_line": n % 300 + 1, "end_line": n % 300 + 6},
            },
        )
        if random.random() < 0.1 or len(w.events) >= budget:
            continue  # never acknowledged
        w.emit("student", "exercise_acknowledged", {"exercise_id": exercise_id})
        if stage == "plan":
            w.move("student", "plan", "practice", "first exercise acknowledged")
            stage = "practice"
        for attempt in range(3):
            if len(w.events) >= budget:
                break
            if random.random() < 0.2:
                w.emit("coach", "evidence_request", {"exercise_id": exercise_id, "paths": ["src/**"], "reason": "show me"})
                if random.random() < 0.7:
                    w.emit(
                        "student",
                        "evidence_snapshot",
                        {
                            "exercise_id": exercise_id,
                            "commit": "a" * 40,
                            "branch": "main",
                            "dirty": False,
                            "files": [],
                            "summary": "",
                            "withheld": 0,
                        },
                    )
            w.emit("student", "exercise_response", {"exercise_id": exercise_id, "response": f"answer {attempt}"})
            grade = "pass" if attempt == 2 or random.random() < 0.6 else "revise"
            delta = round(random.uniform(0.0, 0.2) if grade == "pass" else -random.uniform(0.0, 0.2), 3)
            w.emit(
                "coach",
                "assessment_feedback",
                {
                    "grade": grade,
                    "mistakes": [] if grade == "pass" else ["see line 3"],
                    "next_step": "go on",
                    "confidence_delta": delta,
                    "exercise_id": exercise_id,
                },
            )
            confidence[topic] = min(1.0, max(0.0, confidence[topic] + delta))
            if grade == "pass":
                break
        if random.random() < 0.3:
            w.emit("student", "progress_update", {"completed": [], "confidence": {topic: round(confidence[topic], 3)}})


def timed(fn: Callable[[], Any], runs: int) -> tuple[list[float], Any]:
    times, result = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return times, result


def report(label: str, times: list[float], goal: float | None = None) -> None:
    verdict = "" if goal is None else f"  goal <= {goal:g} s: {'met' if min(times) <= goal else 'MISSED'}"
    print(f"  {label:<44} best {min(times):7.3f} s   median {statistics.median(times):7.3f} s{verdict}")


# ---------------------------------------------------------------- dashboard


def bench_dashboard(students: int, per_student: int, runs: int) -> None:
    print(f"dashboard: {students:,} students x {per_student} events")
    coach = ("coach", generate_key())
    peers: dict[str, Any] = {}
    t0 = time.perf_counter()
    envelopes: list[dict[str, Any]] = []
    for i in range(students):
        name = f"student-{i:04d}"
        key = generate_key()
        peers[name] = {"role": "student", "public_key": public_key_text(key)}
        if i % 50 == 49:
            continue  # on the roster, nothing yet
        w = SessionWriter(coach, (name, key), START + timedelta(minutes=7 * i))
        write_session(w, per_student)
        envelopes += [env for _, env in w.events]
    generated = time.perf_counter() - t0

    t0 = time.perf_counter()
    state = State()
    for env in envelopes:
        apply_event(state, EVENT_ADAPTER.validate_python(env))
    folded = time.perf_counter() - t0
    print(f"  generated and signed {len(envelopes):,} events in {generated:.1f} s; parsed and folded in {folded:.1f} s")

    config = AgentConfig.model_validate({"identity": "coach", "role": "coach", "key_file": "unused.pem", "peers": peers})
    quarantined = [
        {
            "id": i,
            "received_at": "2026-02-01T00:00:00Z",
            "topic": "colearner.progress.v1",
            "partition": 0,
            "offset": i,
            "sender": f"student-{i * 13:04d}",
            "student": f"student-{i * 13:04d}",
            "reason": "bad signature",
            "size": 300,
        }
        for i in range(50)
    ]
    latest = max(env["ts"] for env in envelopes)
    now = datetime.fromisoformat(latest.replace("Z", "+00:00")) + timedelta(hours=30)
    times, data = timed(lambda: compute_dashboard(state, config, quarantined, now), runs)
    report("compute_dashboard", times, DASHBOARD_GOAL_S)
    report("render_dashboard (text, 80 columns)", timed(lambda: render_dashboard(data), 3)[0])
    report("render_dashboard_html", timed(lambda: render_dashboard_html(data), 3)[0])
    report("json.dumps (--json)", timed(lambda: json.dumps(data), 3)[0])
    co = data["cohort"]
    print(
        f"  -> {co['students']} rows, {co['sessions']} sessions, {len(data['blockers']):,} blockers, "
        f"completion {co['completion_rate']:.0%}, per stage {co['per_stage']}, JSON {len(json.dumps(data)) / 1e6:.1f} MB"
    )


# ---------------------------------------------------------------- history


def bench_history(events: int, runs: int) -> None:
    from colearner_lsp.core.identity import init_instance, trust_peer
    from colearner_lsp.core.instance import Instance
    from colearner_lsp.core.protocol.signing import load_private_key
    from colearner_lsp.core.store.ledger import Incoming

    print(f"history: one session of {events:,} events")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["COLEARNER_KEY_DIR"] = str(Path(tmp) / "keys")
        coach_root, student_root = Path(tmp) / "coach", Path(tmp) / "student"
        coach_config, coach_pub = init_instance(coach_root, "coach", "coach")
        student_config, student_pub = init_instance(student_root, "student", "alice")
        trust_peer(coach_root, "alice", student_pub)
        coach_key = load_private_key(Path(coach_config.key_file))
        student_key = load_private_key(Path(student_config.key_file))

        t0 = time.perf_counter()
        w = SessionWriter(("coach", coach_key), ("alice", student_key), START)
        write_session(w, events)
        inst = Instance.open(coach_root)
        try:
            own = [env for actor, env in w.events if actor == "coach"]
            theirs = [env for actor, env in w.events if actor == "student"]
            inst.ledger.append_own("coach", "alice", [_fixed(inst, env) for env in own])
            topic = inst.config.topics.progress
            for start in range(0, len(theirs), 2000):
                chunk = theirs[start : start + 2000]
                inst.receive(
                    [Incoming(raw=json.dumps(env).encode(), topic=topic, partition=0, offset=start + i) for i, env in enumerate(chunk)]
                )
            inst.refresh()
            print(
                f"  built the ledger ({inst.ledger.event_count():,} events: {len(own):,} own, {len(theirs):,} received) "
                f"in {time.perf_counter() - t0:.1f} s"
            )
            times, data = timed(lambda: session_history(inst, w.session_id), runs)
            report("session_history", times, REPLAY_GOAL_S)
            from colearner_lsp.views.history_text import render_history

            report("render_history (text)", timed(lambda: render_history(data), 3)[0])
            print(f"  -> {len(data['events']):,} events, {len(data['lifecycle'])} transitions, stage {data['stage']}")
        finally:
            inst.close()


def _fixed(inst: Any, env: dict[str, Any]) -> Callable[[int], tuple[dict[str, Any], str]]:
    def build(seq: int) -> tuple[dict[str, Any], str]:
        assert seq == env["seq"], "the generated seq must match the ledger's counter"
        return env, inst.topic(env["event_type"])

    return build


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=1000)
    parser.add_argument("--events-per-student", type=int, default=100)
    parser.add_argument("--session-events", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    random.seed(args.seed)
    bench_dashboard(args.students, args.events_per_student, args.runs)
    bench_history(args.session_events, args.runs)


if __name__ == "__main__":
    main()
