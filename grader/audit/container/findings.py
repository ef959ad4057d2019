"""`grade audit` findings: IPC hygiene problems judged from what one scenario run left behind.

Pure functions from an `Observation` (parsed traces, /proc samples taken during
the run, the IPC objects and files left at the end) to `Finding`s, so each rule
is unit-testable from captured text. Every rule is precise on purpose: it
reports only what the kernel state or the trace proves, because a false finding
on a correct program costs an instructor more than a missed one.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

from grader.audit.container import fds as fd_history
from grader.harness import blocking
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
MAX_CPU_RATIO = getattr(blocking, "MAX_CPU_RATIO", 0.10)
MAX_WAKEUPS = getattr(blocking, "MAX_WAKEUPS_PER_SECOND", 5.0)
MAX_EXCERPT = 10
# How sure a finding is: "certain" when kernel state or the trace proves it, "likely" when
# what was seen also fits a correct program (a long computation looks like a spin).
CERTAIN, LIKELY = "certain", "likely"
ZOMBIE_MIN_SECONDS = 0.5       # a child outliving its parent's last step by microseconds is not worth a finding


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
    """How one process used the CPU during one sampling window (blocking.measure)."""
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


# ------------------------------------------------------------------ leaks

GETTER = {"shm": "shmget", "msg": "msgget", "sem": "semget"}
LEAK_KIND = {"shm": "shm-leak", "msg": "msg-leak", "sem": "sem-leak"}
REMOVE_HINT = {
    "shm": "Remove the segment when you are done: shmctl(id, IPC_RMID, NULL) (Python: shm.remove()). "
           "It is safe to do this while it is still attached: the kernel frees it at the last detach.",
    "msg": "Remove the queue when you are done: msgctl(id, IPC_RMID, NULL) (Python: mq.remove()).",
    "sem": "Remove the semaphore set when you are done: semctl(id, 0, IPC_RMID) (Python: sem.remove()).",
}


def creating_call(obs: Observation, kind: str, ident: int) -> tuple[ProcessRun, Syscall] | None:
    """The get call that returned this id, preferring one with IPC_CREAT / IPC_PRIVATE."""
    found = []
    for r in obs.runs:
        for c in r.trace.calls(GETTER[kind]):
            if not c.failed and c.ret == ident:
                found.append((r, c))
    creating = [f for f in found if "IPC_CREAT" in " ".join(f[1].args) or f[1].arg(0) == "IPC_PRIVATE"]
    pick = creating or found
    return min(pick, key=lambda f: f[1].time) if pick else None


def _sigterm_evidence(obs: Observation, run: ProcessRun) -> list[tuple[str, str]]:
    ev = []
    sig = _got_sigterm(obs, run)
    why = obs.sigterm.get(run.name)
    if why:
        ev.append(("why SIGTERM was sent", why))
    if sig:
        ev.append((f"the SIGTERM reaching {run.name}", sig.raw))
    ev.append((f"how {run.name} ended", run.exit or "unknown"))
    return ev


def _sigterm_hint(run: ProcessRun) -> str:
    if run.exit == "killed by SIGTERM":
        how = (f"{run.name} had no SIGTERM handler, so the default action killed it before any cleanup ran. ")
    else:
        how = f"{run.name} caught SIGTERM (or ignored it) but did not remove what it had created. "
    return (how + "Install a SIGTERM handler (sigaction; Python: signal.signal) that sets a volatile "
            "sig_atomic_t flag. The blocking call the program sits in (pause, msgrcv, semop, read) then returns "
            "-1 with errno EINTR: see the flag, remove what you created (shmctl/msgctl/semctl IPC_RMID, "
            "shm_unlink, mq_unlink) and exit.")


def sysv_leaks(obs: Observation, hung: set[int] = frozenset()) -> list[Finding]:
    out = []
    for obj in obs.leftovers:
        made = creating_call(obs, obj.kind, obj.id)
        run, call = made if made else (None, None)
        creator = obj.cpid if obj.kind == "shm" and obj.cpid else (call.pid if call else None)
        if creator in hung:
            continue   # it hung before it could remove it: the hang is the bug, reported on its own
        who = label(obs, creator) if creator else "an unknown process"
        evidence = [(f"left in /proc/sysvipc/{obj.kind} after every process had ended", obj.describe()),
                    ("the creating call" + (f" (by {who})" if call else ""), call.raw if call else
                     "(not in the trace: it was not created by a program of this run)")]
        removes = [c.raw for r in obs.runs for c in r.trace.calls(f"{obj.kind}ctl")
                   if _int(c.arg(0)) == obj.id and "IPC_RMID" in c.arg(1)]
        if removes:
            evidence.append(("attempts to remove it", _excerpt(removes)))
        if run is not None and (_got_sigterm(obs, run) or run.name in obs.sigterm):
            out.append(Finding("sigterm-leak", f"{obj.describe()}, created by {who}, was still there after "
                               f"{run.name} was sent SIGTERM", who,
                               evidence + _sigterm_evidence(obs, run), _sigterm_hint(run),
                               origin=call.raw if call else ""))
            continue
        out.append(Finding(LEAK_KIND[obj.kind], f"{obj.describe()}, created by {who}, outlived every process",
                           who, evidence, REMOVE_HINT[obj.kind] + " `ipcs` lists what is left on your machine; "
                           "`ipcrm` removes it by hand.", origin=call.raw if call else ""))
    return out


def _posix_creator(obs: Observation, obj: PosixObject) -> tuple[ProcessRun, Syscall] | None:
    name = obj.path.rsplit("/", 1)[-1]
    for r in obs.runs:
        for c in r.trace.calls():
            if c.failed:
                continue
            if obj.path.startswith("/dev/mqueue/") and c.name == "mq_open" and c.arg(0) == f'"{name}"' \
                    and "O_CREAT" in c.arg(1):
                return r, c
            if obj.path.startswith("/dev/shm/"):
                if c.name == "openat" and c.arg(1) == f'"{obj.path}"' and "O_CREAT" in c.arg(2):
                    return r, c
                if c.name in ("link", "linkat", "rename", "renameat", "renameat2") and f'"{obj.path}"' in c.args:
                    return r, c
    return None


def posix_leaks(obs: Observation) -> list[Finding]:
    out = []
    for obj in obs.posix_left:
        made = _posix_creator(obs, obj)
        run, call = made if made else (None, None)
        who = label(obs, call.pid) if call else "an unknown process"
        is_mq = obj.path.startswith("/dev/mqueue/")
        name = "/" + obj.path.rsplit("/", 1)[-1]
        what = (f"POSIX message queue {name}" if is_mq else
                f"POSIX semaphore /{name[5:]}" if name.startswith("/sem.")
                else f"POSIX shared-memory object {name}")
        evidence = [("left behind after every process had ended", f"{obj.path}  {obj.detail}".strip()),
                    ("the creating call" + (f" (by {who})" if call else ""), call.raw if call else "(not in the trace)")]
        if run is not None and (_got_sigterm(obs, run) or run.name in obs.sigterm):
            out.append(Finding("sigterm-leak", f"{what}, created by {who}, was still there after {run.name} "
                               "was sent SIGTERM", who, evidence + _sigterm_evidence(obs, run), _sigterm_hint(run),
                               origin=call.raw if call else ""))
            continue
        unlink = ("mq_unlink(name)" if is_mq else "sem_unlink(name)" if name.startswith("/sem.")
                  else "shm_unlink(name)")
        out.append(Finding("posix-leak", f"{what}, created by {who}, outlived every process", who, evidence,
                           f"POSIX objects have kernel persistence: they stay until someone calls {unlink}, "
                           f"even after every process closed them. Call {unlink} once no new process needs "
                           f"to open it (you may do it right after the last open). `ls {obj.path.rsplit('/', 1)[0]}` "
                           "shows what is left.", origin=call.raw if call else ""))
    return out


# ------------------------------------------------------------------ shmdt

def no_shmdt(obs: Observation) -> list[Finding]:
    out = []
    for r in obs.runs:
        if r.language == "python":
            continue   # a sysv_ipc segment lives as long as its object: detaching at exit is the idiom (docs/audit.md)
        exits = r.trace.exits()
        for pid in r.trace.pids():
            ex = exits.get(pid)
            if ex is None or ex.code is None:
                continue   # killed: it never had the chance to detach
            attaches = [c for c in r.trace.calls("shmat", pid) if not c.failed and c.ret is not None]
            detached = {_int(c.arg(0)) for c in r.trace.calls("shmdt", pid) if not c.failed}
            missing = [c for c in attaches if c.ret not in detached]
            if not missing:
                continue
            ids = ", ".join(sorted({c.arg(0) for c in missing}))
            out.append(Finding(
                "no-shmdt", f"{label(obs, pid)} attached segment id {ids} but never detached it with shmdt(); "
                "only its exit detached it", label(obs, pid),
                [("its attaches without a matching shmdt", _excerpt([c.raw for c in missing])),
                 ("how it ended", ex.raw)],
                "Call shmdt(ptr) (Python: shm.detach()) when you are done with the segment, before exiting. "
                "exit() and execve() detach silently, which hides the bug until the program grows a loop "
                "or a long-running server that attaches again and again.", origin=missing[0].raw))
    return out


# ------------------------------------------------------------------ pipes

def pipe_ends(obs: Observation, hung: set[int] = frozenset()) -> list[Finding]:
    out = []
    for r in obs.runs:
        hist = fd_history.simulate(r.trace)
        carried = {pipe for _, pipe, _ in hist.used}
        by_pid: dict[int, list[fd_history.HeldEnd]] = {}
        for h in hist.held:
            if h.pipe.id not in carried:
                continue   # nobody ever read or wrote it: no one can wait on it (multiprocessing's sentinel pipes)
            if h.pid in hung and h.killed:
                continue   # held when the audit killed it inside a hang, before it could use it
            by_pid.setdefault(h.pid, []).append(h)
        for pid, ends in by_pid.items():
            who = label(obs, pid)
            parts = []
            for pipe_id in dict.fromkeys(h.pipe.id for h in ends):
                mine = [h for h in ends if h.pipe.id == pipe_id]
                fds = ", ".join(str(fd) for h in mine for fd in h.fds) or "?"
                which = "both ends" if len(mine) == 2 else f"the {mine[0].side} end"
                parts.append(f"{which} (fd {fds}) of pipe #{pipe_id}")
            groups: dict[tuple, list[str]] = {}
            for h in ends:
                groups.setdefault((h.pipe.id, h.got, h.when, h.when_raw.splitlines()[0]), []).append(h.side)
            lines = []
            for (pipe_id, got, when, raw), sides in groups.items():
                lines.append(f"pipe #{pipe_id}, {' and '.join(sides)} end{'s' if len(sides) > 1 else ''}: {got}")
                lines.append(f"  still held {when}: {raw}")
            close_what = " and ".join(f"fd {', '.join(map(str, h.fds))}" for h in ends if h.fds)
            out.append(Finding(
                "pipe-end-unused",
                f"{who} held {' and '.join(parts)} without ever reading or writing through it",
                who,
                [("where it got the ends and when it still held them", "\n".join(lines))] +
                ([("where the pipes were created", "\n".join(f"pipe #{p.id}: {p.raw}" for p in
                                                              {h.pipe.id: h.pipe for h in ends}.values()))]
                 if any(not h.got.startswith("created it") for h in ends) else []),
                f"Close every pipe end a process does not use, right after fork(): here "
                f"close({close_what or 'the unused fd'}). A reader sees end-of-file only when every write "
                "end is closed, and a writer gets SIGPIPE only when every read end is closed, so a forgotten "
                "end can make another process wait forever.", origin=ends[0].pipe.raw))
    return out


def pipe_hangs(obs: Observation) -> list[Finding]:
    out = []
    for w in obs.pipe_waits:
        other = "write" if w.op == "read" else "read"
        others = [p for p in w.other_end if p.pid != w.pid]
        if any(not p.idle for p in others):
            continue   # someone who could still act holds the other end
        if others:
            held = "; ".join(f"{p.who} fd {p.fd}, {p.doing}" for p in others)
            mine = [p for p in w.other_end if p.pid == w.pid]
            cause = (f"the {other} end is held only by idle processes: {held}" +
                     (f"; and by {w.who} itself (fd {', '.join(str(p.fd) for p in mine)})" if mine else ""))
        else:
            mine = ", ".join(str(p.fd) for p in w.other_end) or "?"
            cause = f"the {other} end is held only by {w.who} itself (fd {mine})"
        if w.op == "read":
            effect = "it can never see end-of-file, and no one will write"
        else:
            effect = "the pipe is full and no one will read"
        evidence = []
        if w.call:
            evidence.append((f"the call {w.who} is stuck in", w.call))
        if obs.hang_report:
            evidence.append(("every process when the run was stopped", obs.hang_report))
        culprits = ", ".join(sorted({p.who for p in others} | ({w.who} if not others or
                                                                  any(p.pid == w.pid for p in w.other_end) else set())))
        last = {p.pid: _last_write(obs, p.pid, p.fd) for p in others}
        if w.op == "read" and others and all(last.values()) and not any(p.pid == w.pid for p in w.other_end):
            out.append(_end_kept(w, others, last, evidence))
            continue
        out.append(Finding(
            "pipe-hang",
            f"{w.who} is blocked in {w.op}() on fd {w.fd} (pipe {w.inode}) forever: {cause}, so {effect}",
            w.who, evidence,
            f"Each process must close the pipe ends it does not use, right after fork(), and the parent "
            f"usually closes both. Here {culprits} must close its copy of the {other} end before "
            f"{'waiting' if others else 'reading'}; then the {w.op} returns "
            f"{'0 (end-of-file)' if w.op == 'read' else 'with EPIPE / SIGPIPE'}."))
    return out


def _last_write(obs: Observation, pid: int, fd: int) -> Syscall | None:
    """The last successful write a process made through `fd` (None if it never wrote there)."""
    run = run_of(obs, pid)
    writes = [c for c in (run.trace.calls(pid=pid) if run else []) if c.name in ("write", "writev")
              and _int(c.arg(0)) == fd and not c.failed and c.ret is not None]
    return writes[-1] if writes else None


def _end_kept(w: PipeWait, others: list[PeerEnd], last: dict[int, Syscall | None],
              evidence: list[tuple[str, str]]) -> Finding:
    """A reader waits for end-of-file that never comes: each writer wrote its last data and kept its end."""
    names = ", ".join(p.who for p in others)
    kept = "\n".join(f"{p.who}, fd {p.fd}: last write {last[p.pid].raw}\n  then {p.doing}, still holding it"
                      for p in others)
    return Finding(
        "pipe-end-kept",
        f"{w.who} waits in read() on fd {w.fd} for end-of-file that never comes: {names} wrote its last data "
        f"and kept the write end open while it went on to wait for something else",
        w.who, [("the writers' last writes, and what they did next", kept)] + evidence,
        f"Close the write end as soon as the last write is done: close(fd) right after the writing loop in "
        f"{names}. A reader sees end-of-file only when every write end is closed, and a process that keeps "
        f"its end while it waits (pause, sleep, a long computation) keeps the reader waiting with it.",
        origin=last[others[0].pid].raw)


# ------------------------------------------------------------------ busy waiting

POLL_ERRNOS = {"EAGAIN", "EWOULDBLOCK", "ENOMSG", "ETIMEDOUT", "EINTR"}
IDLE_CALLS = {"sched_yield", "nanosleep", "clock_nanosleep"}
CONTEXT_CALLS = {"shmat", "msgget", "semget", "mq_open", "pipe", "pipe2"}


QUERY_CMDS = {"IPC_STAT", "SHM_STAT", "SHM_STAT_ANY", "MSG_STAT", "MSG_STAT_ANY", "SEM_STAT", "SEM_STAT_ANY",
              "IPC_INFO", "SHM_INFO", "MSG_INFO", "SEM_INFO", "GETVAL", "GETALL", "GETPID", "GETNCNT", "GETZCNT"}


def _no_progress(c: Syscall) -> bool:
    """A call that moved nothing: a failed non-blocking poll, an empty WNOHANG wait, a yield or nap,
    or a status query (IPC_STAT, GETVAL: how sysv_ipc's read() and semaphore-polling loops look)."""
    if c.name in IDLE_CALLS:
        return True
    if c.name in ("shmctl", "msgctl", "semctl") and not c.failed and \
            any(a.strip() in QUERY_CMDS for a in c.args[1:3]):
        return True
    if c.name in fd_history.WAITS and "WNOHANG" in " ".join(c.args) and c.ret == 0:
        return True
    if c.name == "kill" and c.arg(1) == "0":
        return True
    return c.failed and c.errno in POLL_ERRNOS


def _has_context(run: ProcessRun, pid: int, before: float) -> str | None:
    """The IPC object or handler the process could be waiting on, set up before the window."""
    for c in run.trace.calls():
        if c.time > before or c.failed:
            continue
        if c.name in CONTEXT_CALLS:
            return c.raw
        if c.name == "rt_sigaction" and c.arg(1).startswith("{sa_handler=") \
                and not c.arg(1).startswith(("{sa_handler=SIG_DFL", "{sa_handler=SIG_IGN")) \
                and not (run.language == "python" and c.arg(0) == "SIGINT"):  # CPython's own handler
            return c.raw
    return None


MIN_LOOP_CALLS = 3             # one nap, or a nap and a write, is a step, not a loop
MIN_RUNNABLE = 0.8             # on a loaded machine a spinner gets little CPU, but it is always runnable
SPIN_WINDOWS = 2               # windows in a row of CPU without any system call before a process with no IPC is judged


def _call_text(c: Syscall) -> str:
    """`msgrcv() = -1 ENOMSG`; an unfinished or interrupted call shows no result (strace's ERESTART* is internal)."""
    if c.ret is None or (c.errno or "").startswith("ERESTART"):
        return f"{c.name}()"
    return f"{c.name}() = {c.ret}" + (f" {c.errno}" if c.errno else "")


def _poll_loop(w: Window, calls: list[Syscall]) -> bool:
    """Polling, by the trace: only calls that moved nothing, at least MIN_LOOP_CALLS of them, and more
    wake-ups a second than a blocked process makes (each finished call is one wake-up; ptrace stops are not)."""
    wall = max(w.t1 - w.t0, 1e-6)
    return (len(calls) >= MIN_LOOP_CALLS and all(_no_progress(c) for c in calls)
            and (len(calls) / wall > MAX_WAKEUPS or w.cpu_ratio > MAX_CPU_RATIO))


def busy_waits(obs: Observation) -> list[Finding]:
    out = []
    worst: dict[int, tuple[Window, list[Syscall], str | None, float]] = {}
    spin_streak: dict[int, int] = {}
    for w in sorted(obs.windows, key=lambda w: (w.pid, w.t0)):
        run = run_of(obs, w.pid)
        if run is None or w.exited or w.blocked:
            spin_streak[w.pid] = 0
            continue   # the probe's figures (which overcount wake-ups under ptrace) say it slept
        calls = [c for c in run.trace.calls(pid=w.pid) if w.t0 <= c.time <= w.t1]
        spinning = not calls and (w.cpu_ratio > MAX_CPU_RATIO or w.runnable >= MIN_RUNNABLE)
        spin_streak[w.pid] = spin_streak.get(w.pid, 0) + 1 if spinning else 0
        context = _has_context(run, w.pid, w.t0)
        if spinning:
            if context is None and spin_streak[w.pid] < SPIN_WINDOWS:
                continue   # a short computation; keep watching
        elif not _poll_loop(w, calls):
            continue
        rate = len(calls) / max(w.t1 - w.t0, 1e-6)
        prev = worst.get(w.pid)
        if prev is None or w.cpu_ratio + rate / 1000 > prev[0].cpu_ratio + prev[3] / 1000:
            worst[w.pid] = (w, calls, context or (calls[0].raw if calls else None), rate)
    for pid, (w, calls, context, rate) in sorted(worst.items()):
        out.append(_busy_finding(obs, pid, w, calls, context, rate, spin_streak))
    return out


def _busy_finding(obs: Observation, pid: int, w: Window, calls: list[Syscall], context: str | None, rate: float,
                  spin_streak: dict[int, int]) -> Finding:
    who = label(obs, pid)
    wall = w.t1 - w.t0
    if calls:
        names: dict[str, int] = {}
        for c in calls:
            names[_call_text(c)] = names.get(_call_text(c), 0) + 1
        how = f"it polled in a loop, {len(calls)} calls in {wall:.2f} s: " + ", ".join(
            f"{n} x {k}" for k, n in sorted(names.items(), key=lambda kv: -kv[1]))
        seen = _excerpt([c.raw for c in calls], 6)
        run = run_of(obs, pid)
        dropped = {k: n for k, n in (run.thinned if run else {}).items() if k[0] == pid}
        if dropped:
            how += " in the calls kept"
            seen += "\n(the trace keeps one such failed poll per 10 ms; over the whole run " + ", ".join(
                f"{n} more {name}() = -1 {err}" for (_, name, err), n in sorted(dropped.items())) + " were dropped)"
        certainty = CERTAIN
    else:
        how = ("it made no system call at all: it is spinning on memory (a flag in shared memory or a variable)"
               + ("" if context else ", or computing"))
        seen = "(no system call in the window)"
        certainty = CERTAIN if context else LIKELY
    if w.cpu_ratio > MAX_CPU_RATIO:
        what = (f"{who} busy-waited: it kept {w.cpu_ratio:.0%} of a CPU busy (limit {MAX_CPU_RATIO:.0%}) "
                f"for {wall:.2f} s; {how}")
    elif not calls:
        what = (f"{who} busy-waited: it was running or waiting for a CPU in {w.runnable:.0%} of the samples "
                f"for {wall:.2f} s, never asleep (it got {w.cpu_ratio:.0%} of a CPU on this busy machine); {how}")
    else:
        what = (f"{who} polled instead of blocking: {rate:.0f} system calls a second (limit {MAX_WAKEUPS:g}/s) "
                f"for {wall:.2f} s, using {w.cpu_ratio:.0%} of a CPU; {how}")
    return Finding(
        "busy-wait", what, who,
        [("CPU time against wall time in that window (blocking probe)", w.describe),
         ("its system calls in that window (each finished call is one wake-up)", seen),
         ("what it was waiting on (set up before)", context or "(no IPC object or signal handler: nothing in sight)")],
        "Let the kernel put the process to sleep until there is something to do: a blocking msgrcv() "
        "(without IPC_NOWAIT), semop() on a semaphore the other process increments, read() on a pipe, "
        "pause()/sigsuspend() for a signal, waitpid() without WNOHANG. A loop that checks a flag burns "
        "a whole CPU and slows down the very process it is waiting for; a loop around a short "
        "sleep still wakes up hundreds of times a second.", certainty, origin=calls[0].raw if calls else (context or ""))


# ------------------------------------------------------------------ zombies

def _leaders(trace: Trace) -> dict[int, int]:
    """thread id -> its thread-group leader (threads may reap their process's children)."""
    parent = {c.ret: c.pid for c in trace.calls() if c.name in CLONES and c.ret and c.ret > 0
              and "CLONE_THREAD" in " ".join(c.args)}
    out = {}
    for tid in parent:
        lead = tid
        while lead in parent:
            lead = parent[lead]
        out[tid] = lead
    return out


def _reaped(trace: Trace, parent: int, child: int, leaders: dict[int, int]) -> bool:
    for c in trace.calls():
        if leaders.get(c.pid, c.pid) != parent:
            continue
        if c.name == "wait4" and c.ret == child:
            return True
        if c.name == "waitid" and c.ret == 0 and re.search(rf"\bsi_pid={child}\b", " ".join(c.args)):
            return True
    return False


def _ignores_sigchld(trace: Trace, pid: int, before: float) -> bool:
    for c in trace.calls("rt_sigaction", pid):
        if c.arg(0) == "SIGCHLD" and c.time <= before and not c.failed and \
                ("SIG_IGN" in c.arg(1) or "SA_NOCLDWAIT" in c.arg(1)):
            return True
    return False


def zombies(obs: Observation, hung: set[int] = frozenset()) -> list[Finding]:
    out = []
    for r in obs.runs:
        exits = r.trace.exits()
        leaders = _leaders(r.trace)
        for child, (parent, fork) in sorted(_children(r.trace).items()):
            cex = exits.get(child)
            if cex is None or parent in hung:
                continue
            pex = exits.get(parent)
            if pex is not None and pex.time < cex.time:
                continue   # the parent went first: the child was adopted and reaped by init
            if _reaped(r.trace, parent, child, leaders) or _ignores_sigchld(r.trace, parent, cex.time):
                continue
            end = pex.time if pex is not None else max((e.time for e in r.trace.events), default=cex.time)
            if end - cex.time < ZOMBIE_MIN_SECONDS and child not in obs.zombies_seen:
                continue   # the parent ended right after it: init reaped it at once
            waits = [c.raw for c in r.trace.calls() if c.pid == parent and c.name in fd_history.WAITS]
            lasted = (f"{pex.time - cex.time:.2f} s, until its parent ended" if pex is not None
                      else "until the end of the run")
            evidence = [("the fork", fork.raw), ("the child's exit", cex.raw),
                        ("the parent's wait calls", _excerpt(waits) if waits else "(none)"),
                        ("the parent's end", pex.raw if pex else "(still running)")]
            if child in obs.zombies_seen:
                evidence.append(("/proc while it was a zombie", obs.zombies_seen[child]))
            out.append(Finding(
                "zombie", f"{label(obs, child)} exited but {label(obs, parent)} never waited for it: it stayed "
                f"a zombie for {lasted}", label(obs, parent), evidence,
                "Reap every child: waitpid(pid, &status, 0) (Python: os.waitpid(pid, 0)) once it should "
                "have finished, or a SIGCHLD handler that loops on waitpid(-1, &s, WNOHANG). Each zombie "
                "keeps a slot in the process table until its parent waits for it or exits.", origin=fork.raw))
    return out


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


# ------------------------------------------------------------------ crashes

ERROR_SIGNALS = {"SIGSEGV", "SIGBUS", "SIGFPE", "SIGILL", "SIGABRT", "SIGSYS", "SIGTRAP"}
SIGNAL_HINT = {
    "SIGSEGV": "a segmentation fault: a pointer to memory the process may not use (NULL, freed, out of bounds, "
               "or the (void *) -1 of a failed shmat)",
    "SIGBUS": "a bus error: memory past the end of a mapped file or shared-memory object",
    "SIGFPE": "an arithmetic error, usually an integer division by zero",
    "SIGABRT": "abort(), usually a failed assert() or the C library detecting heap corruption",
}


def _traceback(stderr: str) -> str | None:
    i = stderr.rfind("Traceback (most recent call last):")
    return stderr[i:].strip() if i >= 0 else None


def crashes(obs: Observation) -> list[Finding]:
    """A process killed by an error signal, or one that exited with a non-zero status (a Python traceback
    among them); never the SIGTERM/SIGKILL the audit or the scenario sent."""
    out = []
    for r in obs.runs:
        for pid, ex in sorted(r.trace.exits().items()):
            who = label(obs, pid)
            if ex.signal in ERROR_SIGNALS:
                sig = [e.raw for e in r.trace.signals() if e.pid == pid and e.signal == ex.signal]
                out.append(Finding(
                    "crash", f"{who} was killed by {ex.signal}: {SIGNAL_HINT.get(ex.signal, 'a fatal error')}", who,
                    [("the signal", sig[-1] if sig else ex.raw), ("how it ended", ex.raw),
                     ("its last system calls", _excerpt([c.raw for c in r.trace.calls(pid=pid)][-5:]))],
                    "Run it under a debugger to see the line: build with -g, then `gdb ./prog` and `run`, or "
                    "`valgrind ./prog`. The last system calls above show how far it got.", origin=ex.raw))
            elif ex.code not in (None, 0):
                tb = _traceback(r.stderr) if pid == r.pid else None
                if tb:
                    last = tb.strip().splitlines()[-1]
                    message = f"{who} died with a Python exception: {last}"
                    hint = ("Read the traceback from the bottom up: the last line is the error, the lines above it "
                            "the calls that led there. Catch the exception where the program can do something "
                            "sensible (a missing queue: create it, or start the program that creates it first).")
                    evidence = [("the traceback (stderr)", _excerpt(tb.splitlines(), 16)), ("how it ended", ex.raw)]
                else:
                    message = f"{who} exited with status {ex.code}, which means failure"
                    err = (r.stderr.strip().splitlines() if pid == r.pid else [])[-5:]
                    hint = ("A non-zero exit status tells the shell and the parent that the program failed. If "
                            "that is intended (bad arguments, a missing object), print why on stderr; otherwise "
                            "find the failing call in the evidence.")
                    evidence = [("how it ended", ex.raw),
                                ("its last system calls", _excerpt([c.raw for c in r.trace.calls(pid=pid)][-5:]))]
                    if err:
                        evidence.append(("the end of its stderr", "\n".join(err)))
                out.append(Finding("crash", message, who, evidence, hint, origin=ex.raw))
    return out


# ------------------------------------------------------------------ hangs on semaphores and futexes

HANG_CALLS = {"semop", "semtimedop", "futex"}
FUTEX_PRIVATE = 128


def _waits_for(p: StuckProcess) -> str:
    if p.line:
        return p.line
    return f"{p.call}({', '.join(hex(a) for a in p.args[:4])})" + (f" at {p.wchan}" if p.wchan else "")


def hangs(obs: Observation) -> list[Finding]:
    """A process asleep in semop or a futex wait with no timeout, when every live process was asleep in an
    untimed wait: nothing in the run can ever post the semaphore or wake the futex."""
    live = obs.stuck
    if not live or not all(p.asleep_untimed for p in live):
        return []      # someone is running or in a timed sleep: it might still act
    out = []
    waiters = [p for p in live if p.call in HANG_CALLS]
    for p in waiters:
        others = [q for q in live if q.pid != p.pid]
        if p.call == "futex":
            flag_private = bool(len(p.args) > 1 and p.args[1] & FUTEX_PRIVATE)
            memory_private = p.mapping.split()[1:2] and p.mapping.split()[1].endswith("p")
            if p.threads == 1 and (flag_private or memory_private):
                where = ("the wait is FUTEX_PRIVATE" if flag_private else
                         f"the futex word is in private memory ({p.mapping}): after fork() each process has its "
                         "own copy")
                why = (f"{where}, and the process has one thread, so no other process can ever wake it")
            else:
                why = "every process that could wake it is itself waiting"
            what = "a futex (a POSIX semaphore, mutex or condition variable)"
        else:
            why = ("no other process is left to post the semaphore" if not others else
                   "every other process is itself waiting, so none can post it")
            what = "a System V semaphore"
        deadlock = [q for q in others if q.call in HANG_CALLS]
        message = f"{p.who} waits for ever on {what}: {why}"
        if deadlock:
            message += "; " + ", ".join(q.who for q in deadlock) + " wait" + ("s" if len(deadlock) == 1 else "") + \
                       " on semaphores too (a deadlock: each holds what another needs)"
        evidence = [(f"the call {p.who} is stuck in", _waits_for(p))]
        if others:
            evidence.append(("every other live process and what it waits on",
                             "\n".join(f"{q.who}: {_waits_for(q)}" for q in others)))
        if obs.hang_report:
            evidence.append(("every process when the run was stopped", obs.hang_report))
        hint = ("Make sure every path that takes a lock gives it back (an early return or exit inside the critical "
                "section loses the unlock; SEM_UNDO makes the kernel undo it when the process dies), and take "
                "several locks in the same order in every process.") if p.call != "futex" or not deadlock else ""
        if p.call == "futex":
            hint = ("A semaphore used between processes must be in memory they share: sem_init(&s, 1, value) on a "
                    "sem_t inside mmap(MAP_SHARED) or a shm segment, or a named semaphore (sem_open). A global "
                    "sem_t is copied by fork(), so each process posts and waits on its own copy.")
        out.append(Finding("hang", message, p.who, evidence, hint, origin=p.line))
    return out


# ------------------------------------------------------------------ Unix socket files

_SUN_PATH = re.compile(r'sun_path="([^"]+)"')


def sockets_left(obs: Observation) -> list[Finding]:
    out = []
    for path, detail in sorted(obs.sockets_left.items()):
        binds = [(r, c) for r in obs.runs for c in r.trace.calls("bind") if not c.failed
                 and (m := _SUN_PATH.search(c.arg(1))) and m.group(1) == path]
        if not binds:
            continue
        call = binds[-1][1]
        who = label(obs, call.pid)
        out.append(Finding(
            "uds-socket-left", f"{who} bound the Unix socket {path} and nobody removed the file: it is still in "
                               "the file system after every process ended", who,
            [("the bind that created it", call.raw), ("left behind", f"{path}  {detail}".strip())],
            f"unlink(\"{path}\") when the server shuts down (and in its SIGTERM handler). A socket file outlives "
            "its process, and the next bind() to the same path fails with EADDRINUSE. Many servers also "
            "unlink the path just before bind().", origin=call.raw))
    return out


# ------------------------------------------------------------------ all

def audit(obs: Observation) -> list[Finding]:
    stuck_hangs = hangs(obs)
    pipes_stuck = pipe_hangs(obs)
    hung = {w.pid for w in obs.pipe_waits} | {p.pid for w in obs.pipe_waits for p in w.other_end}
    hung = hung if pipes_stuck else set()
    in_hang = {p.pid for p in obs.stuck if any(f.process == p.who for f in stuck_hangs)}
    findings = (crashes(obs) + stuck_hangs + pipes_stuck + sysv_leaks(obs, in_hang) + posix_leaks(obs)
                + sockets_left(obs) + no_shmdt(obs) + pipe_ends(obs, in_hang) + busy_waits(obs)
                + zombies(obs, hung | in_hang) + ignored_errors(obs))
    order = {k: i for i, k in enumerate(KINDS)}
    return sorted(findings, key=lambda f: (f.certainty != CERTAIN, order[f.kind]))
