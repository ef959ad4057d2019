"""grader/harness/pipes.py without Docker: the trace replay on a recorded strace excerpt, and the
live view (/proc) on real pipes between this process and a child it starts."""
from __future__ import annotations

import os
import subprocess
import sys
import time

from grader.harness import pipes, trace

# A real C pipeline whose parent forgot close(fd[1]), recorded with strace -f (abridged).
RECORDED = """\
48    08:35:42.398000 execve("/work/sub/pipeline", ["/work/sub/pipeline", "printf", "abc", "--", "cat"], 0x7ffc /* 4 vars */) = 0
48    08:35:42.398900 pipe2([3, 4], 0)  = 0
48    08:35:42.399000 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f) = 49
48    08:35:42.399100 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD <unfinished ...>
49    08:35:42.399150 dup2(4, 1)        = 1
48    08:35:42.399200 <... clone resumed>, child_tidptr=0x7f) = 50
50    08:35:42.399250 dup2(3, 0 <unfinished ...>
48    08:35:42.399300 close(3)          = 0
50    08:35:42.399310 <... dup2 resumed>) = 0
49    08:35:42.399320 close(3)          = 0
49    08:35:42.399330 close(4)          = 0
50    08:35:42.399340 close(3)          = 0
50    08:35:42.399350 close(4)          = 0
48    08:35:42.399389 wait4(49,  <unfinished ...>
49    08:35:42.400000 execve("/usr/bin/printf", ["printf", "abc"], 0x7ffd /* 4 vars */) = 0
50    08:35:42.400010 execve("/usr/bin/cat", ["cat"], 0x7ffd /* 4 vars */) = 0
49    08:35:42.401661 exit_group(0)     = ?
49    08:35:42.401726 +++ exited with 0 +++
48    08:35:42.401730 <... wait4 resumed>[{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = 49
48    08:35:42.401753 wait4(50,  <unfinished ...>) = ?
48    08:35:47.420319 +++ killed by SIGKILL +++
50    08:35:47.420608 +++ killed by SIGKILL +++
"""


def test_trace_replay_finds_the_end_the_parent_never_closed():
    tp = pipes.traced_pipe_ends(trace.parse(RECORDED))
    (p,) = tp.pipes
    assert (p.pid, p.read_fd, p.write_fd) == (48, 3, 4)
    assert tp.parents == {49: 48, 50: 48}
    parent = {e.fd: e for e in tp.ends_of(48)}
    assert parent[3].how_lost == "close" and parent[4].how_lost == "exit"
    # Each child kept exactly the end it dup2'ed onto its stdio, and dropped the originals.
    for pid, fd, access in ((49, 1, "write"), (50, 0, "read")):
        execve, kept = tp.held_at_exec(pid)
        assert execve is not None and [(e.fd, e.access) for e in kept] == [(fd, access)]
    # The parent still held the write end when it started waiting.
    first_wait = next(i for i, e in enumerate(tp.calls_by_pid[48]) if getattr(e, "name", "") == "wait4")
    assert [(e.fd, e.access) for e in tp.held_at(48, first_wait)] == [(4, "write")]


def test_trace_replay_honours_close_on_exec_and_dup3():
    text = """\
7 10:00:00.000001 pipe2([3, 4], O_CLOEXEC) = 0
7 10:00:00.000002 clone(child_stack=NULL, flags=SIGCHLD) = 8
8 10:00:00.000003 dup3(4, 1, 0) = 1
8 10:00:00.000004 fcntl(3, F_DUPFD_CLOEXEC, 10) = 10
8 10:00:00.000005 execve("/bin/true", ["true"], 0x1 /* 0 vars */) = 0
8 10:00:00.000006 +++ exited with 0 +++
"""
    tp = pipes.traced_pipe_ends(trace.parse(text))
    _, kept = tp.held_at_exec(8)
    assert [(e.fd, e.access) for e in kept] == [(1, "write")]
    lost = {e.fd: e.how_lost for e in tp.ends_of(8)}
    assert lost == {3: "exec", 4: "exec", 1: "exit", 10: "exec"}


def _wait_for(cond, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.01)
    return False


def test_live_pipe_map_names_who_keeps_a_reader_waiting():
    r, w = os.pipe()
    reader = subprocess.Popen(["cat"], stdin=r, stdout=subprocess.DEVNULL)
    os.close(r)
    try:
        assert _wait_for(lambda: pipes.is_pipe_wchan(pipes.procfs.read_wchan(reader.pid), "read"))
        waits = pipes.pipe_waits([reader.pid], {reader.pid: "cat"})
        assert len(waits) == 1 and waits[0].direction == "read" and waits[0].fd == 0
        assert [e.who for e in waits[0].other_end] == ["the grader"] and waits[0].on_grader_pipe
        assert "write end is still open in: the grader as fd" in waits[0].describe()
        pmap = pipes.pipe_map([reader.pid], {reader.pid: "cat"})
        held = [(e.who, e.fd, e.access) for inode, e in pipes.ends_held_by(pmap, reader.pid)
                if inode == waits[0].inode]
        assert held == [("cat", 0, "read")]
        assert f"pipe {waits[0].inode}: read end held by cat fd 0; write end held by the grader fd" in \
            pipes.describe(pmap, only={waits[0].inode})
    finally:
        os.close(w)
        reader.wait(5)


def test_live_pipe_fill_sees_a_full_pipe_and_its_blocked_writer():
    r, w = os.pipe()
    writer = subprocess.Popen([sys.executable, "-c", "import os; os.write(1, b'x' * 200000)"], stdout=w)
    os.close(w)
    try:
        assert _wait_for(lambda: pipes.is_pipe_wchan(pipes.procfs.read_wchan(writer.pid), "write"))
        fill = pipes.pipe_fill(writer.pid, 1)
        assert fill is not None and fill.full and fill.buffered == fill.capacity == 65536
        (wait,) = pipes.pipe_waits([writer.pid])
        assert wait.direction == "write" and wait.fill.full
        assert "read end is still open in: the grader as fd" in wait.describe()
    finally:
        os.close(r)
        writer.wait(5)
