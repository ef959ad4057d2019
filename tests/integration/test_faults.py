"""Faults outside the student's control: a missing or broken image, the OOM killer, the daemon dying."""
import io
import os
import shutil
import subprocess
import tarfile
import threading
import time
from pathlib import Path

import pytest

from grader import assignments
from grader.batch import grade_batch
from grader.models import Submission
from grader.run import sandbox
from grader.run.grading import parse_report
from grader.store import ResultStore

from conftest import REPO

REF = REPO / "assignments" / "shm-handshake" / "reference"


def _class(root: Path, n: int) -> list[Submission]:
    subs = []
    for i in range(n):
        shutil.copytree(REF / ("c" if i % 2 else "python"), root / f"s{i}")
        subs.append(Submission(student=f"s{i}", path=root / f"s{i}"))
    return subs


@pytest.mark.docker
def test_missing_image_gives_a_clear_verdict(tmp_path, docker_client):
    a = assignments.load("shm-handshake")
    run = grade_batch(a, _class(tmp_path, 2), runner=sandbox.DockerRunner(client=docker_client, image="ipcgrade:no-such-image"))
    assert run.runner_down and "is missing" in run.runner_down and "rerun" in run.runner_down
    assert all(s.status == "error" and "is missing" in s.error for s in run.book.submissions)


@pytest.mark.docker
def test_broken_image_gives_a_clear_verdict(tmp_path, docker_client):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("README")
        info.size = 5
        tar.addfile(info, io.BytesIO(b"empty"))
    docker_client.api.import_image_from_data(buf.getvalue(), repository="ipcgrade-test", tag="broken")
    try:
        a = assignments.load("shm-handshake")
        run = grade_batch(a, _class(tmp_path, 1), runner=sandbox.DockerRunner(client=docker_client, image="ipcgrade-test:broken"))
        assert "is broken" in run.runner_down and "grade image build --force" in run.runner_down
        assert sandbox.leftover_containers(docker_client, mine_only=True) == []
    finally:
        docker_client.images.remove("ipcgrade-test:broken", force=True)


@pytest.mark.docker
def test_harness_killed_by_the_oom_killer_is_a_memory_verdict(tmp_path, docker_client):
    from grader.run import image
    tag = image.ensure_image(docker_client)
    limits = sandbox.Limits(memory="64m")
    res = sandbox.run_in_container(docker_client, tag, tmp_path,
                                   ["python3", "-c", "x = bytearray(512 << 20)"], limits)
    assert res.oom_killed
    verdict = parse_report(res, limits)
    assert isinstance(verdict, str) and "memory limit (64m)" in verdict


def _dockerd_pid() -> int | None:
    out = subprocess.run(["pgrep", "-x", "dockerd"], capture_output=True, text=True).stdout.split()
    return int(out[0]) if out else None


@pytest.mark.docker
@pytest.mark.disruptive
def test_daemon_dying_mid_batch_keeps_finished_results_and_a_rerun_completes(tmp_path, docker_client):
    if os.geteuid() != 0 or _dockerd_pid() is None or shutil.which("systemctl") and \
            subprocess.run(["systemctl", "is-active", "--quiet", "docker"]).returncode == 0:
        pytest.skip("needs a dockerd this test may stop and restart (root, not managed by systemd)")
    a = assignments.load("shm-handshake")
    subs = _class(tmp_path / "class", 10)
    store = ResultStore(tmp_path / "out")
    outcome = {}
    t = threading.Thread(target=lambda: outcome.setdefault("run", grade_batch(a, subs, store=store, jobs=2)))
    t.start()
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and len(store.all()) < 2:
        time.sleep(0.1)
    daemon = _dockerd_pid()
    os.kill(daemon, 15)
    t.join(300)
    run = outcome["run"]
    kept = len(store.all())
    assert 2 <= kept < 10
    assert run.runner_down, "the batch must say that Docker failed"
    graded = [s for s in run.book.submissions if s.status == "graded"]
    assert len(graded) >= kept and all(s.score == s.max_score for s in graded)
    for _ in range(300):  # let the old daemon finish shutting down
        if not Path(f"/proc/{daemon}").exists():
            break
        time.sleep(0.1)
    subprocess.run(["bash", str(REPO / "scripts" / "ensure-docker.sh")], check=True, timeout=180)
    from grader.run import dockerenv
    again = grade_batch(a, subs, store=store, jobs=2)
    assert again.runner_down is None and again.reused == kept and again.ran == 10 - kept
    assert all(s.status == "graded" and s.score == s.max_score for s in again.book.submissions)
    assert sandbox.leftover_containers(dockerenv.client(), mine_only=True) == []
