"""Every assignment proves its harness: references full marks, mutants fail exactly their named checks."""
import pytest

from grader import assignments, cli, selftest


@pytest.mark.docker
@pytest.mark.parametrize("name", assignments.available())
def test_references_pass_and_mutants_fail_their_named_checks(name, full_grades):
    cases, book = full_grades(name)
    problems = [f"{case.name}: {why}" for case, _, why in selftest.evaluate(cases, book) if why]
    assert problems == []
    assert sum(c.expected_failures is not None for c in cases) >= 7


@pytest.mark.docker
def test_selftest_command(docker_client):
    assert cli.main(["selftest", "shm-handshake"]) == 0
