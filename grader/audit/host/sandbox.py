"""Stage cases into a folder and run the in-container audit on them, in the grading sandbox.

Each case gets a sub-folder holding `audit.json` and its files; the folder is
mounted read-only at /submission, and `python3 -m grader.audit.container` audits
the cases one after another in one container and prints one JSON document.
"""
from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from pydantic import ValidationError

from grader.audit.host.models import AuditDocument, AuditReport
from grader.audit.host.scenario import Case
from grader.run import dockerenv, image, sandbox

OVERHEAD_SECONDS = 30     # per case: building, starting, the end-of-run SIGTERM grace


class AuditError(RuntimeError):
    pass


def stage(cases: list[Case], root: Path) -> list[str]:
    """Write each case into root/NN-name/; return the in-container folder of each."""
    dirs = []
    for i, case in enumerate(cases):
        folder = f"{i:02d}-{case.name}"
        dest = root / folder
        dest.mkdir(parents=True)
        for name, local in case.files.items():
            shutil.copyfile(local, dest / name)
        (dest / "audit.json").write_text(json.dumps(case.spec, indent=1))
        dirs.append(f"/submission/{folder}")
    root.chmod(0o755)
    for d in root.iterdir():
        d.chmod(0o755)
        for f in d.iterdir():
            f.chmod(0o644)
    return dirs


def limits_for(cases: list[Case]) -> sandbox.Limits:
    wall = sum(float(c.spec["time_limit"]) + OVERHEAD_SECONDS for c in cases)
    return sandbox.Limits(wall_seconds=int(wall) + 30)


def parse_output(stdout: bytes, n: int) -> list[AuditReport]:
    lines = stdout.decode(errors="replace").strip().splitlines()
    if not lines:
        raise AuditError("the audit printed nothing")
    try:
        doc = AuditDocument.model_validate_json(lines[-1])
    except ValidationError as e:
        raise AuditError(f"the audit's answer is not valid: {e.errors()[0]['msg']}") from None
    if len(doc.reports) != n:
        raise AuditError(f"the audit answered for {len(doc.reports)} case(s), expected {n}")
    return doc.reports


def run_cases(cases: list[Case], client=None, tag: str | None = None) -> list[AuditReport]:
    """Audit the cases in one container; one report per case, in order."""
    client = client or dockerenv.client()
    tag = tag or image.ensure_image(client)
    with tempfile.TemporaryDirectory(prefix="ipcgrade-audit-") as tmp:
        root = Path(tmp) / "cases"
        dirs = stage(cases, root)
        result = sandbox.run_in_container(client, tag, root, ["python3", "-m", "grader.audit.container", *dirs],
                                          limits_for(cases))
    if result.timed_out:
        raise AuditError("the audit container hit its wall-clock limit")
    if result.oom_killed:
        raise AuditError("the audit container ran out of memory")
    try:
        return parse_output(result.stdout, len(cases))
    except AuditError as e:
        tail = result.stderr.decode(errors="replace").strip().splitlines()[-3:]
        raise AuditError(f"{e}" + (f" (container stderr: {' | '.join(tail)})" if tail else "")) from None
