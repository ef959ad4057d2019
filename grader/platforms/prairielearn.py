"""PrairieLearn: `grade export prairielearn NAME -o DIR`, and the results.json its external grader reads.

PrairieLearn starts the course's grading image with the question's tests/ folder
in /grade/tests and the student's files in /grade/student, runs the entrypoint
and reads /grade/results/results.json. The export holds the image's Dockerfile
(our Debian base with the same setup.sh as Gradescope's), the entrypoint,
the `externalGradingOptions` snippet for the question's info.json and tests/.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from grader.models import CheckStatus, SubmissionResult
from grader.platforms import bundle
from grader.report._text import number
from grader.report.feedback import check_feedback

SOURCE = "/grade/tests"
SUBMISSION = "/grade/student"
RESULTS = "/grade/results/results.json"
BASE_IMAGE = "debian:bookworm-slim"


def results_doc(result: SubmissionResult | None, seconds: float, weaker: list[str],
                problem: str | None = None) -> dict:
    """PrairieLearn's results.json: score 0..1, a message, one test per visible check.

    PrairieLearn has no "shown after publication": hidden checks count in the score
    but are left out of `tests` (the same rule as Gradescope's after_published while unpublished).
    """
    if result is None:
        return {"gradable": False, "score": 0, "message": f"The autograder itself failed: {problem}",
                "tests": []}
    visible = [c for c in result.checks if not c.hidden]
    message = (f"{sum(c.status is CheckStatus.passed for c in visible)} of {len(visible)} visible checks passed.")
    hidden = len(result.checks) - len(visible)
    if hidden:
        message += f" {hidden} hidden check(s) count towards the score; your instructor shows them later."
    if result.status == "error":
        message = f"Your submission could not be graded, so it scores 0. Reason: {result.error}"
    if weaker:
        message += "\nGraded without ipcgrade's own sandbox: " + " ".join(weaker)
    score = result.score / result.max_score if result.status == "graded" and result.max_score else 0.0
    tests = [{"name": f"{c.id}: {c.name}", "points": number(c.score), "max_points": number(c.max_score),
              "output": check_feedback(c)} for c in visible]
    return {"gradable": True, "score": round(score, 6), "message": message, "tests": tests,
            "execution_time": round(seconds, 1)}


DOCKERFILE = """\
# ipcgrade's grading image for PrairieLearn: our Debian base plus the platform setup (compilers,
# strace, the student user, Python packages). The assignment itself comes from the question's tests/.
# Build and push it where your PrairieLearn course pulls images from, under the name in info.json.
FROM {base}
COPY ipcgrade-setup /opt/ipcgrade-setup
RUN bash /opt/ipcgrade-setup/setup.sh /opt/ipcgrade-setup
COPY entrypoint.sh /grade/entrypoint.sh
"""


def options_snippet(name: str, image: str, timeout: int) -> dict:
    return {"externalGradingOptions": {"enabled": True, "image": image, "entrypoint": "/grade/entrypoint.sh",
                                       "timeout": timeout}}


def export(name: str, out: Path, image: str | None = None, timeout: int = 240) -> Path:
    """Write DIR/{Dockerfile, ipcgrade-setup/, entrypoint.sh, info-snippet.json, tests/}."""
    image = image or f"ipcgrade-{name}-prairielearn"
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} exists and is not empty; choose a new folder")
    out.mkdir(parents=True, exist_ok=True)
    bundle.write_bundle(name, out / "tests")
    setup = out / "ipcgrade-setup" / "ipcgrade"
    setup.mkdir(parents=True)
    shutil.copy(out / "tests" / "ipcgrade" / "requirements.txt", setup / "requirements.txt")
    (out / "ipcgrade-setup" / "setup.sh").write_text(bundle.setup_script())
    entry = bundle.run_script("prairielearn", name, SOURCE, SUBMISSION, RESULTS, stage=True)
    (out / "entrypoint.sh").write_text(entry)
    (out / "entrypoint.sh").chmod(0o755)
    (out / "Dockerfile").write_text(DOCKERFILE.format(base=BASE_IMAGE))
    (out / "info-snippet.json").write_text(json.dumps(options_snippet(name, image, timeout), indent=2) + "\n")
    return out
