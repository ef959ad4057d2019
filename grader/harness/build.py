"""Prepare and build a submission inside the container, as the student uid.

The language is detected from the files present. C programs are built with the
submission's Makefile when there is one, otherwise with the assignment's gcc
command. Python programs are byte-compiled to catch syntax errors up front.
Compile-time bombs meet the build's rlimits and wall-clock limit.
"""
from __future__ import annotations

import os
import resource
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field

from . import limits
from .together import side_by_side

BUILD_SECONDS = 60
LOG_CAP = 20000
DEFAULT_CFLAGS = "-Wall -Wextra -std=gnu11 -O2"


@dataclass
class BuildResult:
    ok: bool
    language: str | None
    log: str = ""
    warnings: list[str] = field(default_factory=list)
    problem: str | None = None          # a one-line reason when not ok
    programs: dict[str, list[str]] = field(default_factory=dict)


def detect_language(files: set[str], programs: list[str]) -> tuple[str | None, str | None]:
    """('c' | 'python' | None, problem)."""
    has_c = all(f"{p}.c" in files for p in programs)
    has_py = all(f"{p}.py" in files for p in programs)
    if has_c and has_py:
        return None, ("the submission holds both C and Python versions of "
                      f"{', '.join(programs)}; keep only the language you want graded")
    if has_c:
        return "c", None
    if has_py:
        return "python", None
    any_c = {p for p in programs if f"{p}.c" in files}
    any_py = {p for p in programs if f"{p}.py" in files}
    lang, present = ("c", any_c) if len(any_c) >= len(any_py) and any_c else ("py", any_py)
    if present:
        missing = [f"{p}.{lang}" for p in programs if p not in present]
        return None, f"missing file(s): {', '.join(missing)}"
    wanted = (" and ".join(f"{p}.c" for p in programs) + " (C) or "
              + " and ".join(f"{p}.py" for p in programs) + " (Python)")
    return None, f"no program files found; expected {wanted}"


def copy_submission(src: str, dst: str, uid: int | None) -> None:
    """Copy without following links; the copy belongs to the student."""
    shutil.copytree(src, dst, symlinks=True, dirs_exist_ok=True)
    if uid is not None and os.geteuid() == 0:
        for root, dirs, files in os.walk(dst):
            for name in [*dirs, *files]:
                os.lchown(os.path.join(root, name), uid, uid)
        os.lchown(dst, uid, uid)


def _run(cmd: list[str], cwd: str, uid: int | None, env: dict, share: int = 1) -> tuple[int | None, str]:
    """`cmd` as the student under the build limits; `share`: how many compiles run at once, which
    split the address-space limit between them (together they stay below the container's memory)."""
    build_limits = {**limits.BUILD_LIMITS, resource.RLIMIT_AS: limits.BUILD_LIMITS[resource.RLIMIT_AS] // share}
    try:
        p = subprocess.run(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=BUILD_SECONDS, close_fds=True, start_new_session=True,
                           preexec_fn=lambda: limits.apply(build_limits), **limits.as_user(uid))
    except subprocess.TimeoutExpired as e:
        out = (e.output or b"").decode(errors="replace")
        return None, out[-LOG_CAP:] + f"\n(build stopped after {BUILD_SECONDS} s)"
    return p.returncode, p.stdout.decode(errors="replace")[-LOG_CAP:]


def build(workdir: str, programs: list[str], uid: int | None, env: dict, cflags: str = DEFAULT_CFLAGS) -> BuildResult:
    try:
        files = set(os.listdir(workdir))
    except OSError as e:
        return BuildResult(False, None, problem=f"cannot read the submission: {e}")
    language, problem = detect_language(files, programs)
    if problem:
        return BuildResult(False, None, problem=problem)
    logs, ok = [], True
    env = {**env, "LC_ALL": "C"}  # plain ASCII quotes in compiler messages
    if language == "c":
        if "Makefile" in files or "makefile" in files:
            rc, out = _run(["make"], workdir, uid, env)
            logs.append("$ make\n" + out)
            ok = rc == 0
        else:
            # The programs compile side by side (a second core is often free), each within its share of
            # the memory limit; one that fails is compiled again alone, with all of it, so the verdict
            # and its log are what a compile of its own gives. Logged in program order.
            commands = [["gcc", *cflags.split(), "-o", p, f"{p}.c"] for p in programs]
            results = side_by_side([lambda c=c: _run(c, workdir, uid, env, len(commands)) for c in commands], "build")
            if len(commands) > 1:
                results = [(rc, out) if rc in (0, None) else _run(cmd, workdir, uid, env)
                           for cmd, (rc, out) in zip(commands, results)]
            for cmd, (rc, out) in zip(commands, results):
                logs.append("$ " + " ".join(cmd) + "\n" + out)
                ok = ok and rc == 0
        missing = [p for p in programs if not os.path.isfile(os.path.join(workdir, p))]
        if ok and missing:
            ok = False
            logs.append(f"the build did not produce: {', '.join(missing)}")
        progs = {p: [os.path.join(workdir, p)] for p in programs}
    else:
        files_py = [f"{p}.py" for p in programs]
        check_syntax = "import sys\nfor f in sys.argv[1:]:\n    compile(open(f,'rb').read(), f, 'exec')"
        cmd = ["python3", "-c", check_syntax, *files_py]
        rc, out = _run(cmd, workdir, uid, env)
        logs.append("$ python3 (syntax check) " + " ".join(files_py) + "\n" + out)
        ok = rc == 0
        progs = {p: ["python3", os.path.join(workdir, f"{p}.py")] for p in programs}
    log = "\n".join(logs).strip()
    warnings = [line for line in log.splitlines() if "warning:" in line]
    return BuildResult(ok, language, log, warnings, None if ok else "the programs do not build", progs)


def build_reference(assignment_dir: str, programs: list[str], cflags: str, dest: str) -> dict[str, list[str]]:
    """Build the C reference into execute-only binaries for mix-and-match runs.

    They run as the student uid (so IPC permissions work both ways) yet stay
    unreadable: root owns them with mode 0711, and the kernel marks a process
    started from an unreadable binary non-dumpable, so the student can neither
    read the file nor ptrace or /proc/PID/mem the running reference.
    """
    src = os.path.join(assignment_dir, "reference", "c")
    if not os.path.isdir(src):
        from .api import ReferenceUnavailable
        raise ReferenceUnavailable(src)
    os.makedirs(dest, mode=0o711, exist_ok=True)
    from .prebuild import prebuilt_path
    with tempfile.TemporaryDirectory(dir="/run/ipcgrade" if os.path.isdir("/run/ipcgrade") else None) as tmp:
        out = {}
        for p in programs:
            binary = os.path.join(tmp, p)
            ready = prebuilt_path(os.path.basename(assignment_dir.rstrip("/")), p)
            if os.path.isfile(ready):  # compiled when the image was built
                shutil.copy(ready, binary)
            else:
                r = subprocess.run(["gcc", *cflags.split(), "-o", binary, os.path.join(src, f"{p}.c")],
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=BUILD_SECONDS)
                if r.returncode != 0:
                    log = r.stdout.decode(errors="replace")[-800:]
                    raise RuntimeError(f"the reference {p}.c does not build: {log}")
            final = os.path.join(dest, p)
            shutil.move(binary, final)
            os.chmod(final, 0o711)
            out[p] = [final]
    os.chmod(dest, 0o711)
    return out
