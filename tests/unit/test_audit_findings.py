"""`grade audit` rules, judged from captured trace text, /proc rows and probe windows (no container)."""
from grader.audit.container.findings import audit
from grader.audit.container.ignored import ignored_errors
from grader.audit.container.lifecycle import zombies
from grader.audit.container.objects import no_shmdt, posix_leaks, sysv_leaks
from grader.audit.container.observation import Observation, PeerEnd, PipeWait, PosixObject, ProcessRun, Window
from grader.audit.container.pipe_rules import pipe_hangs
from grader.audit.container.run import read_trace
from grader.audit.container.waits import busy_waits
from grader.harness import trace
from grader.harness.procfs import parse_sysvipc

FORK = "clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f01)"
SHM_HEADER = "       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  cgid      atime      dtime      ctime                   rss                  swap\n"
MSG_HEADER = "       key      msqid perms      cbytes       qnum lspid lrpid   uid   gid  cuid  cgid      stime      rtime      ctime\n"


def obs_of(text: str, name: str = "prog", pid: int = 10, language: str = "c", **kw) -> Observation:
    t = trace.parse(text)
    exit_ = kw.pop("exit", "exited with status 0")
    return Observation(runs=[ProcessRun(name, [name], language, pid, t, exit_)], **kw)


def kinds(findings):
    return [f.kind for f in findings]


# ------------------------------------------------------------------ SysV leaks

def test_leftover_segment_is_a_leak_naming_creator_and_call():
    rows = parse_sysvipc("shm", SHM_HEADER + "         0          5  600    4096    10    10      0  2000  2000  2000  2000 0 0 0 4096 0\n")
    o = obs_of("10    09:00:00.000001 shmget(IPC_PRIVATE, 4096, IPC_CREAT|0600) = 5\n", leftovers=rows)
    [f] = sysv_leaks(o)
    assert f.kind == "shm-leak" and "prog (pid 10)" in f.message
    assert any("shmget(IPC_PRIVATE, 4096, IPC_CREAT|0600) = 5" in text for _, text in f.evidence)
    assert "IPC_RMID" in f.hint


def test_leftover_queue_after_sigterm_is_a_sigterm_leak_not_a_plain_leak():
    rows = parse_sysvipc("msg", MSG_HEADER + "         0          0  600    0    0     0     0  2000  2000  2000  2000 0 0 0\n")
    text = ("21    09:00:00.000001 msgget(IPC_PRIVATE, IPC_CREAT|0600) = 0\n"
            "21    09:00:00.500000 --- SIGTERM {si_signo=SIGTERM, si_code=SI_USER, si_pid=8, si_uid=0} ---\n"
            "21    09:00:00.500100 +++ killed by SIGTERM +++\n")
    o = obs_of(text, name="server", pid=21, exit="killed by SIGTERM", leftovers=rows,
               sigterm={"server": "the scenario sends SIGTERM to server"})
    [f] = sysv_leaks(o)
    assert f.kind == "sigterm-leak"
    assert "no SIGTERM handler" in f.hint
    assert any(label == "the SIGTERM reaching server" for label, _ in f.evidence)


def test_no_leftovers_no_leak():
    o = obs_of("10    09:00:00.000001 shmget(IPC_PRIVATE, 4096, IPC_CREAT|0600) = 5\n")
    assert sysv_leaks(o) == []


def test_posix_leftover_names_its_shm_open_call():
    text = '10    09:00:00.000001 openat(AT_FDCWD, "/dev/shm/audit_shm", O_RDWR|O_CREAT|O_NOFOLLOW|O_CLOEXEC, 0600) = 3\n'
    o = obs_of(text, posix_left=[PosixObject("/dev/shm/audit_shm", "(owner uid 2000)")])
    [f] = posix_leaks(o)
    assert f.kind == "posix-leak" and "/audit_shm" in f.message and "shm_unlink" in f.hint
    mq = '10    09:00:00.000001 mq_open("q", O_RDWR|O_CREAT, 0600, NULL) = 3\n'
    [g] = posix_leaks(obs_of(mq, posix_left=[PosixObject("/dev/mqueue/q")]))
    assert "message queue /q" in g.message and "mq_open" in g.evidence[1][1]


# ------------------------------------------------------------------ shmdt

ATTACH = "10    09:00:00.000001 shmat(5, NULL, 0) = 0x7f0add8ad000\n"


def test_attach_without_shmdt_before_a_normal_exit_is_reported():
    [f] = no_shmdt(obs_of(ATTACH + "10    09:00:00.100000 +++ exited with 0 +++\n"))
    assert f.kind == "no-shmdt" and "shmat(5, NULL, 0)" in f.evidence[0][1]


def test_detached_or_killed_processes_are_not_reported():
    detached = ATTACH + "10    09:00:00.000002 shmdt(0x7f0add8ad000) = 0\n10    09:00:00.1 +++ exited with 0 +++\n"
    killed = ATTACH + "10    09:00:00.100000 +++ killed by SIGKILL +++\n"
    assert no_shmdt(obs_of(detached)) == [] and no_shmdt(obs_of(killed)) == []


# ------------------------------------------------------------------ zombies

def test_child_never_reaped_while_the_parent_lived_on_is_a_zombie():
    text = (f"37    09:00:00.000001 {FORK} = 38\n"
            "38    09:00:00.000100 +++ exited with 0 +++\n"
            "37    09:00:00.000200 clock_nanosleep(CLOCK_REALTIME, 0, {tv_sec=1, tv_nsec=0}, 0x7ffd) = 0\n"
            "37    09:00:01.000000 +++ exited with 0 +++\n")
    [f] = zombies(obs_of(text, pid=37, zombies_seen={38: "pid 38 (zombie): state Z"}))
    assert f.kind == "zombie" and "1.00 s" in f.message
    assert ("/proc while it was a zombie", "pid 38 (zombie): state Z") in f.evidence


def test_a_parent_that_only_prints_and_exits_leaves_no_zombie_however_slow_the_machine():
    """The textbook fork example: on a loaded machine its last write can take most of a second."""
    text = (f"37    09:00:00.000001 {FORK} = 38\n"
            "38    09:00:00.000100 +++ exited with 0 +++\n"
            '37    09:00:00.700000 write(1, "parent of 38\\n", 13) = 13\n'
            "37    09:00:00.900000 +++ exited with 0 +++\n")
    assert zombies(obs_of(text, pid=37, zombies_seen={38: "pid 38 (zombie): state Z"})) == []


def test_reaped_orphaned_or_ignored_children_are_not_zombies():
    base = f"37    09:00:00.000001 {FORK} = 38\n"
    reaped = base + ("38    09:00:00.000100 +++ exited with 0 +++\n"
                     "37    09:00:00.000200 wait4(38, NULL, 0, NULL) = 38\n37    09:00:01 +++ exited with 0 +++\n")
    waitid = base + ("38    09:00:00.000100 +++ exited with 0 +++\n"
                     "37    09:00:00.000200 waitid(P_ALL, 0, {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=38, "
                     "si_uid=2000, si_status=0}, WEXITED, NULL) = 0\n37    09:00:01 +++ exited with 0 +++\n")
    orphan = base + "37    09:00:00.000100 +++ exited with 0 +++\n38    09:00:01.000000 +++ exited with 0 +++\n"
    ignored = ("37    09:00:00.000000 rt_sigaction(SIGCHLD, {sa_handler=SIG_IGN, sa_mask=[CHLD], "
               "sa_flags=SA_RESTORER|SA_RESTART, sa_restorer=0x7f}, NULL, 8) = 0\n" + base +
               "38    09:00:00.000100 +++ exited with 0 +++\n37    09:00:01 +++ exited with 0 +++\n")
    for text in (reaped, waitid, orphan, ignored):
        assert zombies(obs_of(text, pid=37)) == [], text


# ------------------------------------------------------------------ ignored errors

def test_failed_msgget_whose_minus_one_is_used_is_reported_once_with_every_use():
    text = ("53    09:00:00.000001 msgget(0x7a11, 0600) = -1 ENOENT (No such file or directory)\n"
            '53    09:00:00.000002 msgsnd(-1, {mtype=1, mtext="hello"}, 5, IPC_NOWAIT) = -1 EINVAL (Invalid argument)\n'
            "53    09:00:00.000003 msgrcv(-1, 0x7ffce709bf40, 32, 0, IPC_NOWAIT) = -1 EINVAL (Invalid argument)\n")
    [f] = ignored_errors(obs_of(text, pid=53))
    assert f.kind == "ignored-ipc-error" and "ENOENT" in f.message and "2 time(s)" in f.message
    assert "IPC_CREAT" in f.hint


def test_a_checked_failure_or_an_unrelated_minus_one_is_not_reported():
    checked = ("53    09:00:00.000001 msgget(0x7a12, 0600) = -1 ENOENT (No such file or directory)\n"
               "53    09:00:00.000002 msgget(0x7a12, IPC_CREAT|0600) = 3\n"
               '53    09:00:00.000003 msgsnd(3, {mtype=1, mtext="hello"}, 5, 0) = 0\n')
    unrelated = '53    09:00:00.000003 msgsnd(-1, {mtype=1, mtext="x"}, 1, 0) = -1 EINVAL (Invalid argument)\n'
    other_family = ("53    09:00:00.000001 semget(0x1, 1, 0600) = -1 ENOENT (No such file or directory)\n"
                    '53    09:00:00.000003 msgsnd(-1, {mtype=1, mtext="x"}, 1, 0) = -1 EINVAL (Invalid argument)\n')
    for text in (checked, unrelated, other_family):
        assert ignored_errors(obs_of(text, pid=53)) == [], text


def test_failed_shmat_followed_by_a_fault_at_minus_one_is_reported():
    text = ("60    09:00:00.000001 shmat(7, NULL, 0) = -1 EACCES (Permission denied)\n"
            "60    09:00:00.000002 --- SIGSEGV {si_signo=SIGSEGV, si_code=SEGV_MAPERR, si_addr=0xffffffffffffffff} ---\n"
            "60    09:00:00.000003 +++ killed by SIGSEGV +++\n")
    [f] = ignored_errors(obs_of(text, pid=60))
    assert "(void *) -1" in f.message


# ------------------------------------------------------------------ busy waiting

POLLS = "".join(f"19    09:00:01.{i:06d} msgrcv(0, 0x122ae1e0, 2048, 0, IPC_NOWAIT) = -1 ENOMSG (No message of desired type)\n"
                for i in range(0, 500000, 1000))
BUSY = Window(19, 32401.0, 32401.5, 0.9, 20000.0, False, False, "over 0.50 s ... ratio 0.90")
BLOCKED = Window(19, 32401.0, 32401.5, 0.0, 0.0, True, False, "ratio 0.00")
BUSY_ON = [BUSY, Window(19, 32401.5, 32402.0, 0.9, 20000.0, False, False, "over 0.50 s ... ratio 0.90")]


def test_a_window_of_failed_polls_at_high_cpu_is_busy_waiting():
    text = "19    09:00:00.900000 msgget(0xb5e11, IPC_CREAT|IPC_EXCL|0600) = 0\n" + POLLS
    [f] = busy_waits(obs_of(text, pid=19, windows=[BUSY, BLOCKED]))
    assert f.kind == "busy-wait" and "500 x msgrcv() = -1 ENOMSG" in f.message
    assert "msgget(0xb5e11" in f.evidence[2][1]


def test_blocked_windows_and_windows_with_real_work_are_not_busy_waiting():
    work = "".join(f'19    09:00:01.{i:06d} msgsnd(0, {{mtype=1, mtext="x"}}, 1, 0) = 0\n' for i in range(0, 500000, 1000))
    assert busy_waits(obs_of(POLLS, pid=19, windows=[BLOCKED])) == []
    assert busy_waits(obs_of(work, pid=19, windows=[BUSY])) == []


def test_spinning_without_syscalls_is_certain_only_with_an_ipc_object_in_sight():
    compute = "19    09:00:00.100000 write(1, \"start\\n\", 6) = 6\n"
    spin = "19    09:00:00.100000 shmat(0, NULL, 0) = 0x7f695b07c000\n"
    assert busy_waits(obs_of(spin, pid=19, windows=[BUSY])) == []       # one window is a burst of work
    [f] = busy_waits(obs_of(spin, pid=19, windows=BUSY_ON))
    assert "no system call at all" in f.message and f.certainty == "certain"
    [g] = busy_waits(obs_of(compute, pid=19, windows=BUSY_ON))
    assert g.certainty == "likely"


def test_cpython_sigint_handler_is_not_an_ipc_context():
    py = ("19    09:00:00.100000 rt_sigaction(SIGINT, {sa_handler=0x7f1, sa_mask=[], sa_flags=SA_RESTORER|SA_ONSTACK, "
          "sa_restorer=0x7f2}, {sa_handler=SIG_DFL, sa_mask=[], sa_flags=0}, 8) = 0\n")
    assert busy_waits(obs_of(py, pid=19, language="python", windows=BUSY_ON))[0].certainty == "likely"
    assert busy_waits(obs_of(py, pid=19, language="c", windows=BUSY_ON))[0].certainty == "certain"


def test_thinned_trace_keeps_one_poll_per_bucket_and_counts_the_rest(tmp_path):
    path = tmp_path / "t.trace"
    lines = [f"19    09:00:01.{i:06d} msgrcv(0, 0x1, 8, 0, IPC_NOWAIT) = -1 ENOMSG (No message of desired type)\n"
             for i in range(0, 100000, 10)]    # 10000 polls in 0.1 s
    path.write_text("19    09:00:00.500000 msgget(0xb, IPC_CREAT|0600) = 0\n" + "".join(lines)
                    + "19    09:00:01.200000 +++ exited with 0 +++\n")
    t, dropped = read_trace(str(path))
    assert len(t.calls("msgrcv")) == 10 and dropped == {(19, "msgrcv", "ENOMSG"): 9990}
    assert t.calls("msgget")[0].ret == 0 and t.exits()[19].code == 0


# ------------------------------------------------------------------ pipe hangs

def test_reader_whose_write_end_only_it_or_idle_peers_hold_is_a_hang():
    self_held = PipeWait(72, "prog (pid 72)", "read", 3, 999, [PeerEnd(72, "prog (pid 72)", 4, True, "itself")])
    idle_peer = PipeWait(74, "pid 74", "read", 3, 999, [PeerEnd(72, "prog (pid 72)", 4, True, "idle, waiting in wait4()")])
    busy_peer = PipeWait(74, "pid 74", "read", 3, 999, [PeerEnd(72, "prog (pid 72)", 4, False, "running")])
    [a] = pipe_hangs(obs_of("", pipe_waits=[self_held]))
    assert "held only by prog (pid 72) itself (fd 4)" in a.message
    [b] = pipe_hangs(obs_of("", pipe_waits=[idle_peer]))
    assert "idle processes: prog (pid 72) fd 4" in b.message and "end-of-file" in b.message
    assert pipe_hangs(obs_of("", pipe_waits=[busy_peer])) == []


def test_a_parent_stuck_in_a_pipe_hang_is_not_also_blamed_for_a_zombie():
    text = (f"72    09:00:00.000001 {FORK} = 73\n"
            "73    09:00:00.000100 +++ exited with 0 +++\n"
            "72    09:00:00.000200 read(3,  <unfinished ...>\n"
            "72    09:00:02.000000 +++ killed by SIGTERM +++\n")
    hang = PipeWait(72, "prog (pid 72)", "read", 3, 999, [PeerEnd(72, "prog (pid 72)", 4, True, "itself")])
    assert kinds(audit(obs_of(text, pid=72, pipe_waits=[hang]))) == ["pipe-hang"]
    assert kinds(audit(obs_of(text, pid=72))) == ["zombie"]


def test_status_queries_in_a_loop_are_polling_not_progress():
    stat = "".join(f"19    09:00:01.{i:06d} shmctl(0, IPC_STAT, {{shm_perm={{uid=2000}}, shm_segsz=44}}) = 0\n"
                   f"19    09:00:01.{i + 1:06d} clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, {{tv_sec=1, tv_nsec=0}}, NULL) = 0\n"
                   for i in range(0, 500000, 1000))
    polling = Window(19, 32401.0, 32401.5, 0.02, 2000.0, False, False, "ratio 0.02")
    [f] = busy_waits(obs_of("19    09:00:00.100000 shmat(0, NULL, 0) = 0x7f01\n" + stat, pid=19, windows=[polling]))
    assert "polled instead of blocking" in f.message and "2000 system calls a second" in f.message


def test_a_writer_blocked_on_a_full_pipe_whose_reader_is_idle_is_a_hang():
    full = PipeWait(80, "producer (pid 80)", "write", 4, 777,
                    [PeerEnd(81, "pid 81 (forked by producer)", 3, True, "idle, waiting in wait4()")])
    [f] = pipe_hangs(obs_of("", pipe_waits=[full]))
    assert "blocked in write()" in f.message and "the pipe is full and no one will read" in f.message
    assert "close its copy of the read end" in f.hint
