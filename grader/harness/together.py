"""Run a few jobs of the harness at the same time, each in a thread of its own.

Used where independent work would otherwise wait in turn: the build's compiles
(a second core is often free) and two processes measured over one window. The
first job runs in the caller's thread. A thread is a task of the container's
pid limit, which a student's fork bomb can fill: a job that gets no thread
runs in the caller's thread instead, so the results are the same, only later.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def side_by_side(jobs: list[Callable[[], T]], name: str = "together") -> list[T]:
    """Each job's result, in order; the first exception, in job order, is raised once all have ended."""
    outcomes: list[tuple[bool, object] | None] = [None] * len(jobs)

    def one(i: int) -> None:
        try:
            outcomes[i] = (True, jobs[i]())
        except BaseException as e:  # noqa: B036 -- re-raised in the caller's thread
            outcomes[i] = (False, e)
    threads = []
    for i in range(1, len(jobs)):
        t = threading.Thread(target=one, args=(i,), name=name, daemon=True)
        try:
            t.start()
            threads.append(t)
        except RuntimeError:           # no thread to be had: in this one, after the others started
            one(i)
    if jobs:
        one(0)
    for t in threads:
        t.join()
    for ok, value in outcomes:
        if not ok:
            raise value
    return [value for _, value in outcomes]
