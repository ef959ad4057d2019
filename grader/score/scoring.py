"""Attach rubric points to the harness's verdicts.

The harness decides pass/fail and knows nothing about points; the rubric knows
points and nothing about programs. Keeping the join here, as a pure function,
means a reweighted rubric can rescore saved reports without rerunning anyone.
"""
from __future__ import annotations

from grader.models import CheckOutcome, CheckStatus, HarnessReport, ScoredCheck, SubmissionResult
from grader.score.rubric import Rubric

__all__ = ["error_result", "score"]


def _scored(outcome: CheckOutcome, rubric: Rubric, count: bool) -> ScoredCheck:
    """One check with its points; only a pass earns them, and only when `count` is true."""
    max_score = round(rubric.points(outcome.id), 2)
    earned = max_score if count and outcome.status is CheckStatus.passed else 0.0
    return ScoredCheck(
        id=outcome.id,
        name=outcome.name,
        status=outcome.status,
        score=earned,
        max_score=max_score,
        hidden=outcome.hidden,
        # A check worth nothing is advisory whatever the harness said: it cannot move the grade.
        advisory=outcome.advisory or max_score == 0,
        outcome=outcome,
    )


def score(
    report: HarnessReport, rubric: Rubric, student: str, seconds: float = 0.0
) -> SubmissionResult:
    """Grade one harness report against the rubric.

    The maximum is summed over the checks the report contains, not the whole
    rubric, so a student self-check that ran only the visible checks is scored
    out of what it could have earned. Hidden checks that did run count fully.

    If the harness itself failed (report.error), the partial outcomes are kept
    for the student to read but earn nothing, and the maximum is the rubric
    total: a crash must not look like a small, perfectly passed assignment.
    """
    if report.error:
        checks = [_scored(outcome, rubric, count=False) for outcome in report.checks]
        return SubmissionResult(
            student=student,
            status="error",
            score=0.0,
            max_score=rubric.total,
            language=report.language,
            error=report.error,
            checks=checks,
            seconds=seconds,
        )
    checks = [_scored(outcome, rubric, count=True) for outcome in report.checks]
    return SubmissionResult(
        student=student,
        status="graded",
        # Sum then round once, so 0.1 + 0.2 shows as 0.3 in the gradebook.
        score=round(sum(check.score for check in checks), 2),
        max_score=round(sum(check.max_score for check in checks), 2),
        language=report.language,
        checks=checks,
        seconds=seconds,
    )


def error_result(
    student: str, message: str, rubric: Rubric, seconds: float = 0.0
) -> SubmissionResult:
    """The gradebook row for a submission that could not be graded at all.

    Used for corrupt archives, build-image failures and timeouts, so the batch
    keeps going and the student still appears, at 0 out of the full total.
    """
    return SubmissionResult(
        student=student,
        status="error",
        score=0.0,
        max_score=rubric.total,
        error=message,
        seconds=seconds,
    )
