"""`grade selftest`: prove the harness right on its own assignment.

Every reference solution must score full marks, and every mutant must fail
exactly the checks its manifest names (checks skipped because of those are
fine; an internal error never is). Mutants are patches (grader/mutants.py):
each is applied to a fresh copy of its reference in this process's temporary
folder, which lives as long as the process, so a Case's path stays valid for
every caller that grades it later, and is removed when the process exits.
"""
from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from grader import mutants
from grader.assignments import Assignment
from grader.models import CheckStatus, Gradebook, Submission, SubmissionResult


@dataclass
class Case:
    name: str                       # "reference/c" or "mutant/no-rmid"
    path: Path                      # the program files to grade
    expected_failures: set[str] | None   # None: a reference, must pass everything
    manifest: Path | None = None    # a mutant's NAME.yaml (or its patch, when that is what is wrong)
    problem: str | None = None      # why the case cannot be graded (a patch that does not apply)


@functools.cache
def _scratch() -> Path:
    """One temporary folder per process for patched mutants, removed when the process exits."""
    root = Path(tempfile.mkdtemp(prefix="ipcgrade-mutants-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    return root


def cases(assignment: Assignment) -> list[Case]:
    """The references, then every mutant applied to a fresh copy of its reference.

    A mutant that cannot be applied (or a stray file in mutants/) becomes a case
    with a `problem` and is not graded; a manifest that is not valid YAML raises
    ConfigError naming the file, as for every other configuration file.
    """
    out = []
    for lang_dir in sorted(p for p in assignment.reference_dir.iterdir() if p.is_dir()):
        out.append(Case(f"reference/{lang_dir.name}", lang_dir, None))
    found, strays = mutants.find(assignment.mutants_dir)
    batch = Path(tempfile.mkdtemp(prefix=f"{assignment.name}-", dir=_scratch())) if found else None
    for m in found:
        spec = m.spec()
        case = Case(f"mutant/{m.name}", batch / m.name, set(spec.fails), m.manifest)
        try:
            mutants.apply(m.patch, assignment.reference_dir / spec.language, case.path)
        except mutants.MutantError as e:
            case.problem = str(e)
        out.append(case)
    for path, problem in strays:
        out.append(Case(f"mutant/{path.name}", path, set(), path, problem))
    return out


def submissions(case_list: list[Case]) -> list[Submission]:
    """What to grade: every case that can be graded."""
    return [Submission(student=c.name, path=c.path) for c in case_list if c.problem is None]


def verdict(case: Case, result: SubmissionResult) -> str | None:
    """None when the case behaved as it must, else what went wrong."""
    if result.status != "graded":
        return f"not graded: {result.error}"
    errors = [c.id for c in result.checks if c.status == CheckStatus.error]
    if errors:
        return f"internal error in {', '.join(errors)}"
    failed = {c.id for c in result.checks if c.status == CheckStatus.failed}
    if case.expected_failures is None:
        not_passed = [c.id for c in result.checks if c.status != CheckStatus.passed]
        if not_passed or result.score != result.max_score:
            return f"reference lost points: {', '.join(not_passed)} ({result.score}/{result.max_score})"
        return None
    if failed != case.expected_failures:
        missing = sorted(case.expected_failures - failed)
        extra = sorted(failed - case.expected_failures)
        parts = []
        if missing:
            parts.append(f"should fail but did not: {', '.join(missing)}")
        if extra:
            parts.append(f"failed unexpectedly: {', '.join(extra)}")
        return "; ".join(parts)
    return None


def evaluate(case_list: list[Case], book: Gradebook) -> list[tuple[Case, SubmissionResult | None, str | None]]:
    """(case, its result, what went wrong or None); a case that could not be graded has no result."""
    by_name = {r.student: r for r in book.submissions}
    return [(c, None, c.problem) if c.problem is not None else (c, by_name[c.name], verdict(c, by_name[c.name]))
            for c in case_list]
