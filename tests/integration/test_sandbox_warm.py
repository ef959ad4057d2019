"""Warm containers on the real daemon: a container started ahead shows the student nothing (an
empty /submission, an unreadable start signal), grades exactly the submission handed to it with
the wall limit counted from its start, and closing the runner leaves no container or folder."""
from __future__ import annotations

import subprocess
import time
from pathlib import Path

from grader.run import sandbox
from grader.run.grading import parse_report
from grader.run.runners import Limits

from conftest import REPO


def _as_student(cid: str, *cmd: str) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", "exec", "-u", "2000", cid, *cmd], capture_output=True, text=True, timeout=60)


def test_a_warm_container_shows_nothing_before_its_run_and_grades_its_own(docker_client, tmp_path):
    hang = tmp_path / "hang"
    hang.mkdir()
    (hang / "master.c").write_text("#include <unistd.h>\nint main(void) { for (;;) pause(); }\n")
    (hang / "slave.c").write_text("int main(void) { return 0; }\n")
    limits = Limits(wall_seconds=6)
    with sandbox.DockerRunner(limits, client=docker_client) as box:
        box.prepare("shm-handshake")
        warm = box._ready[("shm-handshake", False)][0]
        assert _as_student(warm.container.id, "ls", "-A", "/submission").stdout == ""
        assert _as_student(warm.container.id, "ls", "/start").returncode != 0
        slots = [warm.slot]
        ref = box.run(REPO / "assignments/shm-handshake/reference/c", "shm-handshake")
        assert ref.container_id == warm.container.id
        report = parse_report(ref, limits)
        assert not isinstance(report, str) and report.error is None
        assert all(c.status.value == "passed" for c in report.checks)
        assert report.checks[0].id == "build" and report.checks[0].seconds > 0      # the compile's real time
        box.prepare("shm-handshake")
        slots += [w.slot for w in box._ready[("shm-handshake", False)]]
        time.sleep(limits.wall_seconds + 1)       # longer than the limit: it must count from the start signal
        late = box.run(hang, "shm-handshake")
        assert late.timed_out and late.exit_code == 137
        assert parse_report(late, limits).checks[0].status.value == "passed"     # it built, then hung
    assert sandbox.leftover_containers(docker_client, mine_only=True) == []
    assert not any(Path(s).exists() for s in slots)
