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
from pathlib import Path

from .locations import Locations
from .sandbox import Limits, SandboxResult

WARNING = ("local runner: no container. Your programs run in private namespaces with resource limits, "
           "but the isolation is weaker than Docker's; use it for self-checking only.")
UNSHARE = ["unshare", "--user", "--map-root-user", "--pid", "--fork", "--mount-proc", "--ipc", "--mount", "--net"]


class LocalRunnerUnavailable(RuntimeError):
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


def runner(limits: Limits = Limits(), where: Locations | None = None):
    check_available()
    where = where or Locations.bundled()

    def run(path, assignment: str, visible_only: bool) -> SandboxResult:
        with tempfile.TemporaryDirectory(prefix="ipcgrade-local-") as work:
            os.chmod(work, 0o755)
            clean = Path(work) / "staged"
            shutil.copytree(path, clean, symlinks=True)
            cmd = [*UNSHARE, "--", "timeout", "-s", "KILL", str(limits.wall_seconds),
                   sys.executable, "-m", "grader.harness", "--assignment", assignment,
                   "--submission", str(clean), "--workdir", work, "--local"]
            if visible_only:
                cmd.append("--visible-only")
            env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8",
                   "IPCGRADE_ASSIGNMENTS": str(where.assignment_dir(assignment).parent),
                   "PYTHONPATH": str(where.harness_package.parents[1]), "PYTHONDONTWRITEBYTECODE": "1"}
            try:
                p = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, timeout=limits.wall_seconds + 15, close_fds=True)
            except subprocess.TimeoutExpired as e:
                return SandboxResult(None, e.stdout or b"", e.stderr or b"", timed_out=True)
            return SandboxResult(p.returncode, p.stdout, p.stderr, timed_out=p.returncode in (-9, 137))
    run.limits = limits
    return run
