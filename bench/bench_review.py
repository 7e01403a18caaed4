"""Benchmark: opening a review of the student's change, and the review queue.

    python bench/bench_review.py                   # 2,000-line file, 200 lines changed; 1,000 students waiting
    python bench/bench_review.py --runs 50

Review: a real coach's repository and a real student's clone in a temporary
folder; the student changes 200 of a 2,000-line file and takes a real
``share: diff`` snapshot. Timed: what "Show the student's change" does on the
coach's side — ``rebuild_changes`` for that file (the diff read, the base read
from git's objects, the patch applied, the result checked against the blob id)
and the two read-only documents written under ``.colearner/review/`` — and the
blob route (the coach fetched the student's branch). Goal: p99 <= 50 ms.

Queue: 1,000 students with an answer waiting among 10,000 exercises in other
states; timed ``queue_of`` with the text and the JSON of ``colearner review``.
Goal: p99 <= 200 ms. Prints figures only; it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # colearner_lsp when not installed, and the tests' exercise builder

from colearner_lsp.core.model.records import EvidenceRecord  # noqa: E402
from colearner_lsp.core.model.state import ExerciseState  # noqa: E402
from colearner_lsp.core.protocol.events import EvidenceSnapshot  # noqa: E402
from colearner_lsp.core.review.versions import rebuild_changes  # noqa: E402
from colearner_lsp.core.review.work import StudentWork, queue_of  # noqa: E402
from colearner_lsp.core.sharing.evidence import take_snapshot  # noqa: E402
from colearner_lsp.core.sharing.scope import ScopeRules  # noqa: E402
from colearner_lsp.server.review import write_versions  # noqa: E402
from colearner_lsp.views.review_text import render_queue  # noqa: E402
from tests.exercises import answered, exercise_state  # noqa: E402

REVIEW_GOAL_S = 0.050
QUEUE_GOAL_S = 0.200
FILE = "app/service.py"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


def timed(fn: Callable[[], object], runs: int) -> list[float]:
    fn()  # warm: imports, git's first start
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def report(name: str, times: list[float], goal: float) -> None:
    ordered = sorted(times)
    p50 = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    verdict = "meets" if p99 <= goal else "MISSES"
    print(f"{name:<58} p50 {p50 * 1000:7.1f} ms   p99 {p99 * 1000:7.1f} ms   ({verdict} the goal p99 <= {goal * 1000:.0f} ms)")


def repos(base: Path, lines: int, changed: int) -> tuple[Path, Path, str, dict]:
    coach, student = base / "coach", base / "student"
    coach.mkdir()
    git(coach, "init", "-q", "-b", "main")
    (coach / "app").mkdir()
    (coach / FILE).write_text("".join(f"    value_{n} = compute({n}, 'some text on the line')\n" for n in range(lines)))
    git(coach, "add", "-A")
    git(coach, "-c", "user.email=c@example.invalid", "-c", "user.name=c", "commit", "-q", "-m", "base")
    git(base, "clone", "-q", str(coach), str(student))
    step = max(1, lines // changed)
    text = "".join(
        f"    value_{n} = compute({n} + 1, 'changed by the student')\n"
        if n % step == 0
        else f"    value_{n} = compute({n}, 'some text on the line')\n"
        for n in range(lines)
    )
    (student / FILE).write_text(text)
    commit = git(coach, "rev-parse", "HEAD").strip()
    snapshot = take_snapshot(student, ScopeRules(allow=("**",), share="diff"), paths=[FILE], since_commit=commit)
    return coach, student, commit, snapshot


def exercise(n: int, state: str, student: str) -> ExerciseState:
    ex = exercise_state(
        f"{n:08x}-0000-4000-8000-000000000000",
        student,
        state,
        topic=f"topic {n % 12}",
        exercise="explain it",
        expected="a paragraph",
        lines=(1, 5),
        assigned_at="2026-01-05T09:00:00.000000Z",
    )
    if state == "responded":
        ts = f"2026-01-05T{10 + n % 12:02d}:{n % 60:02d}:{n * 7 % 60:02d}.000000Z"
        ex.responded_at = ts
        answered(ex, n, ts, "my answer", [f"app/f{k}.py" for k in range(3)])
    return ex


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--lines", type=int, default=2000)
    parser.add_argument("--changed", type=int, default=200)
    parser.add_argument("--students", type=int, default=1000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        coach, student, commit, snapshot = repos(Path(tmp), args.lines, args.changed)
        print(f"review: {args.lines}-line file, {args.changed} lines changed, diff {len(snapshot['diff']):,} characters; {args.runs} runs")
        ex = exercise(1, "responded", "sam")
        (change,) = rebuild_changes(coach, snapshot, [commit], [FILE])
        assert change.student == (student / FILE).read_text(), change.reason
        report(
            "rebuild from the shared diff (core)",
            timed(lambda: rebuild_changes(coach, snapshot, [commit], [FILE]), args.runs),
            REVIEW_GOAL_S,
        )

        evidence = EvidenceRecord(
            "0f1e2d3c-0000-4000-8000-000000000000", "2026-01-05T10:00:00.000000Z", EvidenceSnapshot(exercise_id=ex.exercise_id, **snapshot)
        )

        def open_review() -> None:
            (found,) = rebuild_changes(coach, snapshot, [commit], [FILE])
            write_versions(coach, StudentWork(ex, evidence, found))

        report("open a review: rebuild + write both documents", timed(open_review, args.runs), REVIEW_GOAL_S)
        git(student, "-c", "user.email=s@example.invalid", "-c", "user.name=s", "commit", "-q", "-am", "work")
        git(coach, "fetch", "-q", str(student), "main:student-main")
        blob_only = {**snapshot, "diff": None}
        (change,) = rebuild_changes(coach, blob_only, [commit], [FILE])
        assert change.source == "blob", change.reason
        report(
            "rebuild from the fetched blob (core)",
            timed(lambda: rebuild_changes(coach, blob_only, [commit], [FILE]), args.runs),
            REVIEW_GOAL_S,
        )

    others = ("assigned", "acknowledged", "revise", "passed")
    exercises = [exercise(n, "responded", f"student-{n:04d}") for n in range(args.students)]
    exercises += [exercise(args.students + n, others[n % 4], f"student-{n % args.students:04d}") for n in range(args.students * 10)]
    print(f"queue: {args.students:,} students waiting among {len(exercises):,} exercises; {args.runs} runs")
    report("the queue (queue_of)", timed(lambda: queue_of(exercises, "carol"), args.runs), QUEUE_GOAL_S)

    def the_command() -> None:
        waiting = queue_of(exercises, "carol")
        render_queue(waiting)
        json.dumps({"waiting": [w.as_json() for w in waiting]})

    report("colearner review: the queue, as text and as JSON", timed(the_command, args.runs), QUEUE_GOAL_S)
    return 0


if __name__ == "__main__":
    sys.exit(main())
