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

from . import audit_fds, blocking
from .procfs import IpcObject
from .trace import SignalEvent, Syscall, Trace

# The order findings are reported in.
KINDS = ("shm-leak", "msg-leak", "sem-leak", "posix-leak", "sigterm-leak", "no-shmdt", "pipe-end-unused",
         "pipe-hang", "busy-wait", "zombie", "ignored-ipc-error")

TITLES = {
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

CLONES = audit_fds.CLONES
MAX_CPU_RATIO = getattr(blocking, "MAX_CPU_RATIO", 0.10)
MAX_WAKEUPS = getattr(blocking, "MAX_WAKEUPS_PER_SECOND", 5.0)
MAX_EXCERPT = 10


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


@dataclass
class Finding:
    kind: str
    message: str
    process: str
    evidence: list[tuple[str, str]] = field(default_factory=list)
    hint: str = ""

    def to_dict(self) -> dict:
        return {"kind": self.kind, "title": TITLES[self.kind], "message": self.message, "process": self.process,
                "evidence": [{"label": a, "text": b} for a, b in self.evidence], "hint": self.hint}


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


def sysv_leaks(obs: Observation) -> list[Finding]:
    out = []
    for obj in obs.leftovers:
        made = creating_call(obs, obj.kind, obj.id)
        run, call = made if made else (None, None)
        creator = obj.cpid if obj.kind == "shm" and obj.cpid else (call.pid if call else None)
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
                               evidence + _sigterm_evidence(obs, run), _sigterm_hint(run)))
            continue
        out.append(Finding(LEAK_KIND[obj.kind], f"{obj.describe()}, created by {who}, outlived every process",
                           who, evidence, REMOVE_HINT[obj.kind] + " `ipcs` lists what is left on your machine; "
                           "`ipcrm` removes it by hand."))
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
                               "was sent SIGTERM", who, evidence + _sigterm_evidence(obs, run), _sigterm_hint(run)))
            continue
        unlink = ("mq_unlink(name)" if is_mq else "sem_unlink(name)" if name.startswith("/sem.")
                  else "shm_unlink(name)")
        out.append(Finding("posix-leak", f"{what}, created by {who}, outlived every process", who, evidence,
                           f"POSIX objects have kernel persistence: they stay until someone calls {unlink}, "
                           f"even after every process closed them. Call {unlink} once no new process needs "
                           f"to open it (you may do it right after the last open). `ls {obj.path.rsplit('/', 1)[0]}` "
                           "shows what is left."))
    return out


# ------------------------------------------------------------------ shmdt

def no_shmdt(obs: Observation) -> list[Finding]:
    out = []
    for r in obs.runs:
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
                "or a long-running server that attaches again and again."))
    return out


# ------------------------------------------------------------------ pipes

def pipe_ends(obs: Observation) -> list[Finding]:
    out = []
    for r in obs.runs:
        held = audit_fds.unused_pipe_ends(r.trace)
        by_pid: dict[int, list[audit_fds.HeldEnd]] = {}
        for h in held:
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
                "end can make another process wait forever."))
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
        out.append(Finding(
            "pipe-hang",
            f"{w.who} is blocked in {w.op}() on fd {w.fd} (pipe {w.inode}) forever: {cause}, so {effect}",
            w.who, evidence,
            f"Each process must close the pipe ends it does not use, right after fork(), and the parent "
            f"usually closes both. Here {culprits} must close its copy of the {other} end before "
            f"{'waiting' if others else 'reading'}; then the {w.op} returns "
            f"{'0 (end-of-file)' if w.op == 'read' else 'with EPIPE / SIGPIPE'}."))
    return out


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
    if c.name in audit_fds.WAITS and "WNOHANG" in " ".join(c.args) and c.ret == 0:
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


def busy_waits(obs: Observation) -> list[Finding]:
    out = []
    worst: dict[int, tuple[Window, list[Syscall], str]] = {}
    for w in obs.windows:
        if w.exited or w.blocked:
            continue
        run = run_of(obs, w.pid)
        if run is None:
            continue
        calls = [c for c in run.trace.calls(pid=w.pid) if w.t0 <= c.time <= w.t1]
        if any(not _no_progress(c) for c in calls):
            continue   # it did real work in this window
        context = _has_context(run, w.pid, w.t0)
        if not calls and context is None:
            continue   # pure computation with no IPC in sight: not waiting on anything
        if calls and context is None:
            context = calls[0].raw
        prev = worst.get(w.pid)
        if prev is None or w.cpu_ratio + w.wakeups_per_second / 1000 > prev[0].cpu_ratio + prev[0].wakeups_per_second / 1000:
            worst[w.pid] = (w, calls, context)
    for pid, (w, calls, context) in sorted(worst.items()):
        who = label(obs, pid)
        if calls:
            names: dict[str, int] = {}
            for c in calls:
                key = f"{c.name}() = {c.ret}" + (f" {c.errno}" if c.errno else "")
                names[key] = names.get(key, 0) + 1
            how = "it polled in a loop: " + ", ".join(f"{n} x {k}" for k, n in
                                                       sorted(names.items(), key=lambda kv: -kv[1]))
            seen = _excerpt([c.raw for c in calls], 6)
            run = run_of(obs, pid)
            dropped = {k: n for k, n in (run.thinned if run else {}).items() if k[0] == pid}
            if dropped:
                how += " in the calls kept"
                seen += "\n(the trace keeps one such failed poll per 10 ms; over the whole run " + ", ".join(
                    f"{n} more {name}() = -1 {err}" for (_, name, err), n in sorted(dropped.items())) + " were dropped)"
        else:
            how = "it made no system call at all: it is spinning on memory (a flag in shared memory or a variable)"
            seen = "(no system call in the window)"
        if w.cpu_ratio > MAX_CPU_RATIO:
            what = (f"{who} busy-waited: it kept {w.cpu_ratio:.0%} of a CPU busy (limit {MAX_CPU_RATIO:.0%}) "
                    f"while it waited for {w.t1 - w.t0:.2f} s; {how}")
        else:
            what = (f"{who} polled instead of blocking: it woke up {w.wakeups_per_second:.0f} times a second "
                    f"(limit {MAX_WAKEUPS:g}/s) while it waited for {w.t1 - w.t0:.2f} s, using {w.cpu_ratio:.0%} "
                    f"of a CPU; {how}")
        out.append(Finding(
            "busy-wait", what, who,
            [("CPU time against wall time while it waited (blocking probe)", w.describe),
             ("its system calls in that window", seen),
             ("what it was waiting on (set up before)", context or "?")],
            "Let the kernel put the process to sleep until there is something to do: a blocking msgrcv() "
            "(without IPC_NOWAIT), semop() on a semaphore the other process increments, read() on a pipe, "
            "pause()/sigsuspend() for a signal, waitpid() without WNOHANG. A loop that checks a flag burns "
            "a whole CPU and slows down the very process it is waiting for; a loop around a short "
            "sleep still wakes up hundreds of times a second."))
    return out


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
            waits = [c.raw for c in r.trace.calls() if c.pid == parent and c.name in audit_fds.WAITS]
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
                "keeps a slot in the process table until its parent waits for it or exits."))
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
                       "program that creates it first)" if f.errno == "ENOENT" else "") + "."))
    return out


# ------------------------------------------------------------------ all

def audit(obs: Observation) -> list[Finding]:
    hangs = pipe_hangs(obs)
    hung = {w.pid for w in obs.pipe_waits} | {p.pid for w in obs.pipe_waits for p in w.other_end}
    hung = hung if hangs else set()
    findings = (sysv_leaks(obs) + posix_leaks(obs) + no_shmdt(obs) + pipe_ends(obs) + hangs + busy_waits(obs)
                + zombies(obs, hung) + ignored_errors(obs))
    order = {k: i for i, k in enumerate(KINDS)}
    return sorted(findings, key=lambda f: order[f.kind])
