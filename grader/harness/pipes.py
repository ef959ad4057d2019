"""The pipe map: which process holds which end of which pipe.

Most pipe bugs are an end left open somewhere. A reader sees EOF only when every
write end is closed, and a writer gets SIGPIPE only when every read end is
closed, so the map names each holder of every end. Three views:

- live, from /proc/PID/fd{,info}: `pipe_map`, `ends_held_by`, `describe`;
- why a process is stuck on a pipe, and who keeps it stuck: `pipe_waits`,
  `explain_waits` (reader waiting for an EOF that a stray write end prevents,
  writer blocked on a full pipe whose read end someone still holds);
- over time, from an strace trace (pipe/pipe2, dup*, fcntl F_DUPFD, close,
  close_range, fork/clone, execve with close-on-exec, exit): `traced_pipe_ends`,
  which tells when each process got and lost each end, e.g. whether a parent
  closed both ends before it waited, or which ends a child still had at execve.

A pipe seen live is named by its inode; a pipe seen in a trace by the order of
creation ("pipe #1 of pid 12"), since the trace shows fd numbers, not inodes.
"""
from __future__ import annotations

import fcntl
import os
import termios
from dataclasses import dataclass, field

from . import procaccess, procfs
from .trace import ExitEvent, Syscall, Trace


@dataclass(frozen=True)
class PipeEnd:
    pid: int
    who: str          # e.g. "pid 14 (cat)" or "the grader"
    fd: int
    access: str       # "read", "write" or "?"

    def describe(self) -> str:
        return f"{self.who} holds the {self.access} end as fd {self.fd}"


def pipe_map(pids: list[int], labels: dict[int, str] | None = None,
             include_grader: bool = True) -> dict[int, list[PipeEnd]]:
    """inode -> every end held by the given processes (and the grader itself)."""
    labels = dict(labels or {})
    pids = list(pids)
    if include_grader and os.getpid() not in pids:
        pids.append(os.getpid())
        labels.setdefault(os.getpid(), "the grader")
    out: dict[int, list[PipeEnd]] = {}
    for pid in pids:
        who = labels.get(pid)
        if who is None:
            st = procfs.read_stat(pid)
            who = f"pid {pid} ({st.comm})" if st else f"pid {pid}"
        for fd in procfs.read_fds(pid):
            if fd.pipe_inode is not None:
                out.setdefault(fd.pipe_inode, []).append(PipeEnd(pid, who, fd.fd, fd.access))
    return out


def holders(pmap: dict[int, list[PipeEnd]], inode: int, access: str) -> list[PipeEnd]:
    return [e for e in pmap.get(inode, []) if e.access in (access, "read/write")]


def ends_held_by(pmap: dict[int, list[PipeEnd]], pid: int) -> list[tuple[int, PipeEnd]]:
    """(inode, end) for every pipe end one process holds, in fd order."""
    found = [(inode, e) for inode, ends in pmap.items() for e in ends if e.pid == pid]
    return sorted(found, key=lambda ie: ie[1].fd)


def describe(pmap: dict[int, list[PipeEnd]], only: set[int] | None = None) -> str:
    """One line per pipe; `only` limits it to some inodes."""
    inodes = [i for i in sorted(pmap) if only is None or i in only]
    if not inodes:
        return "(no pipes open)"
    lines = []
    for inode in inodes:
        ends = pmap[inode]
        readers = ", ".join(f"{e.who} fd {e.fd}" for e in ends if e.access == "read") or "nobody"
        writers = ", ".join(f"{e.who} fd {e.fd}" for e in ends if e.access == "write") or "nobody"
        lines.append(f"pipe {inode}: read end held by {readers}; write end held by {writers}")
    return "\n".join(lines)


@dataclass(frozen=True)
class PipeFill:
    buffered: int      # bytes written and not yet read
    capacity: int      # F_GETPIPE_SZ (65,536 by default)

    @property
    def full(self) -> bool:
        # A blocked writer may leave less than a page free (writes fill whole pages).
        return self.capacity > 0 and self.capacity - self.buffered < 4096

    def describe(self) -> str:
        return f"{self.buffered} of {self.capacity} bytes buffered" + (", full" if self.full else "")


def pipe_fill(pid: int, fd: int) -> PipeFill | None:
    """Bytes buffered in the pipe a process holds as `fd`, without reading any.

    Reopens the pipe through /proc/PID/fd/FD (read-only, non-blocking) and asks
    FIONREAD and F_GETPIPE_SZ; needs ptrace access to the process (root with
    CAP_SYS_PTRACE in the grading container). None if that is not possible.
    """
    try:
        f = procaccess.open_fd(f"/proc/{pid}/fd/{fd}", os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        if not os.readlink(f"/proc/self/fd/{f}").startswith("pipe:"):
            return None
        buf = bytearray(4)
        fcntl.ioctl(f, termios.FIONREAD, buf)
        buffered = int.from_bytes(buf, "little", signed=True)
        capacity = fcntl.fcntl(f, getattr(fcntl, "F_GETPIPE_SZ", 1032))
        return PipeFill(buffered, capacity)
    except OSError:
        return None
    finally:
        os.close(f)


# ---------------------------------------------------------------- who is stuck on a pipe, and why

# wchan names for a sleep inside a pipe read or write (6.x says anon_pipe_*, older kernels pipe_*).
PIPE_READ_WCHANS = frozenset({"anon_pipe_read", "pipe_read", "pipe_wait_readable"})
PIPE_WRITE_WCHANS = frozenset({"anon_pipe_write", "pipe_write", "pipe_wait_writable"})
_READ_SYSCALLS = {0: "read", 17: "pread64", 19: "readv", 295: "preadv"}
_WRITE_SYSCALLS = {1: "write", 18: "pwrite64", 20: "writev", 296: "pwritev"}


def is_pipe_wchan(wchan: str, direction: str) -> bool:
    return wchan in (PIPE_READ_WCHANS if direction == "read" else PIPE_WRITE_WCHANS)


def _blocked_fd(pid: int) -> tuple[str | None, int | None]:
    """(read|write, fd) of the syscall a process sleeps in, from /proc/PID/syscall."""
    nr, fd = procfs.read_syscall_and_fd(pid)
    if fd is None:
        return None, None
    if nr in _READ_SYSCALLS:
        return "read", fd
    if nr in _WRITE_SYSCALLS:
        return "write", fd
    return None, None


@dataclass
class PipeWait:
    """A process asleep in a pipe read or write, and who holds the other end."""
    pid: int
    who: str
    direction: str                  # "read" (waiting for data or EOF) or "write" (pipe full)
    fd: int | None
    inode: int | None
    other_end: list[PipeEnd] = field(default_factory=list)   # holders of the opposite end
    fill: PipeFill | None = None

    @property
    def on_grader_pipe(self) -> bool:
        """The other end is the grader's (the process writes to or reads from the grader's own pipe)."""
        return any(e.pid == os.getpid() for e in self.other_end)

    def describe(self) -> str:
        where = f"pipe {self.inode}" if self.inode else "a pipe"
        fd = f" (fd {self.fd})" if self.fd is not None else ""
        fill = f" ({'fd %d, ' % self.fd if self.fd is not None else ''}{self.fill.describe()})" if self.fill else fd
        holders_text = "; ".join(
            (f"{self.who} itself as fd {e.fd}" if e.pid == self.pid else f"{e.who} as fd {e.fd}")
            for e in self.other_end)
        if self.direction == "read":
            if not self.other_end:
                return f"{self.who} is waiting to read from {where}{fd}; no process holds its write end any more."
            return (f"{self.who} is waiting to read from {where}{fd}. It would see end-of-file once every "
                    f"write end is closed, but the write end is still open in: {holders_text}.")
        if not self.other_end:
            return f"{self.who} is blocked writing to {where}{fill}; no process holds its read end any more."
        return (f"{self.who} is blocked writing to {where}{fill}. It would get SIGPIPE (or EPIPE) "
                f"once every read end is closed, but the read end is still open in: {holders_text}.")


def pipe_waits(pids: list[int], labels: dict[int, str] | None = None) -> list[PipeWait]:
    """Every given process that sleeps in a pipe read or write, with the holders of the other end."""
    labels = dict(labels or {})
    pmap = pipe_map(pids, labels)
    out = []
    for pid in pids:
        st = procfs.read_stat(pid)
        if st is None or st.state == "Z":
            continue
        wchan = procfs.read_wchan(pid)
        if is_pipe_wchan(wchan, "read"):
            direction = "read"
        elif is_pipe_wchan(wchan, "write"):
            direction = "write"
        else:
            continue
        who = labels.get(pid) or f"pid {pid} ({st.comm})"
        call_dir, fd = _blocked_fd(pid)
        fds = {f.fd: f for f in procfs.read_fds(pid)}
        info = fds.get(fd) if call_dir == direction else None
        if info is None or info.pipe_inode is None:
            # Fall back to the only end of that kind the process holds, if there is just one.
            mine = [f for f in fds.values() if f.pipe_inode is not None and f.access == direction]
            info = mine[0] if len(mine) == 1 else None
        inode = info.pipe_inode if info else None
        other = "write" if direction == "read" else "read"
        wait = PipeWait(pid, who, direction, info.fd if info else None, inode,
                        holders(pmap, inode, other) if inode else [])
        if direction == "write" and info is not None:
            wait.fill = pipe_fill(pid, info.fd)
        out.append(wait)
    return out


def explain_waits(pids: list[int], labels: dict[int, str] | None = None) -> str:
    """A paragraph per process stuck on a pipe, naming who holds the end that keeps it stuck."""
    waits = pipe_waits(pids, labels)
    return "\n".join(w.describe() for w in waits)


# ---------------------------------------------------------------- pipe ends over time, from a trace

FORK_CALLS = ("fork", "vfork", "clone", "clone3")


@dataclass
class TracedPipe:
    """A pipe created during the run, as strace saw it."""
    number: int             # 1, 2, ... in the order the pipes were created
    pid: int                # the creator
    call: Syscall           # its pipe()/pipe2() call
    read_fd: int
    write_fd: int

    def describe(self) -> str:
        return f"pipe #{self.number} (made by pid {self.pid}: read end fd {self.read_fd}, write end fd {self.write_fd})"


@dataclass
class TracedEnd:
    """One fd of one process that referred to one end of a traced pipe, and how it went away."""
    pipe: TracedPipe
    access: str                 # "read" or "write"
    pid: int
    fd: int
    got_by: Syscall             # pipe(), the fork that copied it, or the dup that made it
    cloexec: bool = False
    seq: int = 0                # position in this pid's own calls when it was obtained
    lost_by: Syscall | ExitEvent | None = None
    how_lost: str | None = None   # "close", "dup2" (replaced), "exec" (close-on-exec), "exit", "close_range"
    lost_seq: int | None = None

    @property
    def open_at_end(self) -> bool:
        return self.lost_by is None

    def describe(self) -> str:
        state = "still open when the trace ended" if self.lost_by is None else f"released by {self.how_lost}"
        return f"pid {self.pid} fd {self.fd}: {self.access} end of pipe #{self.pipe.number} ({state})"


@dataclass
class TracedPipes:
    pipes: list[TracedPipe]
    ends: list[TracedEnd]
    parents: dict[int, int]               # child pid -> pid that forked it
    calls_by_pid: dict[int, list]         # each pid's own events, in order (index = seq)

    def ends_of(self, pid: int, pipe: TracedPipe | None = None) -> list[TracedEnd]:
        return [e for e in self.ends if e.pid == pid and (pipe is None or e.pipe is pipe)]

    def held_at(self, pid: int, seq: int) -> list[TracedEnd]:
        """Ends a process held just before its own call number `seq`."""
        return [e for e in self.ends if e.pid == pid and e.seq < seq
                and (e.lost_seq is None or e.lost_seq >= seq)]

    def held_at_exec(self, pid: int) -> tuple[Syscall | None, list[TracedEnd]]:
        """The first successful execve of a process and the pipe ends it kept across it."""
        for seq, ev in enumerate(self.calls_by_pid.get(pid, [])):
            if isinstance(ev, Syscall) and ev.name in ("execve", "execveat") and ev.ret == 0:
                kept = [e for e in self.held_at(pid, seq) if not (e.how_lost == "exec" and e.lost_seq == seq)]
                return ev, kept
        return None, []

    def children(self, pid: int) -> list[int]:
        return [c for c, p in self.parents.items() if p == pid]


def _fd_list(text: str) -> list[int]:
    inner = text.strip().strip("[]")
    try:
        return [int(x) for x in inner.split(",") if x.strip()]
    except ValueError:
        return []


def _int(text: str) -> int | None:
    try:
        return int(text.strip(), 0)
    except ValueError:
        return None


def traced_pipe_ends(trace: Trace, root: int | None = None) -> TracedPipes:
    """Replay a trace to learn which process held which end of each pipe it made, and when.

    Each process's own calls are replayed in order; a child starts with a copy
    of its parent's table as it was at the fork. Threads (CLONE_FILES) are
    treated like processes, and fcntl/close_range are used when they were traced.
    """
    by_pid: dict[int, list] = {}
    for ev in trace.events:
        if isinstance(ev, (Syscall, ExitEvent)):
            by_pid.setdefault(ev.pid, []).append(ev)
    parents: dict[int, int] = {}
    fork_seq: dict[int, tuple[int, Syscall]] = {}   # child -> (seq in parent, the fork call)
    for pid, evs in by_pid.items():
        for seq, ev in enumerate(evs):
            if isinstance(ev, Syscall) and ev.name in FORK_CALLS and ev.ret and ev.ret > 0:
                parents[ev.ret] = pid
                fork_seq[ev.ret] = (seq, ev)
    pipes: list[TracedPipe] = []
    ends: list[TracedEnd] = []

    def replay(pid: int, table: dict[int, TracedEnd]) -> None:
        evs = by_pid.get(pid, [])
        forks_at: dict[int, list[int]] = {}
        for child, (seq, _) in fork_seq.items():
            if parents.get(child) == pid:
                forks_at.setdefault(seq, []).append(child)

        def lose(fd: int, ev, how: str, seq: int) -> None:
            e = table.pop(fd, None)
            if e is not None:
                e.lost_by, e.how_lost, e.lost_seq = ev, how, seq

        def gain(fd: int, src: TracedEnd, ev: Syscall, seq: int, cloexec: bool) -> None:
            e = TracedEnd(src.pipe, src.access, pid, fd, ev, cloexec, seq)
            ends.append(e)
            table[fd] = e

        for seq, ev in enumerate(evs):
            if isinstance(ev, ExitEvent):
                for fd in list(table):
                    lose(fd, ev, "exit", seq)
                continue
            name, ok = ev.name, ev.ret is not None and not ev.failed
            if name in ("pipe", "pipe2") and ok:
                fds = _fd_list(ev.arg(0))
                if len(fds) == 2:
                    p = TracedPipe(len(pipes) + 1, pid, ev, fds[0], fds[1])
                    pipes.append(p)
                    cloexec = "O_CLOEXEC" in ev.arg(1)
                    for fd, access in ((fds[0], "read"), (fds[1], "write")):
                        lose(fd, ev, "close", seq)
                        e = TracedEnd(p, access, pid, fd, ev, cloexec, seq)
                        ends.append(e)
                        table[fd] = e
            elif name == "close" and ev.errno != "EBADF" and ev.ret is not None:
                fd = _int(ev.arg(0))
                if fd is not None:
                    lose(fd, ev, "close", seq)
            elif name == "close_range" and ok:
                lo, hi = _int(ev.arg(0)), _int(ev.arg(1))
                cloexec_only = "CLOSE_RANGE_CLOEXEC" in ev.arg(2)
                if lo is not None:
                    for fd in [f for f in table if f >= lo and (hi is None or hi < 0 or f <= hi)]:
                        if cloexec_only:
                            table[fd].cloexec = True
                        else:
                            lose(fd, ev, "close_range", seq)
            elif name in ("dup", "dup2", "dup3") and ok:
                old, new = _int(ev.arg(0)), ev.ret
                if old is None or new == old:
                    continue
                src = table.get(old)
                lose(new, ev, "dup2", seq)
                if src is not None:
                    gain(new, src, ev, seq, name == "dup3" and "O_CLOEXEC" in ev.arg(2))
            elif name == "fcntl" and ok:
                fd, cmd = _int(ev.arg(0)), ev.arg(1)
                if fd is None:
                    continue
                if cmd in ("F_DUPFD", "F_DUPFD_CLOEXEC") and fd in table:
                    lose(ev.ret, ev, "dup2", seq)
                    gain(ev.ret, table[fd], ev, seq, cmd == "F_DUPFD_CLOEXEC")
                elif cmd == "F_SETFD" and fd in table:
                    table[fd].cloexec = "FD_CLOEXEC" in ev.arg(2) or ev.arg(2).strip() == "1"
            elif name in ("execve", "execveat") and ev.ret == 0:
                for fd in [f for f, e in table.items() if e.cloexec]:
                    lose(fd, ev, "exec", seq)
            for child in forks_at.get(seq, []):
                fork = fork_seq[child][1]
                copy = {}
                for fd, e in table.items():
                    ce = TracedEnd(e.pipe, e.access, child, fd, fork, e.cloexec, -1)
                    ends.append(ce)
                    copy[fd] = ce
                replay(child, copy)

    roots = [root] if root is not None else [p for p in by_pid if p not in parents]
    for r in roots:
        replay(r, {})
    return TracedPipes(pipes, ends, parents, by_pid)
