"""Real git repositories and colearner instances in them, with no broker: what every kind of test starts from.

``make_origin`` and ``clone`` make repositories; ``enrol`` makes a student's
instance in one and has it and its coach trust each other. ``tests.instances``
builds the coach and student pair of the Kafka tests from these, and
``tests.core.conftest`` the pairs of the core's.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from colearner_lsp.core.identity import init_instance, trust_peer
from colearner_lsp.demo import SAMPLE

SAMPLE_FILES = {
    "app/inventory.py": SAMPLE,  # the demo's service: the tests and the demo coach the same code
    "app/__init__.py": "",
    "README.md": "# inventory\n",
    ".gitignore": ".env\n",
}


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def make_origin(path: Path, files: dict[str, str] | None = None) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.email", "coach@example.com")
    git(path, "config", "user.name", "Coach")
    for rel, text in (files or SAMPLE_FILES).items():
        target = path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "initial")
    return path


def clone(origin: Path, path: Path) -> Path:
    git(origin.parent, "clone", "-q", str(origin), str(path))
    git(path, "config", "user.email", "student@example.com")
    git(path, "config", "user.name", "Student")
    return path


def enrol(coach_root: Path, coach_id: str, coach_key: str, root: Path, student_id: str, bootstrap: str | None = None) -> str:
    """Make ``root`` the instance of ``student_id``, it and the coach trusting each other; returns its public key.

    The tests' ``COLEARNER_KEY_DIR`` (set by the ``key_dir`` fixture) keeps keys out of the home folder.
    """
    _, key = init_instance(root, "student", student_id, bootstrap)
    trust_peer(coach_root, student_id, key)
    trust_peer(root, coach_id, coach_key)
    return key
