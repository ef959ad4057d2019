"""The runner without Docker: the same harness in fresh user, PID, IPC, mount and network namespaces.

For lab machines with no Docker and no root. Its isolation is weaker than a
container's: student programs run under the same real uid as the harness (a
user namespace maps only one uid), so they could read the harness's files.
It is for self-checking only, never for grading a class.
"""
from __future__ import annotations

import shutil
import subprocess

from grader.locations import Locations
from grader.run.runners import Limits, RunnerUnavailable
from grader.run.subprocess_runner import SubprocessRunner

WARNING = ("local runner: no container. Your programs run in private namespaces with resource limits, "
           "but the isolation is weaker than Docker's; use it for self-checking only.")
# --kill-child: when unshare dies (cancel() and the outer wall limit kill it), the kernel kills its
# child, PID 1 of the namespace, and with it every process of the run. Without it they live on.
UNSHARE = ["unshare", "--user", "--map-root-user", "--pid", "--fork", "--kill-child", "--mount-proc", "--ipc",
           "--mount", "--net"]
# POSIX shared memory and named semaphores live in /dev/shm, which a new IPC namespace does not
# separate: each run gets its own tmpfs there, as each container does, so runs side by side (and
# the host's own objects) never see each other's.
# The shell stays PID 1 (no exec): orphans of the run are re-parented to PID 1, and the shell, waiting
# for any child, reaps them, as a container's init does. The harness as PID 1 never did, and each
# zombie left stayed in /proc, where every clean-up's kill loop waited its full half second for it.
PRIVATE_DEV_SHM = ["sh", "-c", 'mount -t tmpfs -o mode=1777,size=64m tmpfs /dev/shm && "$@"', "sh"]


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


class LocalRunner(SubprocessRunner):
    """The harness in fresh namespaces on this machine (see grader.run.subprocess_runner)."""

    work_prefix = "ipcgrade-local-"
    harness_flags = ("--local",)

    def _open(self) -> None:
        check_available()

    def _wrap(self, command: list[str]) -> list[str]:
        return [*UNSHARE, "--", *PRIVATE_DEV_SHM, *command]


def runner(limits: Limits = Limits(), where: Locations | None = None) -> LocalRunner:
    """A local runner, checked now so a machine without namespaces says so before any grading."""
    check_available()
    return LocalRunner(limits, where)
