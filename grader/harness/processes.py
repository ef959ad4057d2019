"""Processes: in a trace, which calls create one and whether a parent reaped its child; live, which
processes belong to a run.

One place for these facts: the pipe checks, the signal checks, the audit and
`grade new`'s scaffold all ask the same questions of a trace.
"""
from __future__ import annotations

import re

from . import procfs
from .trace import Trace

# Every syscall that can create a process (or a thread, for clone/clone3 with CLONE_THREAD).
FORK_SYSCALLS: tuple[str, ...] = ("fork", "vfork", "clone", "clone3")
# Every syscall that reaps a child. `waitpid` is a libc wrapper around wait4 on Linux, but
# strace prints it on some architectures, so it is listed too.
WAIT_SYSCALLS: tuple[str, ...] = ("wait4", "waitid", "waitpid")

_SI_PID = re.compile(r"\bsi_pid=(\d+)")


def children(trace: Trace, pid: int | None = None) -> list[int]:
    """Pids returned by successful fork-like calls (of `pid`, or of anyone), in order."""
    return [c.ret for c in trace.calls(pid=pid) if c.name in FORK_SYSCALLS and not c.failed and c.ret and c.ret > 0]


def reaped(trace: Trace, pid: int | None = None) -> set[int]:
    """Pids that `pid` (or anyone) reaped. waitid returns 0 and names the child in si_pid,
    so its return value is never taken for a pid."""
    out: set[int] = set()
    for c in trace.calls(pid=pid):
        if c.name not in WAIT_SYSCALLS or c.failed:
            continue
        if c.name == "waitid":
            m = _SI_PID.search(c.raw)
            if c.ret == 0 and m and int(m.group(1)) > 0:
                out.add(int(m.group(1)))
        elif c.ret and c.ret > 0:
            out.add(c.ret)
    return out


# ---------------------------------------------------------------- live processes of a run

def of_run(run, uid: int | None = None) -> list[int]:
    """Every live process of a run: its tree, everything its tracer follows (children that outlive
    a parent that exited) and, with `uid`, every process of the student's uid."""
    pids = set()
    if run is not None:
        pids |= set(run.tree())
        if run.proc.poll() is None and hasattr(run, "traced_pids"):
            pids |= set(run.traced_pids())
    if uid is not None:
        pids |= set(procfs.pids_of_uid(uid))
    return sorted(pids)


def running(pids: list[int], argv: list[str]) -> int | None:
    """The first of `pids` whose command line starts with `argv` (an exec'd child, say)."""
    return next((p for p in pids if procfs.read_cmdline(p)[:len(argv)] == argv), None)
