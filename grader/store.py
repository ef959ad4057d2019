"""Per-submission results on disk: the batch's cache and its resume point.

Each finished submission is written at once (atomically), so killing a batch
loses nothing that finished. A stored harness report is reused when the
submission's content, the assignment and the harness are unchanged; scores are
always recomputed from it with the current rubric, so a rubric change costs no
container runs at all.
"""
from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from pathlib import Path

from pydantic import BaseModel, ValidationError

from grader.models import HarnessReport

STATE_DIR = ".state"


class CacheKey(BaseModel):
    content: str
    assignment: str
    harness: str
    visible_only: bool = False
    limits: str = ""             # sandbox limits change verdicts too (a memory limit, a timeout)


class StoredResult(BaseModel):
    student: str
    key: CacheKey
    report: HarnessReport
    seconds: float = 0.0


def content_hash(path: Path) -> str:
    """Hash of a submission folder: names, file bytes, executable bits and link targets."""
    h = hashlib.sha256()
    root = os.fsencode(path)
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]):
            full = os.path.join(dirpath, name)
            st = os.lstat(full)
            h.update(os.path.relpath(full, root) + b"\0")
            if stat.S_ISLNK(st.st_mode):
                h.update(b"L" + os.readlink(full))
            elif stat.S_ISREG(st.st_mode):
                h.update(b"F%d" % (st.st_mode & 0o111))
                with open(full, "rb") as f:
                    for chunk in iter(lambda: f.read(1 << 20), b""):
                        h.update(chunk)
            h.update(b"\0")
    return h.hexdigest()[:16]


class ResultStore:
    def __init__(self, out_dir: Path):
        self.dir = Path(out_dir) / STATE_DIR
        self.dir.mkdir(parents=True, exist_ok=True)

    def _path(self, student: str) -> Path:
        return self.dir / (hashlib.sha256(student.encode(errors="surrogateescape")).hexdigest()[:24] + ".json")

    def get(self, student: str) -> StoredResult | None:
        try:
            return StoredResult.model_validate_json(self._path(student).read_text())
        except (OSError, ValidationError, ValueError):
            return None

    def put(self, record: StoredResult) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.dir, prefix=".tmp-")
        with os.fdopen(fd, "w") as f:
            f.write(record.model_dump_json())
        os.replace(tmp, self._path(record.student))

    def all(self) -> list[StoredResult]:
        out = []
        for p in sorted(self.dir.glob("*.json")):
            try:
                out.append(StoredResult.model_validate_json(p.read_text()))
            except (ValidationError, ValueError):
                continue
        return out
