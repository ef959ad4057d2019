"""What runs the harness on one submission: the `Runner` protocol, its limits and its result.

The batch, `grade check` and selftest see only this protocol, never Docker:

    with runner:                                   # connect, prepare (image, probes), clean leftovers
        result = runner.run(folder, "shm-handshake", visible_only=False)
    # leaving the block stops whatever is still running and releases everything

A runner

- has `limits`, a frozen `Limits` (plain data: part of the cache key, shown in `--help`);
- runs the harness (`python3 -m grader.harness --assignment NAME [--visible-only]`) on a
  *copy* of the submission folder it is given, and returns a `RunResult`: the harness's
  stdout (its JSON lines; see grader/harness/__main__.py), stderr, exit status, and whether
  the whole-submission wall limit or the memory limit ended it. It never raises for
  anything a student did: that is in the result;
- raises `RunnerUnavailable` (or a subclass) when it cannot run anything at all (no daemon,
  a broken image), so a batch says so once instead of blaming every student, and
  `staging.SubmissionTooLarge` when a submission cannot even be copied;
- `run` may be called from several threads at once; `cancel()` (Ctrl-C) stops every run in
  progress from any thread and makes them return promptly;
- may have `expect(runs)`: a batch announces how many runs it is about to ask for, so a runner
  that prepares each run ahead (the Docker runner's warm containers) prepares no more than that.

Implementations: `sandbox.DockerRunner` (one container per submission; the grading
default), `localrun.LocalRunner` (user namespaces, for self-checks without Docker) and
`platforms.direct.DirectRunner` (the harness straight on the host, inside an autograder
platform's own container, as on Gradescope or PrairieLearn). The last two share
`subprocess_runner.SubprocessRunner`: the harness as a subprocess with `limits.wall_seconds`
enforced from outside. Subclassing `SharedOpen` gives an implementation the enter/exit
bookkeeping: it writes `_open`, `_close` and `cancel`.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class Limits:
    """Every limit of one submission's run. The repr is part of the result cache key."""
    wall_seconds: int = 180          # whole harness run for one submission
    memory: str = "512m"
    pids: int = 256
    cpus: float = 1.0
    work_tmpfs: str = "64m"
    output_bytes: int = 8 << 20      # the harness's own answer
    runtime: str | None = None       # e.g. "runsc" (gVisor) when installed


@dataclass
class RunResult:
    """What one harness run left: its output, exit status, and which outer limit (if any) ended it."""
    exit_code: int | None
    stdout: bytes
    stderr: bytes
    timed_out: bool = False
    oom_killed: bool = False
    container_id: str = ""


class RunnerUnavailable(RuntimeError):
    """Nothing can run (no daemon, a broken image, no namespaces): every submission would fail alike."""


@runtime_checkable
class Runner(Protocol):
    limits: Limits

    def __enter__(self) -> Runner: ...

    def __exit__(self, *exc) -> None: ...

    def run(self, submission: Path, assignment: str, visible_only: bool = False) -> RunResult:
        """Run the harness on a copy of `submission` and return what it printed."""
        ...

    def cancel(self) -> None:
        """Stop every run in progress (Ctrl-C); they return promptly."""
        ...


class SharedOpen:
    """Lets one runner serve nested or concurrent `with` blocks (several batches side by side):
    it is set up on the first enter and torn down, stopping its runs, on the last exit only."""

    _opened = 0

    def __enter__(self):
        lock = self.__dict__.setdefault("_open_lock", threading.Lock())
        with lock:
            if self._opened == 0:
                self._open()
            self._opened += 1
        return self

    def __exit__(self, *exc) -> None:
        with self._open_lock:
            self._opened -= 1
            if self._opened == 0:
                self._close()

    def _open(self) -> None:
        pass

    def _close(self) -> None:
        self.cancel()

    def cancel(self) -> None:
        pass

    def expect(self, runs: int) -> None:
        """`runs` more runs are coming (a hint; runners that prepare nothing ahead ignore it)."""


def announce(runner: Runner, runs: int) -> None:
    """Tell `runner` that `runs` runs are coming, if it takes the hint (see `SharedOpen.expect`)."""
    expect = getattr(runner, "expect", None)
    if expect is not None:
        expect(runs)


def default_runner(where=None) -> Runner:
    """The grading runner when the caller names none: Docker with the default limits, its image
    holding the assignments `where` (a `Locations`) can see."""
    from grader.run.sandbox import DockerRunner
    return DockerRunner(where=where)


def harness_args(assignment: str, visible_only: bool) -> list[str]:
    """The harness's command line, the same for every runner."""
    args = ["python3", "-m", "grader.harness", "--assignment", assignment]
    return args + ["--visible-only"] if visible_only else args
