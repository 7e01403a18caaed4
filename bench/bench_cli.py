"""Benchmark: how long the command line takes to start, against Python's own start-up.

    python bench/bench_cli.py              # 10 runs of each command
    python bench/bench_cli.py --runs 20    # steadier medians

Timed, each as a whole process, in turn (one run of each, then the next round,
so a machine that drifts slows all three alike), after one warm-up run each:

- ``python -c pass``: Python's own start-up, with this interpreter;
- ``colearner --help``;
- ``colearner --offline inbox``, in a temporary git repository with a student
  instance made by ``colearner init`` (keys in the temporary folder, a broker
  address nobody listens on: offline, the command never tries it).

``colearner`` is the installed script beside this interpreter, or
``python -m colearner_lsp`` when there is none. Each figure is the median wall
time and the median CPU time of the process (user + system, from the
operating system's accounting of the finished child), the fairer one on a
shared machine; the goals (``--help`` <= 3x, ``--offline inbox`` <= 5x Python's
start-up) are judged on CPU time, the wall ratio printed beside it. Prints
figures only; it asserts nothing beyond each command succeeding.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOALS = {"help": 3.0, "inbox": 5.0}


def colearner_command() -> list[str]:
    script = Path(sys.executable).with_name("colearner")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "colearner_lsp"]


def run_once(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """(wall s, cpu s) of one run of ``argv``; a failure stops the benchmark with its stderr."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def make_student(base: Path, colearner: list[str], env: dict[str, str]) -> Path:
    """A git repository with an initialised student instance, as a student's checkout has."""
    repo = base / "repo"
    repo.mkdir()
    git = ["git", "-c", "user.email=student@example.com", "-c", "user.name=Student"]
    subprocess.run([*git, "init", "-q", "-b", "main"], cwd=repo, check=True)
    (repo / "README.md").write_text("# inventory\n")
    subprocess.run([*git, "add", "README.md"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "initial"], cwd=repo, check=True)
    subprocess.run(
        [*colearner, "init", "--role", "student", "--id", "sam", "--bootstrap", "127.0.0.1:9"],
        cwd=repo,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return repo


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="counted runs of each command (default 10)")
    args = parser.parse_args(argv)

    colearner = colearner_command()
    base = Path(tempfile.mkdtemp(prefix="bench-cli-"))
    try:
        env = dict(os.environ, COLEARNER_KEY_DIR=str(base / "keys"))
        env.pop("COLEARNER_BOOTSTRAP", None)
        repo = make_student(base, colearner, env)
        commands = {
            "python": ("python -c pass", [sys.executable, "-c", "pass"]),
            "help": ("colearner --help", [*colearner, "--help"]),
            "inbox": ("colearner --offline inbox", [*colearner, "--offline", "inbox"]),
        }
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
        for round_ in range(args.runs + 1):  # round 0 is the warm-up
            for name, (_, command) in commands.items():
                figure = run_once(command, repo, env)
                if round_:
                    times[name].append(figure)
    finally:
        shutil.rmtree(base, ignore_errors=True)

    print(f"command line start-up: {args.runs} runs each after one warm-up; {' '.join(colearner)}")
    print(f"  {'':<28}{'wall median':>12}{'x python':>10}{'cpu median':>12}{'x python':>10}   goal (cpu)")
    wall0 = statistics.median(w for w, _ in times["python"])
    cpu0 = statistics.median(c for _, c in times["python"])
    for name, (label, _) in commands.items():
        wall = statistics.median(w for w, _ in times[name])
        cpu = statistics.median(c for _, c in times[name])
        goal = GOALS.get(name)
        verdict = ""
        if goal is not None:
            verdict = f"<= {goal:.0f}x: {'met' if cpu / cpu0 <= goal else 'NOT met'}"
        print(f"  {label:<28}{wall:>10.3f} s{wall / wall0:>9.1f}x{cpu:>10.3f} s{cpu / cpu0:>9.1f}x   {verdict}")


if __name__ == "__main__":
    main()
