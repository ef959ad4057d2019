"""Entry point inside the container: grade the submission at /submission, streaming JSON lines.

stdout belongs to the harness alone: student programs write into pipes the
harness drains, so nothing a student prints can reach it. It carries one JSON
object per line, each written and flushed the moment it is known, so a run
killed from outside (wall limit, OOM, crash) still leaves every verdict it reached:

    {"event": "plan", "assignment": ..., "language": ..., "checks": [{id, name, hidden, advisory}, ...]}
    {"event": "check", "outcome": {...}}      one per check, the build first, in plan order
    {"event": "end", "assignment": ..., "error": null | "why the harness failed", "stats": {...}}

The host (grader/run/grading.py, parse_report) rebuilds the report from these lines.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from collections.abc import Callable

import yaml

from . import build, procaccess, runner
from .context import CheckContext
from .spawn import Identity

ASSIGNMENTS = os.environ.get("IPCGRADE_ASSIGNMENTS", "/opt/ipcgrade/assignments")


def grade(assignment: str, submission: str, workdir: str, include_hidden: bool, identity: Identity,
          emit: Callable[[dict], None]) -> dict:
    """Build, then run every check, emitting the plan and each verdict; returns the run's stats."""
    adir = os.path.join(ASSIGNMENTS, assignment)
    with open(os.path.join(adir, "assignment.yaml")) as f:
        meta = yaml.safe_load(f)
    programs = list(meta["programs"])
    sub = os.path.join(workdir, "sub")
    os.makedirs(sub, exist_ok=True)
    build.copy_submission(submission, sub, identity.uid)
    cflags = meta.get("build", {}).get("cflags", build.DEFAULT_CFLAGS)
    result = build.build(sub, programs, identity.uid, identity.student_env(), cflags=cflags)

    specs = runner.load_checks(adir, include_hidden)
    emit({"event": "plan", "assignment": assignment, "language": result.language, "checks": runner.plan(specs)})
    ctx = CheckContext(workdir=sub, language=result.language or "", programs=result.programs or
                       {p: [] for p in programs}, identity=identity, assignment_dir=adir,
                       data=meta.get("harness") or {}, cflags=cflags, reference_dir=os.path.join(workdir, "ref"))
    try:
        runner.run_checks(ctx, specs, runner.build_outcome(result),
                          emit=lambda verdict: emit({"event": "check", "outcome": verdict}))
    finally:
        ctx.reset()
        procaccess.shutdown()
    return {"kill_latencies": ctx.kill_latencies}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m grader.harness")
    ap.add_argument("--assignment", required=True)
    ap.add_argument("--submission", default="/submission")
    ap.add_argument("--workdir", default="/work")
    ap.add_argument("--visible-only", action="store_true")
    ap.add_argument("--local", action="store_true",
                    help="run in private namespaces without a second uid (the weaker local runner)")
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

    error, stats = None, {}
    try:
        stats = grade(args.assignment, args.submission, args.workdir, not args.visible_only, identity, emit)
    except Exception as e:  # reported as an error verdict, never a crash without an answer
        traceback.print_exc()
        error = f"internal harness error: {type(e).__name__}: {e}"
    emit({"event": "end", "assignment": args.assignment, "error": error, "stats": stats})
    return 0


if __name__ == "__main__":
    sys.exit(main())
