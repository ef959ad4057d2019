"""`grade kit`: what a course hands out for one assignment.

The spec, the starter code, the visible harness, the visible part of the
rubric, `.grade.yaml` and CI templates. Never hidden checks, reference
solutions or mutants: the kit is assembled from an allow-list, not by copying
the folder and deleting things.
"""
from __future__ import annotations

import argparse
import shutil
from pathlib import Path
from string import Template

import yaml

from grader import assignments
from grader.course import add_course_option, locations
from grader.harness.runner import BUILD_CHECK_ID, load_checks
from grader.locations import Locations

TEMPLATES = Path(__file__).with_name("kit_templates")
KIT_HOME = ".ipcgrade"


class KitError(RuntimeError):
    pass


def visible_rubric(assignment) -> dict:
    visible = [BUILD_CHECK_ID] + [c.id for c in load_checks(str(assignment.dir), include_hidden=False)]
    checks = {cid: _number(assignment.rubric.checks[cid].points) for cid in visible if cid in assignment.rubric.checks}
    hidden = [cid for cid in assignment.rubric.checks if cid not in visible]
    return {"assignment": assignment.name, "checks": checks, "hidden_checks": len(hidden)}


def write_kit(name: str, out: Path, pip_spec: str = "ipcgrade", where: Locations | None = None) -> Path:
    a = assignments.load(name, where)
    if out.exists() and any(out.iterdir()):
        raise KitError(f"{out} exists and is not empty")
    home = out / KIT_HOME
    adir = home / "assignments" / name
    (adir / "harness").mkdir(parents=True)
    (home / "rubrics").mkdir(parents=True)
    (home / "docker").mkdir(parents=True)
    shutil.copy(a.dir / "assignment.yaml", adir / "assignment.yaml")
    shutil.copy(a.dir / "README.md", adir / "README.md")
    shutil.copy(a.dir / "harness" / "checks.py", adir / "harness" / "checks.py")
    shutil.copy(a.where.dockerfile, home / "docker" / "Dockerfile")
    (home / "rubrics" / f"{name}.yaml").write_text(
        f"# Visible part of the {name} rubric; hidden checks add to it at grading time.\n"
        + yaml.safe_dump(visible_rubric(a), sort_keys=False))
    shutil.copy(a.dir / "README.md", out / "README.md")
    if (a.dir / "starter").is_dir():
        shutil.copytree(a.dir / "starter", out / "starter")
    (out / ".grade.yaml").write_text(f"assignment: {name}\nhome: {KIT_HOME}\n")
    values = {"assignment": name, "pip_spec": pip_spec}
    (out / ".github" / "workflows").mkdir(parents=True)
    (out / ".github" / "workflows" / "grade.yml").write_text(
        Template((TEMPLATES / "github-grade.yml").read_text()).substitute(values))
    (out / ".gitlab-ci.yml").write_text(Template((TEMPLATES / "gitlab-ci.yml").read_text()).substitute(values))
    return out


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="grade kit", description="Write the student kit for an assignment.")
    ap.add_argument("assignment")
    ap.add_argument("-o", "--out", type=Path, required=True)
    ap.add_argument("--pip-spec", default="ipcgrade", help="what CI installs to get the grade command")
    add_course_option(ap)
    args = ap.parse_args(argv)
    try:
        out = write_kit(args.assignment, args.out, args.pip_spec, locations(args.course))
    except KitError as e:
        from grader.cli import fail
        return fail(str(e))
    print(f"kit for {args.assignment} written to {out}: README.md, starter/, .grade.yaml, "
          f".ipcgrade/ (visible harness and rubric), .github/workflows/grade.yml, .gitlab-ci.yml")
    return 0


def _number(points: float) -> int | float:
    return int(points) if points == int(points) else points
