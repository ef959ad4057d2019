"""Every assignment proves its harness: references full marks, mutants fail exactly their named checks."""
import pytest

from grader import assignments, cli


@pytest.mark.docker
@pytest.mark.parametrize("name", assignments.available())
def test_selftest(name, docker_client):
    assert cli.main(["selftest", name]) == 0
