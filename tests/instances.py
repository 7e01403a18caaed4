"""Real coach and student instances in real git repositories, for tests.

``make_pair`` builds what ``colearner demo`` builds: an origin repository owned
by the coach, a clone for the student, both ``colearner init``-ed against a
broker, keys exchanged. Tests drive them through the CLI (``run_cli``) or the
core actions, and move events with ``sync``.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from colearner_lsp.bus.kafka_bus import KafkaBus, SyncReport
from colearner_lsp.core.identity import init_instance
from colearner_lsp.core.instance import Instance
from tests.repos import clone, enrol, make_origin


@dataclass
class Pair:
    coach_root: Path
    student_root: Path
    coach_key: str
    student_key: str
    bootstrap: str
    coach_id: str = "carol"
    student_id: str = "sam"

    def coach(self) -> Instance:
        return Instance.open(self.coach_root)

    def student(self) -> Instance:
        return Instance.open(self.student_root)

    def env(self) -> dict[str, str]:
        return cli_env(self.bootstrap)


def cli_env(bootstrap: str | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("COLEARNER_BOOTSTRAP", None)
    if bootstrap:
        env["COLEARNER_BOOTSTRAP"] = bootstrap
    return env


def make_pair(base: Path, bootstrap: str, coach_id: str = "carol", student_id: str = "sam") -> Pair:
    """Origin repo for the coach, a clone for the student, both initialised and trusting each other."""
    origin = make_origin(base / "coach")
    student = clone(origin, base / "student")
    _, coach_key = init_instance(origin, "coach", coach_id, bootstrap)
    student_key = enrol(origin, coach_id, coach_key, student, student_id, bootstrap)
    return Pair(origin, student, coach_key, student_key, bootstrap, coach_id, student_id)


@contextmanager
def module_pair(tmp_path_factory: pytest.TempPathFactory, bootstrap: str) -> Iterator[Pair]:
    """``make_pair`` for a fixture a whole module shares: the root conftest's ``key_dir`` is per test,
    so the keys go to a folder of the pair's own (and no bootstrap override leaks in) while it is used."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COLEARNER_KEY_DIR", str(tmp_path_factory.mktemp("keys")))
        patch.delenv("COLEARNER_BOOTSTRAP", raising=False)
        yield make_pair(tmp_path_factory.mktemp("pair"), bootstrap)


def add_student(pair: Pair, base: Path, student_id: str) -> Path:
    """Another student cloned from the same origin, on the coach's roster."""
    root = clone(pair.coach_root, base / student_id)
    enrol(pair.coach_root, pair.coach_id, pair.coach_key, root, student_id, pair.bootstrap)
    return root


def assigned(pair: Pair, plan: tuple[list[str], list[tuple[str, str]]] | None = None) -> tuple[str, str]:
    """A session (with ``plan``'s goals and steps, if given) and one exercise on app/inventory.py:5-8,
    delivered to the student: (session_id, exercise_id)."""
    from colearner_lsp.core import actions

    coach, student = pair.coach(), pair.student()
    session_id = actions.start_session(coach, pair.student_id)
    if plan is not None:
        actions.send_plan(coach, session_id, *plan)
    exercise_id = actions.assign_exercise(
        coach,
        session_id,
        topic="reading",
        exercise="explain it",
        expected="a paragraph",
        path="app/inventory.py",
        start_line=5,
        end_line=8,
    )
    sync(coach, student)
    coach.close()
    student.close()
    return session_id, exercise_id


def assign_fixing(coach: Instance, session_id: str, exercise: str) -> str:
    """One more exercise in ``session_id``, topic "fixing", on app/inventory.py:12-16; its id."""
    from colearner_lsp.core import actions

    return actions.assign_exercise(
        coach, session_id, topic="fixing", exercise=exercise, expected="a patch", path="app/inventory.py", start_line=12, end_line=16
    )


def sync(*instances: Instance, timeout: float = 15.0) -> list[SyncReport]:
    """Run ``colearner sync`` in-process for each instance, in order."""

    async def one(inst: Instance) -> SyncReport:
        bus = KafkaBus(inst)
        try:
            return await bus.sync(timeout=timeout)
        finally:
            await bus.close()

    return [asyncio.run(one(i)) for i in instances]


def run_cli(cwd: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run the real ``colearner`` command (``python -m colearner_lsp``) in ``cwd``."""
    return subprocess.run(
        [sys.executable, "-m", "colearner_lsp", *args],
        cwd=cwd,
        env=env or cli_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def last_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stdout.strip().splitlines()
    assert lines, f"no output; stderr: {result.stderr}"
    return lines[-1]
