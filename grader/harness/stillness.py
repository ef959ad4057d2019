"""A fast proof that a process is blocked: it did not run at all during a short window.

Why it is a proof: the kernel counts, per thread, the CPU time a task used
(/proc/PID/task/TID/schedstat, first field, in ns) and how often it was switched
out (voluntary plus involuntary context switches in .../status). If neither
moved over the window, no thread ran for a single instant: it made no system
call (under strace every syscall stop is a context switch too), did not wake up
and spun on nothing. If, in addition, it sat asleep (state S) in a wait with no
timeout both before and after, it was blocked in that wait the whole time.

What fails it: a spinner uses CPU time; a traced poller switches at every call;
a 10 ms sleep-poller switches ~10 times in 100 ms; a timed wait (nanosleep,
poll/select/epoll with a timeout, sem_timedwait, ...) is never accepted as the
wait, since it returns by itself. Anything unreadable, a thread born or ended
in the window, or a process stopped for its tracer gives no proof either: the
caller then falls back to the full measurement (`waits.measure`), which
decides the verdict and words the feedback.

`read_counters` and `unchanged` are the harness's one reader of these counters
and its one "did not run between two reads" test: the hang proofs (deadlock,
semtrace, sockets) and the full measurement's rates (waits) use them too.

What the window cannot see: a wake-up that comes less often than once per
window (100 ms) yet more often than the full measurement's limit (5 a second).
Only the process itself can keep such a rhythm without a grader's help: an
alarm or interval timer whose SIGALRM it handles, a POSIX timer, a timer file
it waits on, or another of its threads that sleeps with a timeout. When one of
these is there (`self_waker`), the window proves nothing and the full
measurement decides; otherwise a proof and a measurement agree on every program.
"""
from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass

from . import procfs

WINDOW = 0.1     # seconds between the two looks

# System calls that return by themselves after a while: never a proof of blocking.
ALWAYS_TIMED = {"nanosleep", "clock_nanosleep"}
# System calls whose timeout is an argument: (index, kind). "ms": an int, negative means none;
# "ptr": a pointer to a timespec/timeval, NULL means none.
TIMEOUT_ARG = {"poll": (2, "ms"), "epoll_wait": (3, "ms"), "epoll_pwait": (3, "ms"), "epoll_pwait2": (3, "ptr"),
               "ppoll": (2, "ptr"), "select": (4, "ptr"), "pselect6": (4, "ptr"), "futex": (3, "ptr"),
               "futex_waitv": (3, "ptr"), "semtimedop": (3, "ptr"), "mq_timedreceive": (4, "ptr"),
               "mq_timedsend": (4, "ptr"), "rt_sigtimedwait": (2, "ptr"), "recvmmsg": (4, "ptr")}
# Kernel wait points of timed sleeps (Linux 6.x), in case the system call is not known.
TIMED_WCHANS = {"hrtimer_nanosleep", "do_nanosleep", "schedule_hrtimeout_range", "schedule_timeout"}


def is_timed(name: str, args: list[int]) -> bool | None:
    """Does system call `name` with these raw arguments return on its own after a timeout?
    None when the call is unknown (a number only), so nothing can be said."""
    if name in ALWAYS_TIMED:
        return True
    if name in TIMEOUT_ARG:
        index, kind = TIMEOUT_ARG[name]
        value = args[index]
        if kind == "ms":
            value &= 0xFFFFFFFF                  # an int in a 64-bit register
            return value < 0x80000000            # 0 or more milliseconds (negative: wait forever)
        return value != 0
    return None if name.startswith("syscall ") else False


@dataclass(frozen=True)
class Counters:
    """What the kernel counted for a process so far, summed over its threads.

    `cpu` is the finest figure there is, for telling "did not run at all" (`unchanged`);
    `cpu_seconds` is /proc/PID/stat's, which keeps the time of threads that have ended,
    for a CPU rate over a longer window (`waits.measure`)."""
    threads: frozenset[str]
    cpu: int             # ns from schedstat, or clock ticks from stat (see `source`)
    source: str          # "schedstat" or "stat": figures are comparable only from the same source
    switches: int        # voluntary + involuntary context switches
    cpu_seconds: float   # utime + stime of the whole process, ended threads included


@dataclass(frozen=True)
class Look:
    """One look at where a process waits."""
    state: str
    wchan: str
    syscall: str         # the call it sleeps in ('' if none or unreadable)
    timed: bool | None   # that call has a timeout (None: unknown)


def read_counters(pid: int) -> Counters | None:
    """CPU time and context switches of every thread of `pid`; None if any of it is unreadable."""
    base = f"{procfs.PROC}/{pid}/task"
    try:
        tids = frozenset(os.listdir(base))
    except OSError:
        return None
    cpu_ns: int | None = 0
    switches = 0
    for tid in tids:
        status = _read(f"{base}/{tid}/status")
        if status is None:
            return None                      # a thread ended meanwhile, or unreadable: no figure
        fields = procfs.parse_status(status)
        try:
            switches += int(fields["voluntary_ctxt_switches"]) + int(fields["nonvoluntary_ctxt_switches"])
        except (KeyError, ValueError):
            return None
        sched = _read(f"{base}/{tid}/schedstat")
        # "0 0 0" is what a kernel without schedstats says: no figure, use stat's ticks instead.
        if cpu_ns is not None and sched and sched.split() != ["0", "0", "0"]:
            cpu_ns += int(sched.split()[0])
        else:
            cpu_ns = None
    st = procfs.read_stat(pid)
    if st is None:
        return None
    if cpu_ns is not None:
        return Counters(tids, cpu_ns, "schedstat", switches, st.cpu_seconds)
    return Counters(tids, st.utime + st.stime, "stat", switches, st.cpu_seconds)


def unchanged(before: Counters | None, after: Counters | None) -> bool:
    """Between the two reads, the same threads used no CPU time and made no context switch: not one
    of them ran for an instant. An unreadable read (None) never counts as unchanged."""
    if before is None or after is None:
        return False
    return ((before.threads, before.source, before.cpu, before.switches)
            == (after.threads, after.source, after.cpu, after.switches))


def _read(path: str) -> str | None:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def look(pid: int | str) -> Look | None:
    """State, wchan and current system call of `pid` (None when its stat is unreadable); `pid` may
    also be "PID/task/TID", one thread's folder under /proc."""
    st = procfs.read_stat(pid)
    if st is None:
        return None
    wchan = procfs.read_wchan(pid)
    call = procfs.read_syscall_args(pid)
    if call is None:
        return Look(st.state, wchan, "", None)
    name, args = call
    timed = True if wchan in TIMED_WCHANS else is_timed(name, args)
    return Look(st.state, wchan, name, timed)


def self_waker(pid: int) -> str:
    """What inside the process could wake it up on its own, in words; '' when nothing can.

    Read once a window has passed with the process not running: it set nothing up during the
    window, so what is there now was there all along. The virtual and profiling timers count
    only while a process runs, so they cannot wake a sleeper; an ignored or default SIGALRM
    does not wake it either (it is dropped, or it ends the process)."""
    status = procfs.read_status(pid) or {}
    if signal.SIGALRM in procfs.signal_mask(status.get("SigCgt", "0")):
        return "it handles SIGALRM, so an alarm or an interval timer can wake it"
    if procfs.read_posix_timers(pid):
        return "it has a POSIX timer (timer_create), which can wake it"
    # (An unreadable fd table lists nothing; then its wait is unreadable too, and no proof holds anyway.)
    for f in procfs.read_fds(pid):
        if f.target == "anon_inode:[timerfd]":
            return f"it holds a timer file descriptor (fd {f.fd}, timerfd_create), which can wake it"
    try:
        tids = sorted(t for t in os.listdir(f"{procfs.PROC}/{pid}/task") if t != str(pid))
    except OSError:
        tids = []
    for tid in tids:
        lk = look(f"{pid}/task/{tid}")
        if lk is None or (lk.state == "S" and lk.timed is False):
            continue      # gone, or asleep in a wait that only an event ends
        if lk.state != "S":
            how = "is not asleep"
        elif lk.timed:
            how = f"sleeps in {lk.syscall} with a timeout"
        else:
            how = f"sleeps in {lk.syscall or 'a system call that cannot be read'}, which may end by itself"
        return f"another of its threads (tid {tid}) {how}, so it can wake the process"
    return ""


def proven_still(before: Counters | None, looks: list[Look | None], after: Counters | None,
                 expected: Callable[[Look], bool]) -> bool:
    """The decision: asleep (S) in an expected, untimed wait at every look, and between the
    counters read before and after, the same threads used no CPU time and made no switch."""
    if not looks or not unchanged(before, after):
        return False
    return all(lk is not None and lk.state == "S" and lk.timed is False and expected(lk) for lk in looks)


def watch(pid: int, expected: Callable[[Look], bool], window: float = WINDOW) -> tuple[bool, list[Look], float]:
    """Read the counters, look, wait `window`, look, read the counters again.
    Returns (proven, the looks that could be read, the wall time it took)."""
    t0 = time.monotonic()
    before = read_counters(pid)
    looks = [look(pid)]
    time.sleep(window)
    looks.append(look(pid))
    after = read_counters(pid)
    return proven_still(before, looks, after, expected), [lk for lk in looks if lk], time.monotonic() - t0
