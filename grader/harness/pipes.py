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
import signal
import termios
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from . import procaccess, processes, procfs, signals, waits
from .evidence import calls, expect, short
from .processes import FORK_SYSCALLS, WAIT_SYSCALLS
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
        fill = f" ({f'fd {self.fd}, ' if self.fd is not None else ''}{self.fill.describe()})" if self.fill else fd
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


def writes_into_grader(run, program: str, output: str, uid: int | None):
    """A hang proof (deadlock.Proof) for a run whose `program` (say `yes`, which writes forever) writes
    into the run's own stdout, the grader's pipe, instead of a pipe to its reader, and has written
    `output` there already; None if it does not.

    Such a writer stops only when a write fails, and the grader keeps reading that pipe and never
    closes it, so none ever will (its fd 1 is final once it runs: dup2 comes before execvp). Busy
    writing, it is never asleep, so the kernel-state proof cannot end that wait: this one can, in a
    look, instead of at the wall-clock limit."""
    from .deadlock import Proof

    def stdout_of(pid: int) -> str:
        try:
            return procaccess.readlink(f"{procfs.PROC}/{pid}/fd/1")
        except OSError:
            return ""
    ours = stdout_of(run.pid)
    if not (ours.startswith("pipe:") and run.stdout.startswith(output)):
        return None
    for pid in processes.of_run(run, uid):
        if procfs.read_cmdline(pid)[:1] == [program] and stdout_of(pid) == ours:
            return Proof([f"{program} (pid {pid}) writes to {ours}, the program's own stdout, which the grader reads "
                          f"and never closes: {program} stops only when a write fails, so it never ends; the grader "
                          f"has already received {len(run.stdout_bytes)} bytes of its output"],
                         what=f"{program} writes into the grader's pipe and never stops")
    return None


def explain_hang(labels: dict[int, str]) -> tuple[str, tuple[str, str]] | None:
    """For `waits.finish_tree`: who of these processes is stuck on a pipe of their own, and who
    holds the other end (the first as a sentence, all as evidence); None if no one is."""
    waits = [w for w in pipe_waits(list(labels), labels) if not w.on_grader_pipe]
    if not waits:
        return None
    return waits[0].describe(), ("who is stuck on a pipe, and who holds the other end",
                                 "\n".join(w.describe() for w in waits))


def own_pipes(pmap: dict[int, list[PipeEnd]], stdin_inode: int | None) -> set[int]:
    """The pipes a run made itself: not the grader's output pipes, not the stdin it was given."""
    return {i for i, ends in pmap.items() if i != stdin_inode and not any(e.pid == os.getpid() for e in ends)}


def stdin_inode(pid: int | None) -> int | None:
    """The inode of the pipe a process has as its stdin (None if fd 0 is not a pipe)."""
    fd0 = next((f for f in procfs.read_fds(pid) if f.fd == 0), None) if pid else None
    return fd0.pipe_inode if fd0 else None


# ---------------------------------------------------------------- pipe ends over time, from a trace

FORK_CALLS = FORK_SYSCALLS     # the one set, from processes


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


def traced_pipe_ends(trace: Trace, root: int | None = None) -> TracedPipes:
    """Replay a trace to learn which process held which end of each pipe it made, and when.

    Each process's own calls are replayed in order; a child starts with a copy
    of its parent's table as it was at the fork. Threads (CLONE_FILES) are
    treated like processes, and fcntl/close_range are used when they were traced.
    """
    # The trace model's one replay of fd ownership, shared with the audit (imported here: it imports this module).
    from .fdreplay import replay_pipe_ends
    return replay_pipe_ends(trace, root)


# ---------------------------------------------------------------- the pipe probe

# A command to put at either end of a student's pipe (file pipe_probe.py, run as a script, never
# imported): `fds writer|reader` prints "PROBE ROLE pid=N fds=FD:INODE:r|w ..." (the reader then
# relays one line of its stdin as "RELAY ..."); `hold` blocks SIGUSR1, prints "PROBE holding ...",
# waits for it, then drains stdin and prints "HELD bytes=N sha256=H"; `wait` waits the same way
# and exits without reading. Held, the grader decides when the reader starts reading.
PROBE_SOURCE = (Path(__file__).parent / "pipe_probe.py").read_bytes()


def parse_probe(line: str) -> tuple[str, int | None, dict[int, tuple[int, str]]]:
    """"PROBE reader pid=12 fds=0:345:r 4:345:w" -> ("reader", 12, {0: (345, "r"), 4: (345, "w")})."""
    words = line.split()
    role = words[1] if len(words) > 1 else "?"
    pid, fds = None, {}
    for w in words[2:]:
        if w.startswith("pid=") and w[4:].isdigit():
            pid = int(w[4:])
    rest = line.split("fds=", 1)[1].split() if "fds=" in line else []
    for item in rest:
        parts = item.split(":")
        if len(parts) == 3 and parts[0].isdigit() and parts[1].isdigit():
            fds[int(parts[0])] = (int(parts[1]), parts[2])
    return role, pid, fds


def probe_table(fds: dict[int, tuple[int, str]], pipe_inode: int | None) -> str:
    """A probe's pipe fds in words; fds 0-2 on another pipe than `pipe_inode` are the grader's."""
    return ", ".join(f"fd {fd}: {'write' if a == 'w' else 'read' if a == 'r' else a} end of pipe {ino}"
                     + (" (the grader's)" if fd <= 2 and ino != pipe_inode else "")
                     for fd, (ino, a) in sorted(fds.items())) or "no pipe fds"


def stray_probe_ends(who: str, fds: dict[int, tuple[int, str]], right: int, pipe_inode: int | None) -> list[str]:
    """Pipe ends a probe holds besides fd `right`: any above 2, and any other fd on the student's pipe."""
    return [f"{who} has a stray pipe end: fd {fd}, the {'write' if access == 'w' else 'read'} end of pipe {ino}"
            for fd, (ino, access) in sorted(fds.items()) if fd != right and (fd > 2 or ino == pipe_inode)]


# ---------------------------------------------------------------- a writer on a full pipe

def asleep_writing(pid: int | None) -> str:
    """The wchan of a process asleep (state S) in a pipe write, or "" when it is not."""
    st = procfs.read_stat(pid) if pid else None
    wchan = procfs.read_wchan(pid) if st is not None and st.state == "S" else ""
    return wchan if is_pipe_wchan(wchan, "write") else ""


@dataclass
class BlockedWriter:
    """A writer seen asleep on a pipe: how full the pipe was, and whether it really slept."""
    pid: int
    wchan: str
    fill: PipeFill | None
    sample: waits.BlockingSample

    def describe(self) -> str:
        return (f"state S, wchan {self.wchan}; pipe: {self.fill.describe() if self.fill else 'fill level unavailable'}"
                f"\n{self.sample.describe()}")


def blocked_writer(pid: int, wchan: str, fd: int = 1, seconds: float = 0.5) -> BlockedWriter:
    """Measure a writer seen asleep in a pipe write on `fd`: the pipe's fill level, then CPU and wakeups."""
    fill = pipe_fill(pid, fd)
    return BlockedWriter(pid, wchan, fill, waits.measure(pid, seconds, wchans=PIPE_WRITE_WCHANS, syscalls=("write",)))


# ---------------------------------------------------------------- a parent's pipe ends, from the trace

def kept_by_parent(tp: TracedPipes, pid: int, pipe: TracedPipe) -> list[str]:
    """What a forking parent did wrong with a pipe's ends: never closed one, or closed it only after
    it began to wait for its children (a reader's EOF or a writer's SIGPIPE waits on it)."""
    own = tp.calls_by_pid.get(pid, [])
    first_wait = next((i for i, e in enumerate(own) if getattr(e, "name", "") in WAIT_SYSCALLS), None)
    problems = []
    for end in tp.ends_of(pid, pipe):
        name = f"the {end.access} end (fd {end.fd})"
        if end.how_lost not in ("close", "close_range"):
            problems.append(f"{name} was never closed by the parent" +
                            (" (it went away only when the parent exited)" if end.how_lost == "exit" else ""))
        elif first_wait is not None and end.lost_seq > first_wait:
            problems.append(f"{name} was closed only after the parent started waiting")
    return problems


# ---------------------------------------------------------------- a held reader: a writer on a full pipe

def wait_for_probe(run, argv: list[str], pids: Callable[[], list[int]], timeout: float) -> int | None:
    """The pid of the probe run as `argv` (mode `hold` or `wait`) once it is ready for SIGUSR1;
    None if it never gets there, or the whole run ended. `pids` lists the run's processes."""
    def ready():
        pid = processes.running([p for p in pids() if p != run.pid], argv)
        if signals.awaits(pid, signal.SIGUSR1):
            return pid
        return -1 if run.proc.poll() is not None else None
    pid = waits.until(ready, timeout, pids=pids)
    return pid if pid and pid > 0 else None


@dataclass
class HeldReader:
    """What the grader saw while the probe (`hold`) kept the reader from reading."""
    reader: int | None = None
    writer: int | None = None
    blocked: BlockedWriter | None = None        # the writer seen asleep on the full pipe
    pipe_map_text: str = ""                     # the run's own pipes, the grader's left out
    parent_ends: list = field(default_factory=list)   # (inode, end) the run's first process held meanwhile
    writer_done: bool = False                   # the writer exited once the reader was released
    writer_name: str = "the writer"


def hold_reader(run, reader: list[str], writer: list[str], *, pids: Callable[[], list[int]],
                labels: Callable[[], dict[int, str]], uid: int | None, timeout: float) -> HeldReader:
    """Watch a run whose reader is the probe as `reader` (`... probe.py hold`) and whose writer runs
    `writer`: wait until the probe is ready, the writer sleeps on the full pipe (or ends), and the
    parent waits for its children; map the pipes; release the reader; wait for the writer to end."""
    given_stdin = stdin_inode(run.pid)
    h = HeldReader(reader=wait_for_probe(run, reader, pids, timeout), writer_name=writer[0])

    def writer_state() -> str | None:
        """The wchan once the writer sleeps in a pipe write, "exited" once it is gone, else None."""
        if h.writer is None:
            h.writer = processes.running([p for p in pids() if p != run.pid], writer)
            if h.writer is None:                # already gone? Then the live trace shows its exec and exit
                t = run.trace
                execd = [c.pid for c in t.calls("execve") if c.ret == 0 and c.arg(1).startswith(f'["{writer[0]}"')]
                if execd and execd[-1] in t.exits():
                    h.writer = execd[-1]
                    return "exited"
                return None
        return "exited" if not waits.alive(h.writer) else asleep_writing(h.writer) or None

    seen = waits.until(writer_state, timeout, pids=pids) if h.reader else None
    if seen and seen != "exited":
        h.blocked = blocked_writer(h.writer, seen)
    # The parent's fd table once it sleeps in wait (it may be slower than its children).
    waits.until(lambda: waits.asleep_in(run.pid, WAIT_SYSCALLS) or not waits.alive(run.pid), 2.0 if h.reader else 0)
    who = labels()
    pmap = pipe_map(list(who), who)
    mine = own_pipes(pmap, given_stdin)
    h.pipe_map_text = describe(pmap, only=mine)
    h.parent_ends = [(i, e) for i, e in ends_held_by(pmap, run.pid) if i in mine]
    signals.send_to_student(h.reader, signal.SIGUSR1, uid)
    if h.writer:
        h.writer_done = waits.until(lambda: not waits.alive(h.writer), timeout, pids=lambda: [h.writer])
    return h


def probe_reports(lines: list[str]) -> tuple[str | None, str | None, bool]:
    """(the writer probe's report, the reader probe's report, whether the writer's came through the
    pipe), from the lines a run of `probe.py fds writer -- probe.py fds reader` printed. A writer's
    report that reached the grader directly means its stdout was not the pipe."""
    reader = next((line for line in lines if line.startswith("PROBE reader ")), None)
    relayed = next((line[len("RELAY "):] for line in lines if line.startswith("RELAY PROBE writer ")), None)
    return relayed or next((line for line in lines if line.startswith("PROBE writer ")), None), reader, bool(relayed)


def kept_at_exec(tp: TracedPipes, pid: int | None) -> str | None:
    """The pipe ends a process kept across its execve, one per line ("none"); None if it never exec'd."""
    execve, kept = tp.held_at_exec(pid) if pid else (None, [])
    if execve is None:
        return None
    return "\n".join(e.describe() for e in sorted(kept, key=lambda e: e.fd)) or "none"


def expect_writer_blocked(trace: Trace, h: HeldReader, total: int, *, never_asleep_hint: str) -> None:
    """Fail unless the writer slept on the full pipe while the reader was held (no EAGAIN, no CPU, the
    pipe really full) and then wrote all `total` bytes and exited once the reader drained it."""
    name = h.writer_name
    writes = [c for c in trace.calls("write", h.writer) if c.arg(0) == "1"] if h.writer else []
    shown = [(f"the writer's ({name}'s) writes to fd 1", calls(trace, h.writer, ("write", "execve"))),
             ("the pipes while the reader was held", h.pipe_map_text)]
    if h.blocked is None:
        again = [w for w in writes if w.errno == "EAGAIN"]
        expect(not again, "the writer did not wait for the slow reader: its write failed with EAGAIN",
               expected=f"{name} asleep in a pipe write (state S) until the reader makes room",
               observed=short(again[0].raw) if again else None, evidence=shown,
               hint="The pipe (or its write end) is non-blocking (O_NONBLOCK). Do not set it: a blocking "
                    "pipe makes the writer sleep while the pipe is full, which is what you want.")
        expect(False, "the writer was never seen asleep on a full pipe while the reader was held",
               expected=f"{name} asleep in a pipe write (state S, wchan anon_pipe_write or pipe_write)",
               observed=(f"{name} (pid {h.writer}) exited without ever waiting" if h.writer
                         else f"{name} was never seen running"), evidence=shown, hint=never_asleep_hint)
    sample, fill = h.blocked.sample, h.blocked.fill
    shown.insert(0, ("the writer while the reader was held", h.blocked.describe()))
    expect(sample.blocked, "the writer used the CPU while the pipe was full", expected="no CPU used while blocked",
           observed=sample.describe(), evidence=shown)
    expect(fill is None or fill.full, "the writer slept although the pipe was not full",
           expected="a full pipe (64 KiB)", observed=fill.describe() if fill else None, evidence=shown,
           hint="The writer should only wait when the pipe is full.")
    written = sum(w.ret for w in writes if w.ret and w.ret > 0)
    expect(h.writer_done and written >= total, "the writer made no progress once the reader drained the pipe",
           expected=f"{name} writes all {total} bytes and exits", evidence=shown,
           observed=f"{written} bytes written; {name} {'exited' if h.writer_done else 'still running'}")
