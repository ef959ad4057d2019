"""Replaying fd tables from a trace: which process held a pipe end without ever using it."""
from grader.audit.container.fds import simulate, unused_pipe_ends
from grader.harness import trace

FORK = "clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f01)"

PARENT_KEEPS_ENDS = f"""\
72    08:36:54.021381 pipe2([3, 4], 0)  = 0
72    08:36:54.021500 {FORK} = 73
73    08:36:54.021600 close(3) = 0
73    08:36:54.021700 write(4, "one line\\n", 9) = 9
73    08:36:54.021800 close(4) = 0
73    08:36:54.021900 exit_group(0) = ?
73    08:36:54.022000 +++ exited with 0 +++
72    08:36:54.022100 {FORK} = 74
74    08:36:54.022200 close(4) = 0
74    08:36:54.022300 read(3, "one line\\n", 128) = 9
74    08:36:54.022400 write(1, "one line\\n", 9) = 9
74    08:36:54.022500 read(3,  <unfinished ...>
72    08:36:54.022600 wait4(73, NULL, 0, NULL) = 73
72    08:36:54.022700 wait4(74,  <unfinished ...>
72    08:36:56.000000 --- SIGTERM {{si_signo=SIGTERM, si_code=SI_USER, si_pid=8, si_uid=0}} ---
72    08:36:56.000100 +++ killed by SIGTERM +++
74    08:36:56.100000 +++ killed by SIGKILL +++
"""


def test_parent_holding_both_ends_while_waiting_is_reported_once_per_end():
    held = unused_pipe_ends(trace.parse(PARENT_KEEPS_ENDS))
    assert [(h.pid, h.side, h.fds) for h in held] == [(72, "read", [3]), (72, "write", [4])]
    assert "wait4(73" in held[0].when_raw and held[0].when.startswith("while it waited")
    assert held[0].got.startswith("created it: ") and "pipe2([3, 4], 0)" in held[0].got


def test_child_events_before_the_parents_clone_line_inherit_the_table_at_the_fork():
    text = """\
10    09:00:00.000001 pipe([3, 4]) = 0
10    09:00:00.000002 clone(child_stack=NULL, flags=SIGCHLD <unfinished ...>
11    09:00:00.000003 close(4) = 0
11    09:00:00.000004 read(3, "x", 10) = 1
11    09:00:00.000005 read(3, "", 10) = 0
11    09:00:00.000006 exit_group(0) = ?
11    09:00:00.000007 +++ exited with 0 +++
10    09:00:00.000008 <... clone resumed>) = 11
10    09:00:00.000009 close(3) = 0
10    09:00:00.000010 write(4, "x", 1) = 1
10    09:00:00.000011 close(4) = 0
10    09:00:00.000012 wait4(11, NULL, 0, NULL) = 11
10    09:00:00.000013 +++ exited with 0 +++
"""
    assert unused_pipe_ends(trace.parse(text)) == []


def test_writer_child_that_keeps_the_read_end_is_reported_at_its_exit():
    text = f"""\
95    08:36:55.889587 pipe2([3, 4], 0)  = 0
95    08:36:55.889607 {FORK} = 96
96    08:36:55.889700 write(4, "hello\\n", 6) = 6
96    08:36:55.889750 close(4) = 0
96    08:36:55.889836 +++ exited with 0 +++
95    08:36:55.889900 close(4) = 0
95    08:36:55.890000 read(3, "hello\\n", 128) = 6
95    08:36:55.890100 read(3, "", 128) = 0
95    08:36:55.890200 close(3) = 0
95    08:36:55.890300 wait4(96, NULL, 0, NULL) = 96
95    08:36:55.890400 +++ exited with 0 +++
"""
    held = unused_pipe_ends(trace.parse(text))
    assert [(h.pid, h.side, h.fds, h.when) for h in held] == [(96, "read", [3], "when it exited")]
    assert held[0].got.startswith("inherited from pid 95")


def test_dup2_then_exec_with_cloexec_ends_counts_as_use_and_closes_the_originals():
    text = f"""\
20    10:00:00.000001 pipe2([3, 4], O_CLOEXEC) = 0
20    10:00:00.000002 {FORK} = 21
21    10:00:00.000003 dup2(4, 1) = 1
21    10:00:00.000004 execve("/bin/echo", ["echo", "hi"], 0x7ffd /* 3 vars */) = 0
21    10:00:00.000005 write(1, "hi\\n", 3) = 3
21    10:00:00.000006 exit_group(0) = ?
21    10:00:00.000007 +++ exited with 0 +++
20    10:00:00.000008 close(4) = 0
20    10:00:00.000009 read(3, "hi\\n", 100) = 3
20    10:00:00.000010 wait4(21, NULL, 0, NULL) = 21
20    10:00:00.000011 +++ exited with 0 +++
"""
    hist = simulate(trace.parse(text))
    assert hist.held == []
    assert (21, 1, "write") in hist.used


def test_wnohang_waits_are_not_judgement_points_and_later_use_clears_an_end():
    text = f"""\
30    10:00:00.000001 pipe([3, 4]) = 0
30    10:00:00.000002 {FORK} = 31
31    10:00:00.000003 close(3) = 0
31    10:00:00.000004 write(4, "x", 1) = 1
31    10:00:00.000005 +++ exited with 0 +++
30    10:00:00.000006 wait4(-1, NULL, WNOHANG, NULL) = 0
30    10:00:00.000007 close(4) = 0
30    10:00:00.000008 wait4(31, NULL, 0, NULL) = 31
30    10:00:00.000009 read(3, "x", 1) = 1
30    10:00:00.000010 close(3) = 0
30    10:00:00.000011 +++ exited with 0 +++
"""
    assert unused_pipe_ends(trace.parse(text)) == []


def test_threads_share_the_table_and_their_use_counts_for_the_process():
    text = """\
40    10:00:00.000001 pipe([3, 4]) = 0
40    10:00:00.000002 clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM, exit_signal=0}, 88) = 41
41    10:00:00.000003 write(4, "x", 1) = 1
41    10:00:00.000004 read(3, "x", 1) = 1
41    10:00:00.000005 +++ exited with 0 +++
40    10:00:00.000006 +++ exited with 0 +++
"""
    assert unused_pipe_ends(trace.parse(text)) == []


def test_the_shared_replay_honours_ioctl_fioclex_at_execve():
    from grader.harness import pipes
    from grader.harness.trace import parse
    text = ("10    09:00:00.1 pipe2([3, 4], 0) = 0\n10    09:00:00.2 ioctl(4, FIOCLEX) = 0\n"
            '10    09:00:00.3 execve("/bin/cat", ["cat"], 0x7ffd /* 3 vars */) = 0\n')
    _, kept = pipes.traced_pipe_ends(parse(text)).held_at_exec(10)
    assert [(e.fd, e.access) for e in kept] == [(3, "read")]
