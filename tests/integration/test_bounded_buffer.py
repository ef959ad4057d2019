"""bounded-buffer: the feedback a student gets for a semaphore protocol bug names the semaphores.

Judged on the session's shared runs (conftest.verdict_runs), so these tests grade nothing of
their own: they read the first full gradebook.
"""
from __future__ import annotations

import pytest

ASSIGNMENT = "bounded-buffer"


def failed(book, case: str, check_id: str):
    (result,) = [r for r in book.submissions if r.student == case]
    (check,) = [c for c in result.checks if c.id == check_id]
    assert check.status.value == "failed", (case, check_id, check.status)
    return check.outcome.message, "\n".join(f"{e.label}\n{e.text}" for e in check.outcome.evidence)


@pytest.mark.docker
def test_deadlock_is_diagnosed_with_who_holds_and_who_waits(full_grades):
    """A consumer that locks the mutex first, on an empty buffer: asleep in futex, holding the mutex."""
    _, book = full_grades(ASSIGNMENT)
    for case in ("mutant/c-consumer-waits-swapped", "mutant/py-consumer-waits-swapped"):
        message, evidence = failed(book, case, "consumer-sleeps-when-empty")
        assert "deadlock" in message and "/bbe-mutex" in message, message
        assert "holds /bbe-mutex; waits in sem_wait(/bbe-full)" in evidence, evidence
        assert "futex" in evidence and "CPU used" in evidence, evidence


@pytest.mark.docker
def test_missing_mutex_is_shown_from_the_record(full_grades):
    """No value needs to be lost: the recorded calls (C and posix_ipc alike) show the missing lock."""
    _, book = full_grades(ASSIGNMENT)
    for case in ("mutant/c-consumer-no-mutex", "mutant/py-consumer-no-mutex"):
        message, evidence = failed(book, case, "consumer-protocol")
        assert "never locks /bbc-mutex" in message, message
        assert "sem_wait (returns)(/bbc-full)" in evidence and "sem_post(/bbc-empty)" in evidence, evidence
        assert "[in=" in evidence, evidence


@pytest.mark.docker
def test_early_removal_says_how_many_values_were_left(full_grades):
    _, book = full_grades(ASSIGNMENT)
    message, _ = failed(book, "mutant/c-early-removal", "producer-protocol")
    assert "removed the objects without first waiting for sem_wait(/bbp-empty)" in message, message
    assert "value(s) were still in the buffer" in message, message   # how many depends on the consumers' pace
