"""Visible checks for sig-catch.

Three sessions are run, each at most once per submission, and judged by
several checks each:

- main: start sigcatch, read `ready`, snapshot its signal masks, measure how it
  waits, then send three SIGINTs, each once the previous answer has appeared
  and the program sleeps again. Killed at the end so its trace is complete.
- term: start sigcatch, wait for `ready`, send SIGTERM, expect `bye`, exit 0
  and the segment gone.
- robust (advisory): strace makes the program's second write fail with EINTR,
  as a signal arriving during a blocking write does without SA_RESTART, while
  the grader sends SIGINTs after `ready`; the program must still be running
  afterwards.

Signals are sent only when the program sleeps in a system call (or after a
bound, for a program that never sleeps), so a verdict never depends on how fast
the program gets going on a loaded machine. Signal helpers (masks, delivery,
handler spans in the trace) live in grader/harness/signals.py.
"""
from __future__ import annotations

import re
import signal
from dataclasses import dataclass, field

from grader.harness import blocking, signals
from grader.harness.api import Fail, check, compare_lines
from grader.harness.procfs import IpcObject, sysvipc_table
from grader.harness.spawn import Run
from grader.harness.trace import SignalEvent, Syscall

READY = re.compile(r"^ready (-?\d+)\s*$")
CAUGHT_PREFIX = "caught SIGINT"
SIGKILL_LINE = "cannot catch SIGKILL"
SEGMENT_SIZE = 4096
SIGINTS = 3

START_SECONDS = 5.0      # to print `ready`
SETTLE_SECONDS = 3.0     # to fall asleep before a signal is sent
SPIN_SETTLE = 0.2        # the same, once a program was seen never to sleep
ANSWER_SECONDS = 5.0     # for the line that answers a signal
EXIT_SECONDS = 5.0       # from SIGTERM to the exit
MEASURE_SECONDS = 1.0    # CPU and wakeups while waiting
# The second write fails with EINTR, as a write interrupted by a signal does without SA_RESTART.
# (strace's `signal=` injection is lost under --seccomp-bpf, so the grader sends the SIGINTs itself.)
ROBUST_INJECT = "write:error=EINTR:when=2"

ORDINAL = {1: "first", 2: "second", 3: "third"}


# ------------------------------------------------------------------ sessions

@dataclass
class Start:
    """sigcatch started, up to its `ready` line."""
    run: Run
    before: list[str] = field(default_factory=list)    # lines before `ready`
    ready: str | None = None
    shmid: int | None = None
    segment: IpcObject | None = None
    masks: signals.SignalState | None = None            # /proc masks right after `ready` was read
    failure: Fail | None = None


def _flush_hint(run: Run) -> str:
    wrote = [c for c in run.trace.calls("write", run.pid) if c.arg(0) == "1" and "ready" in c.arg(1)]
    if not wrote:
        return ("sigcatch never wrote `ready` to stdout: if it printed it, the line is still in its output buffer. "
                "stdout is a pipe here, so printf output is block-buffered: call fflush(stdout) after printing "
                "ready (Python: print(..., flush=True)).")
    return "Print `ready SHMID` (then flush) once the handlers are installed and the segment exists."


def start(ctx, inject: list[str] = ()) -> Start:
    run = ctx.start("sigcatch", inject=list(inject))
    s = Start(run=run)
    while True:
        line = run.read_line(START_SECONDS)
        if line is None:
            break
        m = READY.match(line)
        if m:
            s.ready, s.shmid = line, int(m.group(1))
            break
        s.before.append(line)
    if s.ready is None:
        seen = "\n".join(s.before) or "(nothing)"
        if run.wait(0.2) is None:
            s.failure = ctx.hang(f"sigcatch did not print `ready SHMID` within {START_SECONDS:g} s", [run],
                                 hint=_flush_hint(run))
            s.failure.evidence.insert(0, ("what sigcatch printed", seen))
        else:
            s.failure = Fail(f"sigcatch {run.describe_exit()} without printing `ready SHMID`",
                             expected="a line `ready SHMID`, e.g. `ready 32769`", observed=seen,
                             evidence=[("sigcatch's stderr", run.stderr[-2000:] or "(empty)")],
                             hint="Install the handlers, create the segment, print `ready SHMID`, flush, then wait.")
        return s
    s.masks = signals.signal_state(run.pid)
    objects = ctx.ipc_objects()
    s.segment = next((o for o in objects if o.kind == "shm" and o.id == s.shmid), None)
    evidence = [("shared-memory segments at that moment", sysvipc_table([o for o in objects if o.kind == "shm"]))]
    if s.segment is None:
        s.failure = Fail(f"sigcatch printed `{s.ready}`, but no shared-memory segment has id {s.shmid}",
                         expected="the id shmget() returned", observed=s.ready, evidence=evidence,
                         hint="Print the value returned by shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600).")
    elif s.segment.key != 0 or s.segment.size != SEGMENT_SIZE or s.segment.mode != 0o600:
        s.failure = Fail("the segment is not the private 4096-byte segment the spec asks for",
                         expected="key IPC_PRIVATE, size 4096 bytes, mode 0600", observed=s.segment.describe(),
                         evidence=evidence, hint="Create it with shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600).")
    return s


@dataclass
class Main:
    start: Start
    asleep: signals.Asleep | None = None
    waiting: blocking.BlockingSample | None = None
    deliveries: list[signals.Delivery] = field(default_factory=list)
    after: signals.Asleep | None = None        # after the last answered SIGINT
    alive_after: bool = False
    hang: Fail | None = None                   # a SIGINT got no answer and the program kept running


def run_main(ctx) -> Main:
    st = start(ctx)
    m = Main(start=st)
    if st.failure:
        return m
    run = st.run
    m.asleep = signals.wait_until_asleep(run.pid, SETTLE_SECONDS)
    settle = SETTLE_SECONDS if m.asleep.asleep else SPIN_SETTLE
    m.waiting = blocking.measure(run.pid, MEASURE_SECONDS)
    for k in range(1, SIGINTS + 1):
        d = signals.send_and_await(run, signal.SIGINT, CAUGHT_PREFIX, timeout=ANSWER_SECONDS, settle=settle)
        m.deliveries.append(d)
        if not d.answered:
            if not d.exited:
                m.hang = ctx.hang(f"no `caught SIGINT` line within {ANSWER_SECONDS:g} s of the {ORDINAL[k]} SIGINT",
                                  [run])
            break
    else:
        m.after = signals.wait_until_asleep(run.pid, settle)
        m.alive_after = run.wait(0.3) is None
    run.kill()                                 # the trace is complete once the run has ended
    return m


def main(ctx) -> Main:
    return ctx.memo("main", lambda: run_main(ctx))


@dataclass
class Term:
    start: Start
    asleep: signals.Asleep | None = None
    rc: int | None = None
    hang: Fail | None = None
    after_ready: list[str] = field(default_factory=list)
    leftovers: list[IpcObject] = field(default_factory=list)


def run_term(ctx) -> Term:
    st = start(ctx)
    t = Term(start=st)
    if st.failure:
        return t
    run = st.run
    spins = main(ctx).asleep is not None and not main(ctx).asleep.asleep   # it never slept in the main session
    t.asleep = signals.wait_until_asleep(run.pid, SPIN_SETTLE if spins else SETTLE_SECONDS)
    run.signal(signal.SIGTERM)
    t.rc = run.wait(EXIT_SECONDS)
    if t.rc is None:
        t.hang = ctx.hang(f"sigcatch did not exit within {EXIT_SECONDS:g} s of SIGTERM", [run],
                          hint="On SIGTERM, remove the segment, print `bye`, flush and exit(0). If the handler only "
                               "sets a flag, the main loop must check that flag when pause()/sigsuspend() returns.")
    else:
        # Run.wait gives the output threads only a second to finish: on a loaded machine the last
        # lines may still be on their way. Read on to the end of stdout (it is near: the program ended).
        while run.read_line(EXIT_SECONDS) is not None:
            pass
    lines = run.lines()
    t.after_ready = lines[lines.index(st.ready) + 1:] if st.ready in lines else lines
    t.leftovers = [o for o in ctx.ipc_objects() if o.kind == "shm"]
    return t


def term(ctx) -> Term:
    return ctx.memo("term", lambda: run_term(ctx))


_READY_IN_WRITE = re.compile(r'(^"|\\n)ready ')


def _ready_write_index(run: Run) -> int | None:
    """Index in the trace's events of sigcatch's write to stdout that carried `ready`."""
    for i, ev in enumerate(run.trace.events):
        if isinstance(ev, Syscall) and ev.name == "write" and ev.pid == run.pid and ev.arg(0) == "1" \
                and _READY_IN_WRITE.search(ev.arg(1)):
            return i
    return None


def _sigaction_excerpt(run: Run, names: tuple[str, ...] = ("SIGINT", "SIGTERM"), limit: int = 12) -> str:
    """The calls that set a handler for these signals, and the writes, in trace order."""
    shown = []
    for ev in run.trace.events:
        if ev.pid != run.pid or not isinstance(ev, Syscall):
            continue
        if ev.name == "rt_sigaction" and ev.arg(0) in names and signals.parse_sigaction(ev).sets:
            shown.append(ev)
        elif ev.name == "write" and ev.arg(0) == "1":
            shown.append(ev)
    return run.trace.excerpt(shown, limit) if shown else "(no such calls traced)"


# ------------------------------------------------------------------ checks

@check("ready-shmid")
def ready_shmid(ctx):
    """sigcatch prints `ready SHMID` (and flushes), naming the private 4096-byte segment (mode 0600) it created"""
    s = main(ctx).start
    if s.failure:
        raise s.failure


_EARLY_HINT = ("Install both handlers first, then create the segment and print `ready`. Whoever reads `ready` may "
               "send a signal at once; if it arrives before your handler is installed, the default action runs "
               "and the program dies.")


@check("handlers-before-ready", depends=["ready-shmid"])
def handlers_before_ready(ctx):
    """The SIGINT and SIGTERM handlers are installed before `ready` is printed (trace order and SigCgt)"""
    m = main(ctx)
    run = m.start.run
    ready_at = _ready_write_index(run)
    events = run.trace.events
    index = {id(ev): i for i, ev in enumerate(events)}
    first_signal = next((i for i, ev in enumerate(events) if isinstance(ev, SignalEvent)
                         and ev.pid == run.pid and ready_at is not None and i > ready_at), len(events))
    order = [("the handler calls and writes, in the order sigcatch made them", _sigaction_excerpt(run))]
    if ready_at is not None:
        setting = {n: [sa for sa in signals.sigactions(run.trace, n, run.pid) if sa.sets]
                   for n in ("SIGINT", "SIGTERM")}
        # SIGTERM first: for Python it is the telling one (CPython installs a SIGINT handler of its own at start).
        for signame in ("SIGTERM", "SIGINT"):
            before = [sa for sa in setting[signame] if index[id(sa.call)] < ready_at]
            late = [sa for sa in setting[signame]
                    if ready_at < index[id(sa.call)] < first_signal and sa.installs_handler]
            if not before or not before[-1].installs_handler:
                raise Fail(f"no handler for {signame} was installed before `ready` was written",
                           expected=f"rt_sigaction({signame}, {{sa_handler=your handler ...}}) before the write of "
                                    "`ready`",
                           observed=(f"the handler for {signame} was installed only after `ready`" if late else
                                     f"no handler for {signame} before `ready`"),
                           evidence=order, hint=_EARLY_HINT)
        for signame in ("SIGTERM", "SIGINT"):
            late = [sa for sa in setting[signame]
                    if ready_at < index[id(sa.call)] < first_signal and sa.installs_handler]
            if late:
                python_note = (" (the handler in place before `ready` was CPython's own, which raises "
                               "KeyboardInterrupt)" if ctx.language == "python" and signame == "SIGINT" else "")
                raise Fail(f"sigcatch installed its {signame} handler after `ready`{python_note}",
                           expected=f"the handler for {signame} installed once, before `ready`",
                           observed=late[0].call.raw, evidence=order, hint=_EARLY_HINT)
    masks = m.start.masks
    if masks is None:
        raise Fail("sigcatch had already exited when `ready` was read", hint="Keep running until SIGTERM.")
    # CPython always has a SIGINT handler of its own, so SigCgt proves SIGINT only for C.
    needed = ["SIGTERM"] if ctx.language == "python" else ["SIGINT", "SIGTERM"]
    missing = [n for n in needed if not masks.catches(n)]
    if missing:
        raise Fail(f"when `ready` was read, the kernel showed no handler for {' and '.join(missing)}",
                   expected=f"SigCgt in /proc/PID/status includes {' and '.join(needed)}",
                   observed=masks.describe(), evidence=order,
                   hint="Install the handlers (sigaction or signal) before printing `ready`.")
    if ready_at is None:
        raise Fail("the trace shows no write of `ready` by sigcatch itself",
                   expected="sigcatch writes `ready SHMID` to stdout with write()", evidence=order,
                   hint="Print `ready SHMID` from the sigcatch process itself, to stdout.")


@check("sigkill-reported", depends=["ready-shmid"])
def sigkill_reported(ctx):
    """sigcatch tries to install a SIGKILL handler, and prints `cannot catch SIGKILL` when that fails"""
    run = main(ctx).start.run
    attempts = [sa for sa in signals.sigactions(run.trace, "SIGKILL", run.pid) if sa.handler is not None]
    lines = run.lines()
    if not attempts:
        raise Fail("sigcatch never tried to install a handler for SIGKILL",
                   expected="a sigaction(SIGKILL, ...) or signal(SIGKILL, ...) call, which fails",
                   observed="no rt_sigaction(SIGKILL, ...) call with a handler in the trace",
                   evidence=[("sigcatch's output", "\n".join(lines[:10]) or "(nothing)")],
                   hint="Try it for real: sigaction(SIGKILL, &sa, NULL) returns -1 with errno EINVAL "
                        "(Python: signal.signal(signal.SIGKILL, handler) raises OSError). Print the line then.")
    if SIGKILL_LINE not in lines:
        raise Fail(f"sigcatch did not print `{SIGKILL_LINE}`",
                   expected=SIGKILL_LINE, observed="\n".join(lines[:10]) or "(nothing)",
                   evidence=[("its attempt, from the trace", attempts[0].call.raw)],
                   hint="The attempt failed as it must (EINVAL: SIGKILL can never be caught, blocked or ignored), "
                        "but the failure went unreported. Check the return value of sigaction() (Python: catch "
                        "OSError) and print the line.")


@check("sigint-counted", depends=["ready-shmid"])
def sigint_counted(ctx):
    """Three SIGINTs, each sent after the previous answer, give `caught SIGINT 1`..`3`, and sigcatch keeps running"""
    m = main(ctx)
    run = m.start.run
    expected = [f"caught SIGINT {k}" for k in range(1, SIGINTS + 1)]
    got = [d.line for d in m.deliveries if d.answered]
    _, table = compare_lines(expected, got)
    sigint_calls = [sa for sa in signals.sigactions(run.trace, "SIGINT", run.pid) if sa.sets]
    setup = run.trace.excerpt([sa.call for sa in sigint_calls]) or "(none)"
    evidence = [("the answers, line by line", table), ("how sigcatch set up SIGINT (trace)", setup)]
    for k, d in enumerate(m.deliveries, 1):
        evidence.append((f"SIGINT {k} was sent when", d.before.describe()))
        if d.answered and d.line != expected[k - 1]:
            raise Fail(f"wrong answer to the {ORDINAL[k]} SIGINT", expected=expected[k - 1], observed=d.line,
                       evidence=evidence, hint="Count the SIGINTs: the K-th one prints `caught SIGINT K`, K from 1.")
        if d.answered:
            continue
        if d.exited:
            one_shot = any(sa.one_shot for sa in sigint_calls)
            first = next((ev.time for ev in run.trace.signals(run.pid) if ev.signal == "SIGINT"), None)
            reset = first is not None and any(sa.handler in ("SIG_DFL", "SIG_IGN") and sa.call.time >= first
                                              for sa in sigint_calls)
            if k > 1 and (one_shot or reset):
                hint = ("Your SIGINT handler works only once: " +
                        ("it was installed with SA_RESETHAND, so the kernel puts back the default action (terminate) "
                         "as soon as it has run, and the second SIGINT kills the program. Drop SA_RESETHAND."
                         if one_shot else
                         "after the first SIGINT the default action (SIG_DFL) is put back, so the second SIGINT "
                         "kills the program. Leave your handler installed."))
            else:
                hint = ("The default action of SIGINT is to terminate: install a handler with sigaction() (Python: "
                        "signal.signal) before printing `ready`, and do not exit from it.")
            raise Fail(f"the {ORDINAL[k]} SIGINT ended sigcatch ({d.exit_text})",
                       expected=expected[k - 1] + ", and sigcatch still running",
                       observed=f"sigcatch {d.exit_text}",
                       evidence=evidence + [("sigcatch's stderr", run.stderr[-1500:] or "(empty)")], hint=hint)
        failure = m.hang or Fail(f"no answer to the {ORDINAL[k]} SIGINT")
        failure.evidence = evidence + failure.evidence
        failure.expected = expected[k - 1]
        failure.hint = failure.hint or ("The handler should set a volatile sig_atomic_t flag; when pause() or "
                                        "sigsuspend() returns, the main loop prints the line and flushes stdout.")
        raise failure
    if not m.alive_after:
        raise Fail(f"sigcatch exited after the {ORDINAL[SIGINTS]} SIGINT", expected="still running, waiting",
                   observed=run.describe_exit(), evidence=evidence,
                   hint="Only SIGTERM ends the program: after a SIGINT, go back to waiting.")


@check("no-busy-wait", depends=["ready-shmid"])
def no_busy_wait(ctx):
    """While it waits for signals, sigcatch sleeps in the kernel and uses almost no CPU (no busy waiting)"""
    m = main(ctx)
    sample = m.waiting
    if sample is None or sample.blocked:
        return
    raise Fail("sigcatch does not sleep while it waits for signals: " + "; ".join(sample.problems()),
               expected="almost no CPU and almost no wakeups: asleep in pause() or sigsuspend()",
               observed=sample.describe(),
               evidence=[("before the measurement", m.asleep.describe() if m.asleep else "?")],
               hint="A loop such as `while (!flag) ;` (or one with short sleeps) burns the CPU or wakes up all the "
                    "time. Wait with pause() or sigsuspend() (Python: signal.pause()): the process sleeps in the "
                    "kernel until a signal's handler has run.")


@check("sigterm-bye", depends=["ready-shmid"])
def sigterm_bye(ctx):
    """On SIGTERM sigcatch prints `bye` and exits with status 0 within 5 s"""
    t = term(ctx)
    if t.start.failure:
        raise t.start.failure
    run = t.start.run
    if t.hang:
        raise t.hang
    evidence = [("sigcatch's output after `ready`", "\n".join(t.after_ready) or "(nothing)"),
                ("SIGTERM was sent when", t.asleep.describe() if t.asleep else "?"),
                ("the end of the trace", run.trace.excerpt(run.trace.events[-8:], 8))]
    if t.rc is not None and t.rc < 0:
        raise Fail(f"SIGTERM ended sigcatch at once ({run.describe_exit()})",
                   expected="`bye`, then exit status 0", observed=run.describe_exit(), evidence=evidence,
                   hint="Without a handler, SIGTERM's default action terminates the program at once. Install a "
                        "handler that sets a flag; the main loop then removes the segment, prints bye and exits 0.")
    if "bye" not in t.after_ready:
        raise Fail("sigcatch did not print `bye` on SIGTERM", expected="bye",
                   observed="\n".join(t.after_ready) or "(nothing after `ready`)", evidence=evidence,
                   hint="Print `bye` (and flush) after removing the segment, before exiting.")
    if t.rc != 0:
        raise Fail(f"sigcatch {run.describe_exit()} after SIGTERM", expected="exit status 0",
                   observed=run.describe_exit(), evidence=evidence + [("stderr", run.stderr[-1500:] or "(empty)")],
                   hint="Finish with exit(0) (return 0 from main; Python: sys.exit(0)).")


@check("sigterm-removes-segment", depends=["ready-shmid"])
def sigterm_removes_segment(ctx):
    """On SIGTERM sigcatch removes its segment (IPC_RMID): it is gone once sigcatch has exited"""
    t = term(ctx)
    if t.start.failure:
        raise t.start.failure
    run = t.start.run
    left = [o for o in t.leftovers if o.id == t.start.shmid]
    if not left:
        return
    shm_calls = [c for c in run.trace.calls(pid=run.pid) if c.name.startswith("shm")]
    raise Fail(f"segment {t.start.shmid} is still in the kernel after sigcatch ended",
               expected="no segment left: shmctl(shmid, IPC_RMID, NULL) before exiting",
               observed=sysvipc_table(left),
               evidence=[("sigcatch's shared-memory calls", run.trace.excerpt(shm_calls) or "(none)"),
                         ("how sigcatch ended", run.describe_exit())],
               hint="Remove the segment when SIGTERM arrives: shmctl(shmid, IPC_RMID, NULL) (Python: shm.remove()). "
                    "Exiting detaches a segment but never removes it; it stays (using memory) until someone "
                    "removes it. `ipcs -m` lists the segments on your own machine.")


@check("handler-async-safe", depends=["ready-shmid"], advisory=True)
def handler_async_safe(ctx):
    """Nothing is printed from inside a signal handler (printf is not async-signal-safe)"""
    runs = [main(ctx).start.run]
    t = term(ctx)
    if not t.start.failure:
        runs.append(t.start.run)
    for run in runs:
        for span in signals.handler_spans(run.trace):
            writes = span.writes(("1", "2"))
            if writes:
                raise Fail(f"sigcatch wrote output from inside its {span.signal} handler",
                           expected=f"no write between the delivery of {span.signal} and the handler's return "
                                    "(rt_sigreturn)",
                           observed=writes[0].raw,
                           evidence=[(f"the {span.signal} handler, from the trace", span.excerpt())],
                           hint="A handler can interrupt the main program anywhere, even inside printf, while "
                                "stdio's buffer is half updated; printf from the handler can then lose or garble "
                                "output, or deadlock. Only async-signal-safe functions (man 7 signal-safety) may be "
                                "called in a handler, and printf, fflush and exit are not. Set a volatile "
                                "sig_atomic_t flag in the handler and print in the main loop.")


@dataclass
class Robust:
    run: Run
    injected: list = field(default_factory=list)
    steps: list[str] = field(default_factory=list)
    ended: bool = False


def run_robust(ctx) -> Robust:
    # Signals go only after `ready`: before it the handlers may not be installed yet, and a
    # process still starting up (in execve, say) can look asleep to /proc on a loaded machine.
    st = start(ctx, inject=[ROBUST_INJECT])
    run = st.run
    r = Robust(run=run)
    if st.ready is None:
        r.steps.append("sigcatch never printed `ready`; the other checks report that, this one judges nothing")
        run.kill()
        return r
    asleep = signals.wait_until_asleep(run.pid, SETTLE_SECONDS)
    settle = SETTLE_SECONDS if asleep.asleep else SPIN_SETTLE
    r.steps.append(f"after `{st.ready}`: {asleep.describe()}")
    for k in (1, 2):
        if asleep.exited:
            break
        run.signal(signal.SIGINT)
        asleep = signals.wait_until_asleep(run.pid, settle)
        r.steps.append(f"SIGINT {k} sent; then: {asleep.describe()}")
    r.ended = run.wait(0.3) is not None
    if r.ended:
        r.steps.append(f"sigcatch {run.describe_exit()}")
    run.kill()
    r.injected = [c for c in run.trace.calls("write", run.pid) if "INJECTED" in c.raw]
    return r


@check("robust-interrupted-write", depends=["sigint-counted", "no-busy-wait"], advisory=True)
def robust_interrupted_write(ctx):
    """A signal that interrupts a blocking call (a write failing with EINTR) does not make sigcatch exit or crash"""
    r = ctx.memo("robust", lambda: run_robust(ctx))
    if not r.ended:
        return
    run = r.run
    events = run.trace.events
    at = next((i for i, ev in enumerate(events) if r.injected and ev is r.injected[0]), max(0, len(events) - 10))
    raise Fail(f"sigcatch {run.describe_exit()} after its write failed with EINTR (as when a signal interrupts it)",
               expected="the write fails with EINTR, the handler runs, and sigcatch keeps running",
               observed=run.describe_exit(),
               evidence=[("what the grader did", "\n".join(r.steps)),
                         ("the interrupted write and what followed (trace; INJECTED marks the EINTR strace made)",
                          run.trace.excerpt(events[at:at + 10], 10)),
                         ("stderr", run.stderr[-1500:] or "(empty)")],
               hint="A signal can arrive while the program is inside any blocking call. Without SA_RESTART that "
                    "call then fails with errno EINTR: that is not an error to stop for. Install handlers with "
                    "SA_RESTART, and where a call fails with EINTR, just go on (or retry).")
