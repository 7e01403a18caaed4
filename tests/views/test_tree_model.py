"""The tree's view model (``editor-client/src/viewModel.ts``): each exercise once, counts that add up.

The coach's tree once said "0 passed · 1 responded · 1 acknowledged · 1
assigned · 0 to revise" for one exercise: an exercise counted in every state
it went through. The model groups students → sessions → exercises by state;
here it is compiled with the extension's TypeScript compiler and run by Node
(as ``test_display_parity.py`` does for ``display.ts``) over seeded random
exercise sets, and every count is checked against the exercises given.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

CLIENT = Path(__file__).resolve().parents[2] / "editor-client"
TSC = CLIENT / "node_modules" / ".bin" / "tsc"
STATES = ["assigned", "acknowledged", "responded", "revise", "passed"]

RUNNER = """
const m = require(process.argv[1]);
const cases = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const out = cases.map(({ role, sessions, exercises }) => {
    const tree = m.groupTree(role, sessions, exercises);
    return {
        tree,
        texts: tree.map((s) => m.countsText(role, s.counts)),
        waiting: exercises.filter((e) => m.waitsForYou(role, e)).length,
    };
});
const extras = {
    one: m.countsText('coach', m.groupTree('coach', [], [{ exercise_id: 'e1', short_id: 'e1', session_id: 's1', topic: 't', state: 'responded', student: 'sam', turn: 'coach', next: 'review' }])[0].counts),
    waiting: [m.waitingText('student', 2), m.waitingText('coach', 3), m.waitingText('coach', 0) ?? null],
    relative: [m.relativeTime('2026-01-01T00:00:00Z', Date.parse('2026-01-01T00:05:00Z')), m.relativeTime('2026-01-01T00:00:00Z', Date.parse('2026-01-02T00:00:00Z')), m.relativeTime('not a time')],
};
process.stdout.write(JSON.stringify({ out, extras }));
"""


@pytest.fixture(scope="module")
def model_js(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("node") is None or not TSC.exists():
        pytest.fail("node and the extension's node_modules are needed: run ./dev setup")
    out = tmp_path_factory.mktemp("view_model_js")
    subprocess.run(
        [str(TSC), "--outDir", str(out), "--module", "commonjs", "--target", "ES2022", "--strict", str(CLIENT / "src" / "viewModel.ts")],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return out / "viewModel.js"


def _case(rng: random.Random) -> dict[str, Any]:
    role = rng.choice(["coach", "student"])
    students = [f"s{i}" for i in range(rng.randint(1, 4))]
    sessions = [
        {"session_id": f"{st}-sess{j}", "student": st, "stage": rng.choice(["plan", "practice", "review"])}
        for st in students
        for j in range(rng.randint(0, 2))
    ]
    exercises = []
    for i in range(rng.randint(0, 30)):
        state = rng.choice(STATES + ["weird"])
        session = (
            rng.choice(sessions) if sessions and rng.random() < 0.9 else {"session_id": f"orphan{i % 3}", "student": rng.choice(students)}
        )
        turn = None if state == "passed" else rng.choice(["student", "coach", None])
        exercises.append(
            {
                "exercise_id": f"e{i}",
                "short_id": f"e{i}",
                "session_id": session["session_id"],
                "topic": f"t{i}",
                "state": state,
                "student": session["student"],
                "turn": turn,
                "next": None,
            }
        )
    exercises += [dict(e) for e in rng.sample(exercises, k=min(3, len(exercises)))]  # the same exercise given twice
    return {"role": role, "sessions": sessions, "exercises": exercises}


def test_counts_add_up_and_each_exercise_is_shown_once(model_js: Path) -> None:
    rng = random.Random(18)
    cases = [_case(rng) for _ in range(300)]
    done = subprocess.run(
        ["node", "-e", RUNNER, str(model_js)], input=json.dumps(cases), capture_output=True, text=True, check=True, timeout=60
    )
    result = json.loads(done.stdout)
    for case, got in zip(cases, result["out"]):
        unique = {e["exercise_id"]: e for e in reversed(case["exercises"])}
        shown = [e["exercise_id"] for s in got["tree"] for sess in s["sessions"] for g in sess["groups"] for e in g["exercises"]]
        assert sorted(shown) == sorted(unique), "each exercise exactly once"
        assert sum(s["total"] for s in got["tree"]) == len(unique)
        for student in got["tree"]:
            assert sum(student["counts"].values()) == student["total"] == sum(sess["total"] for sess in student["sessions"])
            for sess in student["sessions"]:
                assert sum(sess["counts"].values()) == sess["total"] == sum(len(g["exercises"]) for g in sess["groups"])
                for g in sess["groups"]:
                    assert all(e["state"] == g["state"] for e in g["exercises"]) and sess["counts"][g["state"]] == len(g["exercises"])
                order = [g["state"] for g in sess["groups"]]
                known = [s for s in order if s in STATES]
                assert known == sorted(known, key=STATES.index) and len(set(order)) == len(order)
        known_sessions = {s["session_id"] for s in case["sessions"]}
        listed = {sess["session_id"] for s in got["tree"] for sess in s["sessions"]}
        assert known_sessions <= listed  # a session with no exercise yet is still listed
        mine = "coach" if case["role"] == "coach" else "student"
        assert got["waiting"] == sum(1 for e in case["exercises"] if e["turn"] == mine)


def test_texts_a_person_reads(model_js: Path) -> None:
    done = subprocess.run(["node", "-e", RUNNER, str(model_js)], input="[]", capture_output=True, text=True, check=True, timeout=60)
    extras = json.loads(done.stdout)["extras"]
    assert extras["one"] == "1 to review"  # one exercise, one state
    assert extras["waiting"] == ["2 to answer", "3 to review", None]
    assert extras["relative"] == ["5 min ago", "yesterday", ""]
