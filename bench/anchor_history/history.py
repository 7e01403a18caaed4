"""Real code history for the anchor benchmark: released versions of pure-Python packages, one git
commit per version, built once into a cache directory and reused on later runs.

Wheels are fetched with ``pip download`` (the only route to the package index a fresh machine is
assumed to have); only the packages' ``.py`` files are committed, at the same paths in every version.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

# Twelve released versions of each, spread over several years so the code drifts far from where
# the anchors were made (moved, renamed, reformatted, rewritten and deleted functions), oldest first.
PACKAGES: dict[str, list[str]] = {
    "click": ["7.0", "7.1", "7.1.2", "8.0.0", "8.0.1", "8.0.4", "8.1.0", "8.1.3", "8.1.7", "8.1.8", "8.2.0", "8.3.0"],
    "attrs": ["19.1.0", "19.3.0", "20.1.0", "20.3.0", "21.2.0", "21.4.0", "22.1.0", "22.2.0", "23.1.0", "23.2.0", "24.2.0", "25.1.0"],
    "requests": ["2.18.4", "2.19.1", "2.20.0", "2.21.0", "2.22.0", "2.24.0", "2.25.1", "2.26.0", "2.27.1", "2.28.2", "2.31.0", "2.32.3"],
    "jinja2": ["2.10", "2.10.3", "2.11.0", "2.11.3", "3.0.0", "3.0.1", "3.0.3", "3.1.0", "3.1.2", "3.1.3", "3.1.4", "3.1.6"],
    "werkzeug": ["0.15.0", "0.16.0", "1.0.0", "1.0.1", "2.0.0", "2.0.3", "2.1.0", "2.2.0", "2.3.0", "3.0.0", "3.0.6", "3.1.0"],
    "flask": ["1.0", "1.1.0", "1.1.2", "2.0.0", "2.0.3", "2.1.0", "2.2.0", "2.3.0", "2.3.3", "3.0.0", "3.1.0", "3.1.3"],
}

_GIT_ENV = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.invalid",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.invalid",
    "GIT_AUTHOR_DATE": "2000-01-01T00:00:00Z",
    "GIT_COMMITTER_DATE": "2000-01-01T00:00:00Z",
}


@dataclass(frozen=True)
class History:
    package: str
    repo: Path
    versions: list[tuple[str, str]]  # (version, commit), oldest first


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, **_GIT_ENV}
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env=env).stdout


def _wheel(cache: Path, package: str, version: str) -> Path:
    wheels = cache / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    stem = package.lower().replace("-", "_")
    found = [p for p in wheels.glob("*.whl") if p.name.lower().startswith(f"{stem}-{version}-")]
    if not found:
        print(f"  downloading {package}=={version}", file=sys.stderr)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--only-binary",
                ":all:",
                "--dest",
                str(wheels),
                f"{package}=={version}",
            ],
            check=True,
        )
        found = [p for p in wheels.glob("*.whl") if p.name.lower().startswith(f"{stem}-{version}-")]
    return found[0]


def build_history(cache: Path, package: str, versions: list[str]) -> History:
    """A git repository under ``cache`` with one commit (tagged ``v<version>``) per version."""
    repo = cache / "repos" / package
    if not (repo / ".git").exists():
        repo.mkdir(parents=True, exist_ok=True)
        git(repo, "init", "--quiet")
    tags = set(git(repo, "tag", "--list").split())
    for version in versions:
        if f"v{version}" in tags:
            continue
        # Each commit is a full snapshot of one version, so their order does not matter to the diffs.
        for item in repo.iterdir():
            if item.name != ".git":
                shutil.rmtree(item) if item.is_dir() else item.unlink()
        with zipfile.ZipFile(_wheel(cache, package, version)) as wheel:
            for name in wheel.namelist():
                top = name.split("/", 1)[0]
                if name.endswith(".py") and "/" in name and not top.endswith((".dist-info", ".data")):
                    target = repo / name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(wheel.read(name))
        git(repo, "add", "-A")
        git(repo, "commit", "--quiet", "--allow-empty", "-m", f"{package} {version}")
        git(repo, "tag", f"v{version}")
    commits = [(v, git(repo, "rev-parse", f"v{v}^{{commit}}").strip()) for v in versions]
    return History(package, repo, commits)


def histories(cache: Path) -> list[History]:
    return [build_history(cache, package, versions) for package, versions in PACKAGES.items()]


def python_files(repo: Path, commit: str) -> list[str]:
    return [n for n in git(repo, "ls-tree", "-r", "--name-only", commit).split("\n") if n.endswith(".py")]


def file_at(repo: Path, commit: str, path: str) -> str:
    return git(repo, "show", f"{commit}:{path}")
