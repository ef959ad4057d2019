"""Which assignment a bare `grade submit/` grades, and why (said on the terminal).

First match wins:
1. a settings file in the submissions folder or one above it, nearest first: a student kit's
   `.grade.yaml` or a course's `course.yaml`, each naming it with `assignment: NAME`;
2. the submissions themselves: every assignment declares its program names (assignment.yaml
   `programs`), and a submission that has `master.c`/`master.py` and `slave.c`/`slave.py` is an
   shm-handshake one. One assignment must account for the class: the others are a minority of
   submissions that match nothing (misnamed files), never submissions of another assignment.

Anything else (mixed classes, nothing recognisable) stops with one line naming the candidates
and the -a flag; `-a` always wins.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import yaml

SETTINGS_FILES = (".grade.yaml", "course.yaml")
SOURCE_SUFFIXES = (".c", ".py")
SEARCH_DEPTH = 3          # a submission's files may sit in a folder or two of their own


class DetectionError(Exception):
    """No single assignment fits; str() is the one line the instructor reads."""


@dataclass(frozen=True)
class Choice:
    name: str
    reason: str

    def announce(self) -> str:
        return f"grading as {self.name} ({self.reason})"


def from_settings(start: Path) -> Choice | None:
    """The assignment a .grade.yaml or course.yaml in `start` or above names, nearest first."""
    start = Path(start).resolve()
    for folder in (start, *start.parents):
        for name in SETTINGS_FILES:
            file = folder / name
            if not file.is_file():
                continue
            try:
                data = yaml.safe_load(file.read_text(errors="replace"))
            except yaml.YAMLError:
                continue   # its own command reports a broken file; here it just names nothing
            if isinstance(data, dict) and isinstance(data.get("assignment"), str):
                return Choice(data["assignment"], f"{file} says so")
    return None


def program_names(folder: Path, depth: int = SEARCH_DEPTH) -> set[str]:
    """Stems of the C and Python files in `folder`, down to `depth` levels (hidden entries skipped)."""
    found: set[str] = set()
    todo = [(Path(folder), 0)]
    while todo:
        here, level = todo.pop()
        try:
            entries = list(here.iterdir())
        except OSError:
            continue
        for entry in entries:
            if entry.name.startswith((".", "__MACOSX")) or entry.is_symlink():
                continue
            if entry.is_dir() and level + 1 < depth:
                todo.append((entry, level + 1))
            elif entry.suffix in SOURCE_SUFFIXES and entry.is_file():
                found.add(entry.stem)
    return found


def matches(names: set[str], programs: dict[str, list[str]]) -> set[str]:
    """Assignments whose every program is among `names`; of two where one's programs include the
    other's (server vs client+server), only the larger."""
    hit = {a for a, progs in programs.items() if progs and set(progs) <= names}
    return {a for a in hit if not any(set(programs[a]) < set(programs[b]) for b in hit)}


def _programs_text(progs: list[str]) -> str:
    return " and ".join(progs) if len(progs) <= 2 else ", ".join(progs[:-1]) + " and " + progs[-1]


def from_programs(submissions: list[Path], programs: dict[str, list[str]]) -> Choice:
    """The assignment the submissions' file names point to; DetectionError if none or several."""
    votes: Counter[str] = Counter()
    unmatched = ambiguous = 0
    for sub in submissions:
        hit = matches(program_names(sub), programs)
        if len(hit) == 1:
            votes[next(iter(hit))] += 1
        elif hit:
            ambiguous += 1
        else:
            unmatched += 1
    total = len(submissions)
    flag = "name it with -a NAME"
    if not votes:
        known = "; ".join(f"{a}: {_programs_text(p)}" for a, p in sorted(programs.items()))
        why = "fits several assignments" if ambiguous else "has the program files of any assignment"
        raise DetectionError(f"cannot tell which assignment to grade: no submission {why} ({known}); {flag}")
    if len(votes) > 1 or ambiguous:
        seen = ", ".join(f"{a} ({n})" for a, n in votes.most_common())
        raise DetectionError(f"cannot tell which assignment to grade: the submissions look like {seen}"
                             + (f", {ambiguous} fit several" if ambiguous else "") + f"; {flag}")
    name, n = votes.most_common(1)[0]
    progs = _programs_text(programs[name])
    if n == total:
        return Choice(name, f"every submission has {progs}")
    if n * 2 <= total:
        raise DetectionError(f"cannot tell which assignment to grade: only {n} of {total} submissions have "
                             f"{name}'s {progs}; {flag}")
    return Choice(name, f"{n} of {total} submissions have {progs}; the other {unmatched} match no assignment")


def choose(submissions_root: Path, submissions: list[Path], programs: dict[str, list[str]]) -> Choice:
    """Settings file first, then the submissions' program names."""
    return from_settings(submissions_root) or from_programs(submissions, programs)
