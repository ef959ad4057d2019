"""The interval timer a traced process has armed, read from its tracer's live output file.

Why: a program that handles SIGALRM and arms ITIMER_REAL to fire every 150 ms has asked to be
woken 6.7 times a second, more than a blocked process may (5). Counted on a loaded machine its
wake-ups can come out lower: alarms that a starved process cannot take in time merge into one
pending signal, and the tracer's lag blurs the edges of the window. The period it asked for is
read from its own setitimer call, the same on every run, so that decides instead of the count.
"""
from __future__ import annotations

import os
import re

from . import procfs
from .tracerstops import trace_file_of

# strace's rendering of setitimer's new value (the second argument), its period and first expiry.
_SETITIMER = re.compile(r"^setitimer\(ITIMER_REAL, \{it_interval=\{tv_sec=(\d+), tv_usec=(\d+)\}, "
                        r"it_value=\{tv_sec=(\d+), tv_usec=(\d+)\}\}")
_LINE = re.compile(r"^(?:\[pid\s+)?(?P<pid>\d+)\]?\s+(?:\d\d:\d\d:\d\d(?:\.\d+)?\s+)?(?P<rest>.*)$")


def periodic_alarm(lines: list[str], tids: set[str]) -> float | None:
    """Seconds between the SIGALRMs of the ITIMER_REAL timer that the threads `tids` armed last,
    if that arming repeats; None if they armed none, or disarmed it (a zero value, or alarm(),
    which replaces it). `lines`: strace's output, in order (a failed call changed nothing)."""
    period = None
    for line in lines:
        m = _LINE.match(line)
        if m is None or m.group("pid") not in tids:
            continue
        rest = m.group("rest")
        if " = -1 " in rest:
            continue                          # failed: the timer is as it was
        timer = _SETITIMER.match(rest)
        if timer:
            every = int(timer.group(1)) + int(timer.group(2)) / 1e6
            first = int(timer.group(3)) + int(timer.group(4)) / 1e6
            period = every if every > 0 and first > 0 else None
        elif rest.startswith("alarm("):
            period = None
    return period


def alarm_period(pid: int) -> float | None:
    """`periodic_alarm` of a live process, from the file of the grader's strace that traces it
    (None when nothing traces it to a file). Interval timers are per process: every thread counts."""
    path = trace_file_of(pid)
    if path is None:
        return None
    try:
        tids = set(os.listdir(f"{procfs.PROC}/{pid}/task"))
        with open(path, errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    return periodic_alarm(lines, tids or {str(pid)})
