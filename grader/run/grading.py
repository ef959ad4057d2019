"""Grade one submission: run the harness (any Runner) -> rebuild its report -> score.

Never raises for bad student input: every problem becomes an error verdict.
Only a runner that cannot run anything propagates (RunnerUnavailable), so a
batch can say so once instead of blaming every student.
"""
from __future__ import annotations

import time

from pydantic import ValidationError

from grader.assignments import Assignment
from grader.discover.staging import SubmissionTooLarge
from grader.models import (
    HARNESS_EVENT,
    CheckEvent,
    CheckOutcome,
    CheckStatus,
    EndEvent,
    HarnessReport,
    PlanEvent,
    Submission,
    SubmissionResult,
)
from grader.run.runners import Limits, Runner, RunResult, announce
from grader.score.scoring import error_result, score


def _events(res: RunResult) -> list:
    """The harness's JSON lines that parse; a line cut short by a kill is dropped."""
    events = []
    for line in res.stdout.decode(errors="replace").splitlines():
        try:
            events.append(HARNESS_EVENT.validate_json(line))
        except (ValidationError, ValueError):
            continue
    return events


def _stop_reason(res: RunResult, limits: Limits) -> tuple[str, str] | None:
    """What stopped the harness from outside and what that suggests, or None if it stopped on its own."""
    if res.oom_killed:
        return (f"the grading run hit the memory limit ({limits.memory})",
                "a program allocated far more memory than this assignment needs")
    if res.timed_out:
        return f"the grading run hit the time limit ({limits.wall_seconds} s for the whole submission)", ""
    return None


def parse_report(res: RunResult, limits: Limits) -> HarnessReport | str:
    """The harness's report, rebuilt from its stream of lines, or why there is none (a one-line reason).

    A student process killed by the out-of-memory killer still leaves the harness
    alive with a report. When the harness itself is stopped (the whole-submission
    time or memory limit) after announcing its checks, every check that finished
    keeps its verdict, the one that was running gets an error saying what stopped
    it, and the ones never reached are skipped, saying so. A harness that died on
    its own (a grader bug) keeps the same verdicts for reading, but the submission
    is an error, so it is rerun rather than scored.
    """
    events = _events(res)
    plan = next((e for e in events if isinstance(e, PlanEvent)), None)
    end = next((e for e in events if isinstance(e, EndEvent)), None)
    outcomes = [e.outcome for e in events if isinstance(e, CheckEvent)]
    reason = _stop_reason(res, limits)
    if end is not None:
        return HarnessReport(assignment=end.assignment, language=plan.language if plan else None,
                             checks=outcomes, error=end.error, stats=end.stats)
    tail = res.stderr.decode(errors="replace")[-1500:]
    died = f"internal error: the harness gave no result (exit {res.exit_code}). {tail}".strip()
    if plan is None:
        return "; ".join(filter(None, reason)) if reason else died
    if reason is None:
        return HarnessReport(assignment=plan.assignment, language=plan.language, error=died,
                             checks=_account_for_plan(plan, outcomes, ("the grader stopped unexpectedly", "")))
    return HarnessReport(assignment=plan.assignment, language=plan.language,
                         checks=_account_for_plan(plan, outcomes, reason))


def _account_for_plan(plan: PlanEvent, outcomes: list[CheckOutcome], reason: tuple[str, str]) -> list[CheckOutcome]:
    """Every planned check once: its verdict if it has one, else why it has none."""
    what, detail = reason
    done = {o.id: o for o in outcomes}
    out, running_seen = [], False
    for c in plan.checks:
        if c.id in done:
            out.append(done[c.id])
            continue
        common = {"id": c.id, "name": c.name, "hidden": c.hidden, "advisory": c.advisory}
        if not running_seen:
            running_seen = True
            out.append(CheckOutcome(**common, status=CheckStatus.error,
                                    message=f"This check was running when {what}, so it has no verdict"
                                            f"{'; ' + detail if detail else ''}. Every check that finished "
                                            "before it kept its own."))
        else:
            out.append(CheckOutcome(**common, status=CheckStatus.skipped,
                                    message=f"{what[0].upper()}{what[1:]} before this check started."))
    return out


def harness_report(runner: Runner, assignment: Assignment, sub: Submission,
                   visible_only: bool = False) -> HarnessReport | str:
    """Run the harness on one submission: its report, or a one-line reason why there is none."""
    if sub.problem:
        return sub.problem
    try:
        res = runner.run(sub.path, assignment.name, visible_only)
    except SubmissionTooLarge as e:
        return str(e)
    report = parse_report(res, runner.limits)
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


def grade_submission(runner: Runner, assignment: Assignment, sub: Submission,
                     visible_only: bool = False) -> SubmissionResult:
    """One submission, start to finish, in an already open runner."""
    announce(runner, 1)
    t0 = time.monotonic()
    report = harness_report(runner, assignment, sub, visible_only)
    return result_from(report, assignment, sub.student, seconds=time.monotonic() - t0)
