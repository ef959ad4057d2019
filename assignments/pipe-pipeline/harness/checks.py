"""Visible checks for pipe-pipeline: `pipeline CMD1 [ARG...] -- CMD2 [ARG...]`.

Checks run pipeline with ordinary commands and judge what the kernel saw (fd tables, where each
process sleeps, the trace), helped by BIG (1 MiB of fixed bytes) and the library's pipe probe as
CMD1 or CMD2: it reports its pipe fds, or holds the reader until the grader lets it read, so "the
writer blocks on a full pipe" is observed, not timed.
"""
from __future__ import annotations

import hashlib
import os
import random
import signal
from dataclasses import dataclass

from grader.harness import evidence, pipes, processes, signals, waits
from grader.harness.api import Fail, check
from grader.harness.evidence import expect, expect_lines, expect_stdout
from grader.harness.processes import FORK_SYSCALLS, WAIT_SYSCALLS
from grader.harness.spawn import DEFAULT_TRACE, Run

RUN_SECONDS = 5.0        # a healthy run takes well under a second, even traced on a busy machine
BIG_SIZE = 1 << 20
TRACE = DEFAULT_TRACE + ",fcntl,close_range"
# For `yes`, which writes without end when it is not stopped: tracing its writes would fill the trace.
TRACE_NO_WRITE = ",".join(s for s in TRACE.split(",") if s != "write")
YES_HEAD = ["yes", "--", "head", "-n", "1"]
HELD_CMD2 = ["sleep", "60"]   # a CMD2 that runs until the grader kills it (SIGKILL, which nothing ignores)


@dataclass
class Data:
    big: str
    big_sha256: str
    probe_path: str

    def probe(self, *mode: str) -> list[str]:
        """The probe's command line (`python3 -S`: no site, a faster start)."""
        return ["python3", "-S", self.probe_path, *mode]


def data(ctx) -> Data:
    def make() -> Data:
        big = random.Random(20240503).randbytes(BIG_SIZE)
        d = ctx.grader_files("pipe-pipeline.", {"BIG": big, "probe.py": pipes.PROBE_SOURCE})
        return Data(os.path.join(d, "BIG"), hashlib.sha256(big).hexdigest(), os.path.join(d, "probe.py"))
    return ctx.memo("data", make)


def show(args: list[str]) -> str:
    return "pipeline " + evidence.command_line(args)


def labels(ctx, run: Run, args: list[str]) -> dict[int, str]:
    """pid -> "pipeline (the parent, pid 10)", "child 2 (pid 12, running cat)", ..."""
    i = args.index("--") if "--" in args else len(args)
    return processes.label_roles(processes.of_run(run, ctx.identity.uid), run.pid, "pipeline",
                                 [args[:i], args[i + 1:]])


def wait_or_hang(ctx, run: Run, args: list[str], hint: str | None = None, ends=None) -> int:
    """pipeline's exit status once it AND its children have ended (their output is then complete). On a
    hang (or one `ends` proves), a Fail that names who is stuck on which pipe end, and who holds the other."""
    return waits.finish_tree(ctx, run, RUN_SECONDS, f"`{show(args)}`", hint=hint, ends=ends,
                             explain=lambda: pipes.explain_hang(labels(ctx, run, args)))


@dataclass
class Held:
    """`pipeline cat BIG -- python3 -S probe.py hold`: the reader starts reading only when told."""
    run: Run
    seen: pipes.HeldReader
    start_failure: Fail | None = None
    finish_failure: Fail | None = None
    result: str | None = None                   # "HELD bytes=N sha256=H"


def held_session(ctx) -> Held:
    def run_it() -> Held:
        d, hold = data(ctx), data(ctx).probe("hold")
        args = ["cat", d.big, "--", *hold]
        run = ctx.start("pipeline", args, trace=TRACE)
        h = Held(run, pipes.hold_reader(run, hold, ["cat", d.big], uid=ctx.identity.uid,
                                        pids=lambda: processes.of_run(run, ctx.identity.uid),
                                        labels=lambda: labels(ctx, run, args), timeout=RUN_SECONDS))
        if h.seen.reader is None:
            h.start_failure = Fail(f"`{show(args)}`: CMD2 (the probe) never started",
                                   expected="CMD2 running within a few seconds",
                                   evidence=[evidence.stderr(run),
                                             ("pipeline's process calls", evidence.calls(run.trace, run.pid))],
                                   hint="Child 2 must dup2 the read end onto stdin and execvp CMD2.")
        h.finish_failure = evidence.failure_of(lambda: wait_or_hang(
            ctx, run, args, hint="The reader only sees end-of-file once every write end is closed."))
        h.result = next((line for line in run.lines() if line.startswith("HELD ")), None)
        return h
    return ctx.memo("held", run_it)


def yes_head(ctx) -> tuple[Run, Fail | None]:
    """`pipeline yes -- head -n 1`, run once: the run, and the Fail if it hung."""
    def run_it():
        run = ctx.start("pipeline", YES_HEAD, trace=TRACE_NO_WRITE)
        forever = lambda: pipes.writes_into_grader(run, "yes", "y\ny\ny\n", ctx.identity.uid)
        return run, evidence.failure_of(lambda: wait_or_hang(ctx, run, YES_HEAD, ends=forever, hint=(
            "yes writes forever; it stops only when it gets SIGPIPE, which happens once every read end of "
            "the pipe is closed. After head exits, no other process may still hold the read end: the parent "
            "closes both ends right after forking, and child 1 closes fd[0] before execvp.")))
    return ctx.memo("yes-head", run_it)


# ---------------------------------------------------------------- checks

@check("usage")
def usage(ctx):
    """With no `--`, or an empty side, pipeline prints usage to stderr and exits 2"""
    rows, bad = [], []
    for args in ([], ["printf", "abc"], ["--", "cat"], ["printf", "abc", "--"]):
        run = ctx.start("pipeline", args)
        rc = wait_or_hang(ctx, run, args, hint="Check the arguments before calling pipe() or fork().")
        rows.append(f"{show(args):34} {run.describe_exit():24} stderr: {run.stderr.strip()[:60]!r}")
        if not (rc == 2 and run.stderr.strip() != ""):
            bad.append(show(args))
        ctx.reset()
    expect(not bad, f"wrong reaction to a usage error: {', '.join(bad)}",
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
    expect_stdout(run, "abc", f"`{show(args)}`", evidence=[evidence.stderr(run)],
                  hint="Child 1 runs CMD1 with its stdout on the pipe, child 2 runs CMD2 with its stdin on it.")


@check("sigpipe-terminates")
def sigpipe_terminates(ctx):
    """`pipeline yes -- head -n 1` prints y and ends: yes gets SIGPIPE because only head held the read end"""
    run, hang = yes_head(ctx)
    if hang and run.stdout.startswith("y\ny\ny\n"):
        hang.message = f"`{show(YES_HEAD)}` did not finish, and yes's output reached the grader directly"
        hang.hint = ("The output of yes did not go into the pipe: child 1's stdout is still the terminal. "
                     "dup2(old, new) makes `new` a copy of `old`: use dup2(fd[1], STDOUT_FILENO).")
    if hang:
        raise hang
    expect_stdout(run, "y\n", f"`{show(YES_HEAD)}`", shown="y",
                  hint="Only CMD2's output should reach the terminal; CMD1's goes into the pipe. "
                       "End CMD1's argument list at the \"--\" (argv[sep] = NULL).")


@check("sigpipe-restored", depends=["sigpipe-terminates"])
def sigpipe_restored(ctx):
    """Commands run with SIGPIPE at its default action, as in a shell: yes in `yes -- head -n 1` dies of SIGPIPE"""
    run, _ = yes_head(ctx)
    execve, end = processes.exec_of(run.trace, "yes")
    disposition = signals.disposition_at_exec(run.trace, execve.pid, "SIGPIPE") if execve else None
    shown = [sa.call for sa in signals.sigactions(run.trace, "SIGPIPE")] + [e for e in (execve, end) if e]
    expect(disposition != "SIG_IGN", "yes (CMD1) was started with SIGPIPE ignored, so it was not killed by "
           "SIGPIPE when head closed the pipe", expected="yes killed by SIGPIPE (its default action)",
           observed=f"yes {end.raw.strip('+ ')}" if end else "yes never ended",
           evidence=[("SIGPIPE's disposition, yes's execve and its end (trace)",
                      run.trace.excerpt(sorted(shown, key=lambda e: e.time))), evidence.stderr(run)],
           hint="An ignored signal stays ignored across execvp, and Python ignores SIGPIPE from the start. In each "
                "child, before execvp, restore the default: signal.signal(signal.SIGPIPE, signal.SIG_DFL). Otherwise "
                "a writer whose reader has gone gets EPIPE, prints \"Broken pipe\" and exits 1 instead of ending "
                "quietly, as it does in a shell.")


@check("stream-intact")
def stream_intact(ctx):
    """A 1 MiB stream arrives byte for byte (`cat BIG` into a reader that starts late: byte count and SHA-256)"""
    d = data(ctx)
    h = held_session(ctx)
    if h.start_failure:
        raise h.start_failure
    if h.finish_failure:            # the reader never saw the stream's end (a "HELD" line printed while the
        raise h.finish_failure      # grader killed the stuck processes proves nothing: it depends on kill order)
    if h.result != f"HELD bytes={BIG_SIZE} sha256={d.big_sha256}":
        expect(not (h.result is None and h.run.stdout_truncated),
               "the 1 MiB stream never reached CMD2: it came out on pipeline's own stdout",
               expected=f"CMD2 reports {BIG_SIZE} bytes", observed="more than 1 MiB on pipeline's stdout",
               hint="Child 1's stdout must be the pipe's write end: dup2(fd[1], STDOUT_FILENO). "
                    "dup2(old, new) makes `new` a copy of `old`.")
        raise Fail("the 1 MiB stream did not arrive intact at a slow reader",
                   expected=f"{BIG_SIZE} bytes, SHA-256 {d.big_sha256}",
                   observed=(h.result or "(the reader printed nothing)").replace("HELD ", ""),
                   evidence=[("the writer's (cat's) writes into the pipe",
                              evidence.calls(h.run.trace, h.seen.writer, ("write",))), evidence.stderr(h.run)],
                   hint="Every byte CMD1 writes must reach CMD2. A write that fails with EAGAIN means the pipe "
                        "was made non-blocking (O_NONBLOCK): leave it blocking, a full pipe simply makes the "
                        "writer wait.")


@check("writer-blocks")
def writer_blocks(ctx):
    """With a slow reader, the writer sleeps in the kernel while the pipe is full (64 KiB), and goes on once the reader drains it"""
    h = held_session(ctx)
    if h.start_failure:
        raise h.start_failure
    pipes.expect_writer_blocked(h.run.trace, h.seen, BIG_SIZE, never_asleep_hint=(
        "CMD1's stdout must be the pipe's write end: dup2(fd[1], STDOUT_FILENO) in child 1."))


@check("parent-closes-ends")
def parent_closes_ends(ctx):
    """The parent closes both pipe ends right after forking, before it waits"""
    h = held_session(ctx)
    run, pid = h.run, h.run.root_pid
    tp = pipes.traced_pipe_ends(run.trace, root=pid)
    mine = [p for p in tp.pipes if p.pid == pid]
    calls = evidence.calls(run.trace, pid, ("pipe", "pipe2", *FORK_SYSCALLS, "close", "dup2", *WAIT_SYSCALLS,
                                            "exit_group"), 20)
    expect(bool(mine), "pipeline never created a pipe", expected="pipe(fd) in the parent", observed=calls,
           hint="Call pipe() once, before the two forks.")
    problems = pipes.kept_by_parent(tp, pid, mine[0])
    shown = [("the parent's pipe, fork, close and wait calls", calls)]
    if h.seen.parent_ends:
        shown.append(("the parent's pipe ends in /proc while it waited for its children",
                      "\n".join(f"fd {e.fd}: {e.access} end of pipe {inode}" for inode, e in h.seen.parent_ends)))
    shown.append(("the pipeline's pipe at that moment (the grader's own pipes left out)", h.seen.pipe_map_text))
    expect(not problems, "the parent keeps a pipe end open: " + "; ".join(problems),
           expected="close(fd[0]) and close(fd[1]) in the parent after the forks, before waitpid",
           observed="; ".join(problems), evidence=shown,
           hint="An open write end in the parent means the reader never sees end-of-file (cat hangs); an "
                "open read end means the writer never gets SIGPIPE (`yes` runs forever). The parent uses "
                "neither end: close both right after the second fork.")


@check("child-fds")
def child_fds(ctx):
    """Each child gets exactly one pipe end on the right fd (CMD1's stdout, CMD2's stdin) and no stray end"""
    d = data(ctx)
    args = [*d.probe("fds", "writer"), "--", *d.probe("fds", "reader")]
    run = ctx.start("pipeline", args, trace=TRACE)
    wait_or_hang(ctx, run, args)
    writer, reader, relayed = pipes.probe_reports(run.lines())
    expect(reader is not None and writer is not None, "a probe command did not report",
           expected="a report from CMD1 and from CMD2", observed=evidence.output(run, none="(no output)"),
           evidence=[evidence.stderr(run)], hint="Both children must execvp their command.")
    _, wpid, wfds = pipes.parse_probe(writer)
    _, rpid, rfds = pipes.parse_probe(reader)
    pipe_ino = rfds.get(0, (None, ""))[0]
    wtable, rtable = pipes.probe_table(wfds, pipe_ino), pipes.probe_table(rfds, pipe_ino)
    tp = pipes.traced_pipe_ends(run.trace, root=run.root_pid)
    shown = [("CMD1's pipe fds, as it reported them", wtable), ("CMD2's pipe fds, as it reported them", rtable)]
    shown += [(f"pipe fds {who} kept across execve (from the trace)", kept) for who, kept in
              (("child 1", pipes.kept_at_exec(tp, wpid)), ("child 2", pipes.kept_at_exec(tp, rpid))) if kept]
    problems = []
    if rfds.get(0, (None, ""))[1] != "r":
        problems.append("CMD2's stdin (fd 0) is not the read end of a pipe")
    if wfds.get(1, (None, ""))[1] != "w" or wfds.get(1, (None, ""))[0] != pipe_ino:
        problems.append("CMD1's stdout (fd 1) is not the write end of the pipe CMD2 reads from"
                        + ("" if relayed else " (its output reached the grader directly)"))
    problems += pipes.stray_probe_ends("CMD1", wfds, 1, pipe_ino) + pipes.stray_probe_ends("CMD2", rfds, 0, pipe_ino)
    expect(not problems, "; ".join(problems[:3]),
           expected="CMD1: fd 1 = write end of the pipe, nothing else; CMD2: fd 0 = read end, nothing else",
           observed=f"CMD1: {wtable}\nCMD2: {rtable}", evidence=shown,
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
    expect_lines("pipeline's exit status does not follow CMD2", expected, observed,
                 hint="waitpid() for child 2 gives CMD2's status: exit with WEXITSTATUS(status), or with "
                      "128 + WTERMSIG(status) when WIFSIGNALED(status) (a shell does the same: $? is 143 "
                      "after SIGTERM).")


@check("reaps-children")
def reaps_children(ctx):
    """The parent waits for both children (wait4/waitpid for each pid), so neither is left a zombie"""
    args = ["true", "--", *HELD_CMD2]
    run = ctx.start("pipeline", args, trace=TRACE)

    def cmd2() -> int | None:          # its pid once it runs HELD_CMD2; -1 if the whole run ended first
        found = processes.running([p for p in processes.of_run(run, ctx.identity.uid) if p != run.pid], HELD_CMD2)
        return found or (None if run.alive() else -1)
    reader = waits.until(cmd2, RUN_SECONDS, pids=run.tree)
    zombies = ""
    if reader and reader > 0:
        # child 1 (true) has exited by now, or soon; look at the children while CMD2 is still running.
        waits.until(lambda: waits.asleep_in(run.pid, WAIT_SYSCALLS) or not waits.alive(run.pid), 2.0)
        zombies = processes.zombies(processes.of_run(run, ctx.identity.uid), run.pid)
        signals.send_to_student(reader, signal.SIGKILL, ctx.identity.uid)
    wait_or_hang(ctx, run, args)
    pid = run.root_pid
    expect(len(processes.children(run.trace, pid)) >= 2, "pipeline did not start two children",
           expected="two successful forks", observed=evidence.calls(run.trace, pid, FORK_SYSCALLS + WAIT_SYSCALLS),
           hint="Fork once for each command.")
    processes.expect_reaped(run.trace, pid, [("the parent's children in /proc while CMD2 was still running",
                                              zombies)] if zombies else [],
                            hint="A child that has exited stays a zombie until its parent waits for it. Call "
                                 "waitpid(pid, &status, 0) for each of the two children before exiting.")


def _fault_run(ctx, args: list[str], inject: list[str], what: str, hint: str):
    run = ctx.start("pipeline", args, trace=TRACE, inject=inject)
    rc = wait_or_hang(ctx, run, args, hint=f"When {what} fails, report it and exit; do not wait for a child "
                                              "that was never started.")
    pid, hits = run.root_pid, evidence.expect_injected(run, what, hint)
    after = [c for c in run.trace.calls(pid=pid) if c.name in FORK_SYSCALLS and not c.failed
             and c.time >= hits[0].time and c is not hits[0]]
    shown = [("the failed call (injected by the grader)", evidence.short(hits[0].raw)),
             ("pipeline's calls", evidence.calls(run.trace, pid, ("pipe", "pipe2") + FORK_SYSCALLS + WAIT_SYSCALLS
                                                 + ("exit_group", "write"))),
             evidence.stderr(run)]
    expect(not (what == "pipe" and after), "pipeline went on to fork after pipe() had failed",
           expected="an error message and exit, before any fork",
           observed=evidence.short(after[0].raw) if after else None, evidence=shown, hint=hint)
    evidence.expect_failure_reported(run, rc, what, evidence=shown, hint=hint)


@check("fork-failure")
def fork_failure(ctx):
    """When fork fails (EAGAIN, injected with strace), pipeline prints an error and exits non-zero"""
    hint = ("fork() returns -1 when it fails (Python: os.fork raises OSError). Check it, print an error "
            "with perror(\"fork\") and exit(1); otherwise the parent goes on as if it were the child, or "
            "waits for a child that does not exist.")
    for when in (1, 2):
        spec = [f"{name}:error=EAGAIN:when={when}" for name in FORK_SYSCALLS]
        _fault_run(ctx, ["printf", "abc", "--", "cat"], spec, "fork" if when == 1 else "the second fork", hint)
        ctx.reset()


@check("pipe-failure")
def pipe_failure(ctx):
    """When pipe fails (EMFILE, injected with strace), pipeline prints an error and exits non-zero"""
    spec = ["pipe:error=EMFILE:when=1", "pipe2:error=EMFILE:when=1"]
    _fault_run(ctx, ["printf", "abc", "--", "cat"], spec, "pipe", (
        "pipe() returns -1 when it fails (Python: os.pipe raises OSError). Check it, print an error with "
        "perror(\"pipe\") and exit(1) before forking: the children would have nothing to connect."))
