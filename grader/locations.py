"""Where things are: the assignments, the rubrics and the grading image's inputs.

One `Locations` value, made once per command and passed down, replaces
module-level paths. It layers homes (folders laid out like this repository:
`assignments/NAME/`, `rubrics/NAME.yaml`): the bundled set first, then a
course's, which adds assignments and overrides bundled ones by name.

The bundled home is the checkout's root when running from a clone, and the
package's `bundled/` folder in an installed wheel (pyproject.toml maps the
top-level assignments/, rubrics/ and docker/ there).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
HARNESS_PACKAGE = PACKAGE / "harness"


def bundled_home() -> Path:
    """The folder holding the shipped assignments/, rubrics/ and docker/."""
    installed = PACKAGE / "bundled"
    return installed if (installed / "docker" / "Dockerfile").is_file() else PACKAGE.parent


def in_checkout() -> bool:
    """Running from a clone of the repository (not from an installed wheel)."""
    return bundled_home() == PACKAGE.parent


@dataclass(frozen=True)
class Home:
    """One folder of assignments and rubrics."""
    assignments: Path
    rubrics: Path

    @classmethod
    def at(cls, root: Path) -> Home:
        root = Path(root).resolve()
        return cls(root / "assignments", root / "rubrics")


@dataclass(frozen=True)
class Locations:
    """The homes to read (later ones override earlier ones by name), the Dockerfile, the harness
    package, and the course home that `grade new` writes into (None: no course)."""
    homes: tuple[Home, ...]
    dockerfile: Path
    course: Home | None = None
    harness_package: Path = HARNESS_PACKAGE

    @classmethod
    def bundled(cls, course: Home | None = None) -> Locations:
        """The shipped assignments, plus a course's on top when given."""
        root = bundled_home()
        homes = (Home.at(root),) + ((course,) if course and course != Home.at(root) else ())
        return cls(homes, root / "docker" / "Dockerfile", course)

    @classmethod
    def of_home(cls, root: Path) -> Locations:
        """One self-contained home with its own docker/Dockerfile (a student kit's .ipcgrade/)."""
        root = Path(root).resolve()
        return cls((Home.at(root),), root / "docker" / "Dockerfile")

    def assignment_dirs(self) -> dict[str, Path]:
        """Every assignment by name, the last home holding a name winning."""
        found: dict[str, Path] = {}
        for home in self.homes:
            if home.assignments.is_dir():
                for p in sorted(home.assignments.iterdir()):
                    if (p / "assignment.yaml").is_file():
                        found[p.name] = p
        return dict(sorted(found.items()))

    def assignment_dir(self, name: str) -> Path | None:
        return self.assignment_dirs().get(name)

    def rubric(self, name: str) -> Path:
        """rubrics/NAME.yaml from the last home that has it (a course may re-weight a bundled
        assignment with a rubric alone); where the assignment's own home would keep it when none has it."""
        for home in reversed(self.homes):
            if (home.rubrics / f"{name}.yaml").is_file():
                return home.rubrics / f"{name}.yaml"
        folder = self.assignment_dir(name)
        home = next((h for h in self.homes if folder and folder.parent == h.assignments), self.homes[-1])
        return home.rubrics / f"{name}.yaml"
