"""batch.grade_batch with a fake Runner: caching, rescoring, resuming, and one bad submission never
costing the others their results. No Docker: the fake answers with a harness stream of its own."""
from __future__ import annotations

import dataclasses
import json
import threading

import pytest

from grader import assignments
from grader.batch import grade_batch
from grader.run.runners import Limits, RunnerUnavailable, RunResult, SharedOpen
from grader.score.rubric import load_rubric
from grader.store import ResultStore


class FakeRunner(SharedOpen):
    """Answers every submission with a stream where each check passes, except those its
    `answers.txt` names as failed; `crash` and `down` make a submission's run raise."""

    def __init__(self, checks: list[str], limits: Limits = Limits()):
        self.limits = limits
        self.checks = checks
        self.ran: list[str] = []
        self.opened = 0
        self._lock = threading.Lock()

    def _open(self):
        self.opened += 1

    def run(self, submission, assignment, visible_only=False):
        text = (submission / "answers.txt").read_text()
        with self._lock:
            self.ran.append(submission.name)
        if "crash" in text:
            raise KeyError("a grader bug")
        if "down" in text:
            raise RunnerUnavailable("the runner stopped working")
        failed = set(text.split())
        lines = [{"event": "plan", "assignment": assignment, "language": "c",
                  "checks": [{"id": c, "name": c} for c in self.checks]}]
        lines += [{"event": "check", "outcome": {"id": c, "name": c,
                                                 "status": "failed" if c in failed else "passed"}}
                  for c in self.checks]
        lines.append({"event": "end", "assignment": assignment})
        return RunResult(0, "".join(json.dumps(x) + "\n" for x in lines).encode(), b"")


@pytest.fixture
def demo():
    return assignments.load("shm-handshake")


def make_class(root, answers: dict[str, str]):
    from grader.models import Submission
    subs = []
    for student, text in answers.items():
        (root / student).mkdir(parents=True, exist_ok=True)
        (root / student / "answers.txt").write_text(text)
        subs.append(Submission(student=student, path=root / student))
    return subs


def scores(run) -> dict[str, float]:
    return {s.student: s.score for s in run.book.submissions}


def test_unchanged_submissions_are_reused_and_a_changed_one_is_rerun(tmp_path, demo):
    checks = list(demo.rubric.checks)
    subs = make_class(tmp_path / "class", {"ann": "", "bob": "sum-correct", "cat": "no-leaks"})
    store = ResultStore(tmp_path / "out")
    first = grade_batch(demo, subs, runner=FakeRunner(checks), store=store, jobs=2)
    assert (first.ran, first.reused) == (3, 0)
    assert scores(first) == {"ann": demo.rubric.total, "bob": demo.rubric.total - 2, "cat": demo.rubric.total - 1}

    again = FakeRunner(checks)
    second = grade_batch(demo, subs, runner=again, store=store, jobs=2)
    assert (second.ran, second.reused, again.ran, again.opened) == (0, 3, [], 0)   # nothing to run: no runner opened
    assert scores(second) == scores(first)

    (tmp_path / "class" / "bob" / "answers.txt").write_text("")
    third_runner = FakeRunner(checks)
    third = grade_batch(demo, subs, runner=third_runner, store=store, jobs=2)
    assert third_runner.ran == ["bob"] and (third.ran, third.reused) == (1, 2)
    assert scores(third)["bob"] == demo.rubric.total
    assert [s.student for s in third.book.submissions] == ["ann", "bob", "cat"]     # submission order kept

    forced = FakeRunner(checks)
    grade_batch(demo, subs, runner=forced, store=store, force=True)
    assert sorted(forced.ran) == ["ann", "bob", "cat"]


def test_other_limits_or_visible_only_rerun_everything(tmp_path, demo):
    checks = list(demo.rubric.checks)
    subs = make_class(tmp_path / "class", {"ann": ""})
    store = ResultStore(tmp_path / "out")
    grade_batch(demo, subs, runner=FakeRunner(checks), store=store)
    assert grade_batch(demo, subs, runner=FakeRunner(checks, Limits(memory="1g")), store=store).ran == 1
    assert grade_batch(demo, subs, runner=FakeRunner(checks, Limits(memory="1g")), store=store,
                       visible_only=True).ran == 1


def test_a_rubric_change_rescores_without_running(tmp_path, demo):
    checks = list(demo.rubric.checks)
    subs = make_class(tmp_path / "class", {"ann": "sum-correct"})
    store = ResultStore(tmp_path / "out")
    first = grade_batch(demo, subs, runner=FakeRunner(checks), store=store)
    heavier = tmp_path / "rubric.yaml"
    heavier.write_text(demo.rubric_path.read_text().replace("sum-correct: 2", "sum-correct: 5"))
    reweighted = dataclasses.replace(demo, rubric=load_rubric(heavier), rubric_path=heavier)
    runner = FakeRunner(checks)
    second = grade_batch(reweighted, subs, runner=runner, store=store)
    assert runner.ran == [] and second.reused == 1
    (old,), (new,) = first.book.submissions, second.book.submissions
    assert new.score == old.score and new.max_score == old.max_score + 3
    assert old.provenance["rubric"] != new.provenance["rubric"]
    assert old.provenance["content"] == new.provenance["content"]


def test_one_broken_submission_never_loses_the_others(tmp_path, demo):
    checks = list(demo.rubric.checks)
    subs = make_class(tmp_path / "class", {"ann": "", "bug": "crash", "cat": ""})
    subs.append(subs[0].model_copy(update={"student": "corrupt", "problem": "unsafe archive"}))
    store = ResultStore(tmp_path / "out")
    run = grade_batch(demo, subs, runner=FakeRunner(checks), store=store, jobs=2)
    by = {s.student: s for s in run.book.submissions}
    assert by["ann"].status == by["cat"].status == "graded" and by["ann"].score == demo.rubric.total
    assert by["bug"].status == "error" and by["bug"].error == "internal grader error: KeyError: 'a grader bug'"
    assert by["corrupt"].status == "error" and by["corrupt"].error == "unsafe archive"
    assert run.runner_down is None
    # Only real reports are stored: the crashed submission is run again next time.
    runner = FakeRunner(checks)
    grade_batch(demo, subs, runner=runner, store=store)
    assert runner.ran == ["bug"]


def test_a_runner_that_stops_working_is_reported_once_and_the_rest_is_kept(tmp_path, demo):
    checks = list(demo.rubric.checks)
    subs = make_class(tmp_path / "class", {"ann": "", "bob": "down"})
    run = grade_batch(demo, subs, runner=FakeRunner(checks), jobs=1)
    assert run.runner_down == "the runner stopped working"
    by = {s.student: s for s in run.book.submissions}
    assert by["ann"].status == "graded" and by["bob"].error == "the runner stopped working"


def test_a_runner_shared_by_concurrent_batches_opens_once_and_closes_last(tmp_path, demo):
    checks = list(demo.rubric.checks)
    runner = FakeRunner(checks)
    cancelled = []
    runner.cancel = lambda: cancelled.append(True)
    with runner:
        grade_batch(demo, make_class(tmp_path / "a", {"ann": ""}), runner=runner)
        assert cancelled == [] and runner.opened == 1
    assert cancelled == [True]
