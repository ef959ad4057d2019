"""Grade many submissions in parallel and write the gradebook, whatever happens to any one of them."""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from . import dockerenv, sandbox
from .assignments import Assignment
from .dockerenv import DockerUnavailable
from .grading import HarnessRunner, docker_runner, grade_submission
from .image import ensure_image
from .models import Gradebook, Submission, SubmissionResult
from .score import error_result


def default_jobs() -> int:
    return max(1, os.cpu_count() or 1)


def grade_all(assignment: Assignment, submissions: list[Submission], *, jobs: int | None = None,
              visible_only: bool = False, console: Console | None = None,
              limits: sandbox.Limits = sandbox.Limits(), runner: HarnessRunner | None = None) -> Gradebook:
    """Grade every submission; a failure of one never loses the others' results."""
    console = console or Console(stderr=True)
    if runner is None:
        client = dockerenv.client()
        runner = docker_runner(client, ensure_image(client), limits)
        sandbox.clean_orphans(client)
    else:
        client = None
    results: dict[int, SubmissionResult] = {}
    docker_down: str | None = None
    progress = Progress(TextColumn("grading {task.description}"), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), console=console, transient=True, disable=not console.is_terminal)
    with progress, ThreadPoolExecutor(max_workers=jobs or default_jobs()) as pool:
        task = progress.add_task(assignment.name, total=len(submissions))
        futures = {pool.submit(grade_submission, runner, assignment, sub, visible_only): i
                   for i, sub in enumerate(submissions)}
        try:
            for fut in as_completed(futures):
                i = futures[fut]
                sub = submissions[i]
                try:
                    results[i] = fut.result()
                except DockerUnavailable as e:
                    docker_down = str(e)
                    results[i] = error_result(sub.student, str(e), assignment.rubric)
                except Exception as e:  # a grader bug must not cost the other students their results
                    results[i] = error_result(sub.student, f"internal grader error: {type(e).__name__}: {e}",
                                              assignment.rubric)
                progress.advance(task)
        except KeyboardInterrupt:
            pool.shutdown(wait=False, cancel_futures=True)
            if client is not None:
                sandbox.ACTIVE.kill_all(client)
            raise
    if docker_down:
        console.print(f"[red]The Docker daemon failed during the batch:[/red] {docker_down}\n"
                      "Finished results were kept; rerun once Docker is back.")
    return Gradebook(assignment=assignment.name, submissions=[results[i] for i in range(len(submissions))])
