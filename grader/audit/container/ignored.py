"""Audit rule: a failed IPC call whose -1 (or (void *) -1) the program used anyway."""
from __future__ import annotations

import re

from grader.audit.container.observation import (
    Finding,
    Observation,
    _excerpt,
    _int,
    label,
)
from grader.harness.trace import SignalEvent, Syscall

# ------------------------------------------------------------------ ignored errors

USES_OF_FAILED = {
    "msgget": {"msgsnd", "msgrcv", "msgctl"},
    "shmget": {"shmat", "shmctl"},
    "semget": {"semop", "semtimedop", "semctl"},
    "mq_open": {"mq_timedsend", "mq_timedreceive", "mq_notify", "mq_getsetattr"},
}
_SI_ADDR = re.compile(r"si_addr=(0x[0-9a-f]+)")
MINUS_ONE_PAGE = (1 << 64) - (1 << 20)   # (void *) -1 plus an offset into the "segment"


def ignored_errors(obs: Observation) -> list[Finding]:
    out = []
    for r in obs.runs:
        for pid in r.trace.pids():
            failed: dict[str, Syscall] = {}
            uses: dict[int, list[str]] = {}          # id(failed call) -> lines that used its -1
            calls: dict[int, Syscall] = {}
            for e in r.trace.events:
                if e.pid != pid:
                    continue
                if isinstance(e, Syscall):
                    if e.name in USES_OF_FAILED and e.failed and e.ret == -1:
                        failed[e.name] = e
                        continue
                    if e.name == "shmat" and e.failed and e.ret == -1:
                        failed["shmat"] = e
                        continue
                    for getter, users in USES_OF_FAILED.items():
                        if e.name in users and e.arg(0).strip() == "-1" and getter in failed:
                            f = failed[getter]
                            calls[id(f)] = f
                            uses.setdefault(id(f), []).append(e.raw)
                    if e.name == "shmdt" and "shmat" in failed and (_int(e.arg(0)) or 0) >= MINUS_ONE_PAGE:
                        f = failed["shmat"]
                        calls[id(f)] = f
                        uses.setdefault(id(f), []).append(e.raw)
                elif isinstance(e, SignalEvent) and e.signal == "SIGSEGV" and "shmat" in failed:
                    m = _SI_ADDR.search(e.raw)
                    if m and int(m.group(1), 16) >= MINUS_ONE_PAGE:
                        f = failed["shmat"]
                        calls[id(f)] = f
                        uses.setdefault(id(f), []).append(e.raw + "   (a write through the (void *) -1 it returned)")
            for key, lines in uses.items():
                f = calls[key]
                who = label(obs, pid)
                result = "(void *) -1" if f.name == "shmat" else "-1"
                out.append(Finding(
                    "ignored-ipc-error",
                    f"{who}: {f.name}() failed with {f.errno} and returned {result}, which the program then "
                    f"used as if it were valid ({len(lines)} time(s))", who,
                    [("the failed call", f.raw), ("the uses of its result", _excerpt(lines))],
                    f"Check every IPC call's result: if ({f.name}(...) == {result}) {{ perror(\"{f.name}\"); "
                    f"exit(1); }}. {f.errno} tells why it failed"
                    + (" (ENOENT: no object has that key yet; create it with IPC_CREAT, or start the "
                       "program that creates it first)" if f.errno == "ENOENT" else "") + ".", origin=f.raw))
    return out
