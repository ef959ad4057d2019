"""Counting strace's stops from its live output file (tracerstops): written here as strace writes it,
a call's entry and its result separately, with no process and no strace."""
from grader.harness import procfs
from grader.harness.tracerstops import LiveStops, trace_file_of


class Tracer:
    """An strace output file that a test appends to, a stop at a time."""

    def __init__(self, path):
        self.path = path
        path.write_bytes(b"")

    def write(self, text: str):
        with open(self.path, "ab") as f:
            f.write(text.encode())


def test_one_timer_wakeup_is_five_stops(tmp_path):
    """sigsuspend woken by a handled SIGALRM, as in the trace of sig-catch's c-alarm-poll mutant."""
    t = Tracer(tmp_path / "run.trace")
    t.write("42 05:27:20.841170 rt_sigsuspend([], 8")                    # asleep before the count starts
    stops = LiveStops(str(t.path), {"42"})
    assert stops.update() == 0
    t.write(") = ? ERESTARTNOHAND (To be restarted if no handler)\n")   # exit stop
    t.write("42 05:27:21.241164 --- SIGALRM {si_signo=SIGALRM, si_code=SI_KERNEL} ---\n")   # delivery stop
    assert stops.update() == 2
    t.write("42 05:27:21.241268 rt_sigreturn({mask=[INT TERM]}")          # entry
    assert stops.update() == 3
    t.write(") = -1 EINTR (Interrupted system call)\n")                    # exit
    t.write("42 05:27:21.241376 rt_sigsuspend([], 8")                      # entry: asleep again
    assert stops.update() == 5
    assert stops.update() == 5                                             # nothing new, nothing counted


def test_other_processes_exits_and_split_calls(tmp_path):
    t = Tracer(tmp_path / "run.trace")
    stops = LiveStops(str(t.path), {"42", "43"})
    t.write("42 05:00:00.000001 msgrcv(3, 0x7ffc, 256, 0, 0 <unfinished ...>\n")      # entry
    t.write("99 05:00:00.000002 write(1, \"x\", 1) = 1\n")                            # another process
    t.write("43 05:00:00.000003 write(1, \"a ) = 5 trap\", 12) = 12\n")               # a thread: 2
    t.write("42 05:00:00.000004 <... msgrcv resumed>) = 12\n")                       # exit
    t.write("99 05:00:00.000005 +++ exited with 0 +++\n")
    t.write("43 05:00:00.000006 +++ exited with 0 +++\n")                             # no stop
    assert stops.update() == 4


def test_a_line_begun_before_the_start_counts_its_exit_only(tmp_path):
    t = Tracer(tmp_path / "run.trace")
    t.write("42 05:00:00.000001 close(3) = 0\n" * 2000 + "42 05:00:01.000000 accept(3, NULL, NULL")
    stops = LiveStops(str(t.path), {"42"})
    t.write(") = 4\n")
    assert stops.update() == 1


def test_the_trace_file_comes_from_the_tracer_of_the_process(tmp_path, monkeypatch):
    monkeypatch.setattr(procfs, "PROC", str(tmp_path))

    strace = tmp_path / "bin" / "strace"
    strace.parent.mkdir()
    strace.write_text("")

    def proc(pid, status, cmdline=b"", exe=None):
        (tmp_path / str(pid)).mkdir()
        (tmp_path / str(pid) / "status").write_text(status)
        (tmp_path / str(pid) / "cmdline").write_bytes(cmdline)
        if exe:
            (tmp_path / str(pid) / "exe").symlink_to(exe)
    proc(7, "Name:\tstrace\nTracerPid:\t0\n",
         b"/usr/bin/strace\0-f\0-q\0-o\0/run/ipcgrade/traces/003-recv.trace\0--\0./recv\0-o\0x\0", strace)
    proc(8, "Name:\trecv\nTracerPid:\t7\n")
    proc(9, "Name:\tstrace\nTracerPid:\t0\n", b"strace\0-o\0/work/forged-trace\0", tmp_path / "strace")
    proc(10, "Name:\trecv\nTracerPid:\t9\n")
    assert trace_file_of(8, str(strace)) == "/run/ipcgrade/traces/003-recv.trace"
    assert trace_file_of(7, str(strace)) is None      # not traced
    assert trace_file_of(10, str(strace)) is None     # traced by a program that only calls itself strace
    assert trace_file_of(11, str(strace)) is None     # gone
    assert LiveStops.of(7) is None


def test_restart_counts_from_then_on(tmp_path):
    t = Tracer(tmp_path / "run.trace")
    stops = LiveStops(str(t.path), {"42"})
    t.write("42 05:00:00.000001 close(3) = 0\n42 05:00:00.000002 pause(")
    stops.restart()
    assert stops.count == 0
    t.write(") = ? ERESTARTNOHAND (To be restarted if no handler)\n")
    assert stops.update() == 1
