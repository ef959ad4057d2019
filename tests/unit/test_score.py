"""Scoring: points come from the rubric, verdicts from the harness."""
from __future__ import annotations

import pytest

from grader.models import CheckOutcome, CheckStatus, HarnessReport
from grader.score.rubric import Rubric
from grader.score.scoring import error_result, score

RUBRIC = Rubric.model_validate(
    {
        "assignment": "shm-handshake",
        "checks": {"build": 1, "run": 2.5, "cleanup": 1.5, "hidden-race": 3, "async-safe": 0},
    }
)


def outcome(check_id: str, status: CheckStatus, **extra) -> CheckOutcome:
    return CheckOutcome(id=check_id, name=check_id.replace("-", " "), status=status, **extra)


def report(*outcomes: CheckOutcome, **extra) -> HarnessReport:
    return HarnessReport(assignment="shm-handshake", language="c", checks=list(outcomes), **extra)


def by_id(result):
    return {check.id: check for check in result.checks}


def test_passed_failed_skipped_error():
    result = score(
        report(
            outcome("build", CheckStatus.passed),
            outcome("run", CheckStatus.failed),
            outcome("cleanup", CheckStatus.skipped),
            outcome("hidden-race", CheckStatus.error),
        ),
        RUBRIC,
        "alice",
        seconds=3.5,
    )
    assert result.status == "graded"
    assert result.student == "alice"
    assert result.language == "c"
    assert result.seconds == 3.5
    checks = by_id(result)
    assert [checks[i].score for i in ("build", "run", "cleanup", "hidden-race")] == [1, 0, 0, 0]
    assert [checks[i].max_score for i in ("build", "run", "cleanup", "hidden-race")] == [
        1, 2.5, 1.5, 3
    ]
    assert checks["run"].status is CheckStatus.failed
    assert result.score == 1.0
    assert result.max_score == 8.0


def test_hidden_checks_count_and_keep_flag():
    result = score(
        report(
            outcome("build", CheckStatus.passed),
            outcome("hidden-race", CheckStatus.passed, hidden=True),
        ),
        RUBRIC,
        "bob",
    )
    assert by_id(result)["hidden-race"].hidden is True
    assert result.score == 4.0
    assert result.max_score == 4.0


def test_max_is_over_checks_present_only():
    result = score(report(outcome("build", CheckStatus.passed)), RUBRIC, "carol")
    assert (result.score, result.max_score) == (1.0, 1.0)


def test_check_absent_from_rubric_is_worth_nothing():
    result = score(
        report(outcome("build", CheckStatus.passed), outcome("mystery", CheckStatus.passed)),
        RUBRIC,
        "dave",
    )
    mystery = by_id(result)["mystery"]
    assert (mystery.score, mystery.max_score) == (0.0, 0.0)
    assert mystery.advisory is True
    assert (result.score, result.max_score) == (1.0, 1.0)


def test_zero_point_check_is_advisory():
    result = score(report(outcome("async-safe", CheckStatus.failed)), RUBRIC, "erin")
    check = by_id(result)["async-safe"]
    assert check.advisory is True
    assert result.max_score == 0.0


def test_scores_are_rounded():
    rubric = Rubric.model_validate({"assignment": "x", "checks": {"a": 0.1, "b": 0.2, "c": 1 / 3}})
    result = score(
        report(*(outcome(i, CheckStatus.passed) for i in "abc")), rubric, "frank"
    )
    assert result.score == 0.63
    assert result.max_score == 0.63
    assert by_id(result)["c"].score == 0.33


def test_error_report_scores_zero_out_of_rubric_total():
    result = score(
        report(outcome("build", CheckStatus.passed), error="harness crashed: out of memory"),
        RUBRIC,
        "grace",
        seconds=1.0,
    )
    assert result.status == "error"
    assert result.error == "harness crashed: out of memory"
    assert result.score == 0.0
    assert result.max_score == 8.0
    # what ran before the crash is kept for the student, but earns nothing
    assert by_id(result)["build"].score == 0.0
    assert by_id(result)["build"].max_score == 1.0


def test_error_result():
    result = error_result("heidi", "archive is corrupt", RUBRIC, seconds=0.25)
    assert result.status == "error"
    assert result.error == "archive is corrupt"
    assert (result.score, result.max_score, result.seconds) == (0.0, 8.0, 0.25)
    assert result.checks == []


@pytest.mark.parametrize("status", list(CheckStatus))
def test_only_passed_earns_points(status):
    result = score(report(outcome("run", status)), RUBRIC, "ivan")
    assert result.score == (2.5 if status is CheckStatus.passed else 0.0)
