"""`grade export gradescope NAME -o autograder.zip` and `grade export prairielearn NAME -o DIR`."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from grader.assignments import AssignmentError
from grader.yamlfile import ConfigError


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="grade export",
                                 description="Write what a course platform needs to grade an assignment with ipcgrade.")
    ap.add_argument("platform", choices=["gradescope", "prairielearn"])
    ap.add_argument("assignment")
    ap.add_argument("-o", "--out", type=Path, help="gradescope: the zip (default autograder.zip); "
                                                   "prairielearn: a new folder (default prairielearn-NAME)")
    args = ap.parse_args(argv)
    try:
        if args.platform == "gradescope":
            from grader.platforms import gradescope
            out = gradescope.export(args.assignment, args.out or Path("autograder.zip"))
            print(f"wrote {out}: upload it as the assignment's autograder (Configure Autograder > Zip file upload, "
                  "Ubuntu 22.04 base)")
        else:
            from grader.platforms import prairielearn
            out = prairielearn.export(args.assignment, args.out or Path(f"prairielearn-{args.assignment}"))
            print(f"wrote {out}/: build its Dockerfile into your course's grading image, copy tests/ into the "
                  "question folder and merge info-snippet.json into its info.json")
    except (AssignmentError, ConfigError, FileExistsError, OSError) as e:
        print(f"grade: {e}", file=sys.stderr)
        return 2
    return 0
