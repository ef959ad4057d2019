"""Build every assignment's C reference once, when the grading image is built.

Mix-and-match checks run the reference next to the student's program; compiling
it for every submission would cost two compiler runs per submission. The
binaries live under the root-only /opt/ipcgrade and are copied out as
execute-only files when a check needs them (build.build_reference).

Each assignment's metadata is also kept as JSON beside them, with the hash of
the YAML it came from: the harness then starts without importing a YAML parser
(about 30 ms per submission), and falls back to the YAML whenever it changed.
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

ROOT = os.environ.get("IPCGRADE_ASSIGNMENTS", "/opt/ipcgrade/assignments")
PREBUILT = "/opt/ipcgrade/refbin"


def prebuilt_path(assignment: str, program: str) -> str:
    return os.path.join(PREBUILT, assignment, program)


def load_meta(assignment_dir: str) -> dict:
    """An assignment's assignment.yaml, read from its prebuilt JSON copy when that is current."""
    with open(os.path.join(assignment_dir, "assignment.yaml"), "rb") as f:
        text = f.read()
    digest = hashlib.sha256(text).hexdigest()
    try:
        with open(_meta_path(os.path.basename(os.path.normpath(assignment_dir)))) as f:
            kept = json.load(f)
        if kept.get("sha256") == digest:
            return kept["meta"]
    except (OSError, ValueError, AttributeError, KeyError):
        pass
    import yaml
    return yaml.safe_load(text)


def _meta_path(assignment: str) -> str:
    return os.path.join(PREBUILT, assignment, "assignment.json")


def main() -> int:
    import yaml
    for name in sorted(os.listdir(ROOT)):
        adir = os.path.join(ROOT, name)
        src = os.path.join(adir, "reference", "c")
        meta_file = os.path.join(adir, "assignment.yaml")
        if not (os.path.isdir(src) and os.path.isfile(meta_file)):
            continue
        with open(meta_file, "rb") as f:
            text = f.read()
        meta = yaml.safe_load(text)
        cflags = (meta.get("build") or {}).get("cflags", "-Wall -Wextra -std=gnu11 -O2").split()
        os.makedirs(os.path.join(PREBUILT, name), exist_ok=True)
        if json.loads(json.dumps(meta)) == meta:     # nothing JSON would change (dates, number keys)
            with open(_meta_path(name), "w") as f:
                json.dump({"sha256": hashlib.sha256(text).hexdigest(), "meta": meta}, f)
        for prog in meta["programs"]:
            out = prebuilt_path(name, prog)
            subprocess.run(["gcc", *cflags, "-o", out, os.path.join(src, f"{prog}.c")], check=True)
            os.chmod(out, 0o711)
    return 0


if __name__ == "__main__":
    sys.exit(main())
