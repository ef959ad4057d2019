"""What both platform exports ship: the grader's source, one assignment (no mutants, no starter code)
and its rubric, as a folder `ipcgrade/` laid out like a checkout, run with PYTHONPATH pointing at it
(grader.locations then finds the assignment and rubric beside the package).

The package is shipped as source, not installed with pip: the platforms' default Python (3.10 on
Gradescope's Ubuntu 22.04) is older than pyproject's floor, and the grader's code is kept
3.10-compatible for exactly this (tests/unit/test_platforms.py checks it with vermin).
"""
from __future__ import annotations

import shutil
from pathlib import Path

from grader import assignments
from grader.locations import HARNESS_PACKAGE

# The grader's own dependencies (pyproject's), installed in a venv by the platform's setup.
# posix_ipc: the harness itself makes bounded-buffer's test buffers (grader/harness/posix.py).
REQUIREMENTS = ["pydantic>=2.5", "pyyaml>=6", "rich>=13", "jinja2>=3.1", "docker>=6.1", "posix_ipc==1.3.2"]
# Debian/Ubuntu packages: compilers, the tracer and what student Python programs import.
APT_PACKAGES = ["gcc", "libc6-dev", "make", "python3", "python3-venv", "python3-pip", "python3-sysv-ipc",
                "python3-yaml", "strace", "util-linux", "procps", "coreutils", "tini"]
LEFT_OUT = shutil.ignore_patterns("__pycache__", "*.pyc", "mutants", "starter", ".*")


def write_bundle(name: str, dest: Path) -> Path:
    """Copy everything needed to grade `name` into dest/ipcgrade; returns that folder."""
    assignment = assignments.load(name)   # an unknown name stops here, with the list of known ones
    root = dest / "ipcgrade"
    shutil.copytree(HARNESS_PACKAGE.parent, root / "grader", ignore=LEFT_OUT)
    shutil.copytree(assignment.dir, root / "assignments" / name, ignore=LEFT_OUT)
    (root / "rubrics").mkdir(parents=True)
    shutil.copy(assignment.rubric_path, root / "rubrics" / f"{name}.yaml")
    (root / "requirements.txt").write_text("\n".join(REQUIREMENTS) + "\n")
    return root


SETUP_SH = """\
#!/usr/bin/env bash
# Installs what ipcgrade's harness needs, once, as root, on a Debian or Ubuntu base
# (Gradescope: Ubuntu 22.04 by default, whose Python 3.10 the grader runs on).
set -euo pipefail
SRC="${{1:-$(cd "$(dirname "$0")" && pwd)}}"
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends {apt}
rm -rf /var/lib/apt/lists/*
# Student programs run as `student` (uid 2000), never as root; mix-and-match references as `reference`.
getent group student >/dev/null || groupadd -g 2000 student
id -u student >/dev/null 2>&1 || useradd -u 2000 -g 2000 -M -d /work -s /bin/sh student
getent group reference >/dev/null || groupadd -g 2001 reference
id -u reference >/dev/null 2>&1 || useradd -u 2001 -g 2001 -M -d /nonexistent -s /bin/sh reference
python3 -m venv /opt/ipcgrade-venv
# Student Python programs import posix_ipc (bounded-buffer), which neither Debian nor Ubuntu packages.
python3 -m pip install --no-cache-dir "posix_ipc==1.3.2" \
  || python3 -m pip install --no-cache-dir --break-system-packages "posix_ipc==1.3.2"
/opt/ipcgrade-venv/bin/pip install --no-cache-dir -r "$SRC/ipcgrade/requirements.txt"
# Hidden checks and the reference solution: readable by root only, so student code cannot read them.
chown -R root:root "$SRC"
chmod -R go-rwx "$SRC"
# The C references, compiled once (as in ipcgrade's own image), when the assignment comes with this setup.
if [ -d "$SRC/ipcgrade/assignments" ]; then
  PYTHONPATH="$SRC/ipcgrade" IPCGRADE_ASSIGNMENTS="$SRC/ipcgrade/assignments" \\
    /opt/ipcgrade-venv/bin/python -m grader.harness.prebuild
fi
"""


def setup_script() -> str:
    return SETUP_SH.format(apt=" ".join(APT_PACKAGES))


def run_script(platform: str, name: str, src: str, submission: str, results: str, stage: bool = False) -> str:
    """The platform's entry point: grade the submission, write the results file.

    stage=True first copies src/ipcgrade (a folder the platform mounts, readable by anyone) to a
    root-only place, so student programs can read neither hidden checks nor the reference."""
    home = f"{src}/ipcgrade"
    staging = ""
    if stage:
        home = "/run/ipcgrade-src/ipcgrade"
        staging = (f'rm -rf /run/ipcgrade-src && install -d -m 700 /run/ipcgrade-src\n'
                   f'cp -r "{src}/ipcgrade" /run/ipcgrade-src/ && chmod -R go-rwx /run/ipcgrade-src\n')
    return f"""\
#!/usr/bin/env bash
# Grades {submission} with ipcgrade ({name}) and writes {results}.
set -u
{staging}export PYTHONPATH="{home}" PYTHONDONTWRITEBYTECODE=1 LANG=C.UTF-8
unset PYTHONUNBUFFERED
exec /opt/ipcgrade-venv/bin/python -m grader.platforms.autograde {platform} {name} "{submission}" "{results}"
"""
