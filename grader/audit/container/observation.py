"""What the audit observed in one run, and the finding it reports: the data model every rule reads.

`Observation` holds the parsed traces, /proc samples taken during the run, and the IPC
objects and files left at the end; `Finding` is one verdict with its evidence, hint and
certainty. The rules (objects, pipe_rules, waits, lifecycle, ignored) are pure functions
from an Observation to Findings, so each is unit-testable from captured text.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from grader.audit.container import fds as fd_history
from grader.harness.procfs import IpcObject
from grader.harness.trace import SignalEvent, Syscall, Trace

# The order findings are reported in.
KINDS = ("crash", "hang", "pipe-hang", "pipe-end-kept", "shm-leak", "msg-leak", "sem-leak", "posix-leak",
         "sigterm-leak", "uds-socket-left", "no-shmdt", "pipe-end-unused", "busy-wait", "zombie", "ignored-ipc-error")

TITLES = {
    "crash": "process crashed or failed",
    "hang": "waits for ever: nothing left can wake it",
    "pipe-end-kept": "pipe write end kept after the last write",
    "uds-socket-left": "Unix socket file left in the file system",
    "shm-leak": "shared-memory segment left in the kernel",
    "msg-leak": "message queue left in the kernel",
    "sem-leak": "semaphore set left in the kernel",
    "posix-leak": "POSIX IPC object left behind",
    "sigterm-leak": "SIGTERM left IPC objects behind",
    "no-shmdt": "segment never detached explicitly",
    "pipe-end-unused": "pipe end held open but never used",
    "pipe-hang": "blocked forever on a pipe",
    "busy-wait": "busy waiting",
    "zombie": "child never reaped (zombie)",
    "ignored-ipc-error": "failed IPC call whose result was used anyway",
}

CLONES = fd_history.CLONES
MAX_EXCERPT = 10
# How sure a finding is: "certain" when kernel state or the trace proves it, "likely" when
# what was seen also fits a correct program (a long computation looks like a spin).
CERTAIN, LIKELY = "certain", "likely"


@dataclass
class ProcessRun:
    """One process the scenario started (the tracee; its children are in its trace)."""
    name: str
    argv: list[str]
    language: str              # "c" or "python"
    pid: int | None
    trace: Trace
    exit: str = ""             # "exited with status 0", "killed by SIGTERM", "never started: ..."
    stdout: str = ""
    stderr: str = ""
    thinned: dict[tuple[int, str, str], int] = field(default_factory=dict)  # (pid, call, errno) -> polls dropped

    @cached_property
    def pids(self) -> set[int]:
        return set(self.trace.pids())


@dataclass
class Window:
    """How one process used the CPU during one sampling window (waits.measure)."""
    pid: int
    t0: float                  # seconds since midnight, like strace -tt
    t1: float
    cpu_ratio: float
    wakeups_per_second: float
    blocked: bool
    exited: bool
    describe: str = ""
    runnable: float = 0.0      # share of samples in state R (running or waiting for a CPU on a busy machine)


@dataclass
class PeerEnd:
    pid: int
    who: str
    fd: int
    idle: bool
    doing: str                 # "waiting in wait4()", "running (using the CPU)", ...


@dataclass
class PipeWait:
    """A process found sleeping in read/write on a pipe when the run was stopped."""
    pid: int
    who: str
    op: str                    # "read" or "write"
    fd: int
    inode: int
    other_end: list[PeerEnd]   # every holder of the end that could wake it
    call: str = ""             # its unfinished trace line


@dataclass
class PosixObject:
    path: str                  # /dev/shm/NAME or /dev/mqueue/NAME
    detail: str = ""           # owner, mode, size


@dataclass
class Observation:
    runs: list[ProcessRun]
    leftovers: list[IpcObject] = field(default_factory=list)
    posix_left: list[PosixObject] = field(default_factory=list)
    windows: list[Window] = field(default_factory=list)
    pipe_waits: list[PipeWait] = field(default_factory=list)
    zombies_seen: dict[int, str] = field(default_factory=dict)   # pid -> /proc snapshot line while a zombie
    hang_report: str | None = None
    sigterm: dict[str, str] = field(default_factory=dict)        # run name -> why the audit sent SIGTERM
    end_reason: str = ""
    stuck: list[StuckProcess] = field(default_factory=list)    # every live process when the run was stopped
    sockets_left: dict[str, str] = field(default_factory=dict)   # socket file path (as bound) -> lstat detail
    sent: dict[str, set[str]] = field(default_factory=dict)      # run name -> signals the scenario sent it


_MINUS_ONE = (0xFFFFFFFFFFFFFFFF, 0xFFFFFFFF)    # a timeout of -1 (wait for ever), as /proc/PID/syscall shows it


@dataclass
class StuckProcess:
    """A process still alive when the run was stopped, and the wait it was in (from /proc/PID/syscall)."""
    pid: int
    who: str
    state: str                 # R, S, D, t...
    call: str                  # system call name, "" when running in user space
    args: list[int] = field(default_factory=list)
    wchan: str = ""
    blocked: bool = False      # the probe: no CPU used, asleep
    threads: int = 1
    line: str = ""             # its unfinished trace line, when traced
    mapping: str = ""          # for a futex: the /proc/PID/maps line holding the futex word

    @property
    def asleep_untimed(self) -> bool:
        """Asleep, using no CPU, in a wait only another process or a signal can end."""
        return self.state in ("S", "D") and self.blocked and bool(self.call) and not self.timed

    @property
    def timed(self) -> bool:
        """In a wait that ends by itself: a sleep, or a poll/select/epoll/futex/semtimedop with a timeout."""
        a = self.args + [0] * 6
        if self.call in ("nanosleep", "clock_nanosleep"):
            return True
        if self.call == "poll":
            return a[2] not in _MINUS_ONE
        if self.call == "ppoll":
            return a[2] != 0
        if self.call in ("select", "pselect6"):
            return a[4] != 0
        if self.call in ("epoll_wait", "epoll_pwait"):
            return a[3] not in _MINUS_ONE
        if self.call == "futex":
            return a[3] != 0 and (a[1] & 0x7F) in (0, 9)    # FUTEX_WAIT / FUTEX_WAIT_BITSET with a timeout
        if self.call in ("semtimedop", "mq_timedreceive", "mq_timedsend"):
            return a[3 if self.call == "semtimedop" else 4] != 0
        return False


@dataclass
class Finding:
    kind: str
    message: str
    process: str
    evidence: list[tuple[str, str]] = field(default_factory=list)
    hint: str = ""
    certainty: str = CERTAIN
    origin: str = ""           # the trace line of the call that created the object or the end (for SARIF)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "title": TITLES[self.kind], "message": self.message, "process": self.process,
                "evidence": [{"label": a, "text": b} for a, b in self.evidence], "hint": self.hint,
                "certainty": self.certainty, "origin": self.origin}


# ------------------------------------------------------------------ helpers

def _int(text: str) -> int | None:
    try:
        return int(text.strip(), 0)
    except (ValueError, AttributeError):
        return None


def _excerpt(lines: list[str], limit: int = MAX_EXCERPT) -> str:
    out = lines[:limit]
    if len(lines) > limit:
        out.append(f"... ({len(lines) - limit} more)")
    return "\n".join(out) or "(nothing traced)"


def _children(trace: Trace) -> dict[int, tuple[int, Syscall]]:
    """child pid -> (parent pid, the fork/clone call); threads are not children."""
    out = {}
    for c in trace.calls():
        if c.name in CLONES and c.ret and c.ret > 0 and "CLONE_THREAD" not in " ".join(c.args):
            out[c.ret] = (c.pid, c)
    return out


def run_of(obs: Observation, pid: int) -> ProcessRun | None:
    for r in obs.runs:
        if r.pid == pid or pid in r.pids:
            return r
    return None


def label(obs: Observation, pid: int) -> str:
    """`consumer (pid 14)` for a started process, `pid 15 (forked by consumer)` for one it forked."""
    r = run_of(obs, pid)
    if r is None:
        return f"pid {pid}"
    if pid == r.pid:
        return f"{r.name} (pid {pid})"
    return f"pid {pid} (forked by {r.name})"


def _got_sigterm(obs: Observation, run: ProcessRun) -> SignalEvent | None:
    sigs = [s for s in run.trace.signals() if s.signal == "SIGTERM"]
    return sigs[0] if sigs else None
