"""Wall-clock limits that mean the same on a busy machine as on an idle one.

A limit such as "the pipeline ends within 5 s" is calibrated on the reference
solution. On a machine shared with other gradings a correct program can take
longer only because it sat runnable while other work had the CPU, and the
kernel counts exactly that time for every thread (run_delay, the second field of
/proc/PID/task/TID/schedstat). A `Deadline` that reaches its limit extends it by
the CPU wait of the run's threads since the deadline was set, but only by time in
which the run got no CPU at all (elapsed minus its CPU time: threads that queue
behind each other, a thread bomb say, are busy, not delayed), never once the run
has had BUSY_SHARE of the limit in CPU time (far more than any reference needs
within a limit: it was not starved, it spins), and never past STRETCH_CAP times
the limit. A program asleep for good, or one alone on an idle
machine, waits for no CPU, so a hang is still called at the limit itself.
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable

from . import procfs

# However busy the machine, a wait ends by this multiple of its limit.
STRETCH_CAP = 4.0
# Shorter waits are the polls inside a longer wait, which stretches itself.
MIN_STRETCHED = 1.0
# CPU time (share of the limit, and at least MIN_BUSY_SECONDS) after which a run is busy, not starved:
# the references use well under 0.3 s of CPU (a traced Python start, the tracer's share included)
# before any limit of theirs is met.
BUSY_SHARE = 0.25
MIN_BUSY_SECONDS = 0.5


def cpu_waits(pids: Iterable[int]) -> dict[int, tuple[int, int]]:
    """tid -> (nanoseconds on a CPU, nanoseconds runnable but waiting for one); 0s where schedstats are off."""
    out: dict[int, tuple[int, int]] = {}
    for pid in pids:
        base = f"{procfs.PROC}/{pid}/task"
        try:
            tids = os.listdir(base)
        except OSError:
            continue
        for tid in tids:
            try:
                with open(f"{base}/{tid}/schedstat") as f:
                    ran, waited = f.read().split()[:2]
                out[int(tid)] = (int(ran), int(waited))
            except (OSError, IndexError, ValueError):
                continue
    return out


class Deadline:
    """`timeout` seconds from now, stretched by the CPU wait of the processes `pids()` lists."""

    def __init__(self, timeout: float, pids: Callable[[], Iterable[int]] | None = None):
        self.start = time.monotonic()
        self.timeout = timeout
        self.end = self.start + timeout
        self.cap = self.start + timeout * STRETCH_CAP
        self._pids = pids if timeout >= MIN_STRETCHED else None
        self._base = cpu_waits(self._pids()) if self._pids else {}

    def left(self) -> float:
        """Seconds left (<= 0: the limit is reached, after any stretch the machine's load earned)."""
        now = time.monotonic()
        if now >= self.end and self._pids is not None and now < self.cap:
            ran = waited = 0.0
            for tid, (cpu, delay) in cpu_waits(self._pids()).items():
                cpu0, delay0 = self._base.get(tid, (0, 0))
                ran, waited = ran + max(0, cpu - cpu0) / 1e9, waited + max(0, delay - delay0) / 1e9
            if ran < max(BUSY_SHARE * self.timeout, MIN_BUSY_SECONDS):
                idle_waiting = min(waited, max(0.0, now - self.start - ran))
                self.end = max(self.end, min(self.start + self.timeout + idle_waiting, self.cap))
        return self.end - now

    def stretched(self) -> float:
        """Seconds the limit has been extended by so far (0 on an idle machine)."""
        return self.end - self.start - self.timeout
