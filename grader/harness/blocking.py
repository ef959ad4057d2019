"""Is a process blocked in the kernel, or busy waiting? Measured, not guessed.

The verdict uses evidence that holds on a loaded machine: CPU time against wall
time, and how often the process woke up (voluntary context switches). A process
blocked in msgrcv/read/accept uses ~0 CPU and wakes ~0 times; a spinning loop
uses the CPU; a loop with short sleeps wakes hundreds of times a second. The
wchan and state samples are shown as evidence.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from . import procfs

# Calibrated on the reference solutions (both ~0.00 CPU ratio and 0 wakeups per
# second while blocked), with a wide margin for noise from a loaded machine.
MAX_CPU_RATIO = 0.10
MAX_WAKEUPS_PER_SECOND = 5.0


@dataclass
class BlockingSample:
    pid: int
    wall: float
    cpu: float
    wakeups: int
    states: dict[str, int] = field(default_factory=dict)
    wchans: dict[str, int] = field(default_factory=dict)
    exited: bool = False

    @property
    def cpu_ratio(self) -> float:
        return self.cpu / self.wall if self.wall > 0 else 0.0

    @property
    def wakeups_per_second(self) -> float:
        return self.wakeups / self.wall if self.wall > 0 else 0.0

    @property
    def blocked(self) -> bool:
        return (not self.exited and self.cpu_ratio <= MAX_CPU_RATIO
                and self.wakeups_per_second <= MAX_WAKEUPS_PER_SECOND)

    def main_wchan(self) -> str:
        return max(self.wchans, key=self.wchans.get) if self.wchans else ""

    def describe(self) -> str:
        states = ", ".join(f"{procfs.STATE_NAMES.get(k, k)} {v}x" for k, v in sorted(self.states.items()))
        wchans = ", ".join(f"{k} {v}x" for k, v in sorted(self.wchans.items(), key=lambda kv: -kv[1])) or "none"
        return (f"over {self.wall:.2f} s of waiting: CPU time {self.cpu:.2f} s "
                f"(ratio {self.cpu_ratio:.2f}, limit {MAX_CPU_RATIO:.2f}); "
                f"woke up {self.wakeups} times ({self.wakeups_per_second:.0f}/s, limit {MAX_WAKEUPS_PER_SECOND:.0f}/s)\n"
                f"states sampled: {states}\nkernel wait points (wchan) sampled: {wchans}")


def _switches(pid: int) -> int | None:
    st = procfs.read_status(pid)
    if not st:
        return None
    return int(st.get("voluntary_ctxt_switches", 0)) + int(st.get("nonvoluntary_ctxt_switches", 0))


def _cpu_of_threads(pid: int) -> float | None:
    st = procfs.read_stat(pid)
    return st.cpu_seconds if st else None


def measure(pid: int, seconds: float = 1.0, interval: float = 0.05) -> BlockingSample:
    """Watch one process for `seconds` and summarise how it waited."""
    start_cpu, start_sw = _cpu_of_threads(pid), _switches(pid)
    t0 = time.monotonic()
    sample = BlockingSample(pid=pid, wall=0.0, cpu=0.0, wakeups=0)
    if start_cpu is None or start_sw is None:
        sample.exited = True
        return sample
    end_cpu, end_sw = start_cpu, start_sw
    while time.monotonic() - t0 < seconds:
        st = procfs.read_stat(pid)
        if st is None or st.state == "Z":
            sample.exited = True
            break
        sample.states[st.state] = sample.states.get(st.state, 0) + 1
        w = procfs.read_wchan(pid)
        if w:
            sample.wchans[w] = sample.wchans.get(w, 0) + 1
        end_cpu, sw = st.cpu_seconds, _switches(pid)
        if sw is not None:
            end_sw = sw
        time.sleep(interval)
    sample.wall = time.monotonic() - t0
    sample.cpu = max(0.0, end_cpu - start_cpu)
    # The sampling itself causes no switches in the target; subtract nothing.
    sample.wakeups = max(0, end_sw - start_sw)
    return sample

