"""Repository paths: what a well-formed one is, and where it really leads.

`normalize_repo_path` turns a path into a repository-relative POSIX path in
Unicode NFC, or refuses it with a `ScopeError`: absolute, `..`, inside `.git`
(or any name a filesystem treats as `.git`), control characters, too long,
escaping the repository through a symlink. The Unicode folding the scope's
deny rules compare on lives here too: recognising `.git` lookalikes needs it.

Apart from `scope`, which decides what may be shared, because these checks
hold for every path read from a repository (the coach's anchors too),
whatever the sharing rules say.
"""

from __future__ import annotations

import os
import re
import stat
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from ..errors import ScopeError

MAX_PATH_BYTES = 4096
MAX_COMPONENT_BYTES = 255


def _refuse(raw: object, reason: str) -> ScopeError:
    return ScopeError(f"refused: {_show(raw)} {reason}", path=str(raw), reason=reason)


def _show(raw: object) -> str:
    """A short, printable quotation of a path for messages (repr escapes controls)."""
    text = str(raw)
    if len(text) > 80:
        text = text[:60] + "…" + text[-15:]
    return repr(text)


# --- Unicode folding ---------------------------------------------------------

# Code points that render as nothing but are not category Cf (which is
# dropped wholesale): Hangul fillers, the combining grapheme joiner, variation
# selectors. A name padded with them must still hit the deny rule it imitates.
_INVISIBLE = frozenset(
    [0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180B, 0x180C, 0x180D, 0x180F, 0x3164, 0xFFA0]
    + list(range(0xFE00, 0xFE10))
    + list(range(0xE0100, 0xE01F0))
)


def _is_invisible(ch: str) -> bool:
    return unicodedata.category(ch) == "Cf" or ord(ch) in _INVISIBLE


def _fold(text: str) -> str:
    """NFKC + casefold without invisible characters: the key deny rules compare."""
    if text.isascii():
        return text.lower()
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch for ch in text if not _is_invisible(ch))
    return unicodedata.normalize("NFKC", text.casefold())


def _fold_component(component: str) -> str:
    # Windows drops trailing dots and spaces: "secret.pem. " opens "secret.pem".
    folded = _fold(component)
    return folded.rstrip(". ") or folded


def _is_git_dir_name(component: str) -> bool:
    """True for `.git` and every name a filesystem may treat as `.git`.

    Case-insensitive filesystems (`.GIT`), HFS+ ignoring invisible characters,
    NTFS dropping trailing dots/spaces, its 8.3 short name `git~1`, and NTFS
    streams (`.git::$INDEX_ALLOCATION`).
    """
    folded = _fold_component(component)
    return folded.split(":", 1)[0] == ".git" or folded == "git~1"


# --- Paths -------------------------------------------------------------------

_DRIVE = re.compile(r"^[A-Za-z]:")


def _lexical(raw: object) -> tuple[str, str]:
    """Check a path by its text alone; return (NFC path, path as spelled).

    Backslashes count as separators: on Windows they are, and a file name
    containing one is not worth the ambiguity.
    """
    if isinstance(raw, os.PathLike):
        raw = os.fspath(raw)
    if not isinstance(raw, str):
        raise _refuse(raw, "is not a text path")
    if "\x00" in raw:
        raise _refuse(raw, "contains a NUL byte")
    if any(unicodedata.category(ch) == "Cc" for ch in raw):
        raise _refuse(raw, "contains a control character")
    try:
        size = len(raw.encode("utf-8"))
    except UnicodeEncodeError:
        raise _refuse(raw, "is not valid UTF-8; rename the file") from None
    if size > MAX_PATH_BYTES:
        raise _refuse(raw, f"is longer than {MAX_PATH_BYTES} bytes")
    text = raw.replace("\\", "/")
    if text.startswith("/") or _DRIVE.match(text):
        raise _refuse(raw, "is absolute; give a path relative to the repository root")
    spelled = [part for part in text.split("/") if part not in ("", ".")]
    if not spelled:
        raise _refuse(raw, "names no file; give a path inside the repository")
    parts = [unicodedata.normalize("NFC", part) for part in spelled]
    for part in parts:
        if part == "..":
            raise _refuse(raw, "escapes the repository ('..')")
        if not part.rstrip(". "):  # Windows reads "... " or ".. " as a parent/current dir
            raise _refuse(raw, "has a component made only of dots and spaces")
        if len(part.encode("utf-8")) > MAX_COMPONENT_BYTES:
            raise _refuse(raw, f"has a component longer than {MAX_COMPONENT_BYTES} bytes")
        if _is_git_dir_name(part):
            raise _refuse(raw, "is inside .git")
    path = "/".join(parts)
    if len(path.encode("utf-8")) > MAX_PATH_BYTES:
        raise _refuse(raw, f"is longer than {MAX_PATH_BYTES} bytes")
    return path, "/".join(spelled)


def _real_root(repo_root: Path | str) -> str:
    return os.path.realpath(os.fspath(repo_root))


@dataclass(frozen=True)
class _OnDisk:
    target: str  # where the path really leads, repo-relative (itself unless a symlink is on the way)
    mode: int | None  # lstat mode of the path itself, None when it does not exist


def _on_disk(root: str, raw: object, path: str, spelled: str, plain_dirs: set[str]) -> _OnDisk:
    """Check where `path` really leads on disk.

    Components are lstat'ed from the root down; only when one is a symlink
    is the whole path resolved and checked. `plain_dirs` remembers
    directories already seen not to be symlinks, so sibling files cost one
    lstat each.
    """
    full = os.path.join(root, *path.split("/"))
    if path != spelled and not os.path.lexists(full) and os.path.lexists(os.path.join(root, *spelled.split("/"))):
        # On a filesystem that keeps NFD names apart from NFC, the NFC path we
        # would share names a file that does not exist.
        raise _refuse(raw, "is not in Unicode NFC form on disk; rename the file")
    parts = path.split("/")
    mode: int | None = None
    through_link = os.name == "nt"  # junctions are not reported as links: always resolve there
    for depth in range(1, len(parts) + 1):
        prefix = "/".join(parts[:depth])
        if depth < len(parts) and prefix in plain_dirs:
            continue
        try:
            mode = os.lstat(os.path.join(root, *parts[:depth])).st_mode
        except (FileNotFoundError, NotADirectoryError):
            mode = None  # nothing further exists, so nothing further can redirect
            break
        if stat.S_ISLNK(mode):
            through_link = True
            break
        if depth < len(parts):
            plain_dirs.add(prefix)
    if through_link:
        mode = os.lstat(full).st_mode if os.path.lexists(full) else None
        real = os.path.realpath(full)
        if real != root and not real.startswith(root.rstrip(os.sep) + os.sep):
            raise _refuse(raw, "points outside the repository (through a symlink)")
        target = os.path.relpath(real, root).replace(os.sep, "/")
        if target != "." and any(_is_git_dir_name(part) for part in target.split("/")):
            raise _refuse(raw, "points into .git (through a symlink)")
        return _OnDisk(target, mode)
    return _OnDisk(path, mode)


def lexical_repo_path(raw: object) -> str:
    """The repo-relative NFC path ``raw`` names, checked by its text alone (it need not exist,
    and the disk is not looked at); ScopeError as ``normalize_repo_path`` for the same text.

    For names a peer sent that are looked up in git's objects, not on disk.
    """
    return _lexical(raw)[0]


def normalize_repo_path(repo_root: Path, raw: str) -> str:
    """Return the repo-relative POSIX path, or raise ScopeError.

    Refuses: absolute paths, any '..' component, paths escaping the repo
    through a symlink (resolved and checked), anything inside .git (any case,
    and the names filesystems treat as .git), NUL bytes and control
    characters, paths longer than 4096 bytes or with a component longer than
    255 bytes. Applies Unicode NFC normalisation. The path need not exist.
    """
    path, spelled = _lexical(raw)
    _on_disk(_real_root(repo_root), raw, path, spelled, set())
    return path
