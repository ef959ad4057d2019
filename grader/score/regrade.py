"""What changed between two gradings of a class, and why.

Each verdict carries the hashes it depends on (submission content, harness,
rubric), so a changed score can be attributed: the student's code changed,
the harness changed, or only the rubric changed.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from grader import spool
from grader.models import Gradebook, SubmissionResult
from grader.store import STATE_DIR

FULL_GRADEBOOK = "gradebook.jsonl"


def save_full(book: Gradebook, out_dir: Path) -> None:
    spool.save(book.assignment, book.submissions, Path(out_dir) / STATE_DIR / FULL_GRADEBOOK)


class NoGradebook(RuntimeError):
    pass


def load_full(out_dir: Path) -> Gradebook:
    path = Path(out_dir) / STATE_DIR / FULL_GRADEBOOK
    if not path.is_file():
        raise NoGradebook(f"{out_dir} holds no ipcgrade results (missing {STATE_DIR}/{FULL_GRADEBOOK})")
    assignment, results = spool.ResultSpool.load(path)
    return Gradebook(assignment=assignment, submissions=results)


@dataclass
class StudentChange:
    student: str
    old_score: float | None
    new_score: float | None
    checks: list[str] = field(default_factory=list)      # "sum-correct: failed -> passed"
    reasons: list[str] = field(default_factory=list)     # "code changed", "harness changed", "rubric changed"


def _reasons(old: SubmissionResult, new: SubmissionResult) -> list[str]:
    out = []
    for key, label in (("content", "code changed"), ("harness", "harness changed"), ("rubric", "rubric changed")):
        if old.provenance.get(key) != new.provenance.get(key):
            out.append(label)
    if old.status != new.status:
        out.append(f"status {old.status} -> {new.status}")
    return out or ["same inputs (a nondeterministic verdict?)"]


def _positions(book: Gradebook) -> dict[str, int]:
    return {s.student: i for i, s in enumerate(book.submissions)}


def diff(old: Gradebook, new: Gradebook) -> list[StudentChange]:
    """Only names and positions are held; each pair of results is read when compared."""
    olds, news = _positions(old), _positions(new)
    changes = []
    for student in sorted(set(olds) | set(news)):
        o = old.submissions[olds[student]] if student in olds else None
        n = new.submissions[news[student]] if student in news else None
        if o is None or n is None:
            changes.append(StudentChange(student, o and o.score, n and n.score,
                                         reasons=["new submission" if o is None else "submission removed"]))
            continue
        oc = {c.id: c for c in o.checks}
        nc = {c.id: c for c in n.checks}
        checks = []
        for cid in list(dict.fromkeys([*oc, *nc])):
            a, b = oc.get(cid), nc.get(cid)
            sa = f"{a.status.value} {a.score:g}/{a.max_score:g}" if a else "absent"
            sb = f"{b.status.value} {b.score:g}/{b.max_score:g}" if b else "absent"
            if sa != sb:
                checks.append(f"{cid}: {sa} -> {sb}")
        if checks or o.score != n.score or o.status != n.status or o.max_score != n.max_score:
            changes.append(StudentChange(student, o.score, n.score, checks, _reasons(o, n)))
    return changes


def render(changes: list[StudentChange]) -> str:
    if not changes:
        return "No student's result changed."
    lines = [f"{len(changes)} student(s) changed:"]
    for c in changes:
        old = "-" if c.old_score is None else f"{c.old_score:g}"
        new = "-" if c.new_score is None else f"{c.new_score:g}"
        lines.append(f"- {c.student}: {old} -> {new} ({', '.join(c.reasons)})")
        lines += [f"    {line}" for line in c.checks]
    return "\n".join(lines)


def in_shard(student: str, index: int, count: int) -> bool:
    """Deterministic and stable: a student's shard depends only on their name, not on who else is there."""
    return int(hashlib.sha256(student.encode(errors="surrogateescape")).hexdigest()[:12], 16) % count == index - 1


def parse_shard(text: str) -> tuple[int, int]:
    try:
        i, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise ValueError(f"--shard takes I/N, e.g. 2/4, not {text!r}") from None
    if not 1 <= i <= n:
        raise ValueError(f"--shard {text}: I must be between 1 and N")
    return i, n


def merge(books: list[Gradebook]) -> Gradebook:
    names = {b.assignment for b in books}
    if len(names) != 1:
        raise NoGradebook(f"cannot merge results of different assignments: {', '.join(sorted(names))}")
    where: dict[str, tuple[int, int]] = {}          # student -> (book, position): results stay on disk
    for b, book in enumerate(books):
        for i, s in enumerate(book.submissions):
            if s.student in where:
                raise NoGradebook(f"student {s.student!r} appears in more than one shard")
            where[s.student] = (b, i)
    merged = spool.ResultSpool()
    for student in sorted(where):
        b, i = where[student]
        merged.append(books[b].submissions[i])
    return Gradebook(assignment=books[0].assignment, submissions=merged)
