"""Grade one submission: sandbox run -> harness report -> score. Never raises for bad student input."""
from __future__ import annotations

import time

from pydantic import ValidationError

from . import sandbox
from .assignments import Assignment
from .dockerenv import DockerUnavailable
from .models import HarnessReport, Submission, SubmissionResult
from .score import error_result, score

import requests
from docker.errors import DockerException


def grade_submission(client, image: str, assignment: Assignment, sub: Submission,
                     limits: sandbox.Limits = sandbox.Limits(), visible_only: bool = False) -> SubmissionResult:
    t0 = time.monotonic()

    def error(msg: str) -> SubmissionResult:
        return error_result(sub.student, msg, assignment.rubric, seconds=time.monotonic() - t0)

    if sub.problem:
        return error(sub.problem)
    try:
        res = sandbox.run_harness(client, image, sub.path, assignment.name, limits, visible_only)
    except (DockerException, requests.RequestException) as e:
        raise DockerUnavailable(f"the Docker daemon failed while grading {sub.student}: {e}") from None
    if res.oom_killed:
        return error(f"the grading run hit the memory limit ({limits.memory}); "
                     "a program allocated far more memory than this assignment needs")
    if res.timed_out:
        return error(f"the grading run hit the time limit ({limits.wall_seconds} s for the whole submission)")
    text = res.stdout.decode(errors="replace").strip().splitlines()
    try:
        report = HarnessReport.model_validate_json(text[-1] if text else "")
    except (ValidationError, ValueError):
        tail = res.stderr.decode(errors="replace")[-1500:]
        return error(f"internal error: the harness gave no result (exit {res.exit_code}). {tail}".strip())
    if report.assignment != assignment.name:
        return error("internal error: the harness answered for another assignment")
    return score(report, assignment.rubric, sub.student, seconds=time.monotonic() - t0)
