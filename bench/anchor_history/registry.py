"""Released versions of real projects, fetched from the package registries with their ordinary
clients and cached under ``.cache/anchor_history/`` (git-ignored), so later runs work offline.

* npm: ``npm pack NAME@VERSION`` (the registry is whatever ``npm`` is configured with); the tarball's
  files sit under ``package/``.
* PyPI: ``pip download`` of a wheel (pure-Python wheels carry the source, and some ship C/C++
  headers too).

Each project becomes a git repository with one commit per version (tag ``v<version>``): the files
of that version selected by the project's languages, at the same paths in every version.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from anchor_history.history import History, git


@dataclass(frozen=True)
class Project:
    name: str  # package name in its registry
    registry: str  # "npm" or "pypi"
    language: str  # the group its figures are reported under
    versions: tuple[str, ...]  # oldest first
    place: Callable[[str], str | None]  # where an archive path goes in the history (None: left out)


def _npm_archive(cache: Path, name: str, version: str) -> Path:
    where = cache / "archives" / "npm"
    where.mkdir(parents=True, exist_ok=True)
    stem = name.lstrip("@").replace("/", "-")
    target = where / f"{stem}-{version}.tgz"
    if not target.exists():
        print(f"  fetching {name}@{version} (npm)", file=sys.stderr)
        out = subprocess.run(
            ["npm", "pack", f"{name}@{version}", "--json", "--pack-destination", str(where)],
            check=True,
            capture_output=True,
            text=True,
            cwd=where,
        ).stdout
        made = where / json.loads(out)[0]["filename"].replace("/", "-").lstrip("@")
        if made != target:
            made.rename(target)
    return target


def _pypi_archive(cache: Path, name: str, version: str) -> Path:
    where = cache / "archives" / "pypi"
    where.mkdir(parents=True, exist_ok=True)
    stem = name.lower().replace("-", "_")

    def found() -> list[Path]:
        return [p for p in where.glob("*.whl") if p.name.lower().startswith(f"{stem}-{version}-")]

    if not found():
        print(f"  fetching {name}=={version} (PyPI)", file=sys.stderr)
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
                str(where),
                f"{name}=={version}",
            ],
            check=True,
        )
    return found()[0]


def _members(archive: Path) -> Iterator[tuple[str, bytes]]:
    """(path inside the package, content) of every regular file of an archive."""
    if archive.suffix == ".whl":
        with zipfile.ZipFile(archive) as z:
            for name in z.namelist():
                if not name.endswith("/"):
                    yield name, z.read(name)
        return
    with tarfile.open(archive, "r:gz") as t:
        for m in t.getmembers():
            if m.isfile():
                name = m.name.split("/", 1)[1] if "/" in m.name else m.name  # npm's "package/" prefix
                f = t.extractfile(m)
                if f is not None:
                    yield name, f.read()


def build(cache: Path, project: Project) -> History:
    """The project's history as a git repository under ``cache``, built once."""
    repo = cache / "repos" / project.registry / project.name.lstrip("@").replace("/", "-")
    if not (repo / ".git").exists():
        repo.mkdir(parents=True, exist_ok=True)
        git(repo, "init", "--quiet")
    tags = set(git(repo, "tag", "--list").split())
    fetch = _npm_archive if project.registry == "npm" else _pypi_archive
    for version in project.versions:
        if f"v{version}" in tags:
            continue
        for item in repo.iterdir():
            if item.name != ".git":
                shutil.rmtree(item) if item.is_dir() else item.unlink()
        for name, data in _members(fetch(cache, project.name, version)):
            path = project.place(name)
            if path is None or ".." in path.split("/") or len(data) > 2_000_000:
                continue
            target = repo / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        git(repo, "add", "-A")
        git(repo, "commit", "--quiet", "--allow-empty", "-m", f"{project.name} {version}")
        git(repo, "tag", f"v{version}")
    commits = [(v, git(repo, "rev-parse", f"v{v}^{{commit}}").strip()) for v in project.versions]
    return History(project.name, repo, commits)
