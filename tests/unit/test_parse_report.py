"""grading.parse_report: the host rebuilds a report from the harness's JSON lines, whole or cut short."""
from __future__ import annotations

import json

from grader.models import CheckStatus, HarnessReport, Submission
from grader.run.grading import harness_report, parse_report
from grader.run.runners import Limits, RunResult

LIMITS = Limits(wall_seconds=60, memory="256m")
PLAN = {"event": "plan", "assignment": "demo", "language": "c", "checks": [
    {"id": "build", "name": "builds"}, {"id": "one", "name": "first"},
    {"id": "two", "name": "second", "hidden": True}, {"id": "three", "name": "third", "advisory": True}]}


def verdict(cid: str, status: str = "passed", **extra) -> dict:
    return {"event": "check", "outcome": {"id": cid, "name": cid, "status": status, **extra}}


END = {"event": "end", "assignment": "demo", "error": None, "stats": {"kill_latencies": [0.01]}}


def stream(*events, cut: str = "") -> bytes:
    return ("".join(json.dumps(e) + "\n" for e in events) + cut).encode()


def result(stdout: bytes, **kw) -> RunResult:
    return RunResult(kw.pop("exit_code", 0), stdout, kw.pop("stderr", b""), **kw)


def test_a_complete_stream_is_the_report():
    out = stream(PLAN, verdict("build"), verdict("one", "failed", message="wrong"), verdict("two"),
                 verdict("three"), END)
    report = parse_report(result(out), LIMITS)
    assert isinstance(report, HarnessReport)
    assert (report.assignment, report.language, report.error) == ("demo", "c", None)
    assert [(c.id, c.status.value) for c in report.checks] == [("build", "passed"), ("one", "failed"),
                                                              ("two", "passed"), ("three", "passed")]
    assert report.stats == {"kill_latencies": [0.01]}


def test_a_student_oom_that_left_the_harness_alive_keeps_the_report():
    out = stream(PLAN, verdict("build"), verdict("one"), verdict("two"), verdict("three"), END)
    report = parse_report(result(out, oom_killed=True), LIMITS)
    assert isinstance(report, HarnessReport) and all(c.status == CheckStatus.passed for c in report.checks)


def test_killed_at_the_wall_limit_keeps_every_finished_verdict():
    out = stream(PLAN, verdict("build"), verdict("one", "failed", message="wrong"), cut='{"event": "che')
    report = parse_report(result(out, exit_code=137, timed_out=True), LIMITS)
    assert isinstance(report, HarnessReport) and report.error is None
    by_id = {c.id: c for c in report.checks}
    assert [c.id for c in report.checks] == ["build", "one", "two", "three"]
    assert by_id["one"].status == CheckStatus.failed and by_id["one"].message == "wrong"
    running = by_id["two"]
    assert running.status == CheckStatus.error and running.hidden
    assert "was running when the grading run hit the time limit (60 s for the whole submission)" in running.message
    assert by_id["three"].status == CheckStatus.skipped and by_id["three"].advisory
    assert by_id["three"].message == "The grading run hit the time limit (60 s for the whole submission) " \
                                     "before this check started."


def test_killed_by_the_memory_limit_says_so_on_the_running_check():
    out = stream(PLAN, verdict("build"))
    report = parse_report(result(out, exit_code=137, oom_killed=True), LIMITS)
    running = report.checks[1]
    assert running.id == "one" and running.status == CheckStatus.error
    assert "memory limit (256m), so it has no verdict; a program allocated far more memory" in running.message


def test_a_harness_that_died_on_its_own_is_an_error_with_its_verdicts_kept():
    out = stream(PLAN, verdict("build"), verdict("one"))
    report = parse_report(result(out, exit_code=1, stderr=b"Traceback: boom"), LIMITS)
    assert report.error.startswith("internal error: the harness gave no result (exit 1)") and "boom" in report.error
    assert [c.status.value for c in report.checks] == ["passed", "passed", "error", "skipped"]
    assert "the grader stopped unexpectedly" in report.checks[2].message


def test_no_plan_gives_the_old_one_line_reasons():
    assert parse_report(result(b"", exit_code=137, timed_out=True), LIMITS) == \
        "the grading run hit the time limit (60 s for the whole submission)"
    assert parse_report(result(b"", exit_code=137, oom_killed=True), LIMITS).startswith(
        "the grading run hit the memory limit (256m)")
    reason = parse_report(result(b"garbage\n", exit_code=1, stderr=b"ImportError: x"), LIMITS)
    assert reason.startswith("internal error: the harness gave no result (exit 1).") and "ImportError" in reason


def test_a_harness_error_before_any_check_is_an_error_report():
    out = stream({"event": "end", "assignment": "demo", "error": "internal harness error: KeyError: 'programs'"})
    report = parse_report(result(out), LIMITS)
    assert report.error == "internal harness error: KeyError: 'programs'" and report.checks == []


def test_lines_that_are_not_events_are_ignored():
    out = stream(PLAN, {"event": "check", "outcome": {"id": "build"}}, {"event": "forged"}, verdict("build"),
                 verdict("one"), verdict("two"), verdict("three"), END)
    report = parse_report(result(b"not json\n" + out), LIMITS)
    assert [c.id for c in report.checks] == ["build", "one", "two", "three"]


class FakeRunner:
    limits = LIMITS

    def __init__(self, stdout: bytes):
        self.stdout = stdout

    def run(self, submission, assignment, visible_only=False):
        return result(self.stdout)


def test_a_report_for_another_assignment_is_refused(tmp_path):
    class Demo:
        name = "other"
    out = stream(PLAN, verdict("build"), END)
    got = harness_report(FakeRunner(out), Demo(), Submission(student="s", path=tmp_path))
    assert got == "internal error: the harness answered for another assignment"
