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

from grader.harness.fdreplay import replay_pipe_ends
from grader.harness.trace import ExitEvent, Syscall, Trace

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


def blocking_wait(call: Syscall) -> bool:
    """wait4/waitid without WNOHANG: the process sits there until a child changes state."""
    return call.name in WAITS and "WNOHANG" not in " ".join(call.args)


def thread_leaders(trace: Trace) -> dict[int, int]:
    """thread id -> the process (thread-group leader) it belongs to (threads share fds and may reap children)."""
    parent = {e.ret: e.pid for e in trace.calls() if e.name in CLONES and e.ret and e.ret > 0
              and "CLONE_THREAD" in " ".join(e.args)}
    out = {}
    for tid in parent:
        lead = tid
        while lead in parent:
            lead = parent[lead]
        out[tid] = lead
    return out


def _got(end, tp) -> str:
    call = end.got_by
    if call is end.pipe.call and end.pid == end.pipe.pid:
        return f"created it: {call.raw}"
    if call.name in CLONES:
        return f"inherited from pid {tp.parents.get(end.pid, call.pid)}: {call.raw}"
    return f"duplicated it: {call.raw}"


def simulate(trace: Trace) -> FdHistory:
    """Who held which end and used it, from the trace model's one replay (fdreplay)."""
    tp = replay_pipe_ends(trace)
    hist = FdHistory()
    for p in tp.pipes:
        hist.pipes[p.number] = PipeInfo(p.number, p.pid, (p.read_fd, p.write_fd), p.call.raw)
    leader = thread_leaders(trace)
    got: dict[tuple[int, int, str], tuple[int, str]] = {}
    held_at: dict[tuple[int, int, str], tuple[str, str, list[int], bool]] = {}
    for end in tp.ends:
        key = (leader.get(end.pid, end.pid), end.pipe.number, end.access)
        if key not in got or end.seq < got[key][0]:
            got[key] = (end.seq, _got(end, tp))
    for pid, events in tp.calls_by_pid.items():
        proc = leader.get(pid, pid)
        for seq, e in enumerate(events):
            if isinstance(e, ExitEvent):
                if proc != pid:
                    continue
                when, killed = ("when it ended", True) if e.code is None else ("when it exited", False)
            elif e.name in USES:
                for i in USES[e.name]:
                    fd = _int(e.arg(i))
                    for end in tp.held_at(pid, seq):
                        if end.fd == fd:
                            hist.used.add((proc, end.pipe.number, end.access))
                continue
            elif blocking_wait(e):
                when, killed = f"while it waited for a child in {e.name}()", False
            else:
                continue
            for end in sorted(tp.held_at(pid, seq), key=lambda x: x.fd):
                key = (proc, end.pipe.number, end.access)
                first = held_at.setdefault(key, (when, e.raw, [], killed))
                if first[0] == when and first[1] == e.raw:
                    first[2].append(end.fd)
    for (proc, pipe, side), (when, raw, fds, killed) in sorted(held_at.items()):
        if (proc, pipe, side) in hist.used:
            continue
        hist.held.append(HeldEnd(proc, hist.pipes[pipe], side, fds, when, raw,
                                 got.get((proc, pipe, side), (0, "(how it got it is not in the trace)"))[1], killed))
    return hist


def unused_pipe_ends(trace: Trace) -> list[HeldEnd]:
    return simulate(trace).held
