"""mq-mailbox: the blocking verdicts are kernel evidence, so they hold with both cores busy with other work.

The references and the busy-waiting mutants are graded once on the machine as
it is (the session's shared full selftest run) and once more while two
CPU-burning processes keep both cores busy; every check must reach the same
verdict, and the failures must still show the measured figures.
"""
from __future__ import annotations

import subprocess
import sys

import pytest

from grader import assignments, selftest
from grader.batch import grade_all

ASSIGNMENT = "mq-mailbox"
# The references, and every mutant whose bug is judged by blocked_in's figures.
UNDER_LOAD = ["reference/c", "reference/python", "mutant/c-recv-busy-poll", "mutant/py-recv-sleep-poll",
              "mutant/py-send-busy-retry"]
BURNERS = 2          # "both cores"
BURN = "while True: pass"


def statuses(result) -> dict[str, str]:
    return {c.id: c.status.value for c in result.checks}


@pytest.mark.docker
def test_verdicts_are_the_same_with_both_cores_busy(full_grades):
    cases, quiet_book = full_grades(ASSIGNMENT)
    quiet = {r.student: r for r in quiet_book.submissions}
    chosen = [c for c in cases if c.name in UNDER_LOAD]
    assert sorted(c.name for c in chosen) == sorted(UNDER_LOAD)
    a = assignments.load(ASSIGNMENT)

    burners = [subprocess.Popen([sys.executable, "-c", BURN]) for _ in range(BURNERS)]
    try:
        loaded_book = grade_all(a, selftest.submissions(chosen))
        assert all(b.poll() is None for b in burners), "a CPU burner died: the load was not there throughout"
    finally:
        for b in burners:
            b.kill()
            b.wait()

    loaded = {r.student: r for r in loaded_book.submissions}
    for case in chosen:
        assert selftest.verdict(case, loaded[case.name]) is None, (case.name, statuses(loaded[case.name]))
        assert statuses(loaded[case.name]) == statuses(quiet[case.name]), case.name


@pytest.mark.docker
def test_busy_waiting_feedback_shows_the_figures(full_grades):
    cases, book = full_grades(ASSIGNMENT)
    by_name = {r.student: r for r in book.submissions}
    for mutant, check_id in (("mutant/c-recv-busy-poll", "recv-blocks"),
                             ("mutant/py-recv-sleep-poll", "recv-blocks"),
                             ("mutant/py-send-busy-retry", "send-blocks-when-full")):
        (check,) = [c for c in by_name[mutant].checks if c.id == check_id]
        assert check.status.value == "failed"
        text = check.outcome.message + "\n" + "\n".join(e.text for e in check.outcome.evidence)
        for figure in ("CPU time", "ratio", "woke up", "limit", "wchan"):
            assert figure in text, (mutant, figure, text[:2000])
    for ref in ("reference/c", "reference/python"):
        assert all(c.status.value == "passed" for c in by_name[ref].checks)
