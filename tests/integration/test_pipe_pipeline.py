"""pipe-pipeline: hang diagnoses name the process and the pipe end it still holds; the pipe map helpers.

The generic selftest test (test_selftest.py) already proves references and
mutants; this file asserts what the issue adds: for every mutant that hangs,
the feedback says which process is stuck on the pipe and which process (and
fd) still holds the other end. It reuses the session's full grading of the
assignment (the `full_grades` fixture), so it adds no container runs.

The pipe map helpers themselves are tested without Docker in tests/unit/test_pipes.py.
"""
from __future__ import annotations

import re

import pytest

NAME = "pipe-pipeline"
STUCK = "who is stuck on a pipe, and who holds the other end"

# mutant -> (the check that hangs, what the diagnosis must say: the stuck process, then the holder and its fd)
HANGS = {
    "c-parent-keeps-write": ("eof-terminates",
                             r"child 2 \(pid \d+, running cat\) is waiting to read from pipe \d+ \(fd 0\)\..*"
                             r"write end is still open in: pipeline \(the parent, pid \d+\) as fd 4\."),
    "py-parent-keeps-write": ("eof-terminates",
                              r"child 2 \(pid \d+, running cat\) is waiting to read from pipe \d+ \(fd 0\)\..*"
                              r"write end is still open in: pipeline \(the parent, pid \d+\) as fd \d+\."),
    "c-child2-keeps-write": ("eof-terminates",
                             r"child 2 \(pid \d+, running cat\) is waiting to read from pipe \d+ \(fd 0\)\..*"
                             r"write end is still open in: child 2 \(pid \d+, running cat\) itself as fd 4\."),
    "c-parent-keeps-read": ("sigpipe-terminates",
                            r"child 1 \(pid \d+, running yes\) is blocked writing to pipe \d+ "
                            r"\(fd 1, 65536 of 65536 bytes buffered, full\)\..*"
                            r"read end is still open in: pipeline \(the parent, pid \d+\) as fd 3\."),
}


def _result(full_grades, mutant):
    cases, book = full_grades(NAME)
    by_name = {c.name: r for c, r in zip(cases, book.submissions)}
    return by_name[f"mutant/{mutant}"]


@pytest.mark.docker
@pytest.mark.parametrize("mutant", sorted(HANGS))
def test_hang_diagnosis_names_the_process_and_the_pipe_end_it_holds(mutant, full_grades):
    check_id, pattern = HANGS[mutant]
    result = _result(full_grades, mutant)
    check = next(c for c in result.checks if c.id == check_id)
    assert check.status.value == "failed"
    out = check.outcome
    stuck = [e.text for e in out.evidence if e.label == STUCK]
    assert stuck, f"no pipe diagnosis in {[e.label for e in out.evidence]}"
    assert re.search(pattern, stuck[0], re.S), stuck[0]
    # The first sentence of the diagnosis is the message itself, so a one-line report still says it.
    assert "did not finish" in out.message and re.search(pattern.split(r"\..*")[0], out.message)
    # The general process-tree report shows the same end in the holder's fd table.
    tree = next(e.text for e in out.evidence if e.label.startswith("where each process was"))
    holder_fd = re.search(r"as fd (\d+)\.", stuck[0]).group(1)
    assert re.search(rf"fd {holder_fd}: (read|write) end of pipe \d+", tree), tree


@pytest.mark.docker
def test_parent_closes_feedback_shows_the_parents_fd_table(full_grades):
    out = next(c for c in _result(full_grades, "c-parent-keeps-write").checks if c.id == "parent-closes-ends").outcome
    assert "the write end (fd 4) was never closed by the parent" in out.message
    table = next(e.text for e in out.evidence if e.label.startswith("the parent's pipe ends in /proc"))
    assert re.fullmatch(r"fd 4: write end of pipe \d+", table), table

