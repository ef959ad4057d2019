"""Signal helpers: masks, rt_sigaction decoding and handler spans, on captured strace 6.1 text."""
import signal
import subprocess
import sys

from grader.harness import signals, trace
from grader.harness.deadline import Deadline
from grader.harness.spawn import Run

# A C program: handlers installed, SIGKILL refused, one SIGINT handled in the
# main loop, one whose handler writes, and SIGTERM (default action) at the end.
C_TRACE = """\
27 08:17:37.599433 execve("./t", ["./t"], 0x7ffea8abc490 /* 35 vars */) = 0
27 08:17:37.600345 rt_sigaction(SIGINT, {sa_handler=0x558a44dd8270, sa_mask=[], sa_flags=SA_RESTORER|SA_RESTART, sa_restorer=0x7fb45904d050}, NULL, 8) = 0
27 08:17:37.600593 rt_sigaction(SIGKILL, {sa_handler=0x558a44dd8270, sa_mask=[], sa_flags=SA_RESTORER, sa_restorer=0x7fb45904d050}, NULL, 8) = -1 EINVAL (Invalid argument)
27 08:17:37.600727 write(1, "cannot catch SIGKILL\\nready 1\\n", 29) = 29
27 08:17:37.600859 pause()           = ? ERESTARTNOHAND (To be restarted if no handler)
27 08:17:38.105102 --- SIGINT {si_signo=SIGINT, si_code=SI_USER, si_pid=1, si_uid=0} ---
27 08:17:38.105162 rt_sigreturn({mask=[]}) = -1 EINTR (Interrupted system call)
27 08:17:38.105201 write(1, "caught SIGINT 1\\n", 16) = 16
27 08:17:38.105211 pause()           = ? ERESTARTNOHAND (To be restarted if no handler)
27 08:17:38.306472 --- SIGINT {si_signo=SIGINT, si_code=SI_USER, si_pid=1, si_uid=0} ---
27 08:17:38.307666 write(1, "caught SIGINT 2\\n", 16) = 16
27 08:17:38.307716 rt_sigreturn({mask=[]}) = -1 EINTR (Interrupted system call)
27 08:17:38.307754 pause()           = ? ERESTARTNOHAND (To be restarted if no handler)
27 08:17:38.508259 --- SIGTERM {si_signo=SIGTERM, si_code=SI_USER, si_pid=1, si_uid=0} ---
27 08:17:38.508631 +++ killed by SIGTERM +++
"""


def spans(text, **kw):
    return signals.handler_spans(trace.parse(text), **kw)


def test_a_span_runs_from_delivery_to_rt_sigreturn():
    found = spans(C_TRACE)
    assert [s.signal for s in found] == ["SIGINT", "SIGINT"]     # SIGTERM had no handler: no span
    quiet, noisy = found
    assert quiet.returned and quiet.events == [] and quiet.writes() == []
    assert quiet.delivery.raw.endswith("---") and quiet.end.name == "rt_sigreturn"
    assert [w.arg(1) for w in noisy.writes(("1", "2"))] == ['"caught SIGINT 2\\n"']
    assert "rt_sigreturn" in noisy.excerpt() and "--- SIGINT" in noisy.excerpt()


def test_sigactions_decoded():
    sas = signals.sigactions(trace.parse(C_TRACE))
    assert [(s.signal, s.sets, s.installs_handler) for s in sas] == [("SIGINT", True, True), ("SIGKILL", False, False)]
    assert sas[0].flags == ["SA_RESTORER", "SA_RESTART"] and not sas[0].one_shot
    assert sas[1].call.errno == "EINVAL" and sas[1].handler.startswith("0x")
    assert signals.sigactions(trace.parse(C_TRACE), "SIGKILL")[0].signal == "SIGKILL"


PYTHON_TRACE = """\
13 08:22:05.317277 execve("/usr/bin/python3", ["python3", "sigcatch.py"], 0x7ffc3c381448 /* 10 vars */) = 0
13 08:22:05.327256 rt_sigaction(SIGPIPE, {sa_handler=SIG_IGN, sa_mask=[], sa_flags=SA_RESTORER|SA_ONSTACK, sa_restorer=0x7fad3c55d050}, {sa_handler=SIG_DFL, sa_mask=[], sa_flags=0}, 8) = 0
13 08:22:05.327678 rt_sigaction(SIGINT, NULL, {sa_handler=SIG_DFL, sa_mask=[], sa_flags=0}, 8) = 0
13 08:22:05.335304 rt_sigaction(SIGINT, {sa_handler=0x6635d0, sa_mask=[], sa_flags=SA_RESTORER|SA_ONSTACK, sa_restorer=0x7fad3c55d050}, {sa_handler=SIG_DFL, sa_mask=[], sa_flags=0}, 8) = 0
13 08:22:05.335525 write(1, "ready 0\\n", 8) = 8
13 08:22:05.335539 pause()           = ? ERESTARTNOHAND (To be restarted if no handler)
13 08:22:06.100000 --- SIGPIPE {si_signo=SIGPIPE, si_code=SI_USER, si_pid=7, si_uid=0} ---
13 08:22:06.328801 --- SIGINT {si_signo=SIGINT, si_code=SI_USER, si_pid=7, si_uid=0} ---
13 08:22:06.328846 rt_sigreturn({mask=[]}) = -1 EINTR (Interrupted system call)
13 08:22:06.328947 write(1, "caught SIGINT 1\\n", 16) = 16
"""


def test_queries_do_not_change_dispositions_and_ignored_signals_open_no_span():
    sas = signals.sigactions(trace.parse(PYTHON_TRACE), "SIGINT")
    assert [s.sets for s in sas] == [False, True]               # act NULL: only a query
    found = spans(PYTHON_TRACE)
    assert [s.signal for s in found] == ["SIGINT"]              # SIGPIPE is ignored (SIG_IGN)
    assert found[0].writes() == []                              # CPython's C handler only sets a flag


ONE_SHOT = """\
5 10:00:00.000001 rt_sigaction(SIGINT, {sa_handler=0x401000, sa_mask=[], sa_flags=SA_RESTORER|SA_RESETHAND, sa_restorer=0x7f00}, NULL, 8) = 0
5 10:00:01.000000 --- SIGINT {si_signo=SIGINT, si_code=SI_USER, si_pid=1, si_uid=0} ---
5 10:00:01.000100 rt_sigreturn({mask=[]}) = -1 EINTR (Interrupted system call)
5 10:00:02.000000 --- SIGINT {si_signo=SIGINT, si_code=SI_USER, si_pid=1, si_uid=0} ---
5 10:00:02.000100 +++ killed by SIGINT +++
"""


def test_sa_resethand_handler_runs_once():
    assert signals.sigactions(trace.parse(ONE_SHOT))[0].one_shot
    assert len(spans(ONE_SHOT)) == 1


NESTED_AND_CHILDREN = """\
7 10:00:00.000001 rt_sigaction(SIGUSR1, {sa_handler=0x401000, sa_mask=[], sa_flags=SA_RESTORER|SA_NODEFER, sa_restorer=0x7f00}, NULL, 8) = 0
7 10:00:00.000002 rt_sigaction(SIGTERM, {sa_handler=0x401100, sa_mask=[], sa_flags=SA_RESTORER, sa_restorer=0x7f00}, NULL, 8) = 0
7 10:00:00.000003 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f10) = 8
8 10:00:00.000004 --- SIGUSR1 {si_signo=SIGUSR1, si_code=SI_USER, si_pid=1, si_uid=0} ---
8 10:00:00.000005 write(2, "child handler\\n", 14) = 14
8 10:00:00.000006 rt_sigreturn({mask=[]}) = 0
8 10:00:00.000007 execve("/bin/true", ["true"], 0x7ffd /* 1 var */) = 0
8 10:00:00.000008 --- SIGUSR1 {si_signo=SIGUSR1, si_code=SI_USER, si_pid=1, si_uid=0} ---
8 10:00:00.000009 +++ killed by SIGUSR1 +++
7 10:00:01.000000 --- SIGUSR1 {si_signo=SIGUSR1, si_code=SI_USER, si_pid=1, si_uid=0} ---
7 10:00:01.000001 write(1, "outer\\n", 6) = 6
7 10:00:01.000002 --- SIGUSR1 {si_signo=SIGUSR1, si_code=SI_USER, si_pid=1, si_uid=0} ---
7 10:00:01.000003 write(1, "inner\\n", 6) = 6
7 10:00:01.000004 rt_sigreturn({mask=[]}) = 0
7 10:00:01.000005 write(1, "outer again\\n", 12) = 12
7 10:00:01.000006 rt_sigreturn({mask=[]}) = 0
7 10:00:02.000000 --- SIGTERM {si_signo=SIGTERM, si_code=SI_USER, si_pid=1, si_uid=0} ---
7 10:00:02.000001 write(1, "bye\\n", 4) = 4
7 10:00:02.000002 exit_group(0)     = ?
7 10:00:02.000003 +++ exited with 0 +++
"""


def test_fork_inherits_handlers_and_execve_resets_them():
    child = spans(NESTED_AND_CHILDREN, pid=8)
    assert len(child) == 1 and child[0].writes(("2",))[0].arg(1) == '"child handler\\n"'


def test_nested_handlers_and_a_handler_that_never_returns():
    outer, inner, term = spans(NESTED_AND_CHILDREN, pid=7)
    assert (outer.depth, inner.depth) == (0, 1)
    assert [w.arg(1) for w in inner.writes()] == ['"inner\\n"']
    assert [w.arg(1) for w in outer.writes()] == ['"outer\\n"', '"inner\\n"', '"outer again\\n"']
    assert outer.end.time > inner.end.time
    assert term.signal == "SIGTERM" and not term.returned
    assert [c.name for c in term.calls()] == ["write", "exit_group"]
    assert "never returned" in term.excerpt()
    assert [s.signal for s in spans(NESTED_AND_CHILDREN, signame="SIGTERM")] == ["SIGTERM"]


def test_masks_decode_to_names():
    assert signals.decode_mask("0000000000004002") == ["SIGINT", "SIGTERM"]
    assert signals.decode_mask("0") == []
    state = signals.parse_signal_state(1, {"SigCgt": "0000000000004002", "SigIgn": "0000000001001000",
                                           "SigBlk": "0000000000000002", "SigPnd": "0000000000000000",
                                           "ShdPnd": "0000000000004000"})
    assert state.caught == ["SIGINT", "SIGTERM"] and state.ignored == ["SIGPIPE", "SIGXFSZ"]
    assert state.blocked == ["SIGINT"] and state.pending == ["SIGTERM"]
    assert state.catches("SIGTERM") and not state.catches("SIGUSR1")
    assert "SigCgt 0000000000004002: SIGINT SIGTERM" in state.describe()
    assert signals.name(2) == "SIGINT" and signals.number("SIGTERM") == 15 and signals.number("SIGNOPE") is None


CHILD = ("import signal, sys\n"
         "signal.signal(signal.SIGUSR1, lambda *a: print('got', flush=True))\n"
         "print('ready', flush=True)\n"
         "while True: signal.pause()\n")


class _Run:
    """The few Run members send_and_await uses, over a plain subprocess."""

    def __init__(self, proc):
        self.proc, self.pid = proc, proc.pid

    def signal(self, signum):
        self.proc.send_signal(signum)

    def read_line(self, timeout):
        line = self.proc.stdout.readline()
        return line.rstrip("\n") if line else None

    read_until = Run.read_until             # built on _read_line and deadline

    def _read_line(self, deadline):
        return self.read_line(deadline.left())

    def deadline(self, timeout):
        return Deadline(timeout)

    def wait(self, timeout):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def describe_exit(self):
        return f"exited with status {self.proc.returncode}"


def test_live_process_masks_sleep_and_delivery():
    proc = subprocess.Popen([sys.executable, "-c", CHILD], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline() == "ready\n"
        asleep = signals.wait_until_asleep(proc.pid, 5.0)
        assert asleep.asleep and asleep.syscall == "pause", asleep.describe()
        state = signals.signal_state(proc.pid)
        assert state.catches("SIGUSR1")
        d = signals.send_and_await(_Run(proc), signal.SIGUSR1, "got", timeout=5.0)
        assert d.answered and d.line == "got" and d.before.asleep and d.signame == "SIGUSR1"
    finally:
        proc.kill()
        proc.wait()
    gone = signals.wait_until_asleep(proc.pid, 0.1)
    assert gone.exited and not gone.asleep and signals.signal_state(proc.pid) is None


def _fake_proc(tmp_path, monkeypatch, state: str, syscall_nr: int):
    """A /proc with one process 42 in `state`, inside system call `syscall_nr`."""
    d = tmp_path / "42"
    d.mkdir(exist_ok=True)
    (d / "stat").write_text(f"42 (prog) {state} 1 42 42 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 100 0 0\n")
    (d / "syscall").write_text(f"{syscall_nr} 0x0 0x0 0x0 0x0 0x0 0x0 0x7ffc 0x7f00\n")
    (d / "status").write_text("SigPnd:\t0000000000000000\nShdPnd:\t0000000000000000\nSigBlk:\t0000000000000000\n")
    (d / "wchan").write_text("0")
    monkeypatch.setattr(signals.procfs, "PROC", str(tmp_path))


def test_a_process_sleeping_in_a_wait_is_asleep(tmp_path, monkeypatch):
    _fake_proc(tmp_path, monkeypatch, "S", 130)
    found = signals.wait_until_asleep(42, 0.05)
    assert found.asleep and found.syscall == "rt_sigsuspend"


def test_a_process_still_in_execve_is_not_asleep(tmp_path, monkeypatch):
    """Seen on a loaded machine: the tracee in D (or S) inside execve, before any handler exists."""
    for state in ("D", "S"):
        _fake_proc(tmp_path, monkeypatch, state, 59)
        assert not signals.wait_until_asleep(42, 0.05).asleep


def test_uninterruptible_disk_wait_is_not_asleep(tmp_path, monkeypatch):
    _fake_proc(tmp_path, monkeypatch, "D", 0)        # read() of a file, a Python import say
    assert not signals.wait_until_asleep(42, 0.05).asleep


class _Ended:
    """A run whose wait() answers at once with `rc`, recording the time limits it was asked for."""

    def __init__(self, pid, rc):
        self.pid, self.rc, self.waited = pid, rc, []

    def wait(self, timeout):
        self.waited.append(timeout)
        return self.rc


def test_still_running_is_judged_from_kernel_state_without_a_grace_wait(tmp_path, monkeypatch):
    _fake_proc(tmp_path, monkeypatch, "S", 34)       # asleep in pause() again: it goes on
    asleep = _Ended(42, None)
    assert signals.still_running(asleep, 1.0) and asleep.waited == []
    gone = _Ended(43, 1)                             # not in /proc: it has exited, its status is collected
    assert not signals.still_running(gone, 1.0) and gone.waited == [5.0]


EXEC_TRACE = """100 10:00:00.000001 execve("/usr/bin/python3", ["python3", "p.py"], 0x0 /* 1 vars */) = 0
100 10:00:00.000002 rt_sigaction(SIGPIPE, {sa_handler=SIG_IGN, sa_mask=[], sa_flags=SA_RESTORER}, NULL, 8) = 0
101 10:00:00.000003 execve("/usr/bin/yes", ["yes"], 0x0 /* 1 vars */) = 0
100 10:00:00.000004 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|SIGCHLD) = 101
102 10:00:00.000005 rt_sigaction(SIGPIPE, {sa_handler=SIG_DFL, sa_mask=[], sa_flags=SA_RESTORER}, NULL, 8) = 0
102 10:00:00.000006 execve("/usr/bin/head", ["head"], 0x0 /* 1 vars */) = 0
100 10:00:00.000007 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|SIGCHLD) = 102
103 10:00:00.000008 rt_sigaction(SIGPIPE, {sa_handler=0x4011d6, sa_mask=[], sa_flags=SA_RESTORER}, NULL, 8) = 0
103 10:00:00.000009 execve("/usr/bin/cat", ["cat"], 0x0 /* 1 vars */) = 0
100 10:00:00.000010 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|SIGCHLD) = 103
"""


def test_disposition_at_exec_follows_forks_even_when_the_child_is_printed_first():
    t = trace.parse(EXEC_TRACE)
    assert signals.disposition_at_exec(t, 101, "SIGPIPE") == "SIG_IGN"    # inherited from the parent's SIG_IGN
    assert signals.disposition_at_exec(t, 102, "SIGPIPE") == "SIG_DFL"    # restored before execve
    assert signals.disposition_at_exec(t, 103, "SIGPIPE") == "handler"    # execve then resets it (kernel's job)
    assert signals.disposition_at_exec(t, 100, "SIGPIPE") == "SIG_DFL"    # the traced program starts at default
    assert signals.disposition_at_exec(t, 999, "SIGPIPE") is None
