"""The runner without Docker: the same harness in fresh user, PID, IPC, mount and network namespaces.

For lab machines with no Docker and no root. Its isolation is weaker than a
container's: student programs run under the same real uid as the harness (a
user namespace maps only one uid), so they could read the harness's files.
It is for self-checking only, never for grading a class.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from grader.locations import Locations
from grader.run.runners import Limits, RunnerUnavailable, RunResult, SharedOpen, harness_args

WARNING = ("local runner: no container. Your programs run in private namespaces with resource limits, "
           "but the isolation is weaker than Docker's; use it for self-checking only.")
UNSHARE = ["unshare", "--user", "--map-root-user", "--pid", "--fork", "--mount-proc", "--ipc", "--mount", "--net"]
# POSIX shared memory and named semaphores live in /dev/shm, which a new IPC namespace does not
# separate: each run gets its own tmpfs there, as each container does, so runs side by side (and
# the host's own objects) never see each other's.
PRIVATE_DEV_SHM = ["sh", "-c", 'mount -t tmpfs -o mode=1777,size=64m tmpfs /dev/shm && exec "$@"', "sh"]


class LocalRunnerUnavailable(RunnerUnavailable):
    pass


def check_available() -> None:
    """Stop with a plain reason when this machine cannot run the local runner."""
    missing = [tool for tool in ("unshare", "strace", "gcc", "timeout") if shutil.which(tool) is None]
    if missing:
        raise LocalRunnerUnavailable(f"the local runner needs {', '.join(missing)} installed")
    probe = subprocess.run([*UNSHARE, "true"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=30)
    if probe.returncode != 0:
        raise LocalRunnerUnavailable(
            "user namespaces are unavailable here (unshare failed: "
            f"{probe.stderr.decode(errors='replace').strip()[:200]}); use Docker instead")


class LocalRunner(SharedOpen):
    """The harness in fresh namespaces on this machine (see grader.run.runners.Runner)."""

    def __init__(self, limits: Limits = Limits(), where: Locations | None = None):
        self.limits = limits
        self.where = where or Locations.bundled()
        self._running: set[subprocess.Popen] = set()
        self._lock = threading.Lock()

    def _open(self) -> None:
        check_available()

    def cancel(self) -> None:
        with self._lock:
            procs = list(self._running)
        for p in procs:
            p.kill()   # unshare's --fork child is PID 1 of the namespace: the whole run dies with it

    def run(self, submission: Path, assignment: str, visible_only: bool = False) -> RunResult:
        with tempfile.TemporaryDirectory(prefix="ipcgrade-local-") as work:
            os.chmod(work, 0o755)
            clean = Path(work) / "staged"
            shutil.copytree(submission, clean, symlinks=True)
            python, *args = harness_args(assignment, visible_only)
            cmd = [*UNSHARE, "--", *PRIVATE_DEV_SHM, "timeout", "-s", "KILL", str(self.limits.wall_seconds),
                   sys.executable, *args, "--submission", str(clean), "--workdir", work, "--local"]
            env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8",
                   "IPCGRADE_ASSIGNMENTS": str(self.where.assignment_dir(assignment).parent),
                   "PYTHONPATH": str(self.where.harness_package.parents[1]), "PYTHONDONTWRITEBYTECODE": "1"}
            p = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, close_fds=True)
            with self._lock:
                self._running.add(p)
            try:
                out, err = p.communicate(timeout=self.limits.wall_seconds + 15)
            except subprocess.TimeoutExpired:
                p.kill()
                out, err = p.communicate()
                return RunResult(None, out[: self.limits.output_bytes], err[-20000:], timed_out=True)
            finally:
                with self._lock:
                    self._running.discard(p)
            return RunResult(p.returncode, out[: self.limits.output_bytes], err[-20000:],
                             timed_out=p.returncode in (-9, 137))


def runner(limits: Limits = Limits(), where: Locations | None = None) -> LocalRunner:
    """A local runner, checked now so a machine without namespaces says so before any grading."""
    check_available()
    return LocalRunner(limits, where)
