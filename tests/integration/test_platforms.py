"""Gradescope's and PrairieLearn's contracts, simulated with Docker: default capabilities and seccomp,
no network, a fresh container per submission. Every reference and mutant must get the Docker batch
run's status and score for each check, unless the platform names the difference (a degradation).

Cost: the platform base image (apt + pip, minutes) is built once per machine and cached by
setup.sh's contents; after that each export's image takes seconds and each case a few seconds.
The Docker batch verdicts come from the shared `full_grades` runs. bench/platforms.py covers
every assignment.
"""
from concurrent.futures import ThreadPoolExecutor

import pytest

from grader.platforms import gradescope, prairielearn, simulate

GRADESCOPE_ASSIGNMENTS = ("shm-handshake", "pipe-pipeline")
PRAIRIELEARN_ASSIGNMENT = "shm-handshake"


def _compare(cases, book, run, visible_only=False):
    by_case = {r.student: r for r in book.submissions}
    with ThreadPoolExecutor(2) as pool:
        docs = list(pool.map(lambda c: run(c.path), cases))
    return {c.name: d for c, d in ((c, simulate.differences(by_case[c.name], doc, visible_only=visible_only))
                                   for c, doc in zip(cases, docs)) if d}


@pytest.mark.parametrize("name", GRADESCOPE_ASSIGNMENTS)
def test_gradescope_verdicts_equal_the_docker_batch(name, full_grades, tmp_path):
    cases, book = full_grades(name)
    image = simulate.gradescope_image(gradescope.export(name, tmp_path / "autograder.zip"))
    assert _compare(cases, book, lambda path: simulate.run_gradescope(image, path)) == {}


def test_prairielearn_verdicts_equal_the_docker_batch(full_grades, tmp_path):
    cases, book = full_grades(PRAIRIELEARN_ASSIGNMENT)
    out = prairielearn.export(PRAIRIELEARN_ASSIGNMENT, tmp_path / "pl")
    image = simulate.prairielearn_image(out)
    # PrairieLearn's results leave hidden checks out of `tests` (they still count in the score).
    assert _compare(cases, book, lambda path: simulate.run_prairielearn(image, out, path), visible_only=True) == {}
    doc = simulate.run_prairielearn(image, out, cases[0].path)
    assert doc["gradable"] is True and doc["score"] == 1.0
