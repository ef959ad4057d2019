"""alarms: the period of the ITIMER_REAL timer a process armed last, from strace's lines; and a wait
whose handled alarm comes more often than the limit is not blocked, whatever the count showed."""
from grader.harness import alarms
from grader.harness.trace import parse
from grader.harness.waits import BlockingSample

ARM_150MS = ("7  09:00:00.000001 setitimer(ITIMER_REAL, {it_interval={tv_sec=0, tv_usec=150000}, "
             "it_value={tv_sec=0, tv_usec=150000}}, NULL) = 0")
ARM_1S = ("7  09:00:00.000002 setitimer(ITIMER_REAL, {it_interval={tv_sec=1, tv_usec=0}, "
          "it_value={tv_sec=1, tv_usec=0}}, NULL) = 0")
ONE_SHOT = ("7  09:00:00.000003 setitimer(ITIMER_REAL, {it_interval={tv_sec=0, tv_usec=0}, "
            "it_value={tv_sec=0, tv_usec=100000}}, NULL) = 0")
DISARM = ("7  09:00:00.000004 setitimer(ITIMER_REAL, {it_interval={tv_sec=0, tv_usec=100000}, "
          "it_value={tv_sec=0, tv_usec=0}}, NULL) = 0")


def periodic_alarm(lines: list[str], tids: set[str]) -> float | None:
    """alarms.periodic_alarm of strace's `lines` (parsed as the trace module parses a file)."""
    return alarms.periodic_alarm(parse("\n".join(lines) + "\n"), {int(t) for t in tids})


def test_the_last_arming_decides():
    assert periodic_alarm([ARM_150MS], {"7"}) == 0.15
    assert periodic_alarm([ARM_150MS, ARM_1S], {"7"}) == 1.0
    assert periodic_alarm([ARM_1S, ARM_150MS], {"7"}) == 0.15


def test_one_shots_disarming_and_alarm_leave_no_period():
    assert periodic_alarm([ARM_150MS, ONE_SHOT], {"7"}) is None
    assert periodic_alarm([ARM_150MS, DISARM], {"7"}) is None
    assert periodic_alarm([ARM_150MS, "7  09:00:01.000000 alarm(3)                = 0"], {"7"}) is None
    assert periodic_alarm([], {"7"}) is None


def test_other_processes_and_failed_calls_change_nothing():
    assert periodic_alarm([ARM_150MS.replace("7 ", "8 ", 1)], {"7"}) is None
    failed = ARM_1S.replace(") = 0", ") = -1 EINVAL (Invalid argument)")
    assert periodic_alarm([ARM_150MS, failed], {"7"}) == 0.15
    unfinished = ARM_150MS.replace(") = 0", " <unfinished ...>")
    assert periodic_alarm([unfinished, "7  09:00:00.1 <... setitimer resumed>) = 0"], {"7", "9"}) == 0.15


def test_a_handled_alarm_above_the_limit_is_busy_even_when_few_wakeups_were_counted():
    quiet = BlockingSample(pid=7, wall=1.0, cpu=0.0, wakeups=4, samples=20, states={"S": 20})
    assert quiet.blocked
    quiet.alarm_period = 1.0
    assert quiet.blocked
    quiet.alarm_period = 0.15
    assert not quiet.blocked and "every 150 ms: 6.7 wake-ups a second" in quiet.problems()[0]
