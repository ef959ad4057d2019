"""Entry point inside the container for `grade audit`: audit one or more staged cases, print one JSON document.

    python3 -m grader.audit.container /submission/CASE [/submission/CASE ...]

Each CASE folder holds `audit.json` (the scenario, already validated on the
host) and the source files it names. Sources are built as assignments are
built (gcc with the assignments' flags; Python syntax-checked), the scenario is
run as the student uid under strace, and the findings are judged from what was
observed. Cases run one after another with a full reset in between, so one
container can audit a whole test corpus.

stdout belongs to this document alone, exactly as in grader.harness.__main__.
"""
from __future__ import annotations

import json
import os
import sys
import time

from grader.audit.container.findings import audit as judge
from grader.audit.container.run import (
    POSIX_DIRS,
    ScenarioRunner,
    _listdir,
    remove_posix_objects,
)
from grader.harness import build
from grader.harness.context import CheckContext
from grader.harness.spawn import Identity

OUTPUT_TAIL = 4000
VERSION = 1


def _tail(text: str) -> str:
    return text if len(text) <= OUTPUT_TAIL else "...\n" + text[-OUTPUT_TAIL:]


def _shown(arg: str, sub: str) -> str:
    """Show a built program as ./NAME (as the student would type it), not by its path in the container."""
    return "./" + arg[len(sub) + 1:] if arg.startswith(sub + "/") else arg


def audit_case(case_dir: str, workdir: str, identity: Identity) -> dict:
    with open(os.path.join(case_dir, "audit.json")) as f:
        spec = json.load(f)
    t0 = time.monotonic()
    report = {"name": spec.get("name") or os.path.basename(case_dir), "time_limit": spec.get("time_limit"),
              "end_reason": "", "processes": [], "build": [], "findings": [], "notes": [], "error": None,
              "seconds": 0.0}
    sub = os.path.join(workdir, "sub")
    os.makedirs(sub, exist_ok=True)
    build.copy_submission(case_dir, sub, identity.uid)
    commands, languages = {}, {}
    for source in sorted({p["source"] for p in spec["processes"]}):
        stem, ext = os.path.splitext(source)
        result = build.build(sub, [stem], identity.uid, identity.student_env(),
                             cflags=spec.get("cflags") or build.DEFAULT_CFLAGS)
        report["build"].append({"source": source, "ok": result.ok, "log": _tail(result.log),
                                "warnings": result.warnings, "problem": result.problem})
        if not result.ok:
            report["error"] = f"{source} does not build: {result.problem or 'see the build log'}"
            continue
        commands[source] = result.programs[stem]
        languages[source] = result.language or ("python" if ext == ".py" else "c")
    if report["error"]:
        return report
    ctx = CheckContext(workdir=sub, language="", programs={}, identity=identity, assignment_dir=case_dir)
    baseline = {d: set(_listdir(d)) for d in POSIX_DIRS}
    try:
        runner = ScenarioRunner(ctx, spec, commands, languages)
        obs = runner.run()
        report["end_reason"] = obs.end_reason
        report["notes"] = runner.notes
        report["processes"] = [{"name": r.name, "argv": [_shown(a, sub) for a in r.argv], "pid": r.pid, "exit": r.exit,
                                "stdout": _tail(r.stdout), "stderr": _tail(r.stderr)} for r in obs.runs]
        report["findings"] = [f.to_dict() for f in judge(obs)]
    finally:
        ctx.reset()
        remove_posix_objects(baseline)
    report["seconds"] = round(time.monotonic() - t0, 2)
    return report


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    real_stdout = os.fdopen(os.dup(1), "w")
    sys.stdout = sys.stderr  # nothing but the final document goes to fd 1
    identity = Identity()
    reports = []
    for i, case in enumerate(args):
        try:
            reports.append(audit_case(case, os.path.join("/work", "audit", str(i)), identity))
        except Exception as e:  # an answer for every case, never a crash without one
            import traceback
            traceback.print_exc()
            reports.append({"name": os.path.basename(case), "error": f"internal audit error: {type(e).__name__}: {e}",
                            "findings": [], "processes": [], "build": [], "notes": [], "end_reason": "",
                            "time_limit": None, "seconds": 0.0})
    real_stdout.write(json.dumps({"version": VERSION, "reports": reports}) + "\n")
    real_stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
