"""mq-mailbox: the blocking verdicts are kernel evidence, so they hold with both cores busy with other work.

The session's shared runs (conftest.verdict_runs) grade the references and the
busy-waiting mutants in full (twice) while two CPU-burning processes keep
both cores busy; every check must reach the verdict its manifest asks for, the
same each time, and the failures must still show the measured figures.
"""
from __future__ import annotations

import pytest

from grader import selftest

from conftest import RUN_MODES

ASSIGNMENT = "mq-mailbox"
# The references, and every mutant whose bug is judged by blocked_in's figures.
UNDER_LOAD = ["reference/c", "reference/python", "mutant/c-recv-busy-poll", "mutant/py-recv-sleep-poll",
              "mutant/py-send-busy-retry"]


def statuses(result) -> dict[str, str]:
    return {c.id: c.status.value for c in result.checks}


@pytest.mark.docker
def test_verdicts_are_the_same_with_both_cores_busy(verdict_runs):
    """The shared runs grade every case in full (twice) while two burners keep both cores busy."""
    cases = {c.name: c for c in verdict_runs["cases"][ASSIGNMENT]}
    full = [{r.student: r for r in b.submissions}
            for mode, b in zip(RUN_MODES, verdict_runs["books"][ASSIGNMENT]) if mode == "full"]
    for name in UNDER_LOAD:
        for run in full:
            assert selftest.verdict(cases[name], run[name]) is None, (name, statuses(run[name]))
            assert statuses(run[name]) == statuses(full[0][name]), name


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
