"""`grade new NAME`: a working assignment to start from.

The scaffold is complete from the first minute: spec, starter code, a harness
with two checks, a rubric, C and Python references and one mutant, so
`grade selftest NAME` passes before the author changes anything.
"""
from __future__ import annotations

import argparse
import re
import shutil
from pathlib import Path

from grader.course import add_course_option, create_course, find_course
from grader.locations import Home, bundled_home, in_checkout

TEMPLATE = Path(__file__).with_name("scaffold_template")


class ScaffoldError(RuntimeError):
    pass


def target_home(course_option: Path | None) -> tuple[Home, str]:
    """Where `grade new` writes, and how to say so: the course folder (--course DIR is made one
    if needed), else a checkout's own assignments/; never into an installed package."""
    if course_option is not None:
        course = create_course(course_option)
        return course.home, f"course folder {course.root}"
    course = find_course()
    if course is not None:
        return course.home, f"course folder {course.root}, from {course.how}"
    if in_checkout():
        return Home.at(bundled_home()), f"the checkout {bundled_home()}"
    raise ScaffoldError("no course folder to write the new assignment into: pass --course DIR (made a course "
                        "folder if it is not one yet), or run inside a folder with a course.yaml")


def check_name(name: str) -> None:
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", name):
        raise ScaffoldError(f"assignment names use lowercase letters, digits and '-': {name!r}")


def create(name: str, home: Home) -> Path:
    check_name(name)
    dest = home.assignments / name
    rubric = home.rubrics / f"{name}.yaml"
    if dest.exists() or rubric.exists():
        raise ScaffoldError(f"{dest if dest.exists() else rubric} already exists")
    shutil.copytree(TEMPLATE, dest, ignore=shutil.ignore_patterns("rubric.yaml", "__pycache__"))
    for f in dest.rglob("*"):
        if f.is_file():
            f.write_text(f.read_text().replace("__NAME__", name))
    home.rubrics.mkdir(parents=True, exist_ok=True)
    rubric.write_text((TEMPLATE / "rubric.yaml").read_text().replace("__NAME__", name))
    return dest


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="grade new", description="Scaffold a new assignment.")
    ap.add_argument("name")
    add_course_option(ap)
    args = ap.parse_args(argv)
    check_name(args.name)
    home, described = target_home(args.course)
    dest = create(args.name, home)
    course = f" --course {args.course}" if args.course else ""
    print(f"created {dest} and {home.rubrics / (args.name + '.yaml')} in {described}; next: edit README.md and "
          f"harness/checks.py, then `grade selftest {args.name}{course}` (see docs/authoring.md)")
    return 0
