"""Inside a platform's container: grade the one submission there and write the platform's results file.

    python3 -m grader.platforms.autograde gradescope|prairielearn ASSIGNMENT SUBMISSION_DIR RESULTS_FILE

Always writes a results file, even when grading itself fails: a platform shows
a missing or malformed file to the student as an unexplained crash.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from pathlib import Path

from grader import assignments
from grader.models import Submission, SubmissionResult
from grader.platforms import direct
from grader.run import grading
from grader.score.scoring import error_result


def submission_root(folder: Path) -> Path:
    """The folder holding the files: a student who uploaded one folder (or a zip of one) has them one level down."""
    entries = [p for p in folder.iterdir() if not p.name.startswith((".", "__MACOSX"))]
    if len(entries) == 1 and entries[0].is_dir() and not entries[0].is_symlink():
        return entries[0]
    return folder


def grade_here(assignment_name: str, folder: Path) -> tuple[SubmissionResult, list[str]]:
    """The scored result of the submission in `folder`, and what was weaker than the Docker runner."""
    assignment = assignments.load(assignment_name)
    if not folder.is_dir():
        return error_result("submission", f"no submission folder at {folder}", assignment.rubric), []
    sub = Submission(student="submission", path=submission_root(folder))
    with direct.DirectRunner(where=assignment.where) as run:
        return grading.grade_submission(run, assignment, sub), direct.degradations()


def main(argv: list[str] | None = None) -> int:
    from grader.platforms import gradescope, prairielearn
    formats = {"gradescope": gradescope.results_doc, "prairielearn": prairielearn.results_doc}
    ap = argparse.ArgumentParser(prog="python3 -m grader.platforms.autograde")
    ap.add_argument("platform", choices=sorted(formats))
    ap.add_argument("assignment")
    ap.add_argument("submission", type=Path)
    ap.add_argument("results", type=Path)
    args = ap.parse_args(argv)
    t0 = time.monotonic()
    try:
        result, weaker = grade_here(args.assignment, args.submission)
        doc = formats[args.platform](result, time.monotonic() - t0, weaker)
    except direct.DirectRunnerUnavailable as e:
        doc = formats[args.platform](None, time.monotonic() - t0, [], problem=str(e))
    except Exception as e:  # the platform must get a results file whatever happens
        traceback.print_exc()
        doc = formats[args.platform](None, time.monotonic() - t0, [], problem=f"{type(e).__name__}: {e}")
    args.results.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.results.with_name(args.results.name + ".tmp")
    tmp.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    os.replace(tmp, args.results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
