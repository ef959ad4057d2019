"""Who held which pipe end, and did they ever use it? Reconstructed from the trace alone.

The audit replays one run's trace in order, keeping a file-descriptor table per
process: `pipe`/`pipe2` add both ends, `fork`/`clone` copy the table (threads
share it), `dup*`/`fcntl(F_DUPFD)` copy an entry, `close`/`close_range` drop
entries and a successful `execve` drops the close-on-exec ones. Reads and
writes through any descriptor mark that end as used by that process.

An end is reported when a process still held it at a moment that matters (when
it blocked waiting for a child, or when it ended) and never read or wrote
through it in its whole life. Pure: it reads only a parsed `trace.Trace`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .trace import ExitEvent, Syscall, Trace

CLONES = {"clone", "clone3", "fork", "vfork"}
WAITS = {"wait4", "waitid"}
# Calls whose listed arguments are file descriptors that move data.
USES = {"read": (0,), "readv": (0,), "write": (0,), "writev": (0,), "splice": (0, 2), "tee": (0, 1),
        "sendfile": (0, 1)}


@dataclass(frozen=True)
class PipeInfo:
    id: int
    pid: int                   # the process that created it
    fds: tuple[int, int]       # (read fd, write fd) in the creator
    raw: str                   # the pipe()/pipe2() trace line


@dataclass
class _End:
    pipe: int
    side: str                  # "read" or "write"
    cloexec: bool = False


@dataclass
class HeldEnd:
    """One pipe end a process held at a judgement point without ever using it."""
    pid: int
    pipe: PipeInfo
    side: str
    fds: list[int]
    when: str                  # what the process was doing when it still held the end
    when_raw: str              # the trace line of that moment
    got: str                   # how it came to hold the end (the pipe() or fork line)
    killed: bool = False       # the moment was its death by a signal (not a wait, not its own exit)


@dataclass
class FdHistory:
    pipes: dict[int, PipeInfo] = field(default_factory=dict)
    held: list[HeldEnd] = field(default_factory=list)
    used: set[tuple[int, int, str]] = field(default_factory=set)   # (process, pipe id, side)


def _int(text: str) -> int | None:
    text = text.strip()
    if text.startswith("~"):
        return (1 << 32) - 1
    try:
        return int(text, 0)
    except ValueError:
        return None


def _pipe_fds(call: Syscall) -> tuple[int, int] | None:
    text = call.arg(0).strip()
    if not (text.startswith("[") and text.endswith("]")):
        return None
    parts = [_int(p) for p in text[1:-1].split(",")]
    if len(parts) != 2 or None in parts:
        return None
    return parts[0], parts[1]


def blocking_wait(call: Syscall) -> bool:
    """wait4/waitid without WNOHANG: the process sits there until a child changes state."""
    return call.name in WAITS and "WNOHANG" not in " ".join(call.args)


def simulate(trace: Trace) -> FdHistory:
    hist = FdHistory()
    origin: dict[int, tuple[int, bool, bool, Syscall]] = {}   # child -> (parent, shares fds, thread, call)
    for e in trace.events:
        if isinstance(e, Syscall) and e.name in CLONES and e.ret and e.ret > 0:
            text = " ".join(e.args)
            origin[e.ret] = (e.pid, "CLONE_FILES" in text, "CLONE_THREAD" in text, e)

    tables: dict[int, dict[int, _End]] = {}
    leader: dict[int, int] = {}
    got: dict[tuple[int, int, str], str] = {}                  # (process, pipe, side) -> how it got it
    held_at: dict[tuple[int, int, str], tuple[str, str, list[int]]] = {}  # first judgement point holding it

    def table(pid: int) -> dict[int, _End]:
        if pid not in tables:
            parent = origin.get(pid)
            if parent is None:
                tables[pid] = {}
                leader[pid] = pid
            else:
                ppid, shares, thread, call = parent
                ptable = table(ppid)
                tables[pid] = ptable if shares else {fd: _End(e.pipe, e.side, e.cloexec) for fd, e in ptable.items()}
                leader[pid] = leader[ppid] if thread else pid
                if not thread:
                    for end in ptable.values():
                        got.setdefault((pid, end.pipe, end.side), f"inherited from pid {ppid}: {call.raw}")
        return tables[pid]

    def judge(pid: int, when: str, raw: str) -> None:
        proc = leader.get(pid, pid)
        for fd, end in sorted(table(pid).items()):
            key = (proc, end.pipe, end.side)
            if key not in held_at:
                held_at[key] = (when, raw, [])
            if held_at[key][0] == when and held_at[key][1] == raw:
                held_at[key][2].append(fd)

    for e in trace.events:
        t = table(e.pid)
        proc = leader[e.pid]
        if isinstance(e, ExitEvent):
            if proc == e.pid:
                judge(e.pid, "when it ended" if e.code is None else "when it exited", e.raw)
            continue
        if not isinstance(e, Syscall):
            continue
        name = e.name
        if name in ("pipe", "pipe2") and e.ret == 0:
            fds = _pipe_fds(e)
            if fds:
                info = PipeInfo(len(hist.pipes) + 1, e.pid, fds, e.raw)
                hist.pipes[info.id] = info
                cloexec = "O_CLOEXEC" in e.arg(1)
                t[fds[0]] = _End(info.id, "read", cloexec)
                t[fds[1]] = _End(info.id, "write", cloexec)
                got[(proc, info.id, "read")] = got[(proc, info.id, "write")] = f"created it: {e.raw}"
        elif name in CLONES and e.ret and e.ret > 0:
            table(e.ret)            # snapshot the table as it is at the fork
        elif name == "close":
            fd = _int(e.arg(0))
            if fd is not None:
                t.pop(fd, None)
        elif name in ("dup", "dup2", "dup3") and not e.failed and e.ret is not None:
            old = _int(e.arg(0))
            new = e.ret
            if old == new:
                continue
            if old in t:
                t[new] = _End(t[old].pipe, t[old].side, name == "dup3" and "O_CLOEXEC" in e.arg(2))
            else:
                t.pop(new, None)
        elif name == "fcntl" and not e.failed:
            fd, cmd = _int(e.arg(0)), e.arg(1)
            if cmd in ("F_DUPFD", "F_DUPFD_CLOEXEC") and e.ret is not None:
                if fd in t:
                    t[e.ret] = _End(t[fd].pipe, t[fd].side, cmd == "F_DUPFD_CLOEXEC")
                else:
                    t.pop(e.ret, None)
            elif cmd == "F_SETFD" and fd in t:
                t[fd].cloexec = "FD_CLOEXEC" in e.arg(2) or _int(e.arg(2)) == 1
        elif name == "ioctl" and not e.failed:
            fd = _int(e.arg(0))
            if fd in t and e.arg(1) in ("FIOCLEX", "FIONCLEX"):
                t[fd].cloexec = e.arg(1) == "FIOCLEX"
        elif name == "close_range" and not e.failed:
            lo, hi = _int(e.arg(0)), _int(e.arg(1))
            if lo is None or hi is None:
                continue
            for fd in [fd for fd in t if lo <= fd <= hi]:
                if "CLOSE_RANGE_CLOEXEC" in e.arg(2):
                    t[fd].cloexec = True
                else:
                    del t[fd]
        elif name in ("execve", "execveat") and e.ret == 0:
            for fd in [fd for fd, end in t.items() if end.cloexec]:
                del t[fd]
        elif name in USES:
            for i in USES[name]:
                fd = _int(e.arg(i))
                if fd in t:
                    hist.used.add((proc, t[fd].pipe, t[fd].side))
        elif blocking_wait(e):
            judge(e.pid, f"while it waited for a child in {name}()", e.raw)

    for (proc, pipe, side), (when, raw, fds) in sorted(held_at.items()):
        if (proc, pipe, side) in hist.used:
            continue
        hist.held.append(HeldEnd(proc, hist.pipes[pipe], side, fds, when, raw,
                                 got.get((proc, pipe, side), "(how it got it is not in the trace)"),
                                 when == "when it ended"))
    return hist


def unused_pipe_ends(trace: Trace) -> list[HeldEnd]:
    return simulate(trace).held
