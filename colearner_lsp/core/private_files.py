"""``.colearner/`` is readable by its owner only: the folder 0700, the files written there 0600.

Files are created private (never written first and narrowed after), and an
instance made by an older colearner, whose files were 0644, is narrowed when
it is opened. This module covers the folder and the files the configuration
and the language server write (agent.yaml, .gitignore, response documents);
the ledger and learning.json are made private where they are written.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger(__name__)

DIR_MODE = 0o700
FILE_MODE = 0o600
# POSIX permissions only: on Windows chmod can only set the read-only flag.
_ENFORCED = os.name != "nt"


def narrow(path: Path, mode: int) -> None:
    """Take away every permission of ``path`` beyond ``mode`` (group and others), if it exists.

    Best effort: a file this user cannot chmod (owned by someone else) is
    reported once as a warning, not an error, so the instance still opens.
    """
    if not _ENFORCED:
        return
    try:
        info = os.lstat(path)
        if stat.S_ISLNK(info.st_mode) or stat.S_IMODE(info.st_mode) & ~mode == 0:
            return  # never chmod through a link; already private enough
        os.chmod(path, stat.S_IMODE(info.st_mode) & mode)
    except FileNotFoundError:
        return
    except OSError as exc:
        log.warning("could not make %s readable by its owner only (%s); run: chmod go-rwx %s", path, exc.strerror, path)


def private_dir(path: Path) -> Path:
    """Create ``path`` (and its missing parents) as 0700, or narrow it when it exists."""
    path = Path(path)
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    narrow(path, DIR_MODE)
    return path


def write_private(path: Path, text: str, *, exclusive: bool = False) -> None:
    """Write ``text`` to ``path`` as a 0600 file, atomically (a temporary file, then a rename).

    With ``exclusive`` the file is created in place and must not exist yet
    (FileExistsError): for documents the user may be editing, never replaced.
    """
    path = Path(path)
    target = path if exclusive else path.with_name(path.name + ".tmp")
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC) | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(target, flags, FILE_MODE)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        if _ENFORCED:
            os.fchmod(handle.fileno(), FILE_MODE)  # a temporary file left by a crash keeps its old mode otherwise
        handle.write(text)
    if not exclusive:
        os.replace(target, path)
