"""Where the project's data lives: assignments, rubrics, the Dockerfile."""
from __future__ import annotations

import contextlib
import os
from pathlib import Path

HOME = Path(os.environ.get("IPCGRADE_HOME", Path(__file__).resolve().parents[1]))
ASSIGNMENTS = HOME / "assignments"
RUBRICS = HOME / "rubrics"
DOCKERFILE = HOME / "docker" / "Dockerfile"
HARNESS_PACKAGE = Path(__file__).resolve().parent / "harness"


@contextlib.contextmanager
def home_of(home: Path):
    """Use another home for the duration of one command, then restore the previous one."""
    saved = (HOME, ASSIGNMENTS, RUBRICS, DOCKERFILE)
    use_home(home)
    try:
        yield
    finally:
        _restore(*saved)


def _restore(home, assignments, rubrics, dockerfile) -> None:
    global HOME, ASSIGNMENTS, RUBRICS, DOCKERFILE
    HOME, ASSIGNMENTS, RUBRICS, DOCKERFILE = home, assignments, rubrics, dockerfile


def use_home(home: Path) -> None:
    """Read assignments, rubrics and the Dockerfile from another folder (a student kit's .ipcgrade/)."""
    global HOME, ASSIGNMENTS, RUBRICS, DOCKERFILE
    HOME = Path(home).resolve()
    ASSIGNMENTS = HOME / "assignments"
    RUBRICS = HOME / "rubrics"
    DOCKERFILE = HOME / "docker" / "Dockerfile"
