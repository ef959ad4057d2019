"""Deterministic verdicts: every reference and mutant of every assignment is graded five times while
both cores are busy with other work (conftest.verdict_runs): three full batch runs, one visible-only
run (the `grade check` path) and one with the local runner. Every verdict must be identical across
the runs that include it. A check that flips here must be redesigned, not retried."""
import pytest

from grader import assignments

from conftest import RUN_MODES, visible_statuses


def verdicts(book) -> dict:
    return {s.student: (s.status, tuple((c.id, c.status.value) for c in s.checks)) for s in book.submissions}


@pytest.mark.docker
@pytest.mark.parametrize("name", assignments.available())
def test_verdicts_are_identical_five_times_on_busy_cores(name, verdict_runs):
    books = verdict_runs["books"][name]
    assert len(books) == len(RUN_MODES) == 5
    full = [verdicts(b) for mode, b in zip(RUN_MODES, books) if mode == "full"]
    flips = [f"full run {i + 1}: {case}: {run[case]} != {full[0][case]}"
             for i, run in enumerate(full[1:], 1) for case in full[0] if run[case] != full[0][case]]
    first = {s.student: visible_statuses(s) for s in books[0].submissions}
    for mode, book in zip(RUN_MODES, books):
        if mode != "full" and book is not None:   # None: a mode this assignment is not graded in (conftest)
            flips += [f"{mode} run: {s.student}: {visible_statuses(s)} != {first[s.student]}"
                      for s in book.submissions if visible_statuses(s) != first[s.student]]
    assert flips == []
