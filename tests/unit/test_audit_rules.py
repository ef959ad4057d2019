"""The audit rules added for real-world programs (issue 15), judged from captured trace text and
/proc snapshots, without a container: crashes, hangs, timed waits, kept pipe ends, socket files,
busy waiting judged from the trace, short-lived zombies, certainty."""
from grader.audit.container.findings import audit
from grader.audit.container.lifecycle import crashes, zombies
from grader.audit.container.objects import sockets_left
from grader.audit.container.observation import (
    CERTAIN,
    LIKELY,
    Observation,
    PeerEnd,
    PipeWait,
    ProcessRun,
    StuckProcess,
    Window,
)
from grader.audit.container.pipe_rules import pipe_hangs
from grader.audit.container.waits import busy_waits, hangs
from grader.harness import trace

FORK = "clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f01)"


def obs_of(text: str, name: str = "prog", pid: int = 10, language: str = "c", **kw) -> Observation:
    stderr = kw.pop("stderr", "")
    return Observation(runs=[ProcessRun(name, [name], language, pid, trace.parse(text), kw.pop("exit", ""), "",
                                        stderr)], **kw)


# ------------------------------------------------------------------ crashes

def test_sigsegv_and_a_python_traceback_are_crashes_but_the_audits_sigterm_is_not():
    segv = ("10    09:00:00.1 --- SIGSEGV {si_signo=SIGSEGV, si_code=SEGV_MAPERR, si_addr=NULL} ---\n"
            "10    09:00:00.2 +++ killed by SIGSEGV (core dumped) +++\n")
    [f] = crashes(obs_of(segv))
    assert f.kind == "crash" and "SIGSEGV" in f.message and f.certainty == CERTAIN
    tb = "Traceback (most recent call last):\n  File \"r.py\", line 4, in <module>\nsysv_ipc.ExistentialError: none\n"
    [g] = crashes(obs_of("10    09:00:00.2 +++ exited with 1 +++\n", language="python", stderr=tb))
    assert "sysv_ipc.ExistentialError: none" in g.message
    assert crashes(obs_of("10    09:00:00.2 +++ killed by SIGTERM +++\n")) == []
    assert crashes(obs_of("10    09:00:00.2 +++ exited with 0 +++\n")) == []


# ------------------------------------------------------------------ hangs

def _stuck(pid, call, args, **kw):
    return StuckProcess(pid, f"p{pid}", kw.pop("state", "S"), call, args, blocked=kw.pop("blocked", True), **kw)


def test_a_lone_semop_waiter_hangs_and_two_make_a_deadlock():
    [f] = hangs(Observation(runs=[], stuck=[_stuck(5, "semtimedop", [0, 0, 1, 0])]))
    assert f.kind == "hang" and "no other process is left" in f.message
    two = hangs(Observation(runs=[], stuck=[_stuck(5, "semtimedop", [0, 0, 1, 0]),
                                            _stuck(6, "semtimedop", [0, 0, 1, 0])]))
    assert len(two) == 2 and all("deadlock" in f.message for f in two)


def test_a_futex_in_private_memory_of_a_single_thread_is_proven_stuck():
    shared_op = 0x109      # FUTEX_WAIT_BITSET|FUTEX_CLOCK_REALTIME: a sem_init(&s, 1, 0) semaphore
    p = _stuck(5, "futex", [0x55d0c0a04010, shared_op, 0, 0], mapping="55d0c0a04000-55d0c0a05000 rw-p 0 00:22 7 /x")
    [f] = hangs(Observation(runs=[], stuck=[p]))
    assert "private memory" in f.message and "sem_init" in f.hint
    [g] = hangs(Observation(runs=[], stuck=[_stuck(5, "futex", [0x7f, 0x189, 0, 0])]))
    assert "FUTEX_PRIVATE" in g.message
    shared = _stuck(5, "futex", [0x7f, shared_op, 0, 0], mapping="7f00-7f10 rw-s 0 00:01 9 /dev/zero (deleted)")
    [h] = hangs(Observation(runs=[], stuck=[shared]))
    assert "private" not in h.message


def test_timed_waits_running_processes_and_servers_are_never_hangs():
    sleeper = _stuck(6, "clock_nanosleep", [1, 0, 0x7ffd, 0])
    waiter = _stuck(5, "semtimedop", [0, 0, 1, 0])
    assert sleeper.timed and not sleeper.asleep_untimed
    assert hangs(Observation(runs=[], stuck=[waiter, sleeper])) == []
    assert hangs(Observation(runs=[], stuck=[waiter, _stuck(6, "", [], state="R", blocked=False)])) == []
    assert hangs(Observation(runs=[], stuck=[_stuck(5, "msgrcv", [0, 0x7f, 64, 0, 0])])) == []
    assert _stuck(5, "poll", [0x7f, 1, 2000]).timed and not _stuck(5, "poll", [0x7f, 1, 0xFFFFFFFFFFFFFFFF]).timed
    assert _stuck(5, "futex", [0x7f, 0x189, 0, 0x7ffd]).timed and not _stuck(5, "futex", [0x7f, 0x189, 0, 0]).timed


def test_a_hung_creator_is_not_also_blamed_for_its_leak_or_its_zombie():
    text = (f"5    09:00:00.1 semget(IPC_PRIVATE, 1, IPC_CREAT|0600) = 0\n5    09:00:00.2 {FORK} = 6\n"
            "6    09:00:00.3 +++ exited with 0 +++\n5    09:00:03.0 +++ killed by SIGTERM +++\n")
    from grader.harness.procfs import parse_sysvipc
    rows = parse_sysvipc("sem", "key semid perms nsems uid gid cuid cgid otime ctime\n"
                                "0 0 600 1 2000 2000 2000 2000 0 0\n")
    o = obs_of(text, pid=5, leftovers=rows, stuck=[StuckProcess(5, "prog (pid 5)", "S", "semtimedop", [0, 0, 1, 0],
                                                                blocked=True)])
    assert [f.kind for f in audit(o)] == ["hang"]


# ------------------------------------------------------------------ pipes

def test_a_writer_that_wrote_and_kept_its_end_is_pipe_end_kept():
    text = (f"10    09:00:00.1 {FORK} = 11\n"
            "11    09:00:00.2 write(4, \"result 1\\n\", 9) = 9\n11    09:00:00.3 pause( <unfinished ...>\n")
    w = PipeWait(10, "prog (pid 10)", "read", 3, 77, [PeerEnd(11, "pid 11", 4, True, "idle, waiting in pause()")])
    [f] = pipe_hangs(obs_of(text, pipe_waits=[w]))
    assert f.kind == "pipe-end-kept" and "write(4" in f.evidence[0][1] and "close(fd)" in f.hint
    never = PipeWait(10, "prog (pid 10)", "read", 3, 77, [PeerEnd(12, "pid 12", 4, True, "idle")])
    assert [f.kind for f in pipe_hangs(obs_of(text, pipe_waits=[never]))] == ["pipe-hang"]


def test_a_bound_socket_file_left_behind_names_its_bind():
    text = ('10    09:00:00.1 bind(3, {sa_family=AF_UNIX, sun_path="echo.sock"}, 110) = 0\n')
    [f] = sockets_left(obs_of(text, sockets_left={"echo.sock": "(mode 0755)"}))
    assert f.kind == "uds-socket-left" and "bind(3" in f.origin and "unlink" in f.hint
    assert sockets_left(obs_of(text)) == []


# ------------------------------------------------------------------ busy waiting

def _window(cpu, pid=19):
    return Window(pid, 32401.0, 32401.5, cpu, 180.0, False, False, "probe")


def test_one_sleep_is_not_a_loop_even_when_ptrace_stops_inflate_the_wakeups():
    one = ("19    09:00:01.100000 write(1, \"3 left\\n\", 7) = 7\n"
           "19    09:00:01.100100 clock_nanosleep(CLOCK_REALTIME, 0, {tv_sec=1, tv_nsec=0}, 0x7ffd) = ? ERESTARTNOHAND\n")
    assert busy_waits(obs_of(one, pid=19, windows=[_window(0.0)])) == []
    naps = "".join(f"19    09:00:01.{i:06d} nanosleep({{tv_sec=0, tv_nsec=1000000}}, NULL) = 0\n"
                   for i in range(0, 500000, 1000))
    [f] = busy_waits(obs_of(naps, pid=19, windows=[_window(0.02)]))
    assert "500 calls" in f.message and "ERESTART" not in f.message and "None" not in f.message


def test_spinning_without_ipc_needs_two_windows_and_is_only_likely():
    w1, w2 = _window(0.9), Window(19, 32401.5, 32402.0, 0.9, 3.0, False, False, "probe")
    assert busy_waits(obs_of("", pid=19, windows=[w1])) == []
    [f] = busy_waits(obs_of("", pid=19, windows=[w1, w2]))
    assert f.certainty == LIKELY and "or computing" in f.message


def test_a_child_that_outlives_its_parent_by_microseconds_is_not_a_zombie():
    quick = (f"37    09:00:00.000001 {FORK} = 38\n38    09:00:00.000100 +++ exited with 0 +++\n"
             "37    09:00:00.000300 +++ exited with 0 +++\n")
    assert zombies(obs_of(quick, pid=37)) == []


def test_a_spinner_starved_of_cpu_on_a_busy_machine_still_counts_by_its_runnable_state():
    shm = "19    09:00:00.100000 shmat(0, NULL, 0) = 0x7f695b07c000\n"
    starved = Window(19, 32401.0, 32401.5, 0.06, 40.0, False, False, "probe", runnable=0.95)
    starved2 = Window(19, 32401.5, 32402.0, 0.06, 40.0, False, False, "probe", runnable=0.95)
    asleep_then_woken = Window(19, 32401.0, 32401.5, 0.06, 40.0, False, False, "probe", runnable=0.2)
    assert busy_waits(obs_of(shm, pid=19, windows=[starved])) == []      # one window: a burst of work
    [f] = busy_waits(obs_of(shm, pid=19, windows=[starved, starved2]))
    assert "95% of the samples" in f.message
    assert busy_waits(obs_of(shm, pid=19, windows=[asleep_then_woken])) == []


def test_a_forked_childs_exit_status_is_its_answer_not_a_crash():
    text = f"10    09:00:00.1 {FORK} = 11\n11    09:00:00.2 +++ exited with 4 +++\n10    09:00:00.3 +++ exited with 0 +++\n"
    assert crashes(obs_of(text)) == []


def test_a_starved_spinner_that_the_probe_calls_blocked_is_still_busy_when_always_runnable():
    shm = "19    09:00:00.100000 shmat(0, NULL, 0) = 0x7f695b07c000\n"
    starved = [Window(19, 32401.0 + t, 32401.5 + t, 0.02, 2.0, True, False, "probe", runnable=1.0) for t in (0, 0.5)]
    assert len(busy_waits(obs_of(shm, pid=19, windows=starved))) == 1
