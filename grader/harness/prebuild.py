"""Build every assignment's C reference once, when the grading image is built.

Mix-and-match checks run the reference next to the student's program; compiling
it for every submission would cost two compiler runs per submission. The
binaries live under the root-only /opt/ipcgrade and are copied out as
execute-only files when a check needs them (build.build_reference).
"""
from __future__ import annotations

import os
import subprocess
import sys

import yaml

ROOT = os.environ.get("IPCGRADE_ASSIGNMENTS", "/opt/ipcgrade/assignments")
PREBUILT = "/opt/ipcgrade/refbin"


def prebuilt_path(assignment: str, program: str) -> str:
    return os.path.join(PREBUILT, assignment, program)


def main() -> int:
    for name in sorted(os.listdir(ROOT)):
        adir = os.path.join(ROOT, name)
        src = os.path.join(adir, "reference", "c")
        meta_file = os.path.join(adir, "assignment.yaml")
        if not (os.path.isdir(src) and os.path.isfile(meta_file)):
            continue
        with open(meta_file) as f:
            meta = yaml.safe_load(f)
        cflags = (meta.get("build") or {}).get("cflags", "-Wall -Wextra -std=gnu11 -O2").split()
        os.makedirs(os.path.join(PREBUILT, name), exist_ok=True)
        for prog in meta["programs"]:
            out = prebuilt_path(name, prog)
            subprocess.run(["gcc", *cflags, "-o", out, os.path.join(src, f"{prog}.c")], check=True)
            os.chmod(out, 0o711)
    return 0


if __name__ == "__main__":
    sys.exit(main())
