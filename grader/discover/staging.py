"""Copy a submission into a fresh folder with a plain name before it is mounted.

A student's folder name may hold spaces, newlines or bytes that are not UTF-8,
and Docker would create a missing bind-mount source on the host. The copy has a
safe path, keeps links as links (never following them), and is capped in size
so a folder submission cannot fill the disk.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
from pathlib import Path

MAX_FILES = 2000
MAX_BYTES = 64 << 20


class SubmissionTooLarge(RuntimeError):
    pass


def _check_size(src: Path) -> None:
    files = total = 0
    for root, dirs, names in os.walk(src):
        for name in dirs + names:
            files += 1
            st = os.lstat(os.path.join(root, name))
            if stat.S_ISREG(st.st_mode):
                total += st.st_size
        if files > MAX_FILES:
            raise SubmissionTooLarge(f"the submission has more than {MAX_FILES} files")
        if total > MAX_BYTES:
            raise SubmissionTooLarge(f"the submission is larger than {MAX_BYTES >> 20} MiB")


def _ignore_special(folder: str, names: list[str]) -> list[str]:
    """Skip fifos, sockets and devices: copying a fifo would block forever."""
    out = []
    for name in names:
        mode = os.lstat(os.path.join(folder, name)).st_mode
        if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode) or stat.S_ISLNK(mode)):
            out.append(name)
    return out


def stage_into(src: Path, dst: Path) -> None:
    """Copy `src` into the folder `dst` (which may exist, empty), within the size caps."""
    src = Path(src)
    if not src.is_dir():
        raise SubmissionTooLarge(f"the submission is not a folder: {os.fsdecode(src)!r}")
    _check_size(src)
    shutil.copytree(src, dst, symlinks=True, ignore=_ignore_special, dirs_exist_ok=True)


@contextlib.contextmanager
def staged_copy(src: Path):
    """Yield a private copy of `src` (removed afterwards)."""
    with tempfile.TemporaryDirectory(prefix="ipcgrade-sub-") as tmp:
        dst = Path(tmp) / "submission"
        stage_into(src, dst)
        os.chmod(tmp, 0o755)
        yield dst
