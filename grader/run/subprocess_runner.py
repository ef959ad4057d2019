"""The runners without Docker share one job: the harness as a subprocess on this machine.

`localrun.LocalRunner` (user namespaces on a lab machine) and `platforms.direct.DirectRunner`
(a platform's own container, as on Gradescope) differ only in what surrounds the harness.
This base does the rest, once: it copies the submission into a fresh work folder, starts
the harness under `timeout -s KILL` (the wall limit, enforced from outside the harness),
keeps every live run so `cancel()` can stop it from any thread, kills a run that outlives
even that limit, and turns what the harness printed into a `RunResult`.

A subclass says how it differs with the class attributes below and by overriding `_wrap`
(the isolation around the command) and, where needed, `_stage` and `_after_run`.
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
from grader.run.runners import Limits, RunResult, SharedOpen, harness_args

# Seconds past the wall limit before the runner kills the run itself: `timeout` inside should
# have ended it by then, so this only catches a wrapper that did not pass the kill on.
KILL_GRACE_SECONDS = 15
# The end of the harness's stderr is what says why it stopped; more is noise in a result.
STDERR_TAIL_BYTES = 20000


class SubprocessRunner(SharedOpen):
    """The harness as a subprocess of this process (see grader.run.runners.Runner)."""

    work_prefix = "ipcgrade-run-"       # of each run's temporary work folder
    harness_flags: tuple[str, ...] = ()  # appended to the harness's command line
    new_session = False                  # its own session: a kill ends the run's whole process group

    def __init__(self, limits: Limits = Limits(), where: Locations | None = None):
        self.limits = limits
        self.where = where or Locations.bundled()
        self._running: set[subprocess.Popen] = set()
        self._lock = threading.Lock()

    # ------------------------------------------------------------ what a runner overrides

    def _wrap(self, command: list[str]) -> list[str]:
        """The command line that runs `command` (the timed harness) in this runner's isolation."""
        return command

    def _stage(self, submission: Path, work: Path) -> Path:
        """Copy the submission into the run's work folder; the harness reads only the copy."""
        staged = work / "staged"
        shutil.copytree(submission, staged, symlinks=True)
        return staged

    def _kill(self, p: subprocess.Popen) -> None:
        """End one run at once, with everything it started."""
        if not self.new_session:
            p.kill()
            return
        try:
            os.killpg(p.pid, 9)
        except ProcessLookupError:
            pass                       # the whole group has already gone

    def _after_run(self) -> None:
        """Called after every run however it ended (also killed), before its result is returned."""

    # ------------------------------------------------------------ shared

    def cancel(self) -> None:
        with self._lock:
            procs = list(self._running)
        for p in procs:
            self._kill(p)

    def _environment(self, assignment: str) -> dict[str, str]:
        """The harness's whole environment: nothing of ours leaks into it beyond where the code is."""
        return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8",
                "IPCGRADE_ASSIGNMENTS": str(self.where.assignment_dir(assignment).parent),
                "PYTHONPATH": str(self.where.harness_package.parents[1]), "PYTHONDONTWRITEBYTECODE": "1"}

    def run(self, submission: Path, assignment: str, visible_only: bool = False) -> RunResult:
        limits = self.limits
        with tempfile.TemporaryDirectory(prefix=self.work_prefix) as work:
            os.chmod(work, 0o755)      # a student uid must reach its build folder inside
            staged = self._stage(submission, Path(work))
            _python, *args = harness_args(assignment, visible_only)
            timed = ["timeout", "-s", "KILL", str(limits.wall_seconds), sys.executable, *args,
                     "--submission", str(staged), "--workdir", work, *self.harness_flags]
            p = subprocess.Popen(self._wrap(timed), env=self._environment(assignment), stdin=subprocess.DEVNULL,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, close_fds=True,
                                 start_new_session=self.new_session)
            with self._lock:
                self._running.add(p)
            try:
                out, err = p.communicate(timeout=limits.wall_seconds + KILL_GRACE_SECONDS)
                exit_code = p.returncode
            except subprocess.TimeoutExpired:
                self._kill(p)
                out, err = p.communicate()
                exit_code = None
            finally:
                with self._lock:
                    self._running.discard(p)
                self._after_run()
            return RunResult(exit_code, out[: limits.output_bytes], err[-STDERR_TAIL_BYTES:],
                             timed_out=exit_code in (None, -9, 137))
