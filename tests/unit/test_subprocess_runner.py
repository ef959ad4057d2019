"""The bookkeeping the local and platform runners share (grader.run.subprocess_runner), with a
stand-in for the harness: a short Python program that reports what it was given."""
import json
import os
import sys
import threading
import time

import pytest

from grader.harness import procfs
from grader.platforms.direct import DirectRunner
from grader.run import localrun
from grader.run.localrun import LocalRunner
from grader.run.runners import Limits
from grader.run.subprocess_runner import SubprocessRunner

# The stand-in harness: prints its command line, environment and staged files, then does what
# the submission's `do` file says.
STAND_IN = """
import json, os, sys, time
argv = sys.argv[1:]
staged = argv[argv.index("--submission") + 1]
do = open(os.path.join(staged, "do")).read()
print(json.dumps({"argv": argv, "env": dict(os.environ), "files": sorted(os.listdir(staged))}), flush=True)
if do == "hang":
    time.sleep(60)
elif do == "flood":
    sys.stdout.write("x" * 5000)
    sys.stderr.write("e" * 30000 + "END")
"""


class StandIn(SubprocessRunner):
    harness_flags = ("--flag",)

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.wrapped, self.after = [], 0

    def _wrap(self, command):
        self.wrapped.append(command)
        return [sys.executable, "-c", STAND_IN, *command]

    def _after_run(self):
        self.after += 1


def submission(tmp_path, do=""):
    sub = tmp_path / "sub"
    sub.mkdir(exist_ok=True)
    (sub / "do").write_text(do)
    (sub / "main.c").write_text("int main(void) { return 0; }\n")
    return sub


def test_the_harness_runs_timed_on_a_copy_with_only_the_environment_it_needs(tmp_path):
    runner = StandIn(Limits(wall_seconds=42))
    with runner:
        result = runner.run(submission(tmp_path), "shm-handshake", visible_only=True)
    seen = json.loads(result.stdout)
    command = runner.wrapped[0]
    assert command[:5] == ["timeout", "-s", "KILL", "42", sys.executable]
    assert command[5:] == ["-m", "grader.harness", "--assignment", "shm-handshake", "--visible-only",
                           "--submission", seen["argv"][-4], "--workdir", seen["argv"][-2], "--flag"]
    assert seen["argv"][-4].startswith(seen["argv"][-2]) and seen["argv"][-4] != str(tmp_path / "sub")
    assert seen["files"] == ["do", "main.c"]
    assert set(seen["env"]) == {"PATH", "LANG", "IPCGRADE_ASSIGNMENTS", "PYTHONPATH", "PYTHONDONTWRITEBYTECODE"}
    assert (result.exit_code, result.timed_out, runner.after) == (0, False, 1)
    assert not runner._running


def test_output_is_capped_and_stderr_keeps_its_end(tmp_path):
    runner = StandIn(Limits(output_bytes=100))
    result = runner.run(submission(tmp_path, "flood"), "shm-handshake")
    assert len(result.stdout) == 100
    assert len(result.stderr) == 20000 and result.stderr.endswith(b"END")


@pytest.mark.parametrize("new_session", [False, True])
def test_cancel_stops_a_run_from_another_thread_and_it_returns_as_killed(tmp_path, new_session):
    runner = StandIn()
    runner.new_session = new_session
    results = []
    worker = threading.Thread(target=lambda: results.append(runner.run(submission(tmp_path, "hang"),
                                                                       "shm-handshake")))
    worker.start()
    while not runner._running:      # the run has started
        time.sleep(0.01)
    runner.cancel()
    worker.join(timeout=30)
    assert not worker.is_alive()
    assert (results[0].exit_code, results[0].timed_out, runner.after) == (-9, True, 1)


def test_each_runner_wraps_the_same_timed_harness_in_its_own_isolation():
    timed = ["timeout", "-s", "KILL", "180", "python3"]
    local = LocalRunner()._wrap(timed)
    assert local[0] == "unshare" and "--pid" in local and local[-5:] == timed
    assert LocalRunner.harness_flags == ("--local",) and not LocalRunner.new_session
    assert DirectRunner()._wrap(timed) == ["tini", "-s", "--", *timed]
    assert DirectRunner.harness_flags == () and DirectRunner.new_session


def test_cancelling_a_local_run_ends_every_process_in_its_namespaces(tmp_path):
    """Killing `unshare` alone would leave its namespace's PID 1 (and the student's programs)
    running until the wall limit: nothing may outlive a cancelled run."""
    try:
        localrun.check_available()
    except localrun.LocalRunnerUnavailable as e:
        pytest.skip(str(e))
    marker = f"{os.getpid() % 1000 + 1}.{time.time_ns() % 10**6:06d}"   # a unique `sleep` argument

    class Hanging(LocalRunner):
        def _wrap(self, command):
            return super()._wrap(["timeout", "-s", "KILL", "300", "sh", "-c", f"sleep {marker} & sleep {marker}"])

    def sleepers():
        return [p for p in procfs.all_pids() if procfs.read_cmdline(p) == ["sleep", marker]]

    runner = Hanging()
    worker = threading.Thread(target=runner.run, args=(submission(tmp_path), "shm-handshake"))
    worker.start()
    while len(sleepers()) < 2:
        time.sleep(0.01)
    runner.cancel()
    worker.join(timeout=30)
    deadline = time.monotonic() + 10
    while sleepers() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not worker.is_alive() and sleepers() == []
