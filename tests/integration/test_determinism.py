"""Deterministic verdicts: every reference and mutant of every assignment is graded four times while
both cores are busy with other work (conftest.verdict_runs): two full batch runs, one visible-only
run (the `grade check` path) and one with the local runner. Every verdict must be identical across
the runs that include it. A check that flips here must be redesigned, not retried."""
import pytest

from grader import assignments

from conftest import RUN_MODES, failure_notes, visible_statuses


def verdicts(book) -> dict:
    return {s.student: (s.status, tuple((c.id, c.status.value) for c in s.checks)) for s in book.submissions}


@pytest.mark.docker
@pytest.mark.parametrize("name", assignments.available())
def test_verdicts_are_identical_in_every_loaded_run(name, verdict_runs):
    books = verdict_runs["books"][name]
    assert len(books) == len(RUN_MODES) and RUN_MODES.count("full") >= 2
    full = [verdicts(b) for mode, b in zip(RUN_MODES, books) if mode == "full"]
    flips = [(case, f"full run {i + 1}: {case}: {run[case]} != {full[0][case]}")
             for i, run in enumerate(full[1:], 1) for case in full[0] if run[case] != full[0][case]]
    first = {s.student: visible_statuses(s) for s in books[0].submissions}
    for mode, book in zip(RUN_MODES, books):
        if mode != "full" and book is not None:   # None: a mode this assignment is not graded in (conftest)
            flips += [(s.student, f"{mode} run: {s.student}: {visible_statuses(s)} != {first[s.student]}")
                      for s in book.submissions if visible_statuses(s) != first[s.student]]
    flipped = {student for student, _ in flips}
    why = [f"run {i + 1} ({mode}): {s.student}: {failure_notes(s)}" for i, (mode, book) in enumerate(zip(RUN_MODES, books))
           if book is not None for s in book.submissions if s.student in flipped]
    assert [text for _, text in flips] == [], "\n".join(why)    # a string: pytest shows it whole
