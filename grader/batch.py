"""Grade many submissions in parallel and build the gradebook, whatever happens to any one of them.

With a result store, unchanged submissions are not run again (their stored
harness reports are rescored with the current rubric), each finished
submission is saved at once, and an interrupted batch resumes where it stopped.
"""
from __future__ import annotations

import os
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from grader.assignments import Assignment
from grader.models import Gradebook, HarnessReport, Submission
from grader.run.grading import harness_report, result_from
from grader.run.image import harness_hash
from grader.run.runners import Runner, RunnerUnavailable, announce, default_runner
from grader.score.rubric import rubric_hash
from grader.score.scoring import error_result
from grader.spool import ResultSpool
from grader.store import CacheKey, ResultStore, StoredResult, content_hash


def default_jobs() -> int:
    return max(1, os.cpu_count() or 1)


@dataclass
class BatchRun:
    book: Gradebook
    ran: int = 0          # submissions the harness actually ran
    reused: int = 0       # submissions whose stored report was reused
    runner_down: str | None = None   # why the runner stopped working mid-batch (no Docker daemon, ...)


def grade_batch(assignment: Assignment, submissions: list[Submission], *, jobs: int | None = None,
                visible_only: bool = False, console: Console | None = None, runner: Runner | None = None,
                store: ResultStore | None = None, force: bool = False) -> BatchRun:
    """Grade every submission; a failure of one never loses the others' results.

    The runner is opened only if something must run (a fully cached batch needs
    no Docker) and closed at the end, which stops anything still running.
    Each result goes to a spool on disk as it arrives, so the grader's memory
    does not grow with the class.
    """
    console = console or Console(stderr=True)
    runner = runner if runner is not None else default_runner(assignment.where)
    harness, rubric = harness_hash(assignment.name, assignment.where), rubric_hash(assignment.rubric_path)
    results = ResultSpool(len(submissions))
    todo: list[tuple[int, Submission, CacheKey | None, dict]] = []
    reused = 0
    for i, sub in enumerate(submissions):
        if sub.problem:
            results.put(i, error_result(sub.student, sub.problem, assignment.rubric))
            continue
        key = CacheKey(content=content_hash(sub.path), assignment=assignment.name, harness=harness,
                       visible_only=visible_only, limits=repr(runner.limits))
        provenance = {"content": key.content, "harness": harness, "rubric": rubric}
        stored = store.get(sub.student) if store and not force else None
        if stored and stored.key == key:
            results.put(i, result_from(stored.report, assignment, sub.student, stored.seconds, provenance))
            reused += 1
        else:
            todo.append((i, sub, key, provenance))
    runner_down = None

    def work(sub: Submission) -> tuple[HarnessReport | str, float]:
        t0 = time.monotonic()
        return harness_report(runner, assignment, sub, visible_only), time.monotonic() - t0

    def record(i: int, sub: Submission, key: CacheKey, prov: dict, fut: Future) -> None:
        nonlocal runner_down
        try:
            report, seconds = fut.result()
            if store is not None and isinstance(report, HarnessReport):
                store.put(StoredResult(student=sub.student, key=key, report=report, seconds=seconds))
            results.put(i, result_from(report, assignment, sub.student, seconds, prov))
        except RunnerUnavailable as e:
            runner_down = str(e)
            results.put(i, error_result(sub.student, str(e), assignment.rubric))
        except Exception as e:  # a grader bug must not cost the other students their results
            results.put(i, error_result(sub.student, f"internal grader error: {type(e).__name__}: {e}",
                                        assignment.rubric))

    if todo:
        with runner:
            announce(runner, len(todo))
            _run_all(todo, work, record, jobs or default_jobs(), runner, assignment.name, console)
    if runner_down:
        console.print(f"[red]Grading stopped working during the batch:[/red] {runner_down}\n"
                      "Every finished result was kept; rerun the same command once it works again "
                      "and it continues where it stopped.")
    book = Gradebook(assignment=assignment.name, submissions=results)
    return BatchRun(book, ran=len(todo), reused=reused, runner_down=runner_down)


def _run_all(todo: list, work, record, workers: int, runner: Runner, name: str, console: Console) -> None:
    """Keep `workers` submissions running; record each as it finishes; Ctrl-C stops every run."""
    progress = Progress(TextColumn("grading {task.description}"), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), console=console, transient=True, disable=not console.is_terminal)
    with progress, ThreadPoolExecutor(max_workers=workers) as pool:
        task = progress.add_task(name, total=len(todo))
        waiting = iter(todo)
        running: dict[Future, tuple] = {}

        def submit_next() -> None:
            # A few submissions in flight, not the whole class: finished reports must not pile up
            # in memory faster than they are stored.
            item = next(waiting, None)
            if item is not None:
                running[pool.submit(work, item[1])] = item

        for _ in range(2 * workers):
            submit_next()
        try:
            while running:
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for fut in done:
                    record(*running.pop(fut), fut)
                    progress.advance(task)
                    submit_next()
                del done, fut
        except KeyboardInterrupt:
            pool.shutdown(wait=False, cancel_futures=True)
            runner.cancel()
            raise


def grade_all(assignment: Assignment, submissions: list[Submission], **kwargs) -> Gradebook:
    return grade_batch(assignment, submissions, **kwargs).book
