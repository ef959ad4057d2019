"""A gradebook's results kept on disk and read back one at a time.

A result with its evidence is tens of KiB as Python objects, so a class of a
thousand held in memory costs the grader tens of MiB, growing with the class.
The spool keeps only a file offset per submission: the report writers stream
through it, and the grader's memory stays flat in the class size.

The file is JSON lines: a header `{"assignment": ...}` then one
SubmissionResult per line. A saved spool is the batch's full gradebook in
OUT/.state/, the one `grade diff` and `grade merge` read.
"""
from __future__ import annotations

import itertools
import json
import os
import tempfile
from array import array
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from grader.atomicfile import write_atomic
from grader.models import SubmissionResult


class ResultSpool(Sequence[SubmissionResult]):
    """A fixed number of slots, filled in any order (as submissions finish), read in slot order."""

    def __init__(self, size: int = 0, file=None):
        # Unlinked: nothing to clean up, even after a crash. A loaded gradebook keeps its own file
        # open instead, which stays readable after a newer gradebook is renamed over it.
        self._file = file or tempfile.TemporaryFile()
        self._offsets = array("q", [-1]) * size
        self._lengths = array("q", [0]) * size
        self._end = 0

    # ---------------------------------------------------------------- writing
    def put(self, index: int, result: SubmissionResult) -> None:
        self._offsets[index], self._lengths[index] = self._append(result.model_dump_json().encode())

    def append(self, result: SubmissionResult) -> None:
        offset, length = self._append(result.model_dump_json().encode())
        self._offsets.append(offset)
        self._lengths.append(length)

    def _append(self, data: bytes) -> tuple[int, int]:
        offset = self._end
        os.pwrite(self._file.fileno(), data + b"\n", offset)
        self._end += len(data) + 1
        return offset, len(data)

    # ---------------------------------------------------------------- reading
    def __len__(self) -> int:
        return len(self._offsets)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        offset = self._offsets[index]
        if offset < 0:
            raise LookupError(f"result {index} was never stored")
        return SubmissionResult.model_validate_json(os.pread(self._file.fileno(), self._lengths[index], offset))

    def __iter__(self) -> Iterator[SubmissionResult]:
        return (self[i] for i in range(len(self)))

    # ---------------------------------------------------------------- saving and loading
    @classmethod
    def load(cls, path: Path) -> tuple[str, ResultSpool]:
        """(assignment, results) of a saved gradebook; each result is parsed only when read."""
        f = open(path, "rb")
        try:
            header = json.loads(f.readline() or b"null")
        except ValueError:
            header = None
        if not isinstance(header, dict) or not isinstance(header.get("assignment"), str):
            f.close()
            raise ValueError(f"{path} does not start with an ipcgrade gradebook header")
        spool = cls(file=f)
        offset = f.tell()
        for number, line in enumerate(f, 2):
            length = len(line.rstrip(b"\n"))
            if length:
                try:        # checked once here, so reading it later cannot fail halfway through a report
                    SubmissionResult.model_validate_json(line)
                except ValueError as e:
                    f.close()
                    raise ValueError(f"{path} line {number} is not a graded submission: "
                                     f"{str(e).splitlines()[0]}") from None
                spool._offsets.append(offset)
                spool._lengths.append(length)
            offset += len(line)
        spool._end = offset
        return header["assignment"], spool


def save(assignment: str, results: Iterable[SubmissionResult], path: Path) -> None:
    """Write a gradebook as JSON lines, atomically, streaming one result at a time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = (result.model_dump_json() + "\n" for result in results)
    write_atomic(path, itertools.chain([json.dumps({"assignment": assignment}) + "\n"], lines))
