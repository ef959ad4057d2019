"""Shared fixtures. Tests marked `docker` need a daemon: locally they are skipped without one,
in CI (CI=true) they fail, so a missing daemon can never turn the suite green."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _docker_client():
    from grader import dockerenv
    try:
        return dockerenv.client()
    except dockerenv.DockerUnavailable as e:
        if os.environ.get("CI"):
            pytest.fail(f"CI needs Docker: {e}")
        pytest.skip(str(e))


@pytest.fixture(scope="session")
def docker_client():
    return _docker_client()


def _sysvipc_rows() -> list[str]:
    rows = []
    for kind in ("shm", "msg", "sem"):
        try:
            rows += [f"{kind} {line.split()[1]}" for line in Path(f"/proc/sysvipc/{kind}").read_text().splitlines()[1:]]
        except OSError:
            pass
    return sorted(rows)


@pytest.fixture(scope="session", autouse=True)
def host_left_as_found(request):
    """After the whole session: no grading container and no new IPC object on the host."""
    before = _sysvipc_rows()
    yield
    used_docker = any(item.get_closest_marker("docker") for item in request.session.items)
    if not used_docker:
        return
    from grader import dockerenv, sandbox
    try:
        client = dockerenv.client()
    except dockerenv.DockerUnavailable:
        return
    left = sandbox.leftover_containers(client, mine_only=True)
    assert not left, f"grading containers left behind: {[c.name for c in left]}"
    assert _sysvipc_rows() == before, "SysV IPC objects were left on the host"


def pytest_collection_modifyitems(items):
    for item in items:
        if "integration" in item.path.parts and not item.get_closest_marker("docker"):
            item.add_marker(pytest.mark.docker)


_FULL_GRADES: dict = {}


@pytest.fixture(scope="session")
def full_grades(docker_client):
    """name -> (selftest cases, Gradebook of all of them graded in full by Docker), computed once a session."""
    from grader import assignments, selftest
    from grader.batch import grade_all

    def get(name: str):
        if name not in _FULL_GRADES:
            a = assignments.load(name)
            cases = selftest.cases(a)
            _FULL_GRADES[name] = (cases, grade_all(a, selftest.submissions(cases)))
        return _FULL_GRADES[name]
    return get


def visible_statuses(result) -> dict:
    """What a student's self-check must agree on: the status of every visible, runnable check."""
    return {c.id: c.status.value for c in result.checks if not c.hidden and not c.outcome.deferred}
