"""The trace model's one replay of file-descriptor ownership: which process held which pipe end, and when.

Each process's own calls are replayed in order; a child starts with a copy of its
parent's table as it was at the fork. `pipe`/`pipe2` add both ends, `dup*` and
`fcntl(F_DUPFD*)` copy an entry, `fcntl(F_SETFD)`/`ioctl(FIOCLEX)` set close-on-exec,
`close`/`close_range` drop entries, a successful
`execve` drops the close-on-exec ones, and an exit drops them all. Threads
(CLONE_FILES) are treated like processes. Used by the pipe checks
(`pipes.traced_pipe_ends`) and by the audit (`grader.audit.container.fds`), so both read the same
history from a trace. Pure: it reads only a parsed `trace.Trace`.
"""
from __future__ import annotations

from .pipes import TracedEnd, TracedPipe, TracedPipes
from .processes import FORK_SYSCALLS as FORK_CALLS
from .trace import ExitEvent, Syscall, Trace


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


def replay_pipe_ends(trace: Trace, root: int | None = None) -> TracedPipes:
    """Replay a trace; `root` limits it to one process and its descendants."""
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
            elif name == "ioctl" and ok and ev.arg(1) in ("FIOCLEX", "FIONCLEX"):
                fd = _int(ev.arg(0))
                if fd in table:
                    table[fd].cloexec = ev.arg(1) == "FIOCLEX"
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
