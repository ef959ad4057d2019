"""The local runner with and without an init that reaps orphans, measured in the same run.

    python3 bench/localrun_init.py [--assignment NAME ...] [--jobs 2]

For each assignment, every reference and mutant is graded by the local runner (as `grade check
--local` grades a student's folder) twice, in alternating order: as shipped, where the namespace's
PID 1 is a shell that reaps the run's orphans, and with the harness itself as PID 1 (the wrapper
ending in `exec`), which never reaped them. A zombie stays in /proc, and every clean-up's kill
loop waited out its limit for it. Prints both wall times and their ratio.
"""
from __future__ import annotations

import argparse
import time

from grader import assignments, selftest
from grader.batch import grade_all
from grader.run import localrun

SHIPPED = list(localrun.PRIVATE_DEV_SHM)
HARNESS_AS_PID_1 = [*SHIPPED[:2], SHIPPED[2].replace('&& "$@"', '&& exec "$@"'), *SHIPPED[3:]]


def grade_seconds(name: str, wrapper: list[str], jobs: int) -> float:
    localrun.PRIVATE_DEV_SHM = wrapper          # read by LocalRunner._wrap at each run
    a = assignments.load(name)
    started = time.monotonic()
    book = grade_all(a, selftest.submissions(selftest.cases(a)), jobs=jobs, visible_only=True,
                     runner=localrun.runner())
    seconds = time.monotonic() - started
    bad = [r.student for r in book.submissions if r.status != "graded"]
    if bad:
        raise SystemExit(f"{name}: not graded: {bad}")
    return seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--assignment", action="append")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    assert HARNESS_AS_PID_1 != SHIPPED, "the wrapper no longer has the shape this benchmark edits"
    print(f"{'assignment':16} {'init reaps':>11} {'harness PID 1':>14} {'ratio':>6}")
    for name in args.assignment or assignments.available():
        order = [("reaps", SHIPPED), ("pid 1", HARNESS_AS_PID_1)]
        if len(name) % 2 == 0:
            order.reverse()                    # which goes first alternates between assignments
        took = {label: grade_seconds(name, wrapper, args.jobs) for label, wrapper in order}
        reaps, pid1 = took["reaps"], took["pid 1"]
        print(f"{name:16} {reaps:10.1f}s {pid1:13.1f}s {pid1 / reaps:5.2f}x", flush=True)
    localrun.PRIVATE_DEV_SHM = SHIPPED


if __name__ == "__main__":
    main()
