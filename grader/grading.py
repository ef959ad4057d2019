"""Grade one submission: run the harness (container or local namespaces) -> report -> score.

Never raises for bad student input: every problem becomes an error verdict.
Only a failing Docker daemon propagates (DockerUnavailable), so a batch can say
so once instead of blaming every student.
"""
from __future__ import annotations

import time
from typing import Callable

import requests
from docker.errors import APIError, DockerException, ImageNotFound
from pydantic import ValidationError

from . import sandbox
from .assignments import Assignment
from .dockerenv import DockerUnavailable
from .models import HarnessReport, Submission, SubmissionResult
from .score import error_result, score
from .staging import SubmissionTooLarge, staged_copy


class GradingImageMissing(DockerUnavailable):
    """The image vanished mid-batch: every remaining submission would fail the same way."""

# (submission folder, assignment name, visible_only) -> what the harness printed
HarnessRunner = Callable[[object, str, bool], sandbox.SandboxResult]


def docker_runner(client, image: str, limits: sandbox.Limits = sandbox.Limits()) -> HarnessRunner:
    def run(path, assignment: str, visible_only: bool) -> sandbox.SandboxResult:
        try:
            with staged_copy(path) as clean:
                res = sandbox.run_harness(client, image, clean, assignment, limits, visible_only)
            if res.exit_code == 127 and b"[FATAL tini" in res.stderr:
                raise GradingImageMissing(f"the grading image {image} is broken "
                                          f"({res.stderr.decode(errors='replace').strip()[:200]}); "
                                          "rebuild it with `grade image build --force`")
            return res
        except ImageNotFound:
            raise GradingImageMissing(f"the grading image {image} is missing (removed during the batch?); "
                                      "rerun and it will be rebuilt") from None
        except APIError as e:
            if "OCI runtime" in str(e) or "executable file not found" in str(e):
                raise GradingImageMissing(f"the grading image {image} is broken ({e.explanation or e}); "
                                          "rebuild it with `grade image build --force`") from None
            raise DockerUnavailable(f"the Docker daemon failed: {e}") from None
        except (DockerException, requests.RequestException) as e:
            raise DockerUnavailable(f"the Docker daemon failed: {e}") from None
    run.limits = limits
    return run


def parse_report(res: sandbox.SandboxResult, limits: sandbox.Limits) -> HarnessReport | str:
    """The harness's report, or why there is none (a one-line reason for the gradebook).

    A student process killed by the out-of-memory killer still leaves the harness
    alive with a report; only when the harness itself gave no answer is the whole
    submission an error.
    """
    lines = res.stdout.decode(errors="replace").strip().splitlines()
    try:
        if not res.timed_out:
            return HarnessReport.model_validate_json(lines[-1] if lines else "")
    except (ValidationError, ValueError):
        pass
    if res.oom_killed:
        return (f"the grading run hit the memory limit ({limits.memory}); "
                "a program allocated far more memory than this assignment needs")
    if res.timed_out:
        return f"the grading run hit the time limit ({limits.wall_seconds} s for the whole submission)"
    tail = res.stderr.decode(errors="replace")[-1500:]
    return f"internal error: the harness gave no result (exit {res.exit_code}). {tail}".strip()


def harness_report(run: HarnessRunner, assignment: Assignment, sub: Submission,
                   visible_only: bool = False) -> HarnessReport | str:
    """Run the harness on one submission: its report, or a one-line reason why there is none."""
    if sub.problem:
        return sub.problem
    try:
        res = run(sub.path, assignment.name, visible_only)
    except SubmissionTooLarge as e:
        return str(e)
    report = parse_report(res, getattr(run, "limits", sandbox.Limits()))
    if isinstance(report, HarnessReport) and report.assignment != assignment.name:
        return "internal error: the harness answered for another assignment"
    return report


def result_from(report: HarnessReport | str, assignment: Assignment, student: str, seconds: float = 0.0,
                provenance: dict[str, str] | None = None) -> SubmissionResult:
    """Score a report with the current rubric (or turn a reason into an error verdict)."""
    if isinstance(report, str):
        result = error_result(student, report, assignment.rubric, seconds=seconds)
    else:
        result = score(report, assignment.rubric, student, seconds=seconds)
    if provenance:
        result = result.model_copy(update={"provenance": provenance})
    return result


def grade_submission(run: HarnessRunner, assignment: Assignment, sub: Submission,
                     visible_only: bool = False) -> SubmissionResult:
    t0 = time.monotonic()
    report = harness_report(run, assignment, sub, visible_only)
    return result_from(report, assignment, sub.student, seconds=time.monotonic() - t0)
