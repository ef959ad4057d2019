"""The fast proof that a process is blocked (stillness) and its fallback to the full measurement (waits),
on made-up /proc readings: no Docker, no real process."""
import time

import pytest

from grader.harness import procfs, semtrace, stillness, waits
from grader.harness.stillness import Counters, Look

PID = 4242
MSGRCV = "70 0x3 0x7ffc10 0x100 0x0 0x0 0x0 0x7ffc00 0x7f0001"        # msgrcv(id, buf, 256, 0, 0)


class FakeProc:
    """A /proc tree with one process, whose figures a test changes between looks."""

    def __init__(self, root, pid=PID):
        self.root, self.pid = root, pid
        self.state, self.wchan, self.syscall = "S", "do_msgrcv", MSGRCV
        self.ticks, self.cpu_ns, self.switches = 7, 123_456_789, 40
        self.tids = [pid]
        self.schedstat = True
        self.write()

    def write(self):
        d = self.root / str(self.pid)
        (d / "task").mkdir(parents=True, exist_ok=True)
        rest = [self.state, "1"] + ["0"] * 9 + [str(self.ticks), "0"] + ["0"] * 9
        (d / "stat").write_text(f"{self.pid} (recv) {' '.join(rest)}\n")
        (d / "wchan").write_text(self.wchan)
        (d / "syscall").write_text(self.syscall + "\n")
        for t in (d / "task").iterdir():
            if int(t.name) not in self.tids:
                for f in t.iterdir():
                    f.unlink()
                t.rmdir()
        for tid in self.tids:
            t = d / "task" / str(tid)
            t.mkdir(exist_ok=True)
            (t / "status").write_text(f"Name:\trecv\nvoluntary_ctxt_switches:\t{self.switches}\n"
                                      "nonvoluntary_ctxt_switches:\t2\n")
            (t / "schedstat").write_text(f"{self.cpu_ns} 5000 12\n" if self.schedstat else "0 0 0\n")


@pytest.fixture
def fake(tmp_path, monkeypatch):
    monkeypatch.setattr(procfs, "PROC", str(tmp_path))
    return FakeProc(tmp_path)


@pytest.fixture
def between(monkeypatch):
    """Run a change to the fake process at every sleep of the measurement (the process 'runs')."""
    real_sleep = time.sleep
    changes = []

    def sleep(seconds):
        for change in changes:
            change()
        real_sleep(min(seconds, 0.001))
    monkeypatch.setattr(time, "sleep", sleep)
    return changes


def no_full_measurement(*a, **kw):
    raise AssertionError("the full measurement ran although the fast proof should hold")


# ---------------------------------------------------------------- the decision itself

def counters(**kw):
    base = dict(threads=frozenset({"1"}), cpu=100, source="schedstat", switches=9, cpu_seconds=0.07)
    return Counters(**{**base, **kw})


def asleep(**kw):
    return Look(**{**dict(state="S", wchan="do_msgrcv", syscall="msgrcv", timed=False), **kw})


def anything(_look):
    return True


def test_asleep_untimed_and_untouched_is_proven():
    assert stillness.proven_still(counters(), [asleep(), asleep()], counters(), anything)


@pytest.mark.parametrize("after", [counters(cpu=101), counters(switches=10), counters(threads=frozenset({"1", "2"})),
                                   counters(source="stat"), None])
def test_any_cpu_time_switch_or_thread_change_is_no_proof(after):
    assert not stillness.proven_still(counters(), [asleep(), asleep()], after, anything)


@pytest.mark.parametrize("after", [counters(), counters(cpu_seconds=0.08)])
def test_unchanged_compares_the_finest_cpu_figure_and_switches(after):
    assert stillness.unchanged(counters(), after)       # cpu_seconds (ticks) is for rates, not for "ran at all"


@pytest.mark.parametrize("before,after", [(None, counters()), (counters(), None), (None, None),
                                          (counters(), counters(cpu=101)), (counters(), counters(switches=8)),
                                          (counters(), counters(threads=frozenset({"2"}))),
                                          (counters(source="stat"), counters())])
def test_an_unreadable_or_moved_read_is_never_unchanged(before, after):
    assert not stillness.unchanged(before, after)


@pytest.mark.parametrize("seen", [asleep(state="R"), asleep(state="t"), asleep(timed=True), asleep(timed=None), None])
def test_running_stopped_timed_unknown_or_unread_look_is_no_proof(seen):
    assert not stillness.proven_still(counters(), [asleep(), seen], counters(), anything)


def test_the_wait_must_be_the_expected_one():
    assert not stillness.proven_still(counters(), [asleep(), asleep()], counters(), lambda lk: lk.wchan == "do_msgsnd")
    assert not stillness.proven_still(counters(), [], counters(), anything)


@pytest.mark.parametrize("name,args,timed", [
    ("nanosleep", [0] * 6, True), ("clock_nanosleep", [0] * 6, True),
    ("poll", [1, 1, 0xFFFFFFFF, 0, 0, 0], False), ("poll", [1, 1, 10, 0, 0, 0], True), ("poll", [1, 1, 0, 0, 0, 0], True),
    ("epoll_wait", [3, 1, 8, 0xFFFFFFFFFFFFFFFF, 0, 0], False), ("epoll_wait", [3, 1, 8, 500, 0, 0], True),
    ("select", [4, 1, 0, 0, 0, 0], False), ("select", [4, 1, 0, 0, 0x7ffc, 0], True),
    ("futex", [0x7f, 0x189, 0, 0, 0, 0], False), ("futex", [0x7f, 0x189, 0, 0x7ffc, 0, 0], True),
    ("semtimedop", [1, 2, 1, 0x7ffc, 0, 0], True), ("msgrcv", [3, 1, 256, 0, 0, 0], False),
    ("pause", [0] * 6, False), ("accept", [3, 0, 0, 0, 0, 0], False), ("syscall 999", [0] * 6, None)])
def test_which_waits_have_a_timeout(name, args, timed):
    assert stillness.is_timed(name, args) is timed


# ---------------------------------------------------------------- on fake /proc readings

def test_blocked_in_msgrcv_is_proven_without_the_full_measurement(fake, monkeypatch):
    monkeypatch.setattr(waits, "_sample", no_full_measurement)
    b = waits.blocked_in(PID, 1.0, wchans=("do_msgrcv",), syscalls=("msgrcv",), settle=1.0)
    assert b.ok and b.sample.fast and b.matched == b.sample.samples == 2
    assert "proven blocked" in b.describe() and "do_msgrcv 2x" in b.describe()
    s = waits.measure(PID, 1.0)                          # no expected wait named: any untimed wait
    assert s.blocked and s.fast


def test_a_process_that_wakes_up_gets_the_full_measurement(fake, between):
    def wake():
        fake.switches += 1                              # a 10 ms poller: switches at every look
        fake.write()
    between.append(wake)
    s = waits.measure(PID, 0.05, interval=0.01)
    assert not s.fast and not s.blocked and s.wakeups > 0
    assert any("woke up" in p for p in s.problems())


def test_cpu_time_alone_denies_the_proof(fake, between):
    def run():
        fake.cpu_ns += 1_000                            # ran for a microsecond without a switch
        fake.write()
    between.append(run)
    assert not waits.measure(PID, 0.05, interval=0.01).fast


def test_a_spinner_and_a_timed_sleep_get_the_full_measurement(fake):
    fake.state = "R"
    fake.write()
    assert not waits.measure(PID, 0.03, interval=0.01).fast
    fake.state, fake.wchan, fake.syscall = "S", "hrtimer_nanosleep", "230 0x1 0x0 0x7ffc 0x0 0x0 0x0 0x7ffc 0x7f01"
    fake.write()
    s = waits.measure(PID, 0.03, interval=0.01)
    assert not s.fast and s.blocked                     # the full measurement decides: a long sleep is quiet
    assert not waits.blocked_in(PID, 0.03, wchans=("do_msgrcv",), syscalls=("msgrcv",), settle=0.02).sample.fast


def test_the_wrong_wait_gets_the_full_measurement_and_its_verdict(fake):
    fake.wchan, fake.syscall = "do_msgsnd", "69 0x3 0x7ffc 0x100 0x0 0x0 0x0 0x7ffc 0x7f01"
    fake.write()
    b = waits.blocked_in(PID, 0.03, wchans=("do_msgrcv",), syscalls=("msgrcv",), settle=0.02, interval=0.01)
    assert not b.sample.fast and not b.ok and not b.in_expected_wait


def test_without_schedstats_cpu_comes_from_stat(fake):
    fake.schedstat = False
    fake.write()
    c = stillness.read_counters(PID)
    assert c.source == "stat" and c.cpu == 7 and c.switches == 42
    assert waits.measure(PID, 1.0).fast


def test_cpu_seconds_come_from_the_whole_process_stat(fake):
    c = stillness.read_counters(PID)
    assert c.source == "schedstat" and c.cpu == 123_456_789 and c.cpu_seconds == 7 / procfs.CLOCK_TICKS
    (fake.root / str(PID) / "stat").unlink()
    assert stillness.read_counters(PID) is None         # no whole-process figure: no counters at all


def test_the_full_measurement_takes_cpu_seconds_and_switches_from_the_counters(fake, between):
    def busy():
        fake.ticks += 2
        fake.switches += 3
        fake.write()
    between.append(busy)
    s = waits.measure(PID, 0.05, interval=0.01, fast=False)
    looks = s.wakeups // 3                              # the process ran this many times while measured
    assert looks > 0 and s.wakeups == 3 * looks and s.cpu == pytest.approx(2 * looks / procfs.CLOCK_TICKS)


def test_threads_are_summed(fake):
    fake.tids = [PID, PID + 1]
    fake.write()
    c = stillness.read_counters(PID)
    assert c.threads == {str(PID), str(PID + 1)} and c.switches == 84 and c.cpu == 2 * 123_456_789


# ---------------------------------------------------------------- exited means exited (issue 17)

def test_a_failed_read_of_a_live_process_is_not_an_exit(fake, between):
    stat = fake.root / str(PID) / "stat"
    hidden = {"n": 0}

    def flaky():
        hidden["n"] += 1
        if hidden["n"] % 2:
            stat.unlink(missing_ok=True)                # the read fails; the process is still there
        else:
            fake.write()
    between.append(flaky)
    s = waits.measure(PID, 0.05, interval=0.01, fast=False)
    assert not s.exited and s.unread > 0 and s.samples > 0 and s.blocked
    assert "could not be read" in s.describe()


def test_nothing_readable_is_not_blocked(fake):
    (fake.root / str(PID) / "stat").unlink()
    s = waits.measure(PID, 0.03, interval=0.01)
    assert not s.exited and not s.blocked and "could be read" in s.problems()[0]


def test_gone_and_zombie_processes_have_exited(fake):
    fake.state = "Z"
    fake.write()
    assert waits.gone(PID) and waits.measure(PID, 0.03, interval=0.01).exited
    assert waits.gone(PID + 7)                          # no /proc entry at all


# ---------------------------------------------------------------- alive is "not gone"

def test_alive_is_not_gone(fake):
    assert waits.alive(PID)
    (fake.root / str(PID) / "stat").unlink()
    assert waits.alive(PID) and not waits.gone(PID)      # a failed read of an entry still there: not dead
    fake.state = "Z"
    fake.write()
    assert not waits.alive(PID) and waits.gone(PID)
    assert not waits.alive(PID + 1) and not waits.alive(None) and not waits.alive(0)


# ---------------------------------------------------------------- the other readers use the same counters

FUTEX_WAIT = "202 0x7f0010 0x80 0x0 0x0 0x0 0x0 0x7ffc00 0x7f0001"      # futex(addr, FUTEX_WAIT_PRIVATE, 0, NULL)


def test_asleep_in_futex_needs_counters_that_did_not_move(fake, between):
    fake.wchan, fake.syscall = "futex_do_wait", FUTEX_WAIT
    fake.write()
    assert semtrace.all_asleep_in_futex([PID])

    def woke():
        fake.switches += 1                               # one wake-up between the samples
        fake.write()
    between.append(woke)
    assert not semtrace.all_asleep_in_futex([PID])
    between.clear()
    (fake.root / str(PID) / "task" / str(PID) / "status").unlink()
    assert not semtrace.all_asleep_in_futex([PID])       # unreadable: never still


# ---------------------------------------------------------------- busy processes are judged early

def test_a_busy_process_is_judged_before_the_window_ends(fake, between):
    fake.state = "R"
    def spin():
        fake.switches += 50                             # traced: every system call is a switch
        fake.write()
    between.append(spin)
    s = waits.measure(PID, 60.0, interval=0.001)
    assert s.cut_short == 60.0 and not s.blocked and "instead of 60.00 s" in s.describe()


def test_a_quiet_process_and_wanted_figures_get_the_whole_window(fake, between):
    fake.state = "R"                                    # no fast proof
    fake.write()
    assert waits.measure(PID, 0.03, interval=0.01).cut_short == 0.0
    between.append(lambda: (setattr(fake, "switches", fake.switches + 50), fake.write()))
    assert waits.measure(PID, 0.03, interval=0.01, fast=False).cut_short == 0.0


def test_effort_is_spent_by_cpu_time_or_context_switches(fake):
    effort = waits.Effort(PID)
    assert effort.spent() is None
    fake.switches += waits.NEAR_WAIT_SWITCHES + 1
    fake.write()
    assert "context switches" in effort.spent()
    effort = waits.Effort(PID)
    fake.ticks += int(2 * waits.NEAR_WAIT_CPU_SECONDS * procfs.CLOCK_TICKS)
    fake.write()
    assert "CPU time" in effort.spent()


# ---------------------------------------------------------------- what can wake a process up by itself

def test_a_proof_is_not_taken_from_a_process_that_can_wake_itself_up(fake, monkeypatch):
    """A handled SIGALRM every 150 ms can fall between two looks 100 ms apart (it did, for 9 of 10
    gradings of sig-catch's c-alarm-poll mutant): the full measurement decides, and says why."""
    (fake.root / str(PID) / "status").write_text("Name:\trecv\nSigCgt:\t0000000000002000\n")   # bit 13: SIGALRM
    measured = []

    def full(pid, seconds, *a, **kw):
        measured.append(pid)
        return waits.BlockingSample(pid=pid, wall=seconds, cpu=0.0, wakeups=7), 0
    monkeypatch.setattr(waits, "_sample", full)
    s = waits.measure(PID, 1.0)
    assert measured == [PID] and not s.fast and not s.blocked
    assert "handles SIGALRM" in s.self_waker and "not proven in a tenth of a second" in s.describe()
    b = waits.blocked_in(PID, 1.0, wchans=("do_msgrcv",), syscalls=("msgrcv",), settle=1.0)
    assert not b.sample.fast and "handles SIGALRM" in b.sample.self_waker


def test_what_can_wake_a_process_up(fake):
    d = fake.root / str(PID)
    assert stillness.self_waker(PID) == ""
    (d / "status").write_text("Name:\trecv\nSigCgt:\t0000000000004002\n")      # SIGINT, SIGTERM: from outside
    assert stillness.self_waker(PID) == ""
    (d / "timers").write_text("ID: 0\nsignal: 10/0000000000000000\nnotify: signal/pid.4242\nClockID: 1\n")
    assert "POSIX timer" in stillness.self_waker(PID)
    (d / "timers").unlink()
    (d / "fd").mkdir()
    (d / "fd" / "3").symlink_to("anon_inode:[timerfd]")
    assert "timer file descriptor (fd 3" in stillness.self_waker(PID)
    (d / "fd" / "3").unlink()
    fake.tids = [PID, PID + 1]
    fake.write()
    thread = d / "task" / str(PID + 1)
    rest = ["S", "1"] + ["0"] * 19
    (thread / "stat").write_text(f"{PID + 1} (recv) {' '.join(rest)}\n")
    (thread / "wchan").write_text("futex_wait_queue")
    (thread / "syscall").write_text("202 0x7f 0x189 0x0 0x0 0x0 0x0 0x7ffc00 0x7f0001\n")   # futex, no timeout
    assert stillness.self_waker(PID) == ""
    (thread / "syscall").write_text("230 0x1 0x0 0x7ffc 0x0 0x0 0x0 0x7ffc00 0x7f0001\n")    # clock_nanosleep
    assert f"(tid {PID + 1}) sleeps in clock_nanosleep with a timeout" in stillness.self_waker(PID)
    (thread / "stat").write_text(f"{PID + 1} (recv) {' '.join(['R'] + rest[1:])}\n")
    assert "is not asleep" in stillness.self_waker(PID)


def test_measure_together_gives_each_process_its_own_verdict(monkeypatch):
    seen = []

    def fake_measure(pid, seconds, **limits):
        seen.append((pid, seconds, limits))
        if pid == 3:
            raise ProcessLookupError(pid)
        return waits.BlockingSample(pid=pid, wall=seconds, cpu=0.0, wakeups=pid)
    monkeypatch.setattr(waits, "measure", fake_measure)
    out = waits.measure_together([1, 2], 0.5, max_wakeups_per_second=3.0)
    assert [s.pid for s in out] == [1, 2] and [s.wakeups for s in out] == [1, 2]
    assert sorted(seen) == [(1, 0.5, {"max_wakeups_per_second": 3.0}), (2, 0.5, {"max_wakeups_per_second": 3.0})]
    with pytest.raises(ProcessLookupError):
        waits.measure_together([1, 3], 0.5)
