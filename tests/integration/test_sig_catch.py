"""sig-catch: verdicts are stable when graded 10 times with both cores busy.

The session's shared runs (conftest.verdict_runs) already grade every reference
and mutant in full (twice) with both cores busy. This test adds the rest of the
loaded rounds for a representative subset, so it is graded ten times in all:
both references, and one mutant of each verdict that leans on timing:
the C busy waiter (judged by CPU time against wall time) and the Python one-shot
handler (judged by a second SIGINT sent while the program sleeps). The other
mutants are graded once, under the same load from other jobs, by the selftest.
Every round must give the same status for every check, and each must be the
verdict the manifest asks for.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from grader import assignments, selftest
from grader.batch import grade_all
from grader.models import Submission

from conftest import RUN_MODES, failure_notes

ROUNDS = 10
EXTRA_ROUNDS = ROUNDS - RUN_MODES.count("full")   # + the full runs of the shared loaded runs
SUBSET = ("reference/c", "reference/python", "mutant/c-busy-wait", "mutant/py-one-shot")
BURNERS = 2


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.docker
def test_verdicts_stable_over_ten_rounds_with_both_cores_loaded(verdict_runs):
    a = assignments.load("sig-catch")
    cases = [c for c in selftest.cases(a) if c.name in SUBSET]
    assert sorted(c.name for c in cases) == sorted(SUBSET)
    subs = [Submission(student=f"{c.name}#{r}", path=c.path) for r in range(EXTRA_ROUNDS) for c in cases]
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(BURNERS)]
    try:
        deadline = time.monotonic() + 10
        while not all(_cpu_seconds(b.pid) > 0.3 for b in burners):
            assert time.monotonic() < deadline, "the CPU burners are not burning"
            time.sleep(0.1)
        book = grade_all(a, subs)
    finally:
        for b in burners:
            b.kill()
        for b in burners:
            b.wait()
    by_student = {r.student: r for r in book.submissions}
    shared = [{r.student: r for r in b.submissions}
              for mode, b in zip(RUN_MODES, verdict_runs["books"]["sig-catch"]) if mode == "full"]
    problems = []
    for c in cases:
        rounds = [run[c.name] for run in shared] + [by_student[f"{c.name}#{r}"] for r in range(EXTRA_ROUNDS)]
        assert len(rounds) == ROUNDS
        statuses = [{ch.id: ch.status.value for ch in res.checks} for res in rounds]
        for r, (res, st) in enumerate(zip(rounds, statuses)):
            why = selftest.verdict(c, res)
            if why:
                problems.append(f"{c.name} round {r}: {why} [{failure_notes(res)}]")
            if st != statuses[0]:
                diff = {k: (statuses[0].get(k), v) for k, v in st.items() if statuses[0].get(k) != v}
                problems.append(f"{c.name} round {r}: statuses differ from round 0: {diff}")
    assert not problems, "\n".join(problems)     # a string: pytest shows it whole


@pytest.mark.docker
def test_a_wait_that_its_own_alarm_ends_less_than_five_times_a_second_is_not_busy(tmp_path):
    """The spec allows up to 5 wake-ups a second. c-alarm-poll's timer (150 ms) is over it and fails
    (selftest, in every loaded round); at 1 s and at 400 ms it is under it and passes. Under strace
    each such wake-up is six context switches, five of them the tracer's stops: counted raw, both
    used to fail the one-second measurement (6/s and 17/s) that a handled SIGALRM now always gets.
    At 190 ms (5.3 a second) the count says 5 or 6 by chance of the window's edges, and fewer on a
    loaded machine, where alarms a starved process has not taken merge: the period it armed decides."""
    from grader.mutants import apply
    a = assignments.load("sig-catch")
    subs = []
    for period, tick in (("1s", "{{1, 0}, {1, 0}}"), ("400ms", "{{0, 400000}, {0, 400000}}"),
                         ("190ms", "{{0, 190000}, {0, 190000}}")):
        dest = apply(a.mutants_dir / "c-alarm-poll.patch", a.reference_dir / "c", tmp_path / period)
        src = dest / "sigcatch.c"
        text = src.read_text()
        assert "{{0, 150000}, {0, 150000}}" in text
        src.write_text(text.replace("{{0, 150000}, {0, 150000}}", tick))
        subs.append(Submission(student=period, path=dest))
    book = grade_all(a, subs)
    for res in book.submissions:
        statuses = {c.id: c.status.value for c in res.checks}
        failed = {k for k, v in statuses.items() if v != "passed"}
        expected = {"no-busy-wait", "robust-interrupted-write"} if res.student == "190ms" else set()  # (skipped)
        assert res.status == "graded" and failed == expected, (res.student, statuses)
    busy = next(c for c in book.submissions[2].checks if c.id == "no-busy-wait")
    assert "interval timer that fires every 190 ms" in busy.outcome.message or "woke up" in busy.outcome.message
