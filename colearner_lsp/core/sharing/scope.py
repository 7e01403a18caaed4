"""Which paths of the student's repository may be shared with the coach.

Every path that leaves the student's machine goes through `plan_share`:

1. `normalize_repo_path` turns it into a repository-relative POSIX path, or
   refuses it (absolute, `..`, inside `.git`, control characters, too long,
   escaping through a symlink).
2. `ScopeRules.permits` applies the student's own deny list (always wins),
   then the coach's deny list, then the coach's allow list (empty = nothing).
3. `max_files` caps how many files go; the rest are withheld.

Deny rules match case-insensitively on a Unicode-folded form of the path
(NFKC + casefold, invisible characters dropped, Windows' trailing dots and
spaces dropped), so `SECRETS.env`, `ｓｅｃｒｅｔｓ.env` and `.e<ZWSP>nv` are all
caught. Allow rules match the path exactly as it is (NFC, same case): folding
would let an allow rule widen to names the coach never wrote, and a narrower
allow can only withhold more, never leak more.

Step 1 and the folding are in `repo_paths`; the rules and the plan are here.
"""

from __future__ import annotations

import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pathspec

from ..errors import ScopeError
from ..protocol.vocabulary import SHARE_MODES, ShareMode
from .repo_paths import _fold, _fold_component, _lexical, _on_disk, _real_root, _refuse, _show, normalize_repo_path

__all__ = [
    "DEFAULT_STUDENT_DENY",
    "ScopeError",
    "ScopeRules",
    "SharePlan",
    "Verdict",
    "normalize_repo_path",
    "plan_share",
]

# A policy arrives over the wire: bound it so a hostile one cannot make
# every check slow.
MAX_RULES = 1000
MAX_RULE_CHARS = 1024

# The student's own deny list. Matched on the folded path (see module
# docstring), so every entry is written in lower case. It errs on the side of
# withholding: a false positive costs the coach one file, a false negative can
# leak a credential.
DEFAULT_STUDENT_DENY: tuple[str, ...] = (
    # git's and colearner's own state: history, hooks, config, ledger, keys.
    ".git/",
    ".colearner/",
    # environment files, where most projects keep their credentials.
    ".env",
    ".env.*",
    "*.env",
    ".envrc",
    # private keys, certificates and key stores.
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "*.crt",
    "*.cer",
    "*.der",
    "*.jks",
    "*.keystore",
    "*.kdbx",
    "*.gpg",
    "*.asc",
    "id_rsa*",
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
    ".ssh/",
    ".gnupg/",
    # credential files of common tools.
    ".netrc",
    "_netrc",
    ".pgpass",
    ".pypirc",
    ".npmrc",
    ".git-credentials",
    ".htpasswd",
    ".aws/",
    ".docker/config.json",
    ".kube/config",
    "credentials.json",
    "*.tfstate",
    "*.tfstate.*",
    "*.tfvars",
    # anything that names itself a secret.
    "**/secrets*",
    "*.secret",
    "*.secrets",
)


@dataclass(frozen=True)
class Verdict:
    """Whether one path may be shared, and the rule that decided it."""

    allowed: bool
    reason: str


# --- Rules -------------------------------------------------------------------


def _deny_keys(path: str) -> tuple[str, ...]:
    """The spellings of `path` that deny rules are tried against."""
    folded = "/".join(_fold_component(c) for c in _fold(path).split("/"))
    return (path,) if folded == path else (path, folded)


@dataclass(frozen=True)
class _CompiledRules:
    originals: tuple[str, ...]
    spec: pathspec.GitIgnoreSpec


@lru_cache(maxsize=64)
def _compile(lines: tuple[str, ...], fold: bool, owner: str) -> _CompiledRules:
    """Compile gitignore-style lines; the pattern index maps back to the line."""
    if len(lines) > MAX_RULES:
        raise ScopeError(f"{owner} has {len(lines)} rules; at most {MAX_RULES} are accepted")
    originals: list[str] = []
    patterns: list[Any] = []  # the pattern class GitIgnoreSpec compiles to differs between pathspec releases
    for line in lines:
        if len(line) > MAX_RULE_CHARS:
            raise ScopeError(f"{owner} rule {_show(line)} is longer than {MAX_RULE_CHARS} characters")
        if "\x00" in line:
            raise ScopeError(f"{owner} rule {_show(line)} contains a NUL byte")
        try:
            compiled = pathspec.GitIgnoreSpec.from_lines([_fold(line) if fold else line]).patterns
        except Exception as exc:  # pathspec raises its own error types for bad globs
            raise ScopeError(f"{owner} rule {_show(line)} is not a valid glob: {exc}") from exc
        for pattern in compiled:
            if pattern.include is not None:  # skip blank lines and comments
                originals.append(line)
                patterns.append(pattern)
    return _CompiledRules(tuple(originals), pathspec.GitIgnoreSpec(patterns))


def _last_match(rules: _CompiledRules, keys: Iterable[str]) -> tuple[bool, str] | None:
    """(included, rule) of the deciding rule for the first key any rule matches."""
    if not rules.originals:
        return None
    for key in keys:
        result = rules.spec.check_file(key)
        if result.include is not None and result.index is not None:
            return result.include, rules.originals[result.index]
    return None


@dataclass(frozen=True)
class ScopeRules:
    """The sharing policy in force: the coach's allow/deny plus the student's deny.

    Each list is gitignore-style and read on its own (a `!rule` re-includes
    within its list only). The student's deny list is checked first and no
    coach rule can undo it; an empty allow list shares nothing.
    """

    allow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()
    share: ShareMode = "hashes"
    max_files: int = 50
    student_deny: tuple[str, ...] = DEFAULT_STUDENT_DENY
    _student: _CompiledRules = field(init=False, repr=False, compare=False)
    _coach_deny: _CompiledRules = field(init=False, repr=False, compare=False)
    _allow: _CompiledRules = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("allow", "deny", "student_deny"):
            value = getattr(self, name)
            if isinstance(value, str):  # a lone string would be read as characters
                raise ScopeError(f"scope {name} must be a list of globs, not the string {_show(value)}")
            value = tuple(value)
            if not all(isinstance(rule, str) for rule in value):
                raise ScopeError(f"scope {name} must hold only text globs, not {list(value)!r}"[:300])
            object.__setattr__(self, name, value)
        if self.share not in SHARE_MODES:
            raise ScopeError(f"scope share must be one of {', '.join(SHARE_MODES)}, not {self.share!r}")
        if isinstance(self.max_files, bool) or not isinstance(self.max_files, int) or self.max_files < 0:
            raise ScopeError(f"scope max_files must be a whole number ≥ 0, not {self.max_files!r}")
        object.__setattr__(self, "_student", _compile(self.student_deny, True, "the student's deny list"))
        object.__setattr__(self, "_coach_deny", _compile(self.deny, True, "the coach's deny list"))
        object.__setattr__(self, "_allow", _compile(self.allow, False, "the coach's allow list"))

    def permits(self, path: str) -> Verdict:
        """Decide one normalised (repo-relative POSIX, NFC) path."""
        keys = _deny_keys(path)
        hit = _last_match(self._student, keys)
        if hit and hit[0]:
            return Verdict(False, f"denied by student rule {hit[1]!r}")
        hit = _last_match(self._coach_deny, keys)
        if hit and hit[0]:
            return Verdict(False, f"denied by the coach's rule {hit[1]!r}")
        if not self.allow:
            return Verdict(False, "not in the coach's allow list (no scope policy received yet)")
        hit = _last_match(self._allow, (path,))
        if hit is None:
            return Verdict(False, "not in the coach's allow list")
        if not hit[0]:
            return Verdict(False, f"excluded from the coach's allow list by {hit[1]!r}")
        return Verdict(True, f"allowed by {hit[1]!r}")


# --- Sharing -----------------------------------------------------------------


@dataclass(frozen=True)
class SharePlan:
    """What goes to the coach, and what stays (names of the latter stay local)."""

    shared: tuple[str, ...]
    withheld: int
    refused: tuple[tuple[str, str], ...]


def plan_share(repo_root: Path, candidates: Iterable[str], rules: ScopeRules) -> SharePlan:
    """Decide, in order, which candidate paths may be shared.

    The one place every shared path goes through. A candidate must be a
    well-formed repository path, permitted by `rules`, a regular file or a
    symlink (or not exist: a deletion) whose target is inside the repository
    and itself permitted, and come before the `max_files` cap. Duplicates are
    shared once. `refused` keeps the raw spelling and the reason, for the
    student's eyes only.
    """
    root = _real_root(repo_root)
    shared: list[str] = []
    refused: list[tuple[str, str]] = []
    seen: set[str] = set()
    plain_dirs: set[str] = set()
    for raw in candidates:
        try:
            path, spelled = _lexical(raw)
        except ScopeError as exc:
            if "\0" + str(raw) not in seen:  # keys of malformed paths cannot clash with paths
                seen.add("\0" + str(raw))
                refused.append((str(raw), exc.reason))
            continue
        if path in seen:
            continue
        seen.add(path)
        try:
            _admit(root, raw, path, spelled, rules, plain_dirs, full=len(shared) >= rules.max_files)
        except ScopeError as exc:
            refused.append((str(raw), exc.reason))
            continue
        shared.append(path)
    return SharePlan(shared=tuple(shared), withheld=len(refused), refused=tuple(refused))


def _admit(root: str, raw: object, path: str, spelled: str, rules: ScopeRules, plain_dirs: set[str], *, full: bool) -> None:
    """Raise ScopeError unless the well-formed `path` may be shared."""
    verdict = rules.permits(path)
    if not verdict.allowed:
        raise _refuse(raw, verdict.reason)
    if full:
        raise _refuse(raw, f"over max_files={rules.max_files}")
    disk = _on_disk(root, raw, path, spelled, plain_dirs)
    if disk.mode is not None and stat.S_ISDIR(disk.mode):
        raise _refuse(raw, "is a directory; share the files inside it")
    if disk.mode is not None and not (stat.S_ISREG(disk.mode) or stat.S_ISLNK(disk.mode)):
        raise _refuse(raw, "is not a regular file")
    if disk.target != path:
        through = rules.permits(disk.target)
        if not through.allowed:
            raise _refuse(raw, f"leads to {disk.target!r}, which is {through.reason}")
