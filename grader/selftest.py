"""`grade selftest`: prove the harness right on its own assignment.

Every reference solution must score full marks, and every mutant must fail
exactly the checks its manifest names (checks skipped because of those are
fine; an internal error never is).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from .assignments import Assignment
from .models import CheckStatus, Gradebook, Submission, SubmissionResult
from .yamlfile import validate


class MutantManifest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    description: str
    fails: list[str]


@dataclass
class Case:
    name: str                       # "reference/c" or "mutant/no-rmid"
    path: Path
    expected_failures: set[str] | None   # None: a reference, must pass everything


def cases(assignment: Assignment) -> list[Case]:
    out = []
    for lang_dir in sorted(p for p in assignment.reference_dir.iterdir() if p.is_dir()):
        out.append(Case(f"reference/{lang_dir.name}", lang_dir, None))
    if assignment.mutants_dir.is_dir():
        for m in sorted(p for p in assignment.mutants_dir.iterdir() if p.is_dir()):
            manifest = validate(m / "manifest.yaml", MutantManifest)
            out.append(Case(f"mutant/{m.name}", m, set(manifest.fails)))
    return out


def submissions(case_list: list[Case]) -> list[Submission]:
    return [Submission(student=c.name, path=c.path) for c in case_list]


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


def evaluate(case_list: list[Case], book: Gradebook) -> list[tuple[Case, SubmissionResult, str | None]]:
    by_name = {r.student: r for r in book.submissions}
    return [(c, by_name[c.name], verdict(c, by_name[c.name])) for c in case_list]
