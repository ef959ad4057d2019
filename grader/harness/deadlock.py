"""Proving a hang early: every process of a wait asleep where nothing left can wake it.

A wait for a run (to end, or to print a line) used to be waited out to its wall-clock
limit. It can stop as soon as the outcome is certain: every process that could
act (the runs' process trees and every process of the student's uid) sleeps in a
system call with no timeout, and whatever could end each sleep belongs to another
such sleeper, or to the grader, which does nothing during the wait. Then nothing
can ever happen again, and waiting longer only costs time.

The evidence comes from /proc, sampled twice (SAMPLE_GAP apart): each thread in
state S both times, in the same call with the same arguments, with no CPU time
and no context switch in between (a process that woke and went back to sleep
has switched). What the call waits for, by its number and arguments
(/proc/PID/syscall):

- a timed wait (nanosleep, poll/select/epoll/futex/semtimedop/mq_timed* with a
  timeout, a process with a timer: alarm, setitimer, timer_settime or
  timerfd_settime in the trace) is never a proven hang;
- read of a pipe: its write ends are held only by sleepers (or by the grader,
  which sends nothing while it waits); write to a pipe: its read ends are held
  only by sleepers (never the grader, whose output readers keep reading);
- read/accept on a Unix socket: the peer (sock_diag) is held by sleepers or the
  passive grader; a write to a socket: the peer is held by sleepers only;
- msgrcv, msgsnd, semop, futex waits without timeout, wait4/waitid, pause and
  sigsuspend: nothing is left to send, receive, post, exit or signal.

Anything else (an unknown call, a process running, stopped by the tracer, in
disk wait, or a zombie not yet reaped) means "not proven": the wall-clock limit
stays the backstop. `decide` is pure (unit-tested on fake snapshots);
`HangWatch` samples the live processes for it during a wait.
"""
from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from . import procaccess, procfs, stillness

# Calls added to every traced run (context.start), so that a timer a program set is seen.
TIMER_TRACE = "alarm,setitimer,timer_settime,timerfd_settime"
# Between the two samples of one proof. Long enough for a process that is about to be woken
# (a signal or a byte on its way) to have left its sleep; short next to the wall-clock limits.
SAMPLE_GAP = 0.075
# How often a wait looks for a proof (the cheap first sample; the second only when it passes).
CHECK_EVERY = 0.1

# x86-64 numbers (/proc/PID/syscall is numeric): name, and which argument holds the fd.
_FD_READS = {0: "read", 19: "readv", 45: "recvfrom", 47: "recvmsg"}
_FD_WRITES = {1: "write", 20: "writev", 44: "sendto", 46: "sendmsg"}
_ACCEPTS = {43: "accept", 288: "accept4"}
# Whether a call has a timeout is stillness's to say (one table for both proofs).
# Untimed waits of these calls are proven like the others (unless the grader may act).
_UNTIMED_OTHERS = {"semtimedop", "mq_timedreceive", "mq_timedsend", "rt_sigtimedwait", "futex_waitv"}
_FUTEX = 202
_FUTEX_WAITS = {0: "FUTEX_WAIT", 6: "FUTEX_LOCK_PI", 9: "FUTEX_WAIT_BITSET", 11: "FUTEX_WAIT_REQUEUE_PI",
                13: "FUTEX_LOCK_PI2"}
_SYSV = {69: "msgsnd", 70: "msgrcv", 65: "semop"}
_CHILD_WAITS = {61: "wait4", 247: "waitid"}
_SIGNAL_WAITS = {34: "pause", 130: "rt_sigsuspend"}
_POLLS = {"poll", "epoll_wait", "epoll_pwait", "epoll_pwait2", "select", "pselect6", "ppoll"}


# ---------------------------------------------------------------- snapshots (what decide reads)

@dataclass(frozen=True)
class Thread:
    tid: int
    state: str                              # /proc/PID/task/TID/stat field 3
    call: tuple[int, ...] | None = None     # (number, arg1..arg6) while in a system call, else None


@dataclass
class Proc:
    """One process at one moment."""
    pid: int
    ppid: int
    label: str
    threads: tuple[Thread, ...]
    counters: stillness.Counters | None     # CPU time and context switches, all threads (None: unreadable)
    fds: dict[int, str] = field(default_factory=dict)          # fd -> link target ("pipe:[12]")
    access: dict[int, str] = field(default_factory=dict)       # fd -> "read"/"write" for pipe ends
    wchan: str = ""
    catches_sigchld: bool = False           # SigCgt has SIGCHLD: a child's exit runs its handler

    @property
    def zombie(self) -> bool:
        return all(t.state in ("Z", "X") for t in self.threads) if self.threads else True


@dataclass
class Scene:
    """Every process of a wait, the grader's own pipe and socket ends, and socket peers."""
    procs: dict[int, Proc]
    grader_fds: dict[int, str] = field(default_factory=dict)
    grader_access: dict[int, str] = field(default_factory=dict)
    socket_peers: dict[int, int | None] = field(default_factory=dict)    # socket inode -> peer inode


@dataclass
class Proof:
    """Why nothing can happen any more: one line per sleeping process (or per process a check-specific
    proof names, with `what` saying in a few words what was proven)."""
    lines: list[str]
    what: str = "every process is asleep in a wait that nothing left can end"

    def describe(self) -> str:
        return "\n".join(self.lines)


# ---------------------------------------------------------------- the decision (pure)

def _int_arg(value: int) -> int:
    """A C int passed in a 64-bit register (poll's timeout -1 shows as 0xffffffff...)."""
    value &= 0xffffffff
    return value - (1 << 32) if value & 0x80000000 else value


def _inode(target: str, kind: str) -> int | None:
    prefix = f"{kind}:["
    if target.startswith(prefix) and target.endswith("]"):
        try:
            return int(target[len(prefix):-1])
        except ValueError:
            return None
    return None


def _holders(scene: Scene, kind: str, inode: int, access: str | None) -> tuple[list[str], bool]:
    """Who among the sleepers holds this pipe end / socket (as text), and whether the grader does."""
    found = []
    for p in scene.procs.values():
        for fd, target in p.fds.items():
            if _inode(target, kind) == inode and (access is None or p.access.get(fd) in (access, "read/write")):
                found.append(f"{p.label} fd {fd}")
    grader = any(_inode(t, kind) == inode and (access is None or scene.grader_access.get(fd) in (access, "read/write"))
                 for fd, t in scene.grader_fds.items())
    return found, grader


def _fd_wait(scene: Scene, p: Proc, call: str, fd: int, writing: bool, grader_acts: bool) -> tuple[str | None, str]:
    """(why nothing can end this read/write/accept, '') or (None, why it might end)."""
    target = p.fds.get(fd, "")
    pipe, sock = _inode(target, "pipe"), _inode(target, "socket")
    if pipe is not None:
        other = "read" if writing else "write"
        holders, grader = _holders(scene, "pipe", pipe, other)
        if grader and (writing or grader_acts):
            return None, f"the grader holds the {other} end of pipe {pipe} and may use it"
        if not holders and not grader:
            return None, f"no known process holds the {other} end of pipe {pipe}"
        who = ", ".join(holders + (["the grader, which sends nothing while it waits"] if grader else []))
        return (f"{call}(fd {fd}) on pipe {pipe}, whose {other} ends are held only by sleeping processes: {who}"), ""
    if sock is not None:
        if call.startswith("accept"):
            if grader_acts:
                return None, "the grader may connect while it waits"
            return f"{call}(fd {fd}) on listening socket {sock}: no client is left to connect", ""
        peer = scene.socket_peers.get(sock)
        if peer is None:
            return None, f"socket {sock} has no known peer"
        holders, grader = _holders(scene, "socket", peer, None)
        if grader and (writing or grader_acts):
            return None, f"the grader holds socket {peer}, the peer of socket {sock}"
        if not holders and not grader:
            return None, f"no known process holds socket {peer}, the peer of socket {sock}"
        who = ", ".join(holders + (["the grader, which sends nothing while it waits"] if grader else []))
        return f"{call}(fd {fd}) on socket {sock}, connected to socket {peer} held only by: {who}", ""
    return None, f"{call}(fd {fd}) on {target or 'an unknown file'}, which the grader cannot see the other side of"


def _waits_for(scene: Scene, p: Proc, t: Thread, grader_acts: bool, timers: bool) -> tuple[str | None, str]:
    """(what thread t sleeps in and why nothing ends it, '') or (None, why that is not certain)."""
    nr, args = t.call[0], t.call[1:]
    name = procfs.SYSCALL_NAMES_X86_64.get(nr, f"syscall {nr}")
    if name in stillness.ALWAYS_TIMED:
        return None, f"{name}() is a timed sleep"
    if nr != _FUTEX and stillness.is_timed(name, list(args)):
        return None, f"{name}() has a timeout"
    if nr == _FUTEX:
        op = args[1] & 0x7f
        if op not in _FUTEX_WAITS:
            return None, f"futex op {op} is not a wait"
        if args[3] != 0:
            return None, f"futex({_FUTEX_WAITS[op]}) has a timeout"
        return f"futex({_FUTEX_WAITS[op]}) with no timeout (a semaphore or lock no sleeper will release)", ""
    if name in _POLLS:
        return None, f"{name}() without a timeout on fds the grader does not follow"
    if nr in _FD_READS or nr in _FD_WRITES or nr in _ACCEPTS:
        name = _FD_READS.get(nr) or _FD_WRITES.get(nr) or _ACCEPTS[nr]
        return _fd_wait(scene, p, name, args[0], nr in _FD_WRITES, grader_acts)
    if nr in _SYSV:
        if grader_acts:
            return None, f"the grader may use the IPC object of {_SYSV[nr]}() while it waits"
        what = {69: "send on a full queue: no receiver is left", 70: "receive: no sender is left",
                65: "operation on a semaphore set: no one is left to change it"}[nr]
        return f"{_SYSV[nr]}(id {args[0]}) waiting to {what}", ""
    if nr in _CHILD_WAITS:
        return f"{_CHILD_WAITS[nr]}() for children that are themselves stuck", ""
    if nr in _SIGNAL_WAITS:
        if grader_acts:
            return None, "the grader may send a signal while it waits"
        if timers:
            return None, "a timer was set (alarm/setitimer): its signal may still come"
        return f"{_SIGNAL_WAITS[nr]}() for a signal no one is left to send", ""
    if name in _UNTIMED_OTHERS:
        if grader_acts:
            return None, f"the grader may act on what {name}() waits for"
        return f"{name}() with no timeout", ""
    return None, f"system call {nr} is not a wait the grader knows"


def _ignores_exit_of(parent: Proc, child: int) -> bool:
    """The parent cannot be woken by this child's exit: it has no SIGCHLD handler and every thread of
    it waits for another, specific child (strace may tell it of the exit later, so this matters)."""
    if parent.catches_sigchld:
        return False
    for t in parent.threads:
        if t.call is None or t.call[0] not in _CHILD_WAITS:
            continue
        nr, a = t.call[0], t.call[1:]
        target = _int_arg(a[0]) if nr == 61 else (a[1] if a[0] == 1 else -1)    # waitid: P_PID is 1
        if target <= 0 or target == child:
            return False
    return True


def decide(before: Scene, after: Scene, *, grader_acts: bool = False, timers: bool = False) -> tuple[Proof | None, str]:
    """(a Proof, '') if nothing in `after` can ever wake again, else (None, the first reason why not).

    `grader_acts`: the grader may write, connect, send or signal during this wait (then a
    wait on something it holds is never proven). `timers`: some process set a timer.
    """
    if not after.procs:
        return None, "no process is left"
    if set(before.procs) != set(after.procs):
        return None, "processes came or went between the samples"
    if timers:
        # A timer's signal can end any wait (its default action ends the process).
        return None, "a timer was set (alarm, setitimer, timer_settime or timerfd_settime)"
    lines = []
    for pid, p in sorted(after.procs.items()):
        q = before.procs[pid]
        if p.zombie:
            parent = after.procs.get(p.ppid)
            if parent is not None and not _ignores_exit_of(parent, pid):
                return None, f"{p.label} has exited and its parent may not have been told yet"
            continue
        if not stillness.unchanged(q.counters, p.counters):
            if q.counters is None or p.counters is None:
                return None, f"{p.label}: its CPU time and context switches could not be read"
            return None, f"{p.label} ran between the samples"
        threads = {t.tid: t for t in q.threads}
        for t in p.threads:
            if t.state in ("Z", "X"):
                continue
            if t.state != "S" or threads.get(t.tid) != t:
                return None, f"{p.label} is not asleep in the same call in both samples (state {t.state})"
            if t.call is None:
                return None, f"{p.label} sleeps outside a system call"
            why, doubt = _waits_for(after, p, t, grader_acts, timers)
            if why is None:
                return None, f"{p.label}: {doubt}"
            lines.append(f"{p.label}{'' if t.tid == pid else f' (thread {t.tid})'}: asleep in {why}"
                         + (f" [wchan {p.wchan}]" if p.wchan else ""))
    if not lines:
        return None, "no process is asleep"
    return Proof(lines), ""


# ---------------------------------------------------------------- reading the live processes

def _parse_call(text: str | None) -> tuple[int, ...] | None:
    parts = text.split() if text else []
    if len(parts) < 7 or not parts[0].isdigit():
        return None                         # "running", "-1 sp pc" (not in a call), or unreadable
    try:
        return (int(parts[0]), *(int(a, 16) for a in parts[1:7]))
    except ValueError:
        return None


def _read(path: str) -> str | None:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def timed_futex(pid: int) -> bool:
    """The process sleeps in a futex wait that has a timeout (sem_timedwait, a timed lock)."""
    try:
        call = _parse_call(procaccess.read_text(f"{procfs.PROC}/{pid}/syscall"))
    except (OSError, ValueError, procaccess.Unreadable):
        return False
    return call is not None and call[0] == _FUTEX and call[4] != 0


def read_proc(pid: int, label: str) -> Proc | None:
    """One process as `decide` sees it; None once it has gone."""
    base = f"{procfs.PROC}/{pid}"
    st = procfs.read_stat(pid)
    if st is None:
        return None
    try:
        tids = sorted(int(t) for t in os.listdir(f"{base}/task"))
    except OSError:
        return None
    threads = []
    for tid in tids:
        text = _read(f"{base}/task/{tid}/stat")
        try:
            state = procfs.parse_stat(text).state if text else "X"
        except (ValueError, IndexError):
            state = "X"
        call = None
        if state not in ("Z", "X"):
            try:
                call = _parse_call(procaccess.read_text(f"{base}/task/{tid}/syscall"))
            except (OSError, ValueError):
                call = None
        threads.append(Thread(tid, state, call))
    fds, access = {}, {}
    if st.state not in ("Z", "X"):
        for f in procfs.read_fds(pid):
            fds[f.fd] = f.target
            if f.target.startswith("pipe:["):
                access[f.fd] = f.access
    caught = procfs.signal_mask((procfs.read_status(pid) or {}).get("SigCgt", "0"))
    return Proc(pid=pid, ppid=st.ppid, label=label, threads=tuple(threads),
                counters=stillness.read_counters(pid), fds=fds, access=access,
                wchan=procfs.read_wchan(pid) if st.state == "S" else "", catches_sigchld=signal.SIGCHLD in caught)


def _first_look(pids: list[int]) -> bool:
    """Cheap pre-check: every process in state S (or a zombie) right now."""
    for pid in pids:
        st = procfs.read_stat(pid)
        if st is not None and st.state not in ("S", "Z", "X"):
            return False
    return True


class HangWatch:
    """Watches the processes of one wait; `proven()` returns a Proof once nothing can happen any more.

    `runs`: every Run that may act (the ones waited for and any other live run of the
    check); `uid`: the student's uid (all its processes take part), None where it is
    not distinct (local runner). `grader_acts`: the grader may act during the wait.
    """

    def __init__(self, runs, uid: int | None = None, *, grader_acts: bool = False,
                 ends: Callable[[], Proof | None] | None = None):
        self.runs = [r for r in runs if r is not None]
        self.uid = uid
        self.grader_acts = grader_acts
        self.ends = ends            # a check's own proof that the run can never end (None: none yet)
        self._next = 0.0
        # The first look at the kernel's state comes one CHECK_EVERY after the watch is set, never at
        # once: a program just started is often asleep for a moment before it acts (a receiver about to
        # create its queue), and a proof tried then costs its SAMPLE_GAP for nothing.
        self._first_sample = time.monotonic() + CHECK_EVERY
        self.doubt = ""

    def _pids(self) -> dict[int, str]:
        labels: dict[int, str] = {}
        spared = {os.getpid(), *procaccess.agent_pids()}
        for r in self.runs:
            if r.alive() or r.proc.poll() is None:
                for pid in r.tree():
                    labels.setdefault(pid, f"{r.label} (pid {pid})" if pid == r.pid else "")
                if r.proc.poll() is None:
                    for pid in r.traced_pids():
                        labels.setdefault(pid, "")
        if self.uid is not None:
            for pid in procfs.pids_of_uid(self.uid):
                labels.setdefault(pid, "")
        for pid in spared:
            labels.pop(pid, None)
        for pid, label in labels.items():
            if not label:
                st = procfs.read_stat(pid)
                labels[pid] = f"pid {pid} ({st.comm if st else '?'})"
        return labels

    def _timers(self) -> bool:
        """A live run set a timer (or cannot be seen to have: it is not traced)."""
        for r in self.runs:
            if r.proc.poll() is not None:
                continue
            if r.trace_path is None:
                return True
            for c in r.trace.calls():
                if c.name in ("setitimer", "timer_settime", "timerfd_settime"):
                    return True
                if c.name == "alarm" and c.arg(0) not in ("0", ""):
                    return True
        return False

    def _scene(self, labels: dict[int, str]) -> Scene:
        procs = {pid: p for pid, p in ((pid, read_proc(pid, label)) for pid, label in labels.items()) if p}
        grader = {f.fd: f for f in procfs.read_fds(os.getpid())}
        peers = {}
        if any(t.startswith("socket:[") for p in procs.values() for t in p.fds.values()):
            from .sockets import peers as socket_peers  # sockets imports waits, which imports this
            peers = {inode: ep.peer for inode, ep in socket_peers().items()}
        return Scene(procs=procs, grader_fds={fd: f.target for fd, f in grader.items()},
                     grader_access={fd: f.access for fd, f in grader.items()}, socket_peers=peers)

    def proven(self, gap: float = SAMPLE_GAP) -> Proof | None:
        """A Proof if nothing can happen any more; None otherwise (rate-limited to every CHECK_EVERY s)."""
        now = time.monotonic()
        if now < self._next:
            return None
        self._next = now + CHECK_EVERY
        own = self.ends() if self.ends else None
        if own is not None:
            return own
        if now < self._first_sample:
            return None
        try:
            labels = self._pids()
            if not labels or not _first_look(list(labels)):
                self.doubt = "a process is running"
                return None
            before = self._scene(labels)
            if decide(before, before, grader_acts=self.grader_acts)[0] is None:
                self.doubt = decide(before, before, grader_acts=self.grader_acts)[1]
                return None
            time.sleep(gap)
            after = self._scene(self._pids())
            proof, self.doubt = decide(before, after, grader_acts=self.grader_acts, timers=self._timers())
            return proof
        except procaccess.Unreadable as e:
            self.doubt = f"kernel state not readable here: {e}"
            return None
