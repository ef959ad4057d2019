"""Deterministic verdicts: every reference and mutant of every assignment, graded five times while
both cores are busy with other work, gets exactly the same per-check verdicts every time (and the
same as the unloaded run). A check that flips here must be redesigned, not retried."""
import subprocess
import sys

import pytest

from grader import assignments, selftest
from grader.batch import grade_all

RUNS = 5


def verdicts(book) -> dict:
    return {s.student: (s.status, tuple((c.id, c.status.value) for c in s.checks)) for s in book.submissions}


@pytest.fixture
def busy_cores():
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    try:
        yield
    finally:
        for b in burners:
            b.kill()
            b.wait()


@pytest.mark.docker
@pytest.mark.parametrize("name", assignments.available())
def test_verdicts_are_identical_five_times_on_busy_cores(name, full_grades, busy_cores):
    cases, unloaded = full_grades(name)
    a = assignments.load(name)
    expected = verdicts(unloaded)
    flips = []
    for run in range(RUNS):
        got = verdicts(grade_all(a, selftest.submissions(cases), jobs=3))
        flips += [f"run {run + 1}: {case}: {got[case]} != {expected[case]}" for case in expected if got[case] != expected[case]]
    assert flips == []
