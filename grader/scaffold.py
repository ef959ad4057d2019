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

from . import paths

TEMPLATE = Path(__file__).with_name("scaffold_template")


class ScaffoldError(RuntimeError):
    pass


def create(name: str) -> Path:
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", name):
        raise ScaffoldError(f"assignment names use lowercase letters, digits and '-': {name!r}")
    dest = paths.ASSIGNMENTS / name
    rubric = paths.RUBRICS / f"{name}.yaml"
    if dest.exists() or rubric.exists():
        raise ScaffoldError(f"{dest if dest.exists() else rubric} already exists")
    shutil.copytree(TEMPLATE, dest, ignore=shutil.ignore_patterns("rubric.yaml", "__pycache__"))
    for f in dest.rglob("*"):
        if f.is_file():
            f.write_text(f.read_text().replace("__NAME__", name))
    paths.RUBRICS.mkdir(parents=True, exist_ok=True)
    rubric.write_text((TEMPLATE / "rubric.yaml").read_text().replace("__NAME__", name))
    return dest


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="grade new", description="Scaffold a new assignment.")
    ap.add_argument("name")
    args = ap.parse_args(argv)
    dest = create(args.name)
    print(f"created {dest} and {paths.RUBRICS / (args.name + '.yaml')}; next: edit README.md and "
          f"harness/checks.py, then `grade selftest {args.name}` (see docs/authoring.md)")
    return 0
