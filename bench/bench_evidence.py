"""How long `take_snapshot` takes next to `git status --porcelain`.

Builds (once, cached under bench/.data/, which git ignores) a repository of
10,000 committed files in nested directories, changes 10 and then 100 of
them, and prints the median of warm runs of each, and their ratio. The goal
is a snapshot within 1.5x of `git status`: both should cost what git's stat
cache costs, not what hashing the tree would.

    python bench/bench_evidence.py [--files 10000] [--runs 7]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from colearner_lsp.core.sharing.evidence import take_snapshot  # noqa: E402
from colearner_lsp.core.sharing.scope import ScopeRules  # noqa: E402


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


def build_repo(repo: Path, count: int) -> None:
    """A committed repository of `count` small source files, 3 levels deep."""
    marker = repo / ".git" / "colearner-bench-ready"
    if marker.exists() and marker.read_text() == str(count):
        return
    if repo.exists():
        shutil.rmtree(repo)
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "bench@example.invalid")
    git(repo, "config", "user.name", "bench")
    git(repo, "config", "gc.auto", "0")  # no background gc racing the timings
    for i in range(count):
        path = repo / f"pkg{i % 10}" / f"mod{i // 10 % 10}" / f"sub{i // 100 % 10}" / f"file{i}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f'"""module {i}."""\n\n\ndef f{i}(x):\n    return x + {i}\n')
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "bench corpus")
    git(repo, "gc", "-q")  # packed, like a cloned repository
    marker.write_text(str(count))


def change_files(repo: Path, changed: int) -> None:
    """Reset to the commit, then modify `changed` files spread over the tree."""
    git(repo, "reset", "-q", "--hard", "HEAD")
    git(repo, "clean", "-fdq")
    files = sorted(p for p in repo.rglob("*.py") if ".git" not in p.parts)
    step = max(1, len(files) // changed)
    for path in files[::step][:changed]:
        with path.open("a") as handle:
            handle.write("# changed\n")


def median_ms(actions: dict, runs: int) -> dict[str, float]:
    """Median wall time of each action; runs alternate, so both see the same machine load."""
    timings: dict[str, list[float]] = {name: [] for name in actions}
    for action in actions.values():
        action()  # warm: caches, index refresh
    for _ in range(runs):
        for name, action in actions.items():
            start = time.perf_counter()
            action()
            timings[name].append((time.perf_counter() - start) * 1000)
    return {name: statistics.median(values) for name, values in timings.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=11)
    args = parser.parse_args()

    repo = HERE / ".data" / f"repo-{args.files}"
    start = time.perf_counter()
    build_repo(repo, args.files)
    print(f"repository: {args.files} files (ready in {time.perf_counter() - start:.1f}s)")
    rules = ScopeRules(allow=("**",), max_files=1000)
    for changed in (10, 100):
        change_files(repo, changed)
        snapshot = take_snapshot(repo, rules)
        assert len(snapshot["files"]) == changed, snapshot["summary"]
        medians = median_ms(
            {"ours": lambda: take_snapshot(repo, rules), "status": lambda: git(repo, "status", "--porcelain")},
            args.runs,
        )
        ours, status = medians["ours"], medians["status"]
        print(f"{changed:>4} changed: take_snapshot {ours:7.1f} ms   git status --porcelain {status:7.1f} ms   ratio {ours / status:.2f}x")
    git(repo, "reset", "-q", "--hard", "HEAD")


if __name__ == "__main__":
    main()
