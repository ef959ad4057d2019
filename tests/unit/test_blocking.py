"""The blocking verdict: pure logic on made-up figures, then one blocked and one spinning process for real."""
import subprocess
import sys
import time

import pytest

from grader.harness import waits as blocking
from grader.harness.api import Fail
from grader.harness.waits import BlockedIn, BlockingSample


def sample(cpu=0.0, wakeups=0, wall=1.0, **kw) -> BlockingSample:
    kw.setdefault("states", {"S": kw.get("samples", 0)})         # asleep at every look, unless told
    return BlockingSample(pid=1, wall=wall, cpu=cpu, wakeups=wakeups, **kw)


def test_blocked_process_figures_pass():
    s = sample(cpu=0.0, wakeups=0, states={"S": 20}, wchans={"do_msgrcv": 20}, samples=20)
    assert s.blocked and s.problems() == []
    assert s.cpu_ratio == 0.0 and s.wakeups_per_second == 0.0
    assert "ratio 0.00" in s.describe() and "do_msgrcv 20x" in s.describe()


def test_spinning_and_napping_processes_fail_with_their_figures():
    spin = sample(cpu=0.93)
    assert not spin.blocked
    assert "ratio 0.93" in spin.problems()[0]
    nap = sample(cpu=0.01, wakeups=290)                  # a loop sleeping 10 ms
    assert not nap.blocked
    assert "290/s" in nap.problems()[0]
    # Traced, the tracer eats its CPU and its switches are the tracer's stops, not wake-ups (see
    # tracerstops); it is never seen asleep, which gives it away (an IPC_NOWAIT loop, loaded CI run).
    traced_spin = sample(cpu=0.08, wakeups=0, samples=18, states={"t": 11, "R": 7})
    assert not traced_spin.blocked
    assert traced_spin.problems() == [traced_spin.problems()[0]] and "asleep in only 0 of 18" in traced_spin.problems()[0]


def test_asleep_means_state_s_or_d_in_at_least_half_of_the_samples():
    assert sample(samples=20, states={"S": 6, "D": 4, "R": 10}).blocked
    assert not sample(samples=20, states={"S": 9, "R": 11}).blocked
    assert sample(samples=0, states={}).problems() == []              # nothing looked at: nothing to say
    assert sample(samples=4, states={"R": 4}, exited=True).problems() == ["it exited while it should have been waiting"]


def test_limits_are_inclusive_and_overridable():
    edge = sample(cpu=blocking.MAX_CPU_RATIO, wakeups=int(blocking.MAX_WAKEUPS_PER_SECOND))
    assert edge.blocked
    strict = sample(cpu=0.05, max_cpu_ratio=0.01)
    assert not strict.blocked and "0.01" in strict.problems()[0]


def test_exited_process_is_not_blocked():
    s = sample(exited=True)
    assert not s.blocked and "exited" in s.problems()[0]


def test_zero_wall_time_gives_zero_rates():
    s = sample(wall=0.0, cpu=0.0, wakeups=3)
    assert s.cpu_ratio == 0.0 and s.wakeups_per_second == 0.0


def test_blocked_in_needs_the_expected_wait():
    right = BlockedIn(sample(samples=20, wchans={"do_msgrcv": 20}), wchans=("do_msgrcv",), syscalls=("msgrcv",),
                      matched=20)
    assert right.ok and right.in_expected_wait and right.problems() == []
    elsewhere = BlockedIn(sample(samples=20, wchans={"hrtimer_nanosleep": 20}, syscalls={"clock_nanosleep": 20}),
                          wchans=("do_msgrcv",), syscalls=("msgrcv",), matched=1)
    assert elsewhere.blocked and not elsewhere.ok
    assert "clock_nanosleep" in elsewhere.problems()[0] and "1 of 20" in elsewhere.problems()[0]
    assert "expected wait: msgrcv, wchan do_msgrcv" in elsewhere.describe()
    anything = BlockedIn(sample(samples=5))
    assert anything.ok and anything.expected_text() == "any wait"


def test_blocked_in_reports_busy_figures_even_in_the_right_call():
    busy = BlockedIn(sample(cpu=0.3, wakeups=50000, samples=20, syscalls={"msgrcv": 15}),
                     syscalls=("msgrcv",), matched=15, settled=True)
    assert not busy.ok and busy.in_expected_wait
    assert any("ratio 0.30" in p for p in busy.problems())


def test_unsettled_measurement_says_so():
    b = BlockedIn(sample(samples=20), syscalls=("msgrcv",), matched=0, settled=False, settle_seconds=3.0)
    assert "never seen" in b.describe()


def failure(verdict, **kw) -> Fail:
    with pytest.raises(Fail) as raised:
        blocking.require_blocked(verdict, "recv is not blocked", expected="a blocking msgrcv", hint="Do not poll.", **kw)
    return raised.value


def test_require_blocked_passes_a_blocked_verdict_or_nothing_measured():
    blocking.require_blocked(sample(samples=3), "x", expected="y", hint="z")
    blocking.require_blocked(BlockedIn(sample(samples=3)), "x", expected="y", hint="z")
    blocking.require_blocked(None, "x", expected="y", hint="z")        # an earlier step failed and said so


def test_require_blocked_words_a_busy_sample_with_its_figures_and_evidence():
    spin = sample(cpu=0.5, wakeups=900, samples=20, syscalls={"msgrcv": 12})
    f = failure(spin, measured="while recv waited", evidence=[("its calls", "msgrcv(...)")])
    assert f.message.startswith("recv is not blocked: it used 0.50 s of CPU") and "900/s" in f.message
    assert f.observed == "CPU ratio 0.50, 900 wakeups/s, mostly in msgrcv"
    assert [label for label, _ in f.evidence] == ["while recv waited", "its calls"]
    assert f.evidence[0][1] == spin.describe() and f.expected == "a blocking msgrcv" and f.hint == "Do not poll."


def test_require_blocked_words_the_wrong_wait_of_a_blocked_in_verdict():
    elsewhere = BlockedIn(sample(samples=20, wchans={"hrtimer_nanosleep": 20}), wchans=("do_msgrcv",), matched=0)
    f = failure(elsewhere)
    assert "in the expected wait (wchan do_msgrcv) in only 0 of 20 samples" in f.message
    assert f.observed.endswith("mostly in hrtimer_nanosleep") and "expected wait:" in f.evidence[0][1]


@pytest.fixture
def proc():
    started = []

    def start(code):
        p = subprocess.Popen([sys.executable, "-c", code])
        started.append(p)
        return p
    yield start
    for p in started:
        p.kill()
        p.wait()


def test_live_sleeping_process_is_blocked_in_its_call(proc):
    p = proc("import time; time.sleep(30)")
    b = blocking.blocked_in(p.pid, 0.5, syscalls=("clock_nanosleep", "nanosleep", "select"),
                            wchans=("hrtimer_nanosleep", "do_nanosleep"), settle=5.0)
    assert b.settled and b.ok, b.describe()
    assert b.sample.states.get("S", 0) >= 1


def test_live_spinning_process_is_not(proc):
    p = proc("while True: pass")
    time.sleep(0.05)
    s = blocking.measure(p.pid, 0.5)
    assert not s.blocked, s.describe()
    # Not compared with MAX_CPU_RATIO: on a loaded machine a spinner may get less than that share
    # (the verdict above still holds: its preemptions count as wakeups).
    assert blocking.cpu_to_wall(p.pid, 0.3) > 0


def test_gone_process_counts_as_exited():
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    assert blocking.measure(p.pid, 0.2).exited
    assert not blocking.blocked_in(p.pid, 0.2, syscalls=("msgrcv",), settle=0.2).ok


def test_settle_gives_up_on_a_timer_poller_but_waits_through_one_long_sleep(proc):
    """A 10 ms sleep loop is known to poll after POLLING_SLEEPS naps; one long sleep at start-up (then
    the real wait) is a single timed sleep, so the settle waits on and sees the expected wait."""
    poller = proc("import time\nwhile True: time.sleep(0.01)")
    assert blocking.settle(poller.pid, 60, syscalls=("futex",)) == "polling"
    sleeper = proc("import os, time\ntime.sleep(0.5)\nr, w = os.pipe()\nos.read(r, 1)")
    assert blocking.settle(sleeper.pid, 60, syscalls=("read",)) == "settled"
