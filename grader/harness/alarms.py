"""The interval timer a traced process has armed, read from its tracer's live output file.

Why: a program that handles SIGALRM and arms ITIMER_REAL to fire every 150 ms has asked to be
woken 6.7 times a second, more than a blocked process may (5). Counted on a loaded machine its
wake-ups can come out lower: alarms that a starved process cannot take in time merge into one
pending signal, and the tracer's lag blurs the edges of the window. The period it asked for is
read from its own setitimer call, the same on every run, so that decides instead of the count.
The timer calls are in every traced run's set (deadlock.TIMER_TRACE, added by context.start).
"""
from __future__ import annotations

import os
import re
import signal

from . import procfs
from . import trace as tracemod
from .tracerstops import trace_file_of

# strace's rendering of setitimer's new value (its second argument): the period, then the first expiry.
_TIMER_VALUE = re.compile(r"^\{it_interval=\{tv_sec=(\d+), tv_usec=(\d+)\}, "
                          r"it_value=\{tv_sec=(\d+), tv_usec=(\d+)\}\}$")


def periodic_alarm(trace: tracemod.Trace, tids: set[int]) -> float | None:
    """Seconds between the SIGALRMs of the ITIMER_REAL timer that the threads `tids` armed last,
    if that arming repeats; None if they armed none, or disarmed it (a zero value, or alarm(),
    which replaces it). A failed call changed nothing."""
    period = None
    for call in trace.calls():
        if call.pid not in tids or call.failed:
            continue
        if call.name == "setitimer" and call.arg(0) == "ITIMER_REAL":
            value = _TIMER_VALUE.match(call.arg(1))
            if value:
                every = int(value.group(1)) + int(value.group(2)) / 1e6
                first = int(value.group(3)) + int(value.group(4)) / 1e6
                period = every if every > 0 and first > 0 else None
        elif call.name == "alarm":
            period = None
    return period


def alarm_period(pid: int) -> float | None:
    """`periodic_alarm` of a live process that takes alarms, from the file of the grader's strace
    that traces it; None when a SIGALRM would not run a handler now (none installed, or the signal
    blocked: read while it waits, so a sigsuspend's temporary mask is the one seen), or nothing
    traces it to a file. Interval timers are per process: every thread counts."""
    status = procfs.read_status(pid) or {}
    if (signal.SIGALRM not in procfs.signal_mask(status.get("SigCgt", "0"))
            or signal.SIGALRM in procfs.signal_mask(status.get("SigBlk", "0"))):
        return None
    path = trace_file_of(pid)
    if path is None:
        return None
    try:
        tids = {int(t) for t in os.listdir(f"{procfs.PROC}/{pid}/task")}
        with open(path, errors="replace") as f:
            text = f.read()
    except OSError:
        return None
    return periodic_alarm(tracemod.parse(text), tids or {pid})
