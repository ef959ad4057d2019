"""Entry point inside the container: grade the submission at /submission, streaming JSON lines.

stdout belongs to the harness alone: student programs write into pipes the
harness drains, so nothing a student prints can reach it. It carries one JSON
object per line, each written and flushed the moment it is known, so a run
killed from outside (wall limit, OOM, crash) still leaves every verdict it reached:

    {"event": "plan", "assignment": ..., "language": ..., "checks": [{id, name, hidden, advisory}, ...]}
    {"event": "check", "outcome": {...}}      one per check, the build first, in plan order
    {"event": "end", "assignment": ..., "error": null | "why the harness failed", "stats": {...}}

The host (grader/run/grading.py, parse_report) rebuilds the report from these lines.

A *warm* run (`--wait-for FILE`, used by the Docker runner in a batch) starts before its
submission exists: it loads the assignment and its checks, then waits until the host has
filled the submission folder and created FILE, so container start and interpreter start-up
overlap with the previous submission's grading. The wall limit (`--wall-seconds`) then
counts from that signal: the grading runs in a forked child that this process kills when
the limit passes, exiting 128 + the signal number as `timeout -s KILL` does.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass

from . import build, procaccess, runner
from .context import CheckContext
from .prebuild import load_meta
from .spawn import Identity

ASSIGNMENTS = os.environ.get("IPCGRADE_ASSIGNMENTS", "/opt/ipcgrade/assignments")


# A warm run that never receives its submission gives up (the host discards it well before).
IDLE_SECONDS = 600.0
POLL_SECONDS = 0.005


@dataclass
class Prepared:
    """What grading needs before any submission exists: the assignment's metadata and checks."""
    assignment: str
    adir: str
    meta: dict
    specs: list


def prepare(assignment: str, include_hidden: bool) -> Prepared:
    adir = os.path.join(ASSIGNMENTS, assignment)
    meta = load_meta(adir)
    return Prepared(assignment, adir, meta, runner.load_checks(adir, include_hidden))


def grade(prep: Prepared, submission: str, workdir: str, identity: Identity,
          emit: Callable[[dict], None], startup_cpu: float = 0.0) -> dict:
    """Build, then run every check, emitting the plan and each verdict; returns the run's stats.
    `startup_cpu`: what a warm run spent before it forked the grading (a forked child's CPU
    times start at zero)."""
    meta, adir = prep.meta, prep.adir
    programs = list(meta["programs"])
    sub = os.path.join(workdir, "sub")
    os.makedirs(sub, exist_ok=True)
    t0 = time.monotonic()
    build.copy_submission(submission, sub, identity.uid)
    cflags = meta.get("build", {}).get("cflags", build.DEFAULT_CFLAGS)
    result = build.build(sub, programs, identity.uid, identity.student_env(), cflags=cflags)
    build_seconds = time.monotonic() - t0

    emit({"event": "plan", "assignment": prep.assignment, "language": result.language,
          "checks": runner.plan(prep.specs)})
    ctx = CheckContext(workdir=sub, language=result.language or "", programs=result.programs or
                       {p: [] for p in programs}, identity=identity, assignment_dir=adir,
                       data=meta.get("harness") or {}, cflags=cflags, reference_dir=os.path.join(workdir, "ref"))
    try:
        runner.run_checks(ctx, prep.specs, {**runner.build_outcome(result), "seconds": round(build_seconds, 3)},
                          emit=lambda verdict: emit({"event": "check", "outcome": verdict}))
    finally:
        ctx.reset()
        procaccess.shutdown()
    # The harness's own Python (every thread, start-up included), not its children: what the
    # benchmark sets apart from Docker, the compiler, the tracer and the student's programs.
    return {"kill_latencies": ctx.kill_latencies, "harness_cpu_seconds": round(startup_cpu + time.process_time(), 3)}


def wait_for(path: str, idle_seconds: float = IDLE_SECONDS) -> bool:
    """Whether `path` appeared (the host's start signal) before `idle_seconds` passed."""
    deadline = time.monotonic() + idle_seconds
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            return False
        time.sleep(POLL_SECONDS)
    return True


def supervised(work: Callable[[], int], wall_seconds: float) -> int:
    """Run `work` in a forked child killed after `wall_seconds`; its exit status as `timeout -s KILL` gives it."""
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})
    pid = os.fork()
    if pid == 0:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
        code = 1
        try:
            code = work()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    deadline = time.monotonic() + wall_seconds
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        left = deadline - time.monotonic()
        if left <= 0:
            os.kill(pid, signal.SIGKILL)
            _, status = os.waitpid(pid, 0)
            break
        signal.sigtimedwait({signal.SIGCHLD}, left)
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m grader.harness")
    ap.add_argument("--assignment", required=True)
    ap.add_argument("--submission", default="/submission")
    ap.add_argument("--workdir", default="/work")
    ap.add_argument("--visible-only", action="store_true")
    ap.add_argument("--local", action="store_true",
                    help="run in private namespaces without a second uid (the weaker local runner)")
    ap.add_argument("--wait-for", metavar="FILE",
                    help="a warm run: prepare, then start grading when FILE exists (the submission is complete)")
    ap.add_argument("--wall-seconds", type=float,
                    help="with --wait-for: the wall limit of the grading, counted from the start signal")
    args = ap.parse_args(argv)
    identity = Identity()
    if args.local:
        identity = Identity(user=None, uid=None, trace_dir=os.path.join(args.workdir, "traces"),
                            kill_scope="namespace")
    real_stdout = os.fdopen(os.dup(1), "w")
    sys.stdout = sys.stderr  # nothing but the harness's JSON lines goes to fd 1

    def emit(event: dict) -> None:
        real_stdout.write(json.dumps(event) + "\n")
        real_stdout.flush()

    def run(prep: Prepared | Exception, startup_cpu: float = 0.0) -> int:
        error, stats = None, {}
        try:
            if isinstance(prep, Exception):
                raise prep
            stats = grade(prep, args.submission, args.workdir, identity, emit, startup_cpu)
        except Exception as e:  # reported as an error verdict, never a crash without an answer
            traceback.print_exception(e)
            error = f"internal harness error: {type(e).__name__}: {e}"
        emit({"event": "end", "assignment": args.assignment, "error": error, "stats": stats})
        return 0

    try:
        prep: Prepared | Exception = prepare(args.assignment, not args.visible_only)
    except Exception as e:
        prep = e
    if args.wait_for is None:
        return run(prep)
    if not wait_for(args.wait_for):
        return 0      # no submission came: nothing to report (the host discarded this container)
    if args.wall_seconds is None:
        return run(prep)
    startup_cpu = time.process_time()
    return supervised(lambda: run(prep, startup_cpu), args.wall_seconds)


if __name__ == "__main__":
    sys.exit(main())
