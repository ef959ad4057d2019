"""`grade audit --format sarif`: the report as SARIF 2.1.0, so CI (GitHub code scanning) shows each finding
on a source line.

The line is found honestly, without debug information: each finding carries the trace line of the call
that created the object or the end (`origin`, e.g. `shmget(...)`, `pipe2(...)`, `bind(...)`); the
source of the process that made it is searched for the library call that makes that system call
(`shmget(` in C, `sysv_ipc.SharedMemory(` in Python, ...). One match gives its line; several give the
first, and the result says so; none gives the file without a line. A Python traceback names its line
exactly, and is used first.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from grader.audit.container.observation import KINDS, TITLES
from grader.audit.host.models import AuditReport, Finding
from grader.audit.host.render import finding_text

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INFO_URI = "https://github.com/ipcgrade/ipcgrade/blob/main/docs/audit.md"

# System call in the trace -> what a C or Python source writes to make it.
CALLS = {
    "shmget": ("shmget(", "SharedMemory("), "shmat": ("shmat(", ".attach(", "SharedMemory("),
    "msgget": ("msgget(", "MessageQueue("), "semget": ("semget(", "Semaphore("),
    "msgrcv": ("msgrcv(", ".receive("), "msgsnd": ("msgsnd(", ".send("), "semop": ("semop(", ".acquire(", ".release("),
    "semtimedop": ("semop(", "semtimedop(", ".acquire("), "futex": ("sem_wait(", "pthread_mutex_lock(", ".acquire("),
    "pipe": ("pipe(",), "pipe2": ("pipe(", "pipe2(", "Pipe("), "bind": ("bind(",),
    "openat": ("shm_open(", "SharedMemory("), "link": ("sem_open(", "Semaphore("),
    "mq_open": ("mq_open(", "MessageQueue("),
    "clone": ("fork(", "Process("), "clone3": ("fork(", "Process("), "fork": ("fork(",), "vfork": ("vfork(",),
    "write": ("write(",), "wait4": ("wait", ), "shmctl": ("shmctl(", ".remove("), "msgctl": ("msgctl(", ".remove("),
    "semctl": ("semctl(", ".remove("), "kill": ("kill(",), "shmdt": ("shmdt(", ".detach("),
}
_CALL = re.compile(r"^\d+\s+[\d:.]+\s+(?:<\.\.\. )?([a-z_0-9]+)[( ]")
_RUN = re.compile(r"^(?:pid \d+ \(forked by )?([A-Za-z0-9_.-]+)")
_PY_LINE = re.compile(r'File "([^"]+)", line (\d+)')


def _syscall(origin: str) -> str | None:
    m = _CALL.match(origin.strip())
    return m.group(1) if m else None


def locate(f: Finding, sources: dict[str, Path], default: str | None) -> tuple[str | None, int | None, str]:
    """(source name, line or None, how the line was found) for a finding."""
    m = _RUN.match(f.process)
    name = m.group(1) if m and m.group(1) in sources else default
    if name is None or name not in sources:
        return None, None, ""
    path = sources[name]
    text = "\n".join(e.text for e in f.evidence)
    frames = [(file, int(n)) for file, n in _PY_LINE.findall(text) if Path(file).name == path.name]
    if frames:
        return name, frames[-1][1], "the line named by the Python traceback"
    call = _syscall(f.origin)
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return name, None, ""
    for token in CALLS.get(call or "", ()):
        hits = [i + 1 for i, line in enumerate(lines)
                if token in line and not line.lstrip().startswith(("//", "#", "*", "/*"))]
        if len(hits) == 1:
            return name, hits[0], f"the only {token.rstrip('(')}() call in the file"
        if hits:
            return name, hits[0], (f"the first of {len(hits)} {token.rstrip('(')}() calls in the file (the trace "
                                   "does not say which one)")
    return name, None, ""


def render_sarif(report: AuditReport, sources: dict[str, Path], base: Path | None = None) -> str:
    """`sources`: process name -> its local source file; URIs are relative to `base` when they can be."""
    default = next(iter(sources), None) if len(sources) == 1 else None
    results = []
    for f in report.findings:
        name, line, how = locate(f, sources, default)
        result = {"ruleId": f.kind, "ruleIndex": KINDS.index(f.kind) if f.kind in KINDS else -1,
                  "level": "error" if f.certainty == "certain" else "warning",
                  "message": {"text": f.message + (f" (line: {how})" if how else "")},
                  "properties": {"certainty": f.certainty, "process": f.process, "details": finding_text(f)}}
        if name is not None:
            physical = {"artifactLocation": {"uri": _uri(sources[name], base)}}
            if line:
                physical["region"] = {"startLine": line}
            result["locations"] = [{"physicalLocation": physical}]
        results.append(result)
    rules = [{"id": k, "name": k.title().replace("-", ""), "shortDescription": {"text": TITLES[k]},
              "helpUri": f"{INFO_URI}#findings"} for k in KINDS]
    doc = {"$schema": SCHEMA_URI, "version": "2.1.0",
           "runs": [{"tool": {"driver": {"name": "grade audit", "informationUri": INFO_URI, "rules": rules}},
                     "results": results,
                     "invocations": [{"executionSuccessful": report.error is None}]}]}
    return json.dumps(doc, indent=2) + "\n"


def _uri(path: Path, base: Path | None) -> str:
    try:
        return path.resolve().relative_to((base or Path.cwd()).resolve()).as_posix()
    except ValueError:
        return path.resolve().as_uri()
