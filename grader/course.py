"""A course's own assignments and rubrics, kept in its own folder beside the bundled ones.

A course folder is laid out like this repository:

    my-course/
      course.yaml          marks the folder as a course (it may be empty)
      assignments/NAME/    the course's assignments: added to the bundled ones, same name overrides
      rubrics/NAME.yaml    their rubrics (a rubric alone re-weights a bundled assignment)

course.yaml, every key optional:

    assignments: assignments    # folder of assignments, relative to course.yaml
    rubrics: rubrics            # folder of rubrics, relative to course.yaml
    assignment: shm-handshake   # what a bare `grade submit/` grades inside this folder

Which course a command uses, first match wins: `--course DIR`, then the
environment variable IPCGRADE_COURSE=DIR, then the nearest course.yaml in the
working folder or one of its parents. None of them: the bundled assignments only.
"""
from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

from grader.locations import Home, Locations
from grader.yamlfile import ConfigError, validate

COURSE_FILE = "course.yaml"
ENV = "IPCGRADE_COURSE"


class CourseSettings(BaseModel):
    """The schema of course.yaml."""
    model_config = ConfigDict(extra="forbid")
    assignments: str = "assignments"
    rubrics: str = "rubrics"
    assignment: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9-]*$")


@dataclass(frozen=True)
class Course:
    root: Path
    settings: CourseSettings
    how: str        # how it was found, for messages: "--course", "IPCGRADE_COURSE" or the course.yaml path

    @property
    def home(self) -> Home:
        return Home((self.root / self.settings.assignments).resolve(), (self.root / self.settings.rubrics).resolve())


def find_course_file(start: Path) -> Path | None:
    """The nearest course.yaml in `start` or one of its parents."""
    start = Path(start).resolve()
    for folder in (start, *start.parents):
        if (folder / COURSE_FILE).is_file():
            return folder / COURSE_FILE
    return None


def load_course(root: Path, how: str) -> Course:
    """The course in folder `root`: its course.yaml's settings, or the defaults when it has none."""
    root = Path(root).resolve()
    if not root.is_dir():
        raise ConfigError([f"course folder {root} ({how}) does not exist"])
    file = root / COURSE_FILE
    settings = CourseSettings()
    if file.is_file():
        if yaml.safe_load(file.read_text(errors="replace")) is not None:
            settings = validate(file, CourseSettings)
    elif not (root / settings.assignments).is_dir():
        raise ConfigError([f"{root} ({how}) is not a course folder: it has neither {COURSE_FILE} nor assignments/"])
    return Course(root, settings, how)


def find_course(option: Path | None = None, start: Path | None = None) -> Course | None:
    """The course a command uses: `--course`, else IPCGRADE_COURSE, else the nearest course.yaml."""
    if option is not None:
        return load_course(option, "--course")
    if os.environ.get(ENV):
        return load_course(Path(os.environ[ENV]), ENV)
    file = find_course_file(start if start is not None else Path.cwd())
    return load_course(file.parent, str(file)) if file else None


def locations(option: Path | None = None, start: Path | None = None) -> Locations:
    """The bundled assignments plus the course's, if a course is found."""
    course = find_course(option, start)
    return Locations.bundled(course.home if course else None)


def create_course(root: Path) -> Course:
    """Make `root` a course folder (for `grade new --course DIR`): course.yaml, assignments/, rubrics/."""
    root = Path(root).resolve()
    root.mkdir(parents=True, exist_ok=True)
    if not (root / COURSE_FILE).exists():
        (root / COURSE_FILE).write_text("# ipcgrade course folder: its assignments and rubrics sit beside the "
                                        "bundled ones.\nassignments: assignments\nrubrics: rubrics\n")
    course = load_course(root, "--course")
    course.home.assignments.mkdir(parents=True, exist_ok=True)
    course.home.rubrics.mkdir(parents=True, exist_ok=True)
    return course


def add_course_option(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--course", type=Path, metavar="DIR",
                    help=f"a course folder whose assignments/ and rubrics/ add to the bundled ones "
                         f"(default: ${ENV}, else the nearest {COURSE_FILE} here or above)")
