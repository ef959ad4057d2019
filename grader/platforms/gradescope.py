"""Gradescope: `grade export gradescope NAME -o autograder.zip`, and the results.json it writes.

Gradescope builds an image from its Ubuntu base by running setup.sh with the
zip's contents in /autograder/source, then for each submission copies
run_autograder to /autograder, the student's files to /autograder/submission,
runs it as root and reads /autograder/results/results.json.
"""
from __future__ import annotations

import stat
import tempfile
import zipfile
from pathlib import Path

from grader.models import SubmissionResult
from grader.platforms import bundle
from grader.report import gradescope as report

SOURCE = "/autograder/source"
SUBMISSION = "/autograder/submission"
RESULTS = "/autograder/results/results.json"


def results_doc(result: SubmissionResult | None, seconds: float, weaker: list[str],
                problem: str | None = None) -> dict:
    """results.json: one test per check (hidden ones after_published), the score, the time taken,
    and what this platform made weaker than the Docker runner."""
    if result is None:
        return {"score": 0, "execution_time": round(seconds),
                "output": f"The autograder itself failed, so this submission was not graded: {problem}. "
                          "This is not your fault; tell your instructor.",
                "tests": [], "visibility": "visible", "stdout_visibility": "hidden"}
    doc = report.results_doc(result)
    doc["execution_time"] = round(seconds)
    if weaker:
        doc["output"] += "\n\nGraded on Gradescope, which is weaker than ipcgrade's own sandbox here:\n" + \
            "\n".join(f"- {w}" for w in weaker)
    return doc


def export(name: str, out: Path) -> Path:
    """Write the autograder zip for assignment `name`; returns its path."""
    with tempfile.TemporaryDirectory(prefix="ipcgrade-gradescope-") as tmp:
        root = Path(tmp)
        bundle.write_bundle(name, root)
        (root / "setup.sh").write_text(bundle.setup_script())
        (root / "run_autograder").write_text(bundle.run_script("gradescope", name, SOURCE, SUBMISSION, RESULTS))
        out.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(root.rglob("*")):
                if path.is_file():
                    info = zipfile.ZipInfo.from_file(path, path.relative_to(root).as_posix())
                    executable = path.name in ("setup.sh", "run_autograder")
                    info.external_attr = ((0o755 if executable else 0o644) | stat.S_IFREG) << 16
                    info.compress_type = zipfile.ZIP_DEFLATED
                    zf.writestr(info, path.read_bytes())
    return out
