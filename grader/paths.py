"""Where the project's data lives: assignments, rubrics, the Dockerfile."""
from __future__ import annotations

import os
from pathlib import Path

HOME = Path(os.environ.get("IPCGRADE_HOME", Path(__file__).resolve().parents[1]))
ASSIGNMENTS = HOME / "assignments"
RUBRICS = HOME / "rubrics"
DOCKERFILE = HOME / "docker" / "Dockerfile"
HARNESS_PACKAGE = Path(__file__).resolve().parent / "harness"


def use_home(home: Path) -> None:
    """Read assignments, rubrics and the Dockerfile from another folder (a student kit's .ipcgrade/)."""
    global HOME, ASSIGNMENTS, RUBRICS, DOCKERFILE
    HOME = Path(home).resolve()
    ASSIGNMENTS = HOME / "assignments"
    RUBRICS = HOME / "rubrics"
    DOCKERFILE = HOME / "docker" / "Dockerfile"
