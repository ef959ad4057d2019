"""Deadline: a limit that stretches by the CPU wait of the run's threads, and by nothing else."""
import os
import subprocess
import sys
import time

import pytest

from grader.harness import deadline as dl
from grader.harness import waits


def test_an_idle_or_sleeping_run_is_not_stretched():
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        # Its start-up may wait for a CPU on a busy machine; from its sleep on, nothing does.
        assert waits.until(lambda: waits.asleep_in(sleeper.pid, ("clock_nanosleep", "nanosleep", "select")), 60)
        d = dl.Deadline(1.0, lambda: [sleeper.pid])
        while d.left() > 0:
            time.sleep(0.05)
        assert d.stretched() < 0.1         # it sat asleep: no CPU wait to add
    finally:
        sleeper.kill()
        sleeper.wait()


@pytest.fixture
def fake(monkeypatch):
    """A clock at 100.0 s and per-thread (ns on a CPU, ns waiting for one) figures that a test sets."""
    clock, waits = [100.0], {}
    monkeypatch.setattr(dl.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(dl, "cpu_waits", lambda pids: dict(waits))
    return clock, waits


def test_cpu_wait_stretches_the_limit_up_to_the_cap(fake):
    clock, waits = fake
    waits.update({7: (0, 0)})
    d = dl.Deadline(2.0, lambda: [7])
    clock[0] = 102.0
    waits[7] = (0, 1_500_000_000)           # 1.5 s runnable but not running
    assert d.left() == 1.5 and d.stretched() == 1.5
    clock[0] = 103.5
    waits[7] = (0, 10**12)                  # more than elapsed: never more than the time elapsed
    assert d.left() == 2.0
    while d.left() > 0:                     # a machine that stays busy: extended again and again
        clock[0] = d.end
    assert clock[0] == 100.0 + 2.0 * dl.STRETCH_CAP and d.stretched() == 2.0 * (dl.STRETCH_CAP - 1)


def test_threads_that_queue_behind_each_other_are_busy_not_delayed(fake):
    clock, waits = fake
    waits.update({7: (0, 0), 8: (0, 0)})
    d = dl.Deadline(2.0, lambda: [7])
    clock[0] = 102.0                        # two spinning threads sharing one CPU: 1 s each on it, 1 s each queued
    waits.update({7: (1_000_000_000, 1_000_000_000), 8: (1_000_000_000, 1_000_000_000)})
    assert d.left() == 0.0 and d.stretched() == 0.0


def test_a_run_that_had_plenty_of_cpu_is_busy_not_starved(fake):
    clock, waits = fake
    waits.update({7: (0, 0)})
    d = dl.Deadline(4.0, lambda: [7])
    clock[0] = 104.0                        # a spinner sharing its core: 1.5 s on it, 2.5 s queued
    waits[7] = (1_500_000_000, 2_500_000_000)
    assert d.left() == 0.0 and d.stretched() == 0.0


def test_short_waits_are_plain_wall_clock(monkeypatch):
    monkeypatch.setattr(dl, "cpu_waits", lambda pids: (_ for _ in ()).throw(AssertionError("read")))
    d = dl.Deadline(dl.MIN_STRETCHED / 2, lambda: [1])
    time.sleep(dl.MIN_STRETCHED / 2 + 0.01)
    assert d.left() <= 0


def test_cpu_waits_reads_own_threads():
    assert os.getpid() in dl.cpu_waits([os.getpid()])
    assert dl.cpu_waits([2**22 + 12345]) == {}      # a pid that is not there
