from grader.harness import processes
from grader.harness.trace import parse

TRACE = """\
100 10:00:00.000001 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|SIGCHLD) = 101
100 10:00:00.000002 clone3({flags=CLONE_VM, exit_signal=SIGCHLD}, 88) = 102
100 10:00:00.000003 fork() = -1 EAGAIN (Resource temporarily unavailable)
100 10:00:00.000004 wait4(101, [{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = 101
100 10:00:00.000005 waitid(P_PID, 102, {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=102, si_uid=0, si_status=0}, WEXITED, NULL) = 0
100 10:00:00.000006 waitid(P_ALL, 0, {}, WEXITED|WNOHANG, NULL) = 0
"""


def test_children_skip_failed_forks():
    assert processes.children(parse(TRACE), 100) == [101, 102]


def test_waitid_names_the_child_in_si_pid_not_in_its_return_value():
    assert processes.reaped(parse(TRACE), 100) == {101, 102}


def test_nothing_reaped_by_another_process():
    assert processes.reaped(parse(TRACE), 999) == set()
