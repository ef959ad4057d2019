"""The runner with no Docker: the harness runs right here, as root, in the platform's container.

Gradescope and PrairieLearn run each submission in a container of their own,
with Docker's default capabilities and no Docker inside. The harness then runs
directly (no Docker in Docker) as root and still runs student programs as the
unprivileged `student` uid, with the same rlimits and time limits as in our
container. Without CAP_SYS_PTRACE and CAP_IPC_OWNER it adapts by itself
(grader/harness/procaccess.py); what stays weaker is listed in DEGRADATIONS,
and the platform's results name it.
"""
from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from pathlib import Path

from grader.harness.procaccess import CAP_SYS_PTRACE, has_capability
from grader.run.runners import RunnerUnavailable
from grader.run.subprocess_runner import SubprocessRunner

STUDENT_USER = "student"     # uid 2000 in our image; setup.sh creates it on the platform
TOOLS = ("strace", "gcc", "timeout", "setpriv", "ipcrm", "tini")

# What a platform container gives less than our grading container; said in every platform result.
DEGRADATIONS = (
    ("Graded in the platform's own container, not in ipcgrade's: the memory, process-count and IPC-size "
     "limits are the platform's (rlimits on CPU time, file size and open files still apply to your programs)."),
)
NO_PTRACE = ("The platform withholds CAP_SYS_PTRACE: the grader reads your processes' kernel state through a "
             "helper running as your uid; a check that would need to inspect the reference solution's "
             "processes reports an error instead of a verdict.")


class DirectRunnerUnavailable(RunnerUnavailable):
    pass


def degradations() -> list[str]:
    """What is weaker here than in the Docker runner, for the student-facing results."""
    return list(DEGRADATIONS) + ([] if has_capability(CAP_SYS_PTRACE) else [NO_PTRACE])


def check_available() -> None:
    """Stop with a plain reason when this machine cannot grade without Docker."""
    if os.geteuid() != 0:
        raise DirectRunnerUnavailable("the platform runner must run as root (it drops student programs to "
                                      f"the {STUDENT_USER!r} user)")
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        raise DirectRunnerUnavailable(f"the platform runner needs {', '.join(missing)} installed (see setup.sh)")
    try:
        uid = pwd.getpwnam(STUDENT_USER).pw_uid
    except KeyError:
        raise DirectRunnerUnavailable(f"there is no {STUDENT_USER!r} user (uid 2000); setup.sh creates it") from None
    if uid != 2000:
        raise DirectRunnerUnavailable(f"the {STUDENT_USER!r} user has uid {uid}, the harness expects 2000")
    probe_tracing(uid)


def probe_tracing(uid: int) -> None:
    """strace must be able to follow a program that drops to the student uid, as every check needs.
    A platform whose kernel forbids it (Yama ptrace_scope 2 or 3, a seccomp profile without ptrace)
    gets no verdicts at all rather than wrong ones."""
    from grader.harness.spawn import uid_switch
    p = subprocess.run(["strace", "-f", "-qq", "-e", "trace=exit_group", "-o", "/dev/null", "--",
                        *uid_switch(uid), "true"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=30)
    if p.returncode != 0:
        why = " ".join(p.stderr.decode(errors="replace").split())[:200]
        raise DirectRunnerUnavailable(f"this platform does not let the grader trace programs (strace failed: "
                                      f"{why}); no check can run here")


class DirectRunner(SubprocessRunner):
    """The harness right here, as root, in the platform's container (see grader.run.subprocess_runner)."""

    work_prefix = "ipcgrade-direct-"
    new_session = True

    def _open(self) -> None:
        check_available()

    def _stage(self, submission: Path, work: Path) -> Path:
        staged = super()._stage(submission, work)
        os.chmod(staged, 0o700)    # the original files: root only, the harness copies them out
        return staged

    def _wrap(self, command: list[str]) -> list[str]:
        # tini -s: a subreaper, as Docker's --init is PID 1 in our container. Orphans of student
        # programs must be reaped, or they linger as zombies the next check counts as the student's.
        return ["tini", "-s", "--", *command]

    def _after_run(self) -> None:
        _clean_up_after(2000)


def _clean_up_after(uid: int) -> None:
    """Nothing of the student's outlives its run, even when the harness itself was killed: its
    processes die and its IPC objects are removed (as their owner: root may not, see procaccess)."""
    from grader.harness import limits, procfs
    # By real uid (status), not by /proc owner: a process that made itself non-dumpable shows as root's.
    for pid in [p for p in procfs.all_pids() if (procfs.read_status(p) or {}).get("Uid", "").split()[:1] == [str(uid)]]:
        try:
            os.kill(pid, 9)
        except (ProcessLookupError, PermissionError):
            pass
    for owner in sorted({o.uid for o in procfs.read_sysvipc()}):
        subprocess.run(["ipcrm", "--all"], check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=10, close_fds=True, **limits.as_user(owner))
