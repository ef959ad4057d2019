"""deadlock.decide on fake /proc snapshots: when is a hang proven, and when never."""
from __future__ import annotations

import dataclasses

from grader.harness import deadlock, waits
from grader.harness.deadlock import Proc, Scene, Thread, _parse_call, decide
from grader.harness.stillness import Counters

READ, WRITE, ACCEPT, RECVFROM = 0, 1, 43, 45
NANOSLEEP, POLL, SELECT, FUTEX, WAIT4, PAUSE, MSGSND, MSGRCV, SEMTIMEDOP = 35, 7, 23, 202, 61, 34, 69, 70, 220
NULL = 0
MINUS_ONE = 0xffffffffffffffff


def counters(pid, cpu=0, switches=5):
    return Counters(threads=frozenset({str(pid)}), cpu=cpu, source="schedstat", switches=switches, cpu_seconds=0.0)


def proc(pid, call, *, fds=None, access=None, state="S", ppid=1, cpu=0, switches=5, label=None):
    call = None if call is None else tuple(call) + (0,) * (7 - len(call))
    return Proc(pid=pid, ppid=ppid, label=label or f"p{pid}", threads=(Thread(pid, state, call),),
                counters=counters(pid, cpu, switches), fds=fds or {}, access=access or {})


def scene(*procs, grader_fds=None, grader_access=None, peers=None):
    return Scene(procs={p.pid: p for p in procs}, grader_fds=grader_fds or {}, grader_access=grader_access or {},
                 socket_peers=peers or {})


def same(s: Scene, **kw):
    proof, why = decide(s, s, **kw)
    return proof, why


# ---------------------------------------------------------------- pipes

def test_pipe_read_whose_write_ends_are_held_by_sleepers_is_proven():
    # cat reads pipe 7; its parent sleeps in wait4 holding the write end it forgot to close.
    parent = proc(10, (WAIT4, MINUS_ONE), fds={4: "pipe:[7]"}, access={4: "write"}, label="pipeline (pid 10)")
    cat = proc(12, (READ, 0), fds={0: "pipe:[7]"}, access={0: "read"}, ppid=10)
    proof, why = same(scene(parent, cat))
    assert proof is not None, why
    assert any("pipe 7" in line and "pipeline (pid 10) fd 4" in line for line in proof.lines)


def test_pipe_read_whose_writer_is_the_grader_is_proven_only_while_the_grader_does_nothing():
    reader = proc(12, (READ, 0), fds={0: "pipe:[9]"}, access={0: "read"})
    s = scene(reader, grader_fds={5: "pipe:[9]"}, grader_access={5: "write"})
    assert same(s)[0] is not None
    proof, why = same(s, grader_acts=True)
    assert proof is None and "grader holds the write end" in why


def test_pipe_write_whose_reader_is_the_grader_is_never_proven():
    # The grader's output readers keep reading: a full stdout pipe empties by itself.
    writer = proc(12, (WRITE, 1), fds={1: "pipe:[3]"}, access={1: "write"})
    proof, why = same(scene(writer, grader_fds={8: "pipe:[3]"}, grader_access={8: "read"}))
    assert proof is None and "grader holds the read end" in why


def test_pipe_write_whose_read_end_only_a_sleeping_non_reader_holds_is_proven():
    writer = proc(12, (WRITE, 4), fds={4: "pipe:[3]"}, access={4: "write"})
    holder = proc(10, (WAIT4, MINUS_ONE), fds={3: "pipe:[3]"}, access={3: "read"})
    assert same(scene(writer, holder))[0] is not None


def test_pipe_end_held_by_no_known_process_is_not_proven():
    reader = proc(12, (READ, 0), fds={0: "pipe:[9]"}, access={0: "read"})
    proof, why = same(scene(reader))
    assert proof is None and "no known process" in why


# ---------------------------------------------------------------- timed waits are never proven

def test_timed_sleeps_are_never_proven():
    cases = [
        (NANOSLEEP, 0x7ffd0000, NULL),
        (230, 1, 0, 0x7ffd0000),                        # clock_nanosleep
        (POLL, 0x7ffd0000, 1, 100),                      # poll(..., 100 ms)
        (SELECT, 4, 0x7ffd0000, NULL, NULL, 0x7ffd1000),  # select with a timeval
        (FUTEX, 0x7f0000, 0x80, 0, 0x7ffd0000),          # FUTEX_WAIT_PRIVATE with a timeout
        (FUTEX, 0x7f0000, 0x89, 0, 0x7ffd0000),          # FUTEX_WAIT_BITSET_PRIVATE with an absolute timeout
        (SEMTIMEDOP, 3, 0x7ffd0000, 1, 0x7ffd1000),
        (243, 3, 0x7ffd0000, 8192, NULL, 0x7ffd1000),    # mq_timedreceive with a timeout
    ]
    for call in cases:
        proof, why = same(scene(proc(12, call)))
        assert proof is None, call
        assert "timed" in why or "timeout" in why, (call, why)


def test_one_timed_sleeper_keeps_everyone_else_unproven():
    reader = proc(12, (READ, 0), fds={0: "pipe:[9]"}, access={0: "read"})
    writer = proc(13, (NANOSLEEP, 0x7ffd0000, NULL), fds={1: "pipe:[9]"}, access={1: "write"})
    proof, why = same(scene(reader, writer))
    assert proof is None and "p13" in why


def test_a_timer_set_in_the_trace_means_no_proof_even_for_pause():
    assert same(scene(proc(12, (PAUSE,))))[0] is not None
    proof, why = decide(scene(proc(12, (PAUSE,))), scene(proc(12, (PAUSE,))), timers=True)
    assert proof is None and "timer" in why


def test_untimed_poll_is_not_proven_either():
    proof, _ = same(scene(proc(12, (POLL, 0x7ffd0000, 1, MINUS_ONE))))
    assert proof is None


# ---------------------------------------------------------------- untimed waits that nothing can end

def test_futex_wait_without_timeout_with_everyone_asleep_is_proven():
    consumer = proc(12, (FUTEX, 0x7f0000, 0x80, 0, NULL))       # sem_wait on a semaphore nobody posts
    producer = proc(13, (WAIT4, MINUS_ONE))
    proof, why = same(scene(consumer, producer))
    assert proof is not None, why
    assert any("futex(FUTEX_WAIT)" in line for line in proof.lines)


def test_msgrcv_with_no_sender_left_is_proven_unless_the_grader_may_send():
    recv = proc(12, (MSGRCV, 5, 0x7ffd0000, 256, 1, 0))
    assert same(scene(recv))[0] is not None
    proof, why = same(scene(recv), grader_acts=True)
    assert proof is None and "grader may use" in why
    assert same(scene(proc(12, (MSGSND, 5, 0x7ffd0000, 256, 0))))[0] is not None


def test_two_processes_each_reading_from_the_other_is_proven():
    client = proc(12, (RECVFROM, 3), fds={3: "socket:[100]"})
    server = proc(13, (READ, 4), fds={4: "socket:[101]"})
    proof, why = same(scene(client, server, peers={100: 101, 101: 100}))
    assert proof is not None, why


def test_socket_whose_peer_the_grader_holds():
    server = proc(13, (READ, 4), fds={4: "socket:[101]"})
    s = scene(server, grader_fds={6: "socket:[100]"}, peers={100: 101, 101: 100})
    assert same(s)[0] is not None                                  # the grader sends nothing while it waits
    assert same(s, grader_acts=True)[0] is None                    # ...unless it may
    writer = proc(13, (WRITE, 4), fds={4: "socket:[101]"})
    assert same(scene(writer, grader_fds={6: "socket:[100]"}, peers={100: 101, 101: 100}))[0] is None


def test_accept_waits_for_a_client_only_the_grader_could_be():
    server = proc(13, (ACCEPT, 3), fds={3: "socket:[50]"})
    assert same(scene(server))[0] is not None
    assert same(scene(server), grader_acts=True)[0] is None


def test_pause_is_proven_only_while_the_grader_sends_no_signal():
    assert same(scene(proc(12, (PAUSE,))), grader_acts=True)[0] is None


# ---------------------------------------------------------------- not asleep, or not the same twice

def test_running_stopped_or_disk_waiting_processes_are_not_proven():
    for state in ("R", "t", "D", "T"):
        proof, _ = same(scene(proc(12, (MSGRCV, 5, 0, 256, 1, 0), state=state)))
        assert proof is None, state


def test_a_process_that_ran_or_woke_between_the_samples_is_not_proven():
    before = proc(12, (MSGRCV, 5, 0, 256, 1, 0))
    for change in ({"cpu": 1}, {"switches": 6}):
        after = dataclasses.replace(before, counters=dataclasses.replace(before.counters, **change))
        proof, why = decide(scene(before), scene(after))
        assert proof is None and "ran between" in why


def test_unreadable_counters_are_never_proof_of_stillness():
    asleep = proc(12, (MSGRCV, 5, 0, 256, 1, 0))
    unread = dataclasses.replace(asleep, counters=None)
    for before, after in ((asleep, unread), (unread, asleep), (unread, unread)):
        proof, why = decide(scene(before), scene(after))
        assert proof is None and "could not be read" in why


def test_a_different_call_in_the_second_sample_is_not_proven():
    proof, _ = decide(scene(proc(12, (MSGRCV, 5, 0, 256, 1, 0))), scene(proc(12, (MSGRCV, 6, 0, 256, 1, 0))))
    assert proof is None


def test_processes_coming_or_going_between_samples_is_not_proven():
    a, b = proc(12, (PAUSE,)), proc(13, (PAUSE,))
    assert decide(scene(a), scene(a, b))[0] is None


def test_a_zombie_its_parent_has_not_been_told_about_is_not_proven():
    parent = proc(10, (WAIT4, MINUS_ONE))
    child = proc(12, None, state="Z", ppid=10)
    proof, why = same(scene(parent, child))
    assert proof is None and "exited" in why


def test_a_zombie_whose_parent_waits_for_another_child_does_not_block_the_proof():
    # c-parent-keeps-read: head has exited (a zombie), the parent waits for yes, yes writes a full pipe
    # whose read end only the parent holds.
    parent = proc(10, (WAIT4, 11), fds={3: "pipe:[5]"}, access={3: "read"})
    yes = proc(11, (WRITE, 1), fds={1: "pipe:[5]"}, access={1: "write"}, ppid=10)
    head = proc(12, None, state="Z", ppid=10)
    proof, why = same(scene(parent, yes, head))
    assert proof is not None, why
    handler = dataclasses.replace(parent, catches_sigchld=True)
    assert same(scene(handler, yes, head))[0] is None


def test_unknown_calls_and_sleep_outside_a_call_are_not_proven():
    assert same(scene(proc(12, (999,))))[0] is None
    assert same(scene(proc(12, None)))[0] is None


def test_one_thread_awake_keeps_the_process_unproven():
    p = proc(12, (FUTEX, 0x7f0000, 0x80, 0, NULL))
    p = dataclasses.replace(p, threads=(*p.threads, Thread(13, "R", None)))
    assert same(scene(p))[0] is None


def test_parse_call_reads_proc_syscall():
    assert _parse_call("0 0x3 0x7ffd 0x1000 0x0 0x0 0x0 0x7ffc 0x7f12") == (0, 3, 0x7ffd, 0x1000, 0, 0, 0)
    assert _parse_call("running") is None
    assert _parse_call("-1 0x7ffc 0x7f12") is None


def test_a_checks_own_proof_ends_the_watch_and_words_the_message():
    proof = deadlock.Proof(["yes (pid 7) writes to the grader's pipe"], what="yes never stops")
    watch = deadlock.HangWatch([], ends=lambda: proof)
    assert watch.proven() is proof
    assert waits.proven_hang_message("`yes -- head`", proof, 5) == "`yes -- head` did not finish: yes never stops"
    assert "asleep in a wait that nothing left can end" in deadlock.Proof(["x"]).what
