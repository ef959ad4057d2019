"""Visible checks for pipe-pipeline: `pipeline CMD1 [ARG...] -- CMD2 [ARG...]`.

Most checks run pipeline with ordinary commands and judge what the kernel saw:
fd tables in /proc (the pipe map), where each process sleeps (wchan), and the
strace trace (pipe, fork, dup2, close, wait4). Two harness-made files help:

- BIG, 1 MiB of fixed pseudo-random bytes, for the stream checks;
- probe.py, run by the student's pipeline as CMD1 or CMD2: `fds writer|reader`
  reports the pipe fds it was given; `hold` blocks SIGUSR1, waits for it (the
  grader sends it), then drains stdin and prints its byte count and SHA-256;
  `wait` waits the same way, then exits without reading.
  With `hold` as CMD2 the grader decides when the reader starts reading, so
  "the writer blocks on a full pipe" is observed, not timed.

Both live in a fresh directory the grader creates (root-owned, mode 0755),
written with O_EXCL|O_NOFOLLOW, never in the student's folder.
"""
from __future__ import annotations

import hashlib
import os
import random
import signal
import stat
import subprocess
import tempfile
import time
from dataclasses import dataclass, field

from grader.harness import blocking, pipes, procfs
from grader.harness.api import Fail, check, compare_lines
from grader.harness.spawn import DEFAULT_TRACE, Run

RUN_SECONDS = 5.0        # a healthy run takes well under a second, even traced on a busy machine
BIG_SIZE = 1 << 20
TRACE = DEFAULT_TRACE + ",fcntl,close_range"
# For `yes`, which writes without end when it is not stopped: tracing its writes would fill the trace.
TRACE_NO_WRITE = ",".join(s for s in TRACE.split(",") if s != "write")
WAIT_CALLS = ("wait4", "waitid", "waitpid")

PROBE = r'''"""ipcgrade probe for pipe-pipeline: reports the pipe fds it was given."""
import hashlib
import os
import signal
import sys


def pipe_fds():
    out = []
    for name in sorted(os.listdir("/proc/self/fd"), key=int):
        try:
            target = os.readlink("/proc/self/fd/" + name)
        except OSError:
            continue
        if not target.startswith("pipe:["):
            continue
        flags = 0
        try:
            with open("/proc/self/fdinfo/" + name) as f:
                for line in f:
                    if line.startswith("flags:"):
                        flags = int(line.split()[1], 8)
        except OSError:
            pass
        out.append("%s:%s:%s" % (name, target[6:-1], {0: "r", 1: "w", 2: "rw"}.get(flags & 3, "?")))
    return " ".join(out) or "-"


def main(argv):
    mode = argv[1] if len(argv) > 1 else ""
    if mode == "fds":
        role = argv[2] if len(argv) > 2 else "?"
        print("PROBE %s pid=%d fds=%s" % (role, os.getpid(), pipe_fds()), flush=True)
        if role == "reader":
            line = sys.stdin.buffer.readline()
            print("RELAY " + line.decode(errors="replace").rstrip("\n"), flush=True)
        return 0
    if mode in ("hold", "wait"):
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
        print("PROBE holding pid=%d fds=%s" % (os.getpid(), pipe_fds()), flush=True)
        signal.sigwait({signal.SIGUSR1})
        if mode == "wait":
            return 0
        h, n = hashlib.sha256(), 0
        while True:
            chunk = os.read(0, 65536)
            if not chunk:
                break
            h.update(chunk)
            n += len(chunk)
        print("HELD bytes=%d sha256=%s" % (n, h.hexdigest()), flush=True)
        return 0
    return 64


sys.exit(main(sys.argv))
'''


# ---------------------------------------------------------------- grader-made files

@dataclass
class Data:
    dir: str
    big: str
    big_sha256: str
    probe: str


def _safe_parent(path: str) -> str | None:
    """A directory only the grader can write to (so nothing can be planted in it), else None."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & 0o022:
        return None
    return path


def _write_new(path: str, data: bytes, mode: int = 0o644) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, mode)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)
    os.chmod(path, mode)


def _make_data(ctx) -> Data:
    parent = _safe_parent(os.path.dirname(os.path.abspath(ctx.workdir)))
    d = tempfile.mkdtemp(prefix="pipe-pipeline.", dir=parent)   # a fresh name; mkdir fails if it exists
    os.chmod(d, 0o755)
    big = random.Random(20240503).randbytes(BIG_SIZE)
    _write_new(os.path.join(d, "BIG"), big)
    _write_new(os.path.join(d, "probe.py"), PROBE.encode())
    return Data(d, os.path.join(d, "BIG"), hashlib.sha256(big).hexdigest(), os.path.join(d, "probe.py"))


def data(ctx) -> Data:
    return ctx.memo("data", lambda: _make_data(ctx))


# ---------------------------------------------------------------- processes and their roles

def student_pids(ctx, run: Run | None = None) -> list[int]:
    """Every process of the student's run, including children that outlive a parent that exits
    (everything its tracer follows, and everything of the student uid)."""
    pids = set()
    if run is not None:
        pids |= set(run.tree())
        if run.proc.poll() is None and hasattr(run, "traced_pids"):
            pids |= set(run.traced_pids())
    if ctx.identity.uid is not None:
        pids |= set(procfs.pids_of_uid(ctx.identity.uid))
    return sorted(pids)


def split(args: list[str]) -> tuple[list[str], list[str]]:
    i = args.index("--")
    return args[:i], args[i + 1:]


def show(args: list[str]) -> str:
    def q(a: str) -> str:
        return a if a and all(c.isalnum() or c in "-_./=%" for c in a) else "'" + a.replace("'", "'\\''") + "'"
    return "pipeline " + " ".join(q(a) for a in args)


def labels(ctx, run: Run, args: list[str]) -> dict[int, str]:
    """pid -> "pipeline (the parent, pid 10)", "child 2 (pid 12, running cat)", ..."""
    cmd1, cmd2 = split(args) if "--" in args else (list(args), [])
    out = {}
    for pid in student_pids(ctx, run):
        st = procfs.read_stat(pid)
        if st is None:
            continue
        cmd = procfs.read_cmdline(pid)
        if pid == run.pid:
            out[pid] = f"pipeline (the parent, pid {pid})"
        elif cmd[:len(cmd1)] == cmd1 and cmd1:
            out[pid] = f"child 1 (pid {pid}, running {cmd1[0]})"
        elif cmd[:len(cmd2)] == cmd2 and cmd2:
            out[pid] = f"child 2 (pid {pid}, running {cmd2[0]})"
        elif st.ppid == run.pid:
            out[pid] = f"a child of pipeline (pid {pid}) that has not called execvp"
        else:
            out[pid] = f"pid {pid} ({st.comm})"
    return out


def wait_or_hang(ctx, run: Run, args: list[str], hint: str | None = None, timeout: float = RUN_SECONDS) -> int:
    """pipeline's exit status once it AND its children have ended (their output is then complete).

    On a hang, a Fail that names who is stuck on which pipe end, and who holds the other end.
    """
    deadline = time.monotonic() + timeout
    rc = run.wait(timeout)
    message = f"`{show(args)}` did not finish within {timeout:g} s"
    if rc is not None:
        try:
            run.proc.wait(max(0.0, deadline - time.monotonic()) + 1.0)   # strace ends with the last child
            run.wait(0)                                                   # and the output is drained
            return rc
        except subprocess.TimeoutExpired:
            message = (f"`{show(args)}` {run.describe_exit()}, but its children were still running "
                       f"{timeout:g} s after it started")
    who = labels(ctx, run, args)
    waits = [w for w in pipes.pipe_waits(list(who), who) if not w.on_grader_pipe]
    fail = ctx.hang(message, [run], hint=hint)
    if waits:
        fail.message += ": " + waits[0].describe()
        fail.evidence.insert(0, ("who is stuck on a pipe, and who holds the other end",
                                 "\n".join(w.describe() for w in waits)))
    raise fail


def root(run: Run) -> int | None:
    """The student's program's pid. Run.pid is None when it exited before the grader saw it start;
    the trace still knows it (its first event is the execve of pipeline)."""
    if run.pid is not None:
        return run.pid
    events = run.trace.events
    return events[0].pid if events else None


def trace_of(run: Run, pid: int | None = None, names: tuple[str, ...] = (), limit: int = 14) -> str:
    evs = [e for e in run.trace.calls() if (pid is None or e.pid == pid) and (not names or e.name in names)]
    if not evs:
        return "(no such calls traced)"
    return "\n".join(short(line) for line in run.trace.excerpt(evs, limit).splitlines())


def short(line: str, width: int = 160) -> str:
    return line if len(line) <= width else line[:width - 5] + " ...)"


def student_pipes(pmap: dict, stdin_inode: int | None) -> set[int]:
    """The pipes a run made itself: not the grader's output pipes, not the stdin it was given."""
    return {i for i, ends in pmap.items() if i != stdin_inode and not any(e.pid == os.getpid() for e in ends)}


def stdin_inode(run: Run) -> int | None:
    fd0 = next((f for f in procfs.read_fds(run.pid) if f.fd == 0), None) if run.pid else None
    return fd0.pipe_inode if fd0 else None


def poll(condition, timeout: float, interval: float = 0.01):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def find_process(ctx, run: Run, argv: list[str]) -> int | None:
    for pid in student_pids(ctx, run):
        if pid != run.pid and procfs.read_cmdline(pid)[:len(argv)] == argv:
            return pid
    return None


def _alive(pid: int | None) -> bool:
    st = procfs.read_stat(pid) if pid else None
    return st is not None and st.state not in ("Z", "X")


def _sleeping_in_wait(pid: int) -> bool:
    st = procfs.read_stat(pid)
    return st is not None and st.state == "S" and procfs.read_current_syscall(pid) in WAIT_CALLS


# ---------------------------------------------------------------- the held-reader session

@dataclass
class Held:
    """`pipeline cat BIG -- python3 probe.py hold`: the reader starts reading only when told."""
    args: list[str]
    run: Run
    reader: int | None = None
    writer: int | None = None
    start_failure: Fail | None = None
    blocked: bool = False                       # writer seen asleep in a pipe write
    seen_state: str = ""
    seen_wchan: str = ""
    sample: blocking.BlockingSample | None = None
    fill: pipes.PipeFill | None = None
    parent_waiting: bool = False
    pipe_map_text: str = ""
    parent_ends: list = field(default_factory=list)
    writer_done: bool = False                   # the writer exited after the reader was released
    finish_failure: Fail | None = None
    result: str | None = None                   # "HELD bytes=N sha256=H"


def _reader_ready(pid: int | None) -> bool:
    """The probe blocked SIGUSR1 (SigBlk), or already sleeps in sigwait (which unblocks it meanwhile)."""
    status = procfs.read_status(pid) if pid else None
    if not status:
        return False
    if signal.SIGUSR1 in procfs.signal_mask(status.get("SigBlk", "0")):
        return True
    return "sigtimedwait" in procfs.read_wchan(pid)


def wait_for_reader(ctx, run: Run, argv: list[str]) -> int | None:
    """The held probe's pid once it is ready for SIGUSR1; None if it never gets there (or the whole run ended)."""
    def ready():
        pid = find_process(ctx, run, argv)
        if _reader_ready(pid):
            return pid
        return -1 if run.proc.poll() is not None else None
    pid = poll(ready, RUN_SECONDS)
    return pid if pid and pid > 0 else None


def release(ctx, reader: int | None) -> None:
    """Let the held probe start reading (only ever a process of the student uid)."""
    if reader and (ctx.identity.uid is None or procfs.read_uid(reader) == ctx.identity.uid):
        try:
            os.kill(reader, signal.SIGUSR1)
        except ProcessLookupError:
            pass


def held_session(ctx) -> Held:
    def run_it() -> Held:
        d = data(ctx)
        hold = ["python3", d.probe, "hold"]
        args = ["cat", d.big, "--", *hold]
        run = ctx.start("pipeline", args, trace=TRACE)
        h = Held(args, run)
        given_stdin = stdin_inode(run)
        # The reader has blocked SIGUSR1 (kernel state, no output needed): it is ready to be released.
        h.reader = wait_for_reader(ctx, run, hold)
        if h.reader is None:
            h.start_failure = Fail(f"`{show(args)}`: CMD2 (the probe) never started",
                                   expected="CMD2 running within a few seconds",
                                   evidence=[("pipeline's stderr", run.stderr[-1500:] or "(empty)"),
                                             ("pipeline's process calls", trace_of(run, run.pid))],
                                   hint="Child 2 must dup2 the read end onto stdin and execvp CMD2.")
        writer_argv = ["cat", d.big]

        def writer_state():
            if h.writer is None:
                h.writer = find_process(ctx, run, writer_argv)
                if h.writer is None:
                    # Already gone? Then the live trace shows its exec and exit.
                    t = run.trace
                    execd = [c.pid for c in t.calls("execve") if c.ret == 0 and c.arg(1).startswith('["cat"')]
                    if execd and execd[-1] in t.exits():
                        h.writer = execd[-1]
                        return "exited"
                    return None
            st = procfs.read_stat(h.writer)
            if st is None or st.state in ("Z", "X"):
                return "exited"
            wchan = procfs.read_wchan(h.writer)
            if st.state == "S" and pipes.is_pipe_wchan(wchan, "write"):
                h.seen_state, h.seen_wchan = st.state, wchan
                return "blocked"
            return None

        outcome = poll(writer_state, RUN_SECONDS) if h.reader else None
        if outcome == "blocked":
            h.blocked = True
            h.fill = pipes.pipe_fill(h.writer, 1)
            h.sample = blocking.measure(h.writer, 0.5)
        # The parent's fd table once it sleeps in wait (it may be slower than its children).
        poll(lambda: _sleeping_in_wait(run.pid) or not _alive(run.pid), 2.0 if h.reader else 0)
        h.parent_waiting = _sleeping_in_wait(run.pid)
        who = labels(ctx, run, args)
        pmap = pipes.pipe_map(list(who), who)
        mine = student_pipes(pmap, given_stdin)
        h.pipe_map_text = pipes.describe(pmap, only=mine)
        h.parent_ends = [(i, e) for i, e in pipes.ends_held_by(pmap, run.pid) if i in mine]
        release(ctx, h.reader)
        if h.writer:
            poll(lambda: not _alive(h.writer), RUN_SECONDS)
            h.writer_done = not _alive(h.writer)
        try:
            wait_or_hang(ctx, run, args, hint="The reader only sees end-of-file once every write end is closed.")
        except Fail as f:
            h.finish_failure = f
        h.result = next((l for l in run.lines() if l.startswith("HELD ")), None)
        return h
    return ctx.memo("held", run_it)


def _writes(run: Run, pid: int | None, fd: str = "1"):
    return [c for c in run.trace.calls("write", pid) if c.arg(0) == fd] if pid else []


# ---------------------------------------------------------------- checks

@check("usage")
def usage(ctx):
    """With no `--`, or an empty side, pipeline prints usage to stderr and exits 2"""
    rows, bad = [], []
    for args in ([], ["printf", "abc"], ["--", "cat"], ["printf", "abc", "--"]):
        run = ctx.start("pipeline", args)
        rc = wait_or_hang(ctx, run, args, hint="Check the arguments before calling pipe() or fork().")
        ok = rc == 2 and run.stderr.strip() != ""
        rows.append(f"{show(args):34} {run.describe_exit():24} stderr: {run.stderr.strip()[:60]!r}")
        if not ok:
            bad.append(show(args))
        ctx.reset()
    if bad:
        raise Fail(f"wrong reaction to a usage error: {', '.join(bad)}",
                   expected="exit status 2 and a usage line on stderr", observed="\n".join(rows),
                   hint="Find the first \"--\". If there is none, or nothing before or after it, print "
                        "\"usage: pipeline CMD1 [ARG...] -- CMD2 [ARG...]\" to stderr and exit(2).")


@check("eof-terminates")
def eof_terminates(ctx):
    """`pipeline printf abc -- cat` prints abc and ends: cat sees end-of-file, so no one else holds the write end"""
    args = ["printf", "abc", "--", "cat"]
    run = ctx.start("pipeline", args, trace=TRACE)
    wait_or_hang(ctx, run, args, hint=(
        "cat stops only at end-of-file, which it sees once every write end of the pipe is closed. "
        "The parent must close both ends after forking, and child 2 must close fd[1] before execvp "
        "(after dup2 it still has the original fd as well)."))
    if run.stdout != "abc":
        raise Fail(f"`{show(args)}` printed the wrong output", expected="abc", observed=repr(run.stdout[:200]),
                   evidence=[("pipeline's stderr", run.stderr[-1500:] or "(empty)")],
                   hint="Child 1 runs CMD1 with its stdout on the pipe, child 2 runs CMD2 with its stdin on it.")


@check("sigpipe-terminates")
def sigpipe_terminates(ctx):
    """`pipeline yes -- head -n 1` prints y and ends: yes gets SIGPIPE because only head held the read end"""
    args = ["yes", "--", "head", "-n", "1"]
    run = ctx.start("pipeline", args, trace=TRACE_NO_WRITE)
    try:
        wait_or_hang(ctx, run, args, hint=(
            "yes writes forever; it stops only when it gets SIGPIPE, which happens once every read end of "
            "the pipe is closed. After head exits, no other process may still hold the read end: the parent "
            "closes both ends right after forking, and child 1 closes fd[0] before execvp."))
    except Fail as f:
        if run.stdout.startswith("y\ny\ny\n"):
            f.message = f"`{show(args)}` did not finish, and yes's output reached the grader directly"
            f.hint = ("The output of yes did not go into the pipe: child 1's stdout is still the terminal. "
                      "dup2(old, new) makes `new` a copy of `old`: use dup2(fd[1], STDOUT_FILENO).")
        raise
    if run.stdout != "y\n":
        raise Fail(f"`{show(args)}` printed the wrong output", expected="y", observed=repr(run.stdout[:200]),
                   hint="Only CMD2's output should reach the terminal; CMD1's goes into the pipe. "
                        "End CMD1's argument list at the \"--\" (argv[sep] = NULL).")


@check("stream-intact")
def stream_intact(ctx):
    """A 1 MiB stream arrives byte for byte (`cat BIG -- wc -c`, and a SHA-256 checksum with a slow reader)"""
    d = data(ctx)
    h = held_session(ctx)
    if h.start_failure:
        raise h.start_failure
    expected = f"HELD bytes={BIG_SIZE} sha256={d.big_sha256}"
    if h.result != expected:
        if h.finish_failure and h.result is None:
            raise h.finish_failure
        if h.result is None and h.run.stdout_truncated:
            raise Fail("the 1 MiB stream never reached CMD2: it came out on pipeline's own stdout",
                       expected=f"CMD2 reports {BIG_SIZE} bytes", observed="more than 1 MiB on pipeline's stdout",
                       hint="Child 1's stdout must be the pipe's write end: dup2(fd[1], STDOUT_FILENO). "
                            "dup2(old, new) makes `new` a copy of `old`.")
        raise Fail("the 1 MiB stream did not arrive intact at a slow reader",
                   expected=f"{BIG_SIZE} bytes, SHA-256 {d.big_sha256}",
                   observed=(h.result or "(the reader printed nothing)").replace("HELD ", ""),
                   evidence=[("the writer's (cat's) writes into the pipe",
                              trace_of(h.run, h.writer, ("write",))),
                             ("pipeline's stderr", h.run.stderr[-1500:] or "(empty)")],
                   hint="Every byte CMD1 writes must reach CMD2. A write that fails with EAGAIN means the pipe "
                        "was made non-blocking (O_NONBLOCK): leave it blocking, a full pipe simply makes the "
                        "writer wait.")
    ctx.reset()
    args = ["cat", d.big, "--", "wc", "-c"]
    run = ctx.start("pipeline", args)
    wait_or_hang(ctx, run, args, hint="wc prints its count only at end-of-file: every write end must be closed.")
    if run.stdout.strip() != str(BIG_SIZE):
        raise Fail("`pipeline cat BIG -- wc -c` counted the wrong number of bytes (BIG is 1 MiB)",
                   expected=str(BIG_SIZE), observed=repr(run.stdout[:200]),
                   evidence=[("pipeline's stderr", run.stderr[-1500:] or "(empty)")],
                   hint="CMD1's stdout must be the pipe's write end and CMD2's stdin its read end.")


@check("writer-blocks")
def writer_blocks(ctx):
    """With a slow reader, the writer sleeps in the kernel while the pipe is full (64 KiB), and goes on once the reader drains it"""
    h = held_session(ctx)
    if h.start_failure:
        raise h.start_failure
    writes = _writes(h.run, h.writer)
    evidence = [("the writer's (cat's) writes to fd 1", trace_of(h.run, h.writer, ("write", "execve"))),
                ("the pipes while the reader was held", h.pipe_map_text)]
    if not h.blocked:
        again = [w for w in writes if w.errno == "EAGAIN"]
        if again:
            raise Fail("the writer did not wait for the slow reader: its write failed with EAGAIN",
                       expected="cat asleep in a pipe write (state S) until the reader makes room",
                       observed=short(again[0].raw), evidence=evidence,
                       hint="The pipe (or its write end) is non-blocking (O_NONBLOCK). Do not set it: a blocking "
                            "pipe makes the writer sleep while the pipe is full, which is what you want.")
        raise Fail("the writer was never seen asleep on a full pipe while the reader was held",
                   expected="cat asleep in a pipe write (state S, wchan anon_pipe_write or pipe_write)",
                   observed=(f"cat (pid {h.writer}) exited without ever waiting" if h.writer
                             else "cat was never seen running"),
                   evidence=evidence,
                   hint="CMD1's stdout must be the pipe's write end: dup2(fd[1], STDOUT_FILENO) in child 1.")
    evidence.insert(0, ("the writer while the reader was held",
                        f"state {h.seen_state}, wchan {h.seen_wchan}; pipe: "
                        f"{h.fill.describe() if h.fill else 'fill level unavailable'}\n{h.sample.describe()}"))
    if not h.sample.blocked:
        raise Fail("the writer used the CPU while the pipe was full", expected="no CPU used while blocked",
                   observed=h.sample.describe(), evidence=evidence)
    if h.fill is not None and not h.fill.full:
        raise Fail("the writer slept although the pipe was not full", expected="a full pipe (64 KiB)",
                   observed=h.fill.describe(), evidence=evidence,
                   hint="The writer should only wait when the pipe is full.")
    written = sum(w.ret for w in writes if w.ret and w.ret > 0)
    if not h.writer_done or written < BIG_SIZE:
        raise Fail("the writer made no progress once the reader drained the pipe",
                   expected=f"cat writes all {BIG_SIZE} bytes and exits",
                   observed=f"{written} bytes written; cat {'exited' if h.writer_done else 'still running'}",
                   evidence=evidence)


@check("parent-closes-ends")
def parent_closes_ends(ctx):
    """The parent closes both pipe ends right after forking, before it waits"""
    h = held_session(ctx)
    run, pid = h.run, root(h.run)
    tp = pipes.traced_pipe_ends(run.trace, root=pid)
    mine = [p for p in tp.pipes if p.pid == pid]
    calls = trace_of(run, pid, ("pipe", "pipe2", "clone", "clone3", "fork", "vfork", "close", "dup2",
                                "wait4", "waitid", "exit_group"), 20)
    if not mine:
        raise Fail("pipeline never created a pipe", expected="pipe(fd) in the parent", observed=calls,
                   hint="Call pipe() once, before the two forks.")
    own = tp.calls_by_pid.get(pid, [])
    first_wait = next((i for i, e in enumerate(own) if getattr(e, "name", "") in WAIT_CALLS), None)
    problems = []
    for end in tp.ends_of(pid, mine[0]):
        name = f"the {end.access} end (fd {end.fd})"
        if end.how_lost not in ("close", "close_range"):
            problems.append(f"{name} was never closed by the parent" +
                            (" (it went away only when the parent exited)" if end.how_lost == "exit" else ""))
        elif first_wait is not None and end.lost_seq > first_wait:
            problems.append(f"{name} was closed only after the parent started waiting")
    if not problems:
        return
    evidence = [("the parent's pipe, fork, close and wait calls", calls)]
    if h.parent_ends:
        evidence.append(("the parent's pipe ends in /proc while it waited for its children",
                         "\n".join(f"fd {e.fd}: {e.access} end of pipe {inode}" for inode, e in h.parent_ends)))
    evidence.append(("the pipeline's pipe at that moment (the grader's own pipes left out)", h.pipe_map_text))
    raise Fail("the parent keeps a pipe end open: " + "; ".join(problems),
               expected="close(fd[0]) and close(fd[1]) in the parent after the forks, before waitpid",
               observed="; ".join(problems), evidence=evidence,
               hint="An open write end in the parent means the reader never sees end-of-file (cat hangs); an "
                    "open read end means the writer never gets SIGPIPE (`yes` runs forever). The parent uses "
                    "neither end: close both right after the second fork.")


def _parse_probe(line: str) -> tuple[str, int | None, dict[int, tuple[int, str]]]:
    """"PROBE reader pid=12 fds=0:345:r 4:345:w" -> ("reader", 12, {0: (345, "r"), 4: (345, "w")})."""
    words = line.split()
    role = words[1] if len(words) > 1 else "?"
    pid, fds = None, {}
    for w in words[2:]:
        if w.startswith("pid=") and w[4:].isdigit():
            pid = int(w[4:])
    rest = line.split("fds=", 1)[1].split() if "fds=" in line else []
    for item in rest:
        parts = item.split(":")
        if len(parts) == 3 and parts[0].isdigit() and parts[1].isdigit():
            fds[int(parts[0])] = (int(parts[1]), parts[2])
    return role, pid, fds


@check("child-fds")
def child_fds(ctx):
    """Each child gets exactly one pipe end on the right fd (CMD1's stdout, CMD2's stdin) and no stray end"""
    d = data(ctx)
    args = ["python3", d.probe, "fds", "writer", "--", "python3", d.probe, "fds", "reader"]
    run = ctx.start("pipeline", args, trace=TRACE)
    wait_or_hang(ctx, run, args)
    lines = run.lines()
    reader = next((l for l in lines if l.startswith("PROBE reader ")), None)
    relayed = next((l[len("RELAY "):] for l in lines if l.startswith("RELAY PROBE writer ")), None)
    direct = next((l for l in lines if l.startswith("PROBE writer ")), None)
    writer = relayed or direct
    if reader is None or writer is None:
        raise Fail("a probe command did not report", expected="a report from CMD1 and from CMD2",
                   observed="\n".join(lines[:10]) or "(no output)",
                   evidence=[("pipeline's stderr", run.stderr[-1500:] or "(empty)")],
                   hint="Both children must execvp their command.")
    _, wpid, wfds = _parse_probe(writer)
    _, rpid, rfds = _parse_probe(reader)

    pipe_ino = rfds.get(0, (None, ""))[0]

    def table(fds):
        return ", ".join(f"fd {fd}: {'write' if a == 'w' else 'read' if a == 'r' else a} end of pipe {ino}"
                         + (" (the grader's)" if fd <= 2 and ino != pipe_ino else "")
                         for fd, (ino, a) in sorted(fds.items())) or "no pipe fds"
    tp = pipes.traced_pipe_ends(run.trace, root=root(run))
    evidence = [("CMD1's pipe fds, as it reported them", table(wfds)),
                ("CMD2's pipe fds, as it reported them", table(rfds))]
    for who, pid in (("child 1", wpid), ("child 2", rpid)):
        execve, kept = tp.held_at_exec(pid) if pid else (None, [])
        if execve is not None:
            evidence.append((f"pipe fds {who} kept across execve (from the trace)",
                             "\n".join(e.describe() for e in sorted(kept, key=lambda e: e.fd)) or "none"))
    problems = []
    if rfds.get(0, (None, ""))[1] != "r":
        problems.append("CMD2's stdin (fd 0) is not the read end of a pipe")
    if wfds.get(1, (None, ""))[1] != "w" or wfds.get(1, (None, ""))[0] != pipe_ino:
        problems.append("CMD1's stdout (fd 1) is not the write end of the pipe CMD2 reads from"
                        + (" (its output reached the grader directly)" if relayed is None else ""))
    for who, fds, right in (("CMD1", wfds, 1), ("CMD2", rfds, 0)):
        for fd, (ino, access) in sorted(fds.items()):
            if fd != right and (fd > 2 or ino == pipe_ino):
                problems.append(f"{who} has a stray pipe end: fd {fd}, the "
                                f"{'write' if access == 'w' else 'read'} end of pipe {ino}")
    if problems:
        raise Fail("; ".join(problems[:3]),
                   expected="CMD1: fd 1 = write end of the pipe, nothing else; CMD2: fd 0 = read end, nothing else",
                   observed=f"CMD1: {table(wfds)}\nCMD2: {table(rfds)}", evidence=evidence,
                   hint="In each child: dup2 the end it uses onto fd 1 (child 1) or fd 0 (child 2), then close "
                        "BOTH original pipe fds before execvp. A stray write end in CMD2 keeps it from ever "
                        "seeing end-of-file.")


@check("exit-status")
def exit_status(ctx):
    """pipeline exits with CMD2's status, or 128+signal if CMD2 was killed"""
    cases = [(["true", "--", "false"], 1), (["false", "--", "true"], 0),
             (["true", "--", "sh", "-c", "kill -TERM $$"], 128 + signal.SIGTERM)]
    expected, observed = [], []
    for args, want in cases:
        run = ctx.start("pipeline", args)
        wait_or_hang(ctx, run, args)
        expected.append(f"{show(args)}: exited with status {want}")
        observed.append(f"{show(args)}: {run.describe_exit()}")
        ctx.reset()
    ok, diff = compare_lines(expected, observed)
    if not ok:
        raise Fail("pipeline's exit status does not follow CMD2", expected="\n".join(expected),
                   observed=diff,
                   hint="waitpid() for child 2 gives CMD2's status: exit with WEXITSTATUS(status), or with "
                        "128 + WTERMSIG(status) when WIFSIGNALED(status) (a shell does the same: $? is 143 "
                        "after SIGTERM).")


@check("reaps-children")
def reaps_children(ctx):
    """The parent waits for both children (wait4/waitpid for each pid), so neither is left a zombie"""
    d = data(ctx)
    hold = ["python3", d.probe, "wait"]
    args = ["true", "--", *hold]
    run = ctx.start("pipeline", args, trace=TRACE)
    reader = wait_for_reader(ctx, run, hold)
    zombies = ""
    if reader:
        # child 1 (true) has exited by now, or soon; look at the children while CMD2 is still held.
        poll(lambda: _sleeping_in_wait(run.pid) or not _alive(run.pid), 2.0)
        stats = [procfs.read_stat(p) for p in student_pids(ctx, run)]
        zombies = "\n".join(f"pid {s.pid} ({s.comm}): state Z, a zombie" for s in stats
                            if s and s.ppid == run.pid and s.state == "Z")
        release(ctx, reader)
    wait_or_hang(ctx, run, args)
    t, pid = run.trace, root(run)
    forks = [c for c in t.calls(pid=pid) if c.name in pipes.FORK_CALLS and c.ret and c.ret > 0]
    reaped = {c.ret for c in t.calls(pid=pid) if c.name in WAIT_CALLS and c.ret and c.ret > 0}
    for c in t.calls("waitid", pid):
        if c.ret == 0 and "si_pid=" in c.raw:
            try:
                reaped.add(int(c.raw.split("si_pid=")[1].split(",")[0].split("}")[0]))
            except ValueError:
                pass
    missing = [f.ret for f in forks if f.ret not in reaped]
    if len(forks) < 2:
        raise Fail("pipeline did not start two children", expected="two successful forks",
                   observed=trace_of(run, pid, pipes.FORK_CALLS + WAIT_CALLS), hint="Fork once for each command.")
    if missing:
        who = {f.ret: ("child 1" if i == 0 else "child 2") for i, f in enumerate(forks)}
        evidence = [("the parent's fork and wait calls", trace_of(run, pid, pipes.FORK_CALLS + WAIT_CALLS + ("exit_group",)))]
        if zombies:
            evidence.append(("the parent's children in /proc while CMD2 was still running", zombies))
        raise Fail("the parent never waited for " + " and ".join(f"{who[p]} (pid {p})" for p in missing),
                   expected=f"wait4/waitpid returning each child's pid: {', '.join(str(f.ret) for f in forks)}",
                   observed=f"reaped: {', '.join(map(str, sorted(reaped))) or 'none'}", evidence=evidence,
                   hint="A child that has exited stays a zombie until its parent waits for it. Call "
                        "waitpid(pid, &status, 0) for each of the two children before exiting.")


INJECTED = "(INJECTED)"


def _fault_run(ctx, args: list[str], inject: list[str], what: str, hint: str):
    run = ctx.start("pipeline", args, trace=TRACE, inject=inject)
    rc = wait_or_hang(ctx, run, args, hint=f"When {what} fails, report it and exit; do not wait for a child "
                                              "that was never started.")
    pid = root(run)
    hits = [c for c in run.trace.calls() if INJECTED in c.raw]
    strays = [c for c in hits if c.pid != pid]
    if strays:  # the fault must hit the student's own process only; anything else is a grader bug
        raise RuntimeError(f"injected fault hit a process other than pipeline: {strays[0].raw}")
    if not hits:
        raise Fail(f"pipeline never called {what}, so the injected failure had nothing to hit",
                   observed=trace_of(run, pid), hint=hint)
    after = [c for c in run.trace.calls(pid=pid) if c.name in pipes.FORK_CALLS and not c.failed
             and c.time >= hits[0].time and c is not hits[0]]
    evidence = [("the failed call (injected by the grader)", short(hits[0].raw)),
                ("pipeline's calls", trace_of(run, pid, ("pipe", "pipe2") + pipes.FORK_CALLS + WAIT_CALLS
                                               + ("exit_group", "write"))),
                ("pipeline's stderr", run.stderr[-1500:] or "(empty)")]
    if what == "pipe" and after:
        raise Fail("pipeline went on to fork after pipe() had failed",
                   expected="an error message and exit, before any fork", observed=short(after[0].raw),
                   evidence=evidence, hint=hint)
    if rc < 0 or rc == 0 or not run.stderr.strip():
        observed = run.describe_exit() + ("" if run.stderr.strip() else ", nothing on stderr")
        raise Fail(f"when {what} fails, pipeline must print an error and exit with a non-zero status",
                   expected="an error message on stderr and a non-zero exit status", observed=observed,
                   evidence=evidence, hint=hint)


@check("fork-failure")
def fork_failure(ctx):
    """When fork fails (EAGAIN, injected with strace), pipeline prints an error and exits non-zero"""
    hint = ("fork() returns -1 when it fails (Python: os.fork raises OSError). Check it, print an error "
            "with perror(\"fork\") and exit(1); otherwise the parent goes on as if it were the child, or "
            "waits for a child that does not exist.")
    for when in (1, 2):
        spec = [f"{name}:error=EAGAIN:when={when}" for name in ("clone", "fork", "vfork", "clone3")]
        _fault_run(ctx, ["printf", "abc", "--", "cat"], spec, "fork" if when == 1 else "the second fork", hint)
        ctx.reset()


@check("pipe-failure")
def pipe_failure(ctx):
    """When pipe fails (EMFILE, injected with strace), pipeline prints an error and exits non-zero"""
    spec = ["pipe:error=EMFILE:when=1", "pipe2:error=EMFILE:when=1"]
    _fault_run(ctx, ["printf", "abc", "--", "cat"], spec, "pipe", (
        "pipe() returns -1 when it fails (Python: os.pipe raises OSError). Check it, print an error with "
        "perror(\"pipe\") and exit(1) before forking: the children would have nothing to connect."))
