"""Find an assignment folder and its rubric, and validate its metadata."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from grader.locations import Locations
from grader.score.rubric import Rubric, load_rubric
from grader.yamlfile import validate


class AssignmentError(RuntimeError):
    pass


class BuildSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cflags: str = "-Wall -Wextra -std=gnu11 -O2"


class AssignmentMeta(BaseModel):
    """The schema of assignments/NAME/assignment.yaml."""
    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str
    programs: list[str] = Field(min_length=1)
    build: BuildSettings = BuildSettings()
    harness: dict = Field(default_factory=dict)


@dataclass(frozen=True)
class Assignment:
    name: str
    dir: Path
    meta: AssignmentMeta
    rubric: Rubric
    rubric_path: Path
    where: Locations = field(compare=False)   # where it was found: the image and local runner need the same set

    @property
    def mutants_dir(self) -> Path:
        return self.dir / "mutants"

    @property
    def reference_dir(self) -> Path:
        return self.dir / "reference"


def available(where: Locations | None = None) -> list[str]:
    """Every assignment's name; `where` None means the bundled set only."""
    return list((where or Locations.bundled()).assignment_dirs())


def load(name: str, where: Locations | None = None) -> Assignment:
    where = where or Locations.bundled()
    folder = where.assignment_dir(name)
    if folder is None:
        known = ", ".join(available(where)) or "none"
        raise AssignmentError(f"unknown assignment {name!r} (available: {known})")
    meta = validate(folder / "assignment.yaml", AssignmentMeta)
    if meta.name != name:
        raise AssignmentError(f"{folder / 'assignment.yaml'}: name {meta.name!r} does not match its folder {name!r}")
    rubric_path = where.rubric(name)
    rubric = load_rubric(rubric_path)
    if rubric.assignment != name:
        raise AssignmentError(f"{rubric_path}: assignment {rubric.assignment!r} does not match {name!r}")
    return Assignment(name, folder, meta, rubric, rubric_path, where)
