"""Entry point inside the container: grade the submission at /submission, print one JSON document.

stdout belongs to the harness alone: student programs write into pipes the
harness drains, so nothing a student prints can reach this document.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import yaml

from . import build, procaccess, runner
from .context import CheckContext
from .spawn import Identity

ASSIGNMENTS = os.environ.get("IPCGRADE_ASSIGNMENTS", "/opt/ipcgrade/assignments")


def grade(assignment: str, submission: str, workdir: str, include_hidden: bool, identity: Identity) -> dict:
    adir = os.path.join(ASSIGNMENTS, assignment)
    with open(os.path.join(adir, "assignment.yaml")) as f:
        meta = yaml.safe_load(f)
    programs = list(meta["programs"])
    sub = os.path.join(workdir, "sub")
    os.makedirs(sub, exist_ok=True)
    build.copy_submission(submission, sub, identity.uid)
    result = build.build(sub, programs, identity.uid, identity.student_env(),
                         cflags=meta.get("build", {}).get("cflags", build.DEFAULT_CFLAGS))

    specs = runner.load_checks(adir, include_hidden)
    cflags = meta.get("build", {}).get("cflags", build.DEFAULT_CFLAGS)
    ctx = CheckContext(workdir=sub, language=result.language or "", programs=result.programs or
                       {p: [] for p in programs}, identity=identity, assignment_dir=adir,
                       data=meta.get("harness") or {}, cflags=cflags, reference_dir=os.path.join(workdir, "ref"))
    try:
        checks = runner.run_checks(ctx, specs, runner.build_outcome(result))
    finally:
        ctx.reset()
        procaccess.shutdown()
    return {"assignment": assignment, "language": result.language, "checks": checks, "error": None,
            "stats": {"kill_latencies": ctx.kill_latencies}}


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
    sys.stdout = sys.stderr  # nothing but the final document goes to fd 1
    try:
        doc = grade(args.assignment, args.submission, args.workdir, not args.visible_only, identity)
    except Exception as e:  # reported as an error verdict, never a crash without an answer
        import traceback
        traceback.print_exc()
        doc = {"assignment": args.assignment, "language": None, "checks": [],
               "error": f"internal harness error: {type(e).__name__}: {e}"}
    real_stdout.write(json.dumps(doc) + "\n")
    real_stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
