"""`grade check`: a student grades their own folder and gets the instructor's verdicts (hidden checks aside).

Reads `.grade.yaml` (assignment name, and in a student kit the folder holding
the kit's visible harness), runs only the visible checks, prints a readable
report, and exits 0 only when every visible check passes.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pydantic import BaseModel, ConfigDict
from rich.console import Console

from grader import assignments
from grader.course import add_course_option, locations
from grader.locations import Locations
from grader.models import CheckStatus, Gradebook, Submission, SubmissionResult
from grader.report import FORMATS, write_outputs
from grader.report.terminal import render_check_report
from grader.run import dockerenv, localrun
from grader.run.grading import grade_submission
from grader.run.image import ensure_image
from grader.run.sandbox import DockerRunner
from grader.yamlfile import validate

CONFIG = ".grade.yaml"


class GradeConfig(BaseModel):
    """The schema of .grade.yaml in a student's folder."""
    model_config = ConfigDict(extra="forbid")
    assignment: str
    home: str | None = None      # kit: where assignments/, rubrics/ and docker/ live, relative to the folder


class CheckUsageError(RuntimeError):
    pass


def hidden_count(assignment) -> int:
    """How many hidden checks grading will add (the kit's rubric says; the full repo counts them)."""
    if assignment.rubric.hidden_checks is not None:
        return assignment.rubric.hidden_checks
    from grader.harness.runner import load_checks
    visible = {"build"} | {c.id for c in load_checks(str(assignment.dir), include_hidden=False)}
    return sum(1 for cid in assignment.rubric.checks if cid not in visible)


def visible_result(result: SubmissionResult) -> SubmissionResult:
    """Drop checks deferred to grading time; rescore over what ran."""
    checks = [c for c in result.checks if not c.outcome.deferred and not c.hidden]
    return result.model_copy(update={"checks": checks, "score": round(sum(c.score for c in checks), 2),
                                     "max_score": round(sum(c.max_score for c in checks), 2)})


def all_passed(result: SubmissionResult) -> bool:
    return result.status == "graded" and all(c.status == CheckStatus.passed for c in result.checks)


def pick_runner(kind: str, console: Console, where: Locations | None = None):
    """Docker whenever a daemon answers (or when asked for); else, on "auto", the local runner."""
    if kind != "local":
        try:
            client = dockerenv.client()
            return DockerRunner(client=client, image=ensure_image(client, where), where=where)
        except dockerenv.DockerUnavailable:
            if kind == "docker":
                raise
    console.print(f"[yellow]{localrun.WARNING}[/yellow]")
    return localrun.runner(where=where)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="grade check", description="Check your own submission before you hand it in.")
    ap.add_argument("folder", nargs="?", type=Path, default=Path("."))
    ap.add_argument("-a", "--assignment")
    ap.add_argument("--format", choices=sorted(FORMATS), help="print this format on stdout instead of the report")
    ap.add_argument("-o", "--out", type=Path, help="also write every report format into this folder")
    ap.add_argument("--runner", choices=["auto", "docker", "local"], default="auto",
                    help="docker (default when a daemon is reachable) or local namespaces (self-check only)")
    add_course_option(ap)
    args = ap.parse_args(argv)
    console = Console(stderr=args.format is not None, soft_wrap=True)
    folder = args.folder
    if not folder.is_dir():
        raise CheckUsageError(f"{folder} is not a folder")
    name, home = args.assignment, None
    if (folder / CONFIG).is_file():
        cfg = validate(folder / CONFIG, GradeConfig)
        name = name or cfg.assignment
        home = folder / cfg.home if cfg.home else None
    if not name:
        raise CheckUsageError(f"name the assignment with -a NAME, or put 'assignment: NAME' in {folder / CONFIG}")
    where = Locations.of_home(home) if home else locations(args.course)
    return _check(folder, name, args, console, where)


def _check(folder: Path, name: str, args, console: Console, where: Locations) -> int:
    assignment = assignments.load(name, where)
    sub = Submission(student=folder.resolve().name, path=folder)
    with pick_runner(args.runner, console, where) as runner:
        full = grade_submission(runner, assignment, sub, visible_only=True)
    deferred = sum(1 for c in full.checks if c.outcome.deferred)
    result = visible_result(full)
    book = Gradebook(assignment=assignment.name, submissions=[result])
    if args.out:
        write_outputs(book, args.out, include_hidden=False)
    if args.format:
        sys.stdout.writelines(FORMATS[args.format](book))
    else:
        render_check_report(result, console, include_hidden=False)
        later = hidden_count(assignment) + deferred
        if later:
            console.print(f"{later} more check(s) run at grading time "
                          "(hidden tests, or checks that need the reference).")
        console.print(f"[bold]Score: {result.score:g} / {result.max_score:g}[/bold] (visible checks)")
    return 0 if all_passed(result) else 1
