"""Waiting: is a process blocked in the kernel or busy waiting, did a run end, and polling.

Is a process blocked in the kernel, or busy waiting? Measured, not guessed.

First a fast proof (`stillness`, ~0.1 s): asleep in an expected wait with no
timeout at two looks, and not one instant of CPU time nor one context switch
in between. It settles a correct program at once. When it does not hold, the
full measurement below runs and alone decides the verdict, with the figures
the feedback shows: a busy or polling program gets the same verdict and
message as without the fast proof.

The full measurement uses evidence that holds on a loaded machine: CPU time against wall
time, and how often the process woke up (voluntary plus involuntary context
switches, summed over its threads). A process blocked in msgrcv/read/accept
uses ~0 CPU and wakes ~0 times; a spinning loop uses the CPU (or, traced, wakes
thousands of times a second for the tracer); a loop with short sleeps wakes
hundreds of times a second. The state, wchan and current system call are
sampled as evidence, and `blocked_in` also says whether the process sat in the
wait you expected (say msgrcv, wchan `do_msgrcv`).

    measure(pid, seconds, wchans=, syscalls=)  -> BlockingSample (figures + .blocked verdict)
    blocked_in(pid, seconds, wchans=, syscalls=) -> BlockedIn (the sample + whether the wait matched)
    cpu_to_wall(pid, seconds)                  -> float (CPU seconds per wall second)

All of them only read /proc: they never wake or slow the process they watch.

Did a run end? `wait_tree(run, timeout)` waits for a program and everything it
started; `finish_tree` turns a run that never ends into a Fail proving the hang
(where each process sleeps, who holds which pipe end). And `until(condition,
timeout)` is the one polling loop with a deadline: checks never write their own.
"""
from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

from . import alarms, deadlock, procfs, stillness
from .api import Fail
from .deadline import Deadline
from .evidence import stderr
from .together import side_by_side
from .tracerstops import LiveStops

T = TypeVar("T")

# Calibrated on the mq-mailbox references (C and Python, traced by strace), 2 x 3 runs
# each, idle and with both cores busy with two CPU burners (tests/integration/
# test_mq_mailbox.py checks the verdicts do not move):
#   references blocked in msgrcv / msgsnd:  CPU ratio 0.00, 0 wakeups/s, wchan do_msgrcv / do_msgsnd
#   recv spinning on IPC_NOWAIT (C):         ratio 0.19-0.31 idle, 0.11-0.22 loaded; 21,000-201,000 wakeups/s
#   send retrying IPC_NOWAIT (Python):       ratio 0.21-0.33; 20,000-172,000 wakeups/s
#   recv polling with 10 ms naps (Python):   ratio 0.00-0.01; 235-295 wakeups/s
# Those wakeups were raw context switches; under strace each stop is one, so they are now
# counted without the tracer's stops (tracerstops), and a traced spinner, whose CPU goes
# partly to strace (its ratio drops under load, below 0.10 on a loaded CI run), is
# caught by where it is seen instead: asleep (S or D) in fewer than MIN_ASLEEP_SHARE of the
# samples, since it is running or stopped for the tracer at its next call. A blocked
# process, the references' and a timer-woken one's alike, is asleep in every sample.
# Untraced, a spinner shows a ratio near 1. Every limit sits far from the references.
MAX_CPU_RATIO = 0.10
MAX_WAKEUPS_PER_SECOND = 5.0
# Share of samples that must show the expected wait (wchan or system call).
MIN_MATCH_SHARE = 0.5
# Share of samples in which a blocked process must be seen asleep.
MIN_ASLEEP_SHARE = 0.5
# How long a process seen in the expected call but not asleep (stopped for the tracer)
# gets to fall asleep before the measurement starts anyway.
STOP_GRACE = 0.2
# CPU time a process may use while the grader waits for it to reach the expected wait. The references
# use a few milliseconds (an interpreter's start-up a few tens); past this it is spinning, and waiting
# out the rest of the settle time would only burn the CPU other gradings need (a busy machine).
SETTLE_CPU_SECONDS = 1.0
# Separate timed sleeps (a sleep, or a poll/select with a timeout, woken in between) after which a
# process that has not shown the expected wait is known to poll: start-up never sleeps on a timer, so
# it is past it, and waiting out the rest of the settle time would not change what is then measured.
POLLING_SLEEPS = 10


# What a process may do while the grader waits for it to fall asleep in a wait it is next to (a server
# that has printed `listening`, or has just answered a line). Measured on the uds-echo references (C and
# Python, traced, three waits each): at most 0.03 ms of CPU and 1 context switch before they sleep.
# A spinner passes one of these limits in a fraction of a second however busy
# the machine is (traced, each of its system calls is a context switch; untraced, it uses the CPU),
# so the wait ends on what the process did, not on a wall-clock time a slow machine could stretch.
NEAR_WAIT_CPU_SECONDS = 0.1
NEAR_WAIT_SWITCHES = 500


@dataclass
class Effort:
    """What a process has done since `start()`: CPU time and context switches (summed over its threads).
    `spent()` says, in words, once it has done more than `cpu` seconds or `switches` switches."""
    pid: int
    cpu: float = NEAR_WAIT_CPU_SECONDS
    switches: int = NEAR_WAIT_SWITCHES
    first: stillness.Counters | None = None

    def __post_init__(self) -> None:
        self.first = stillness.read_counters(self.pid)

    def spent(self) -> str | None:
        now = stillness.read_counters(self.pid)
        if self.first is None or now is None:
            self.first = self.first or now
            return None
        cpu, switches = now.cpu_seconds - self.first.cpu_seconds, now.switches - self.first.switches
        if cpu > self.cpu or switches > self.switches:
            return (f"it kept running instead: {cpu:.2f} s of CPU time and {switches} context switches "
                    f"(limits {self.cpu:g} s and {self.switches}; a correct program is asleep long before)")
        return None


@dataclass
class BlockingSample:
    pid: int
    wall: float
    cpu: float
    wakeups: int
    states: dict[str, int] = field(default_factory=dict)
    wchans: dict[str, int] = field(default_factory=dict)
    exited: bool = False
    syscalls: dict[str, int] = field(default_factory=dict)   # current system call, per sample
    samples: int = 0
    unread: int = 0                # samples whose /proc read failed while the process was still there
    fast: bool = False             # proven by the fast proof (stillness), not measured at length
    max_cpu_ratio: float = MAX_CPU_RATIO
    max_wakeups_per_second: float = MAX_WAKEUPS_PER_SECOND
    cut_short: float = 0.0         # the planned length, when the measurement stopped early (see _sample)
    self_waker: str = ""           # why a quiet tenth of a second proved nothing (see stillness.self_waker)
    alarm_period: float | None = None   # seconds between the SIGALRMs it asked for and takes (see alarms)
    switches: int = 0              # context switches in all: the wake-ups plus the tracer's stops
    tracer_stops: int = 0

    @property
    def cpu_ratio(self) -> float:
        return self.cpu / self.wall if self.wall > 0 else 0.0

    @property
    def wakeups_per_second(self) -> float:
        return self.wakeups / self.wall if self.wall > 0 else 0.0

    @property
    def blocked(self) -> bool:
        return not self.problems()

    @property
    def ok(self) -> bool:
        """The verdict under the name BlockedIn gives it too (see `require_blocked`)."""
        return self.blocked

    def figures(self) -> str:
        """The figures in one line, for a failure's observed."""
        return (f"CPU ratio {self.cpu_ratio:.2f}, {self.wakeups_per_second:.0f} wakeups/s, "
                f"mostly in {self.main_syscall() or self.main_wchan() or 'user space'}")

    def problems(self) -> list[str]:
        """Why the process does not count as blocked (empty when it does)."""
        out = []
        if self.exited:
            out.append("it exited while it should have been waiting")
        elif self.unread and not self.samples:
            out.append(f"none of its {self.unread} samples could be read from /proc, so nothing shows it waited")
        if self.cpu_ratio > self.max_cpu_ratio:
            out.append(f"it used {self.cpu:.2f} s of CPU in {self.wall:.2f} s "
                       f"(ratio {self.cpu_ratio:.2f}, a blocked process stays below {self.max_cpu_ratio:.2f})")
        if self.wakeups_per_second > self.max_wakeups_per_second:
            out.append(f"it woke up {self.wakeups} times in {self.wall:.2f} s ({self.wakeups_per_second:.0f}/s, "
                       f"a blocked process stays below {self.max_wakeups_per_second:.0f}/s)")
        elif self.alarm_period and 1 / self.alarm_period > self.max_wakeups_per_second:
            out.append(f"it handles SIGALRM and armed an interval timer that fires every "
                       f"{self.alarm_period * 1000:.0f} ms: {1 / self.alarm_period:.1f} wake-ups a second, "
                       f"whatever else it does (a blocked process stays below {self.max_wakeups_per_second:.0f}/s)")
        asleep = self.states.get("S", 0) + self.states.get("D", 0)
        if self.samples and not self.exited and asleep < MIN_ASLEEP_SHARE * self.samples:
            out.append(f"it was asleep in only {asleep} of {self.samples} samples: the rest of the time it was "
                       "running, or stopped by the grader's tracer at one of the system calls it kept making "
                       "(a blocked process is asleep in every sample)")
        return out

    def main_wchan(self) -> str:
        return max(self.wchans, key=self.wchans.get) if self.wchans else ""

    def main_syscall(self) -> str:
        return max(self.syscalls, key=self.syscalls.get) if self.syscalls else ""

    def describe(self) -> str:
        states = ", ".join(f"{procfs.STATE_NAMES.get(k, k)} {v}x" for k, v in sorted(self.states.items())) or "none"
        lines = [f"over {self.wall:.2f} s of waiting: CPU time {self.cpu:.2f} s "
                 f"(ratio {self.cpu_ratio:.2f}, limit {self.max_cpu_ratio:.2f}); "
                 f"woke up {self.wakeups} times ({self.wakeups_per_second:.0f}/s, "
                 f"limit {self.max_wakeups_per_second:.0f}/s)",
                 f"states sampled: {states}",
                 f"kernel wait points (wchan) sampled: {_counts(self.wchans)}"]
        if self.syscalls:
            lines.append(f"system call it was in, sampled: {_counts(self.syscalls)}")
        if self.tracer_stops:
            lines.append(f"context switches: {self.switches}, of which {self.tracer_stops} were the grader's tracer "
                         "stopping it at a traced system call or signal (not wake-ups)")
        if self.fast:
            lines.append("proven blocked: asleep in the same wait at both ends of the window, with not one "
                         "instant of CPU time nor one context switch in between")
        if self.self_waker:
            lines.append(f"measured at length, not proven in a tenth of a second: {self.self_waker}, maybe "
                         "less often than every tenth of a second yet more often than the limit allows")
        if self.unread:
            lines.append(f"{self.unread} sample(s) could not be read although the process was still there")
        if self.exited:
            lines.append("the process exited during the measurement")
        if self.cut_short:
            lines.append(f"measured {self.wall:.2f} s instead of {self.cut_short:.2f} s: by then it had used more "
                         f"CPU time or woken up more often than the limits allow over the whole {self.cut_short:.2f} s")
        return "\n".join(lines)


@dataclass
class BlockedIn:
    """Was a process blocked, and blocked in the wait we expected?

    The verdict (`ok`) needs both: the kernel figures say it was blocked
    (CPU ratio and wakeups within limits) and most samples show the expected
    wait, by wchan or by the system call it was in (robust when a new kernel
    renames its wait points).
    """
    sample: BlockingSample
    wchans: tuple[str, ...] = ()
    syscalls: tuple[str, ...] = ()
    matched: int = 0               # samples showing an expected wchan or system call
    settled: bool = True           # the expected wait was seen before the measurement began
    settle_seconds: float = 0.0

    @property
    def blocked(self) -> bool:
        return self.sample.blocked

    @property
    def in_expected_wait(self) -> bool:
        if not (self.wchans or self.syscalls):
            return True
        return self.sample.samples > 0 and self.matched / self.sample.samples >= MIN_MATCH_SHARE

    @property
    def ok(self) -> bool:
        return self.blocked and self.in_expected_wait

    def expected_text(self) -> str:
        parts = []
        if self.syscalls:
            parts.append(" or ".join(self.syscalls))
        if self.wchans:
            parts.append("wchan " + " or ".join(self.wchans))
        return ", ".join(parts) or "any wait"

    def problems(self) -> list[str]:
        out = self.sample.problems()
        if not self.sample.exited and not self.in_expected_wait:
            seen = self.sample.main_syscall() or self.sample.main_wchan() or "user space (no system call)"
            out.append(f"it was in the expected wait ({self.expected_text()}) in only {self.matched} of "
                       f"{self.sample.samples} samples; mostly it was in {seen}")
        return out

    def describe(self) -> str:
        lines = [self.sample.describe(),
                 f"expected wait: {self.expected_text()}; seen in {self.matched} of {self.sample.samples} samples"]
        if not self.settled:
            lines.append(f"(the expected wait was never seen in the {self.settle_seconds:.1f} s before measuring)")
        return "\n".join(lines)


def _counts(d: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}x" for k, v in sorted(d.items(), key=lambda kv: -kv[1])) or "none"


def _matches(wchan: str, syscall: str, wchans: tuple[str, ...], syscalls: tuple[str, ...]) -> bool:
    return (bool(wchan) and wchan in wchans) or (bool(syscall) and syscall in syscalls)


def gone(pid: int) -> bool:
    """The process has exited: its /proc entry is gone, or it is a zombie. A failed read of an entry
    that is still there (a transient error, a permission) is not an exit."""
    if not os.path.isdir(f"{procfs.PROC}/{pid}"):
        return True
    st = procfs.read_stat(pid)
    return st is not None and st.state in ("Z", "X")


def _fast_sample(pid: int, wchans: tuple[str, ...], syscalls: tuple[str, ...]) -> tuple[BlockingSample | None, str]:
    """The fast proof (see `stillness`) as a sample, or None when it does not hold; and, when the window
    held but proves nothing because the process can wake itself up, what can (`stillness.self_waker`).
    With no expected wait named, any wait without a timeout counts (stillness never accepts a timed one)."""
    named = bool(wchans or syscalls)
    proven, looks, wall = stillness.watch(
        pid, lambda lk: not named or _matches(lk.wchan, lk.syscall, wchans, syscalls))
    if not proven:
        return None, ""
    waker = stillness.self_waker(pid)
    if waker:
        return None, waker
    sample = BlockingSample(pid=pid, wall=wall, cpu=0.0, wakeups=0, samples=len(looks), fast=True)
    for lk in looks:
        sample.states[lk.state] = sample.states.get(lk.state, 0) + 1
        if lk.wchan:
            sample.wchans[lk.wchan] = sample.wchans.get(lk.wchan, 0) + 1
        if lk.syscall:
            sample.syscalls[lk.syscall] = sample.syscalls.get(lk.syscall, 0) + 1
    return sample, ""


# A measurement with limits stops once the process has used this many times what the limits allow over
# the whole window: its verdict can no longer change (a busy-waiting program is judged in a fraction of
# the window), and twice gives room for a sampler that runs late on a loaded machine. It takes at
# least CUT_SHORT_SAMPLES looks first, so that the states, waits and system calls the evidence shows
# are still a fair picture (a traced poller is seen in its system call about half the time).
CUT_SHORT_FACTOR = 2.0
CUT_SHORT_SAMPLES = 6


def _sample(pid: int, seconds: float, interval: float, wchans: tuple[str, ...] = (),
            syscalls: tuple[str, ...] = (), with_syscalls: bool = False,
            limits: tuple[float, float] | None = None) -> tuple[BlockingSample, int]:
    """Watch one process for `seconds`; return the summary and how many samples matched. With `limits`
    (CPU ratio, wakeups per second), stop early once it is past them for good (CUT_SHORT_FACTOR)."""
    sample = BlockingSample(pid=pid, wall=0.0, cpu=0.0, wakeups=0)
    start = stillness.read_counters(pid)
    stops = LiveStops.of(pid)          # the tracer's stops are switches, not wake-ups (see tracerstops)
    t0 = time.monotonic()
    matched = 0
    if start is None and gone(pid):
        sample.exited = True
        return sample, matched
    end = start
    stopped = 0                        # tracer stops between `start` and `end`
    while True:
        st = procfs.read_stat(pid)
        if st is None or st.state in ("Z", "X"):
            if gone(pid):
                sample.exited = True
                break
            sample.unread += 1            # still there: a failed read, not an exit
            if _pause(t0, seconds, interval):
                continue
            break
        sample.samples += 1
        sample.states[st.state] = sample.states.get(st.state, 0) + 1
        w = procfs.read_wchan(pid)
        if w:
            sample.wchans[w] = sample.wchans.get(w, 0) + 1
        sc = ""
        if with_syscalls or syscalls:
            sc = _syscall_name(pid)
            if sc:
                sample.syscalls[sc] = sample.syscalls.get(sc, 0) + 1
        if _matches(w, sc, wchans, syscalls):
            matched += 1
        now = stillness.read_counters(pid)
        if now is not None:               # None: a thread ended as it was read; the next read counts
            if start is None and stops is not None:
                stops.restart()           # stops before the first counters are not in their difference
            end = now
            start = start or now
            stopped = stops.update() if stops is not None else 0
        if limits and sample.samples >= CUT_SHORT_SAMPLES and start is not None and end is not None and (
                end.cpu_seconds - start.cpu_seconds > CUT_SHORT_FACTOR * limits[0] * seconds
                or end.switches - start.switches - stopped > CUT_SHORT_FACTOR * limits[1] * seconds):
            sample.cut_short = seconds
            break
        if not _pause(t0, seconds, interval):
            break
    sample.wall = time.monotonic() - t0
    if start is not None and end is not None:
        sample.cpu = max(0.0, end.cpu_seconds - start.cpu_seconds)
        # Reading /proc never wakes the target; the tracer's stops are not wake-ups.
        sample.switches = max(0, end.switches - start.switches)
        sample.tracer_stops = min(stopped, sample.switches)
        sample.wakeups = sample.switches - sample.tracer_stops
    return sample, matched


def _pause(t0: float, seconds: float, interval: float) -> bool:
    """Sleep until the next sample; False once the measurement's `seconds` are over."""
    left = seconds - (time.monotonic() - t0)
    if left <= 0:
        return False
    time.sleep(min(interval, left))
    return True


def _in_timed_sleep(pid: int) -> bool:
    """The process sleeps in a call that ends by itself (nanosleep, or a poll/select with a timeout)."""
    call = procfs.read_syscall_args(pid)
    return call is not None and bool(stillness.is_timed(*call))


def _syscall_name(pid: int) -> str:
    """The system call the process is in ('' when running in user space or gone)."""
    text = procfs.read_current_syscall(pid)
    return "" if not text or text.startswith(("running", "(")) else text


def measure(pid: int, seconds: float = 1.0, interval: float = 0.05, *, max_cpu_ratio: float = MAX_CPU_RATIO,
            max_wakeups_per_second: float = MAX_WAKEUPS_PER_SECOND, wchans: tuple[str, ...] = (),
            syscalls: tuple[str, ...] = (), fast: bool = True) -> BlockingSample:
    """How one process waits, judged by the limits given: the fast proof if it holds (in the named
    `wchans`/`syscalls`, or in any wait without a timeout when none are named), otherwise `seconds`
    of sampling. `fast=False` always samples (when the figures themselves are wanted)."""
    sample, waker = _fast_sample(pid, tuple(wchans), tuple(syscalls)) if fast else (None, "")
    if sample is None:
        limits = (max_cpu_ratio, max_wakeups_per_second) if fast else None   # fast=False: the figures are wanted
        sample = _sample(pid, seconds, interval, with_syscalls=True, limits=limits)[0]
        sample.self_waker = waker
        sample.alarm_period = alarms.alarm_period(pid)
    sample.max_cpu_ratio, sample.max_wakeups_per_second = max_cpu_ratio, max_wakeups_per_second
    return sample


def measure_together(pids: list[int], seconds: float = 1.0, **limits) -> list[BlockingSample]:
    """`measure` of several processes over the same window, one thread each: judging two independent
    waits (two servers, one idle and one with a silent client) costs the time of one. Each verdict
    rests on its own process's counters, so running them side by side changes none."""
    return side_by_side([lambda pid=pid: measure(pid, seconds, **limits) for pid in pids], "measure")


def cpu_to_wall(pid: int, seconds: float = 1.0, interval: float = 0.05) -> float:
    """CPU seconds the process used per wall-clock second over the next `seconds`."""
    return measure(pid, seconds, interval, fast=False).cpu_ratio


def wait_for_wait(pid: int, timeout: float, *, wchans: tuple[str, ...] = (), syscalls: tuple[str, ...] = (),
                  interval: float = 0.005, cpu: float = SETTLE_CPU_SECONDS) -> bool:
    """Poll until the process shows one of the expected waits (wchan or current system call).

    False on timeout or exit, once the process has used `cpu` seconds of CPU
    without showing the wait (it spins), or once it has slept on a timer POLLING_SLEEPS
    times (it polls). A busy-waiting process traced by strace also
    shows its system call while stopped for the tracer, so this returns quickly for it
    too; the measurement afterwards tells the two apart.
    """
    return settle(pid, timeout, wchans=wchans, syscalls=syscalls, interval=interval, cpu=cpu) == "settled"


def settle(pid: int, timeout: float, *, wchans: tuple[str, ...] = (), syscalls: tuple[str, ...] = (),
           interval: float = 0.005, cpu: float = SETTLE_CPU_SECONDS) -> str | None:
    """wait_for_wait's look, with the reason it ended: "settled", "spinning", "polling", "gone",
    or None at the timeout."""
    first_match = None
    first_cpu = None
    timed_sleeps: set[str] = set()     # the switch counts at which it was seen in a timed sleep

    def look() -> str | None:
        nonlocal first_match, first_cpu
        st = procfs.read_stat(pid)
        if st is None or st.state in ("Z", "X"):
            return "gone" if gone(pid) else None
        first_cpu = st.cpu_seconds if first_cpu is None else first_cpu
        if st.cpu_seconds - first_cpu > cpu:
            return "spinning"
        now = time.monotonic()
        if _matches(procfs.read_wchan(pid), _syscall_name(pid) if syscalls else "", wchans, syscalls):
            # Asleep in the call: settled. In the call but stopped for a tracer (state t, at the
            # call's entry, say): give it a moment to go to sleep, so that stop is not measured.
            if st.state in ("S", "D") or (first_match is not None and now - first_match >= STOP_GRACE):
                return "settled"
            first_match = first_match if first_match is not None else now
        elif st.state == "S" and _in_timed_sleep(pid):
            timed_sleeps.add((procfs.read_status(pid) or {}).get("voluntary_ctxt_switches", ""))
            if len(timed_sleeps) >= POLLING_SLEEPS:
                return "polling"
        return None

    seen = until(look, timeout, interval, pids=lambda: [pid])
    return "settled" if seen is None and first_match is not None else seen


def blocked_in(pid: int, seconds: float = 1.0, *, wchans: tuple[str, ...] | list[str] = (),
               syscalls: tuple[str, ...] | list[str] = (), settle: float = 3.0, interval: float = 0.05,
               max_cpu_ratio: float | None = None, max_wakeups_per_second: float | None = None,
               fast: bool = True, settle_cpu: float = SETTLE_CPU_SECONDS) -> BlockedIn:
    """Is `pid` blocked in one of `syscalls` / `wchans` (e.g. ("msgrcv",), ("do_msgrcv",))?

    First waits up to `settle` seconds (and `settle_cpu` seconds of its CPU time) for
    the expected wait to show up (so the program's start-up, a Python interpreter's
    say, is not measured), then tries
    the fast proof (~0.1 s), and if it does not hold samples for `seconds`.
    `.ok` is the verdict; `.describe()` the evidence; `.problems()` says in
    words what was wrong.
    """
    wchans, syscalls = tuple(wchans), tuple(syscalls)
    t0 = time.monotonic()
    settled = (wait_for_wait(pid, settle, wchans=wchans, syscalls=syscalls, cpu=settle_cpu)
               if (wchans or syscalls) else True)
    settle_seconds = time.monotonic() - t0
    sample, waker = _fast_sample(pid, wchans, syscalls) if fast and settled else (None, "")
    if sample is not None:
        matched = sample.samples
    else:
        limits = (MAX_CPU_RATIO if max_cpu_ratio is None else max_cpu_ratio,
                  MAX_WAKEUPS_PER_SECOND if max_wakeups_per_second is None else max_wakeups_per_second)
        sample, matched = _sample(pid, seconds, interval, wchans, syscalls, with_syscalls=True,
                                  limits=limits if fast else None)
        sample.self_waker = waker
    if max_cpu_ratio is not None:
        sample.max_cpu_ratio = max_cpu_ratio
    if max_wakeups_per_second is not None:
        sample.max_wakeups_per_second = max_wakeups_per_second
    return BlockedIn(sample=sample, wchans=wchans, syscalls=syscalls, matched=matched,
                     settled=settled, settle_seconds=settle_seconds)


# ---------------------------------------------------------------- polling and ends of runs

def until(condition: Callable[[], T], timeout: float, interval: float = 0.01, *,
          pids: Callable[[], Iterable[int]] | None = None,
          nap: Callable[[float], None] = time.sleep) -> T:
    """Call `condition` every `interval` s until it returns something true or `timeout` passes.

    Returns its last value (true, or the false value it gave at the deadline). The one
    deadline loop of the harness: checks never hand-write their own. With `pids` (the
    processes waited for), the limit stretches by the time they waited for a CPU (Deadline).
    `nap(interval)` sleeps between calls; one that wakes early when the awaited event happens
    (`Run.nap`: the program ended) lets a costly condition be asked seldom yet seen at once.
    """
    deadline = Deadline(timeout, pids)
    while True:
        value = condition()
        if value or deadline.left() <= 0:
            return value
        nap(interval)


def alive(pid: int | None) -> bool:
    """The process exists and is not a zombie: it has not gone (see `gone`). A failed read of an
    entry that is still there is not an exit either."""
    return pid is not None and pid > 0 and not gone(pid)


def asleep_in(pid: int | None, syscalls: tuple[str, ...]) -> bool:
    """The process sleeps (state S) inside one of these system calls, e.g. WAIT_SYSCALLS."""
    st = procfs.read_stat(pid) if pid else None
    return st is not None and st.state == "S" and procfs.read_current_syscall(pid) in syscalls


@dataclass
class TreeEnd:
    """How a run's process tree ended (see `wait_tree`)."""
    rc: int | None                # the program's exit status; None if it was still running
    orphans: bool = False         # it exited, but processes it started were still running
    proof: deadlock.Proof | None = None   # why it never will: every process asleep for good

    @property
    def finished(self) -> bool:
        return self.rc is not None and not self.orphans


def hang_watch(ctx, runs=(), *, grader_acts: bool = False,
               ends: Callable[[], deadlock.Proof | None] | None = None) -> deadlock.HangWatch:
    """A watch over every live run of the check (and `runs`) and the student's processes, for one wait.
    `grader_acts`: the grader may write, connect, send or signal while it waits (see deadlock).
    `ends`: the check's own proof that the run can never end, tried at each look."""
    return deadlock.HangWatch([*ctx.runs, *(r for r in runs if r not in ctx.runs)], ctx.identity.uid,
                              grader_acts=grader_acts, ends=ends)


def wait_run(run, timeout: float, *, watch: deadlock.HangWatch | None = None,
             cpu_budget: float | None = None, deadline: Deadline | None = None
             ) -> tuple[int | None, deadlock.Proof | None]:
    """`run.wait(timeout, cpu_budget)` that also stops as soon as `watch` proves a hang:
    (exit status, None), (None, the proof), or (None, None) on timeout or a spent CPU budget.
    `deadline`: the caller's own for this wait (timeout's), if it has set one."""
    if watch is None:
        return run.wait(timeout, cpu_budget), None
    deadline = deadline or run.deadline(timeout)
    cpu_start = run.cpu_seconds() if cpu_budget is not None else 0.0
    while True:
        left = deadline.left()
        budget = None if cpu_budget is None else cpu_budget - (run.cpu_seconds() - cpu_start)
        if budget is not None and budget <= 0:
            return None, None
        rc = run.wait(max(0.0, min(left, deadlock.CHECK_EVERY)), budget)
        if rc is not None or left <= 0:
            return rc, None
        proof = watch.proven()
        if proof is not None:
            rc = run.wait(0)
            return rc, (proof if rc is None else None)


def wait_tree(run, timeout: float, watch: deadlock.HangWatch | None = None) -> TreeEnd:
    """Wait up to `timeout` s for a traced run AND every process it started to end.

    strace follows the whole tree and exits with its last process, so once it has
    ended the output is complete too (children may write after their parent exits).
    With `watch`, stops early once every process left is proven stuck (TreeEnd.proof).
    """
    deadline = run.deadline(timeout)
    rc, proof = wait_run(run, timeout, watch=watch, deadline=deadline)
    if rc is None:
        return TreeEnd(None, proof=proof)
    while True:
        left = max(0.0, deadline.left()) + 1.0
        try:
            run.proc.wait(min(left, deadlock.CHECK_EVERY) if watch else left)
            break
        except subprocess.TimeoutExpired:
            proof = watch.proven() if watch else None
            if proof is not None or not watch or deadline.left() <= -1.0:
                return TreeEnd(rc, orphans=True, proof=proof)
    run.wait(0)                                       # the output is drained
    return TreeEnd(rc)


def proven_hang_message(what: str, proof: deadlock.Proof | None, timeout: float) -> str:
    """The first words of a hang's Fail: proven at once, or waited out to the limit."""
    if proof is not None:
        return f"{what} did not finish: {proof.what}"
    return f"{what} did not finish within {timeout:g} s"


def add_proof(fail: Fail, proof: deadlock.Proof | None) -> Fail:
    """Add the proof (where each process sleeps, and why nothing can wake it) to a hang's evidence."""
    if proof is not None:
        fail.evidence.insert(0, ("why the grader stopped waiting before the time limit: nothing can happen any more",
                                 proof.describe()))
    return fail


def finish_tree(ctx, run, timeout: float, what: str, *, hint: str | None = None,
                explain: Callable[[], tuple[str, tuple[str, str]] | None] | None = None,
                ends: Callable[[], deadlock.Proof | None] | None = None) -> int:
    """The run's exit status once it and its children have ended; otherwise a Fail proving the hang.

    `what` names the run in the message (e.g. "`pipeline yes -- head -n 1`").
    `explain`, called before anything is killed, may return (a sentence to add
    to the message, an evidence pair), e.g. `pipes.explain_hang` naming who is
    stuck on which pipe end. A hang proven from kernel state (deadlock) ends the
    wait at once, with the same diagnosis; so does the check's own proof `ends` (see hang_watch).
    """
    end = wait_tree(run, timeout, hang_watch(ctx, [run], ends=ends))
    if end.finished:
        return end.rc
    if end.rc is None:
        message = proven_hang_message(what, end.proof, timeout)
    elif end.proof is not None:
        message = (f"{what} {run.describe_exit()}, but its children never will: each is asleep in a wait "
                   "that nothing left can end")
    else:
        message = f"{what} {run.describe_exit()}, but its children were still running {timeout:g} s after it started"
    why = explain() if explain else None
    fail: Fail = ctx.hang(message, [run], hint=hint)
    if why:
        fail.message += ": " + why[0]
        fail.evidence.insert(0, why[1])
    raise add_proof(fail, end.proof)


# Time to read the lines already buffered once a hang is proven (they return at once).
LATE_LINES_SECONDS = 0.05


def read_until_or_hang(ctx, run, pattern, timeout: float, *, grader_acts: bool = False
                       ) -> tuple[str | None, list[str], deadlock.Proof | None]:
    """`run.read_until(pattern, timeout)` that stops early once a hang is proven: the line never comes
    when every process sleeps for good with everything written already read. (line, before, proof)."""
    watch = hang_watch(ctx, [run], grader_acts=grader_acts)
    deadline = run.deadline(timeout)
    before: list[str] = []
    while True:
        left = deadline.left()
        line, more = run.read_until(pattern, max(0.0, min(left, deadlock.CHECK_EVERY)))
        before += more
        if line is not None or run.stdout_closed() or deadline.left() <= 0:
            return line, before, None
        proof = watch.proven()
        if proof is not None and not _output_pending(run):
            # Every byte written is in the grader's buffer now: read what arrived meanwhile (a
            # timeout of 0 would read nothing; buffered lines return at once).
            line, more = run.read_until(pattern, LATE_LINES_SECONDS)
            before += more
            return line, before, proof if line is None else None


def _output_pending(run) -> bool:
    """Bytes the program wrote that the grader's reader has not taken in yet (then no proof holds:
    the line may be among them): the reader's own view, and the trace's count of what was written."""
    drain = getattr(run, "_out", None)
    return bool(drain is not None and drain.pending()) or run.stdout_in_flight()


def expect_line(ctx, run, pattern, timeout: float, *, shown: str, example: str, hint: str,
                exit_hint: str) -> tuple[str, list[str]]:
    """Read stdout until a line matches `pattern` (e.g. `ready SHMID`): (that line, the lines before).

    Otherwise a Fail: if the program still runs, a proved hang, whose hint names
    stdout buffering when the trace shows it never wrote the line's first word;
    if it ended, how, with its stderr. `shown` is the line as the spec writes it,
    `example` an instance of it.
    """
    line, before, proof = read_until_or_hang(ctx, run, pattern, timeout)
    if line is not None:
        return line, before
    seen = "\n".join(before) or "(nothing)"
    if run.wait(0.2) is not None:
        raise Fail(f"{run.label} {run.describe_exit()} without printing `{shown}`",
                   expected=f"a line `{shown}`, e.g. `{example}`", observed=seen,
                   evidence=[stderr(run, tail=2000)], hint=exit_hint)
    word = shown.split()[0]
    if run.write_index(re.compile(re.escape(word))) is None:
        hint = (f"{run.label} never wrote `{word}` to stdout: if it printed it, the line is still in its output "
                "buffer. stdout is a pipe here, so printf output is block-buffered: call fflush(stdout) after "
                f"printing {word} (Python: print(..., flush=True)).")
    said = (f"{run.label} will never print `{shown}`: every process is asleep in a wait that nothing left can end"
            if proof else f"{run.label} did not print `{shown}` within {timeout:g} s")
    fail = ctx.hang(said, [run], hint=hint)
    fail.evidence.insert(0, (f"what {run.label} printed", seen))
    raise add_proof(fail, proof)


def require_blocked(verdict: BlockingSample | BlockedIn | None, what: str, *, expected: str, hint: str,
                    measured: str = "measured", evidence: list[tuple[str, str]] | None = None) -> None:
    """Fail unless `verdict` (from `measure`, or `blocked_in`, which also wants the expected wait)
    shows the process blocked. The message is `what` and each thing over its limit, observed the
    figures, and the evidence the whole measurement (labelled `measured`) before `evidence`.
    None, where nothing was measured because an earlier step failed (and said so), passes."""
    if verdict is None or verdict.ok:
        return
    sample = verdict.sample if isinstance(verdict, BlockedIn) else verdict
    raise Fail(f"{what}: " + "; ".join(verdict.problems()), expected=expected, observed=sample.figures(),
               evidence=[(measured, verdict.describe()), *(evidence or [])], hint=hint)
