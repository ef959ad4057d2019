"""Find the submissions in a folder: one sub-folder or one archive per student.

Discovery never aborts the batch because of one student. A corrupt or unsafe
archive, or a second entry with a name already taken, becomes a Submission
whose `problem` says what went wrong; later stages report it as that student's
error verdict. Only a missing, unreadable or empty root raises, because then
there is nothing to grade and the instructor has probably mistyped the path.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from grader.discover.archive import ArchiveError, display_name, extract, is_archive, student_name
from grader.models import Submission

_EXPECTED = "expected one sub-folder or .zip/.tar.gz archive per student"


class DiscoveryError(Exception):
    """The submissions folder itself is unusable. str() is one line for the instructor."""


def discover(root: Path, staging: Path) -> list[Submission]:
    """One Submission per sub-folder or archive in `root`, sorted by student name.

    * Folders are used in place (path = the folder); archives are extracted into
      `staging/<student>/`, which is deleted first if an earlier run left it.
    * Hidden entries, `__MACOSX`, `staging` itself and plain files that are not
      archives are ignored.
    * Student names come from the entry names with undecodable bytes and control
      characters replaced by U+FFFD (see archive.display_name), so they always
      print; paths keep the original bytes.
    * When two entries give the same name (`bob/` and `bob.zip`), the first in
      byte order of the entry names (folder before archive, since `bob` <
      `bob.zip`) is used and the later ones get a `problem`; their `path` points
      at the entry in `root` and is not extracted.
    * When `problem` is set, `path` may be empty or not a submission folder at all.
    """
    if not root.exists():
        raise DiscoveryError(f"submissions folder {root} does not exist")
    if not root.is_dir():
        raise DiscoveryError(f"{root} is not a folder: {_EXPECTED}")
    try:
        children = sorted(root.iterdir(), key=lambda p: os.fsencode(p.name))
    except OSError as exc:
        raise DiscoveryError(f"cannot read submissions folder {root}: {exc.strerror}") from exc

    found: list[tuple[str, Path]] = []
    for child in children:
        if child.name.startswith(".") or child.name == "__MACOSX" or _same(child, staging):
            continue
        if child.is_dir():
            found.append((display_name(child.name), child))
        elif is_archive(child):
            found.append((student_name(child), child))
    if not found:
        raise DiscoveryError(f"no submissions found in {root}: {_EXPECTED}")

    submissions, seen = [], set()
    for student, child in sorted(found, key=lambda f: f[0]):  # stable: byte order among equals
        if student in seen:
            submissions.append(Submission(student=student, path=child,
                                          problem=f"duplicate submission name {student!r}"))
        elif child.is_dir():
            submissions.append(Submission(student=student, path=child))
        else:
            submissions.append(_unpack(student, child, staging / student))
        seen.add(student)
    return submissions


def _unpack(student: str, archive: Path, dest: Path) -> Submission:
    try:
        if dest.is_symlink() or dest.is_file():
            dest.unlink()
        elif dest.exists():
            shutil.rmtree(dest)  # left by an earlier run: stale files must not be graded
        extract(archive, dest)
    except ArchiveError as exc:
        return Submission(student=student, path=dest, problem=str(exc))
    except Exception as exc:  # a batch never aborts because of one submission
        return Submission(student=student, path=dest,
                          problem=f"could not extract archive: {' '.join(str(exc).split())}")
    return Submission(student=student, path=dest)


def _same(child: Path, staging: Path) -> bool:
    try:
        return child.resolve() == staging.resolve()
    except OSError:
        return False
