"""``colearner demo``: the whole coach↔student loop on the embedded broker.

Two instances in two temporary git repositories (the student's cloned from the
coach's), separate ledgers and keys, keys exchanged, talking only through Kafka.
Every step calls the same action function the CLI and the language server call.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from .bus.broker import EmbeddedBroker
from .bus.kafka_bus import KafkaBus
from .core import actions
from .core.identity import init_instance, trust_peer
from .core.instance import Instance
from .core.review import work
from .views.review_text import render_review

SAMPLE = '''"""A tiny inventory service."""

import json


def load_items(path):
    with open(path) as fh:
        return json.load(fh)


def total_value(items):
    total = 0
    for item in items:
        total += item["price"] * item["qty"]
    return total


def low_stock(items, threshold=3):
    return [i["name"] for i in items if i["qty"] < threshold]
'''


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def _make_repos(base: Path) -> tuple[Path, Path]:
    origin = base / "coach"
    origin.mkdir()
    _git(origin, "init", "-q", "-b", "main")
    _git(origin, "config", "user.email", "coach@example.com")
    _git(origin, "config", "user.name", "Coach")
    (origin / "inventory.py").write_text(SAMPLE)
    (origin / ".env").write_text("API_TOKEN=do-not-share\n")
    (origin / ".gitignore").write_text(".env\n")
    _git(origin, "add", "inventory.py", ".gitignore")
    _git(origin, "commit", "-q", "-m", "inventory service")
    student = base / "student"
    _git(base, "clone", "-q", str(origin), str(student))
    _git(student, "config", "user.email", "student@example.com")
    _git(student, "config", "user.name", "Student")
    (student / ".env").write_text("API_TOKEN=student-secret\n")
    return origin, student


class Side:
    """One instance and its bus, for the demo's narration."""

    def __init__(self, name: str, inst: Instance) -> None:
        self.name, self.inst, self.bus = name, inst, KafkaBus(inst)

    async def sync(self) -> None:
        await self.bus.sync(timeout=10)

    def say(self, text: str) -> None:
        print(f"  [{self.name}] {text}")


async def _loop(coach: Side, student: Side, student_repo: Path) -> str:
    async def both() -> None:
        await coach.sync()
        await student.sync()
        await coach.sync()

    def step(title: str) -> None:
        print(f"\n== {title}")

    step("coach opens a session and sends a plan and a scope policy")
    sid = actions.start_session(coach.inst, "sam")
    actions.send_plan(coach.inst, sid, ["understand the inventory service"], [("step-1", "reading the code"), ("step-2", "fixing a bug")])
    actions.set_scope(coach.inst, sid, allow=["**/*.py"], share="diff")
    await both()
    s = student.inst.state.sessions[sid]
    student.say(f"session {sid[:8]} stage {s.stage}; plan: " + ", ".join(f"{x.id}({x.status})" for x in s.steps))
    assert s.scope is not None, "the scope was sent above"
    policy = s.scope.policy
    student.say(f"scope v{policy.version}: allow {policy.allow}, share {policy.share}")

    step("coach assigns an exercise anchored to inventory.py:12-16")
    ex_id = actions.assign_exercise(
        coach.inst,
        sid,
        topic="reading the code",
        step_id="step-2",
        exercise="total_value ignores discounts; add an optional discount (0..1) and apply it",
        expected="total_value(items, discount=0.1) is 10% lower",
        tests=["python -m pytest -q"],
        path="inventory.py",
        start_line=12,
        end_line=16,
    )
    await both()
    ex = student.inst.state.exercises[ex_id]
    anchor = ex.anchor
    assert anchor is not None, "assigned at inventory.py:12-16"
    student.say(f"sees exercise {ex_id[:8]} [{ex.state}] at {anchor.path}:{anchor.start_line}-{anchor.end_line}: {ex.exercise}")

    step("student acknowledges")
    actions.acknowledge(student.inst, ex_id)
    await both()
    coach.say(f"exercise is {coach.inst.state.exercises[ex_id].state}; session stage {coach.inst.state.sessions[sid].stage}")

    step("student changes the code and responds with evidence")
    path = student_repo / "inventory.py"
    path.write_text(
        path.read_text()
        .replace("def total_value(items):", "def total_value(items, discount=0.0):")
        .replace("    return total\n\n\ndef low", "    return total * (1 - discount)\n\n\ndef low")
    )
    actions.respond(student.inst, ex_id, "Added a discount parameter applied to the total.", evidence=["inventory.py", ".env"])
    await both()
    cex = coach.inst.state.exercises[ex_id]
    snap = cex.evidence[-1].snapshot
    coach.say(f"response: {cex.responses[-1].text!r}")
    coach.say(f"evidence: {snap.summary} (withheld {snap.withheld})")
    for f in snap.files:
        coach.say(f"  {f.path} blob {f.blob_sha[:12]} {f.status} {f.lines} lines")

    step("coach asks for more evidence")
    actions.request_evidence(coach.inst, ex_id, ["*.py"], "show me the test you ran too")
    await both()
    req = student.inst.state.exercises[ex_id].open_requests
    student.say(f"evidence request: {list(req[0].paths)} — {req[0].reason}")
    (student_repo / "test_inventory.py").write_text(
        "from inventory import total_value\n\n\ndef test_discount():\n    assert total_value([{'price': 10, 'qty': 1}], 0.5) == 5\n"
    )
    actions.attach_evidence(student.inst, ex_id)
    await both()
    coach.say(f"evidence: {coach.inst.state.exercises[ex_id].evidence[-1].snapshot.summary}")

    step("coach asks for a revision")
    actions.send_feedback(
        coach.inst,
        ex_id,
        grade="revise",
        next_step="validate the discount range",
        confidence_delta=-0.1,
        mistakes=[{"text": "a discount of 1.5 gives a negative total", "path": "inventory.py", "start_line": 12, "end_line": 16}],
    )
    await both()
    sex = student.inst.state.exercises[ex_id]
    student.say(f"feedback {sex.feedback[-1].grade}: {sex.feedback[-1].mistakes[0].text}; stage {student.inst.state.sessions[sid].stage}")

    step("student responds again")
    path.write_text(
        path.read_text().replace(
            "    total = 0\n", "    if not 0 <= discount <= 1:\n        raise ValueError('discount must be within 0..1')\n    total = 0\n"
        )
    )
    actions.respond(student.inst, ex_id, "Now rejecting discounts outside 0..1.", evidence=["inventory.py"])
    await both()

    step("coach reviews the student's change (what colearner review prints)")
    for waiting in work.review_queue(coach.inst):
        coach.say(f"waiting: {waiting.student} · {waiting.topic} · {', '.join(waiting.files)}")
    for line in render_review(work.review_exercise(coach.inst, ex_id)).splitlines():
        coach.say(line)

    step("coach passes the exercise")
    actions.send_feedback(coach.inst, ex_id, grade="pass", next_step="on to the next module", confidence_delta=0.3)
    await both()
    ss = student.inst.state.sessions[sid]
    student.say(f"exercise {student.inst.state.exercises[ex_id].state}; session stage {ss.stage}; confidence {ss.confidence}")
    coach.say(f"session stage {coach.inst.state.sessions[sid].stage}")
    return sid


def run_demo(keep: bool = False) -> int:
    started = time.monotonic()
    base = Path(tempfile.mkdtemp(prefix="colearner-demo-"))
    os.environ.setdefault("COLEARNER_KEY_DIR", str(base / "keys"))
    coach = student = None
    try:
        with EmbeddedBroker() as broker:
            print(f"embedded broker on {broker.bootstrap}; repositories in {base}")
            origin, student_repo = _make_repos(base)
            _, coach_key = init_instance(origin, "coach", "carol", broker.bootstrap)
            _, student_key = init_instance(student_repo, "student", "sam", broker.bootstrap)
            trust_peer(origin, "sam", student_key)
            trust_peer(student_repo, "carol", coach_key)
            print("coach 'carol' and student 'sam' created; public keys exchanged")
            coach = Side("coach carol", Instance.open(origin))
            student = Side("student sam", Instance.open(student_repo))
            sid = asyncio.run(_run(coach, student, student_repo))
            from .core.reports.history import session_history
            from .views.history_text import render_history

            print("\n== history, replayed from the coach's ledger")
            coach_history = session_history(coach.inst, sid)
            print(render_history(coach_history))
            same = [e["event_id"] for e in session_history(student.inst, sid)["events"]] == [e["event_id"] for e in coach_history["events"]]
            print(
                f"\nstudent's replay {'matches' if same else 'DIFFERS from'} the coach's; learning.json at {student_repo / '.colearner' / 'learning.json'}"
            )
            print(f"done in {time.monotonic() - started:.1f}s")
            return 0 if same else 1
    finally:
        for side in (coach, student):
            if side is not None:
                side.inst.close()
        if not keep:
            shutil.rmtree(base, ignore_errors=True)


async def _run(coach: Side, student: Side, student_repo: Path) -> str:
    try:
        return await _loop(coach, student, student_repo)
    finally:
        await coach.bus.close()
        await student.bus.close()
