"""Processes: in a trace, which calls create one and whether a parent reaped its child; live, which
processes belong to a run.

One place for these facts: the pipe checks, the signal checks, the audit and
`grade new`'s scaffold all ask the same questions of a trace.
"""
from __future__ import annotations

import re

from . import procfs
from .evidence import calls, expect
from .trace import ExitEvent, Syscall, Trace

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


def label_roles(pids: list[int], parent: int | None, name: str, commands: list[list[str]]) -> dict[int, str]:
    """pid -> a label for feedback: "NAME (the parent, pid 10)", "child 2 (pid 12, running cat)" for
    the process running commands[1], "a child of NAME (pid 13) that has not called execvp", ..."""
    out = {}
    for pid in pids:
        st = procfs.read_stat(pid)
        if st is None:
            continue
        cmd = procfs.read_cmdline(pid)
        role = next((i for i, c in enumerate(commands, 1) if c and cmd[:len(c)] == c), None)
        if pid == parent:
            out[pid] = f"{name} (the parent, pid {pid})"
        elif role is not None:
            out[pid] = f"child {role} (pid {pid}, running {commands[role - 1][0]})"
        elif st.ppid == parent:
            out[pid] = f"a child of {name} (pid {pid}) that has not called execvp"
        else:
            out[pid] = f"pid {pid} ({st.comm})"
    return out


def zombies(pids: list[int], parent: int | None) -> str:
    """One line per zombie child of `parent` among `pids` ("" if none): children it has not reaped yet."""
    stats = [procfs.read_stat(p) for p in pids]
    return "\n".join(f"pid {s.pid} ({s.comm}): state Z, a zombie" for s in stats
                     if s and s.ppid == parent and s.state == "Z")


def expect_reaped(trace: Trace, pid: int | None, evidence: list[tuple[str, str]] = (), hint: str | None = None) -> None:
    """Fail unless `pid` reaped every child it forked (named "child 1", "child 2"... in fork order)."""
    forks, done = children(trace, pid), reaped(trace, pid)
    missing = [p for p in forks if p not in done]
    who = {p: f"child {i}" for i, p in enumerate(forks, 1)}
    expect(not missing, "the parent never waited for " + " and ".join(f"{who[p]} (pid {p})" for p in missing),
           expected=f"wait4/waitpid returning each child's pid: {', '.join(map(str, forks))}",
           observed=f"reaped: {', '.join(map(str, sorted(done))) or 'none'}",
           evidence=[("the parent's fork and wait calls",
                      calls(trace, pid, FORK_SYSCALLS + WAIT_SYSCALLS + ("exit_group",))), *evidence], hint=hint)


def exec_of(trace: Trace, program: str) -> tuple[Syscall | None, ExitEvent | None]:
    """The first successful execve of `program` (its argv[0]) and how that process ended (None if
    the trace does not show it: the process never ran, or still runs)."""
    execve = next((c for c in trace.calls("execve") if c.ret == 0 and c.arg(1).startswith(f'["{program}"')), None)
    return execve, trace.exits().get(execve.pid) if execve else None
