"""Visible checks for sig-catch. Three sessions, each run once and judged by several checks:

- main: read `ready`, snapshot the signal masks, measure how sigcatch waits, then send three
  SIGINTs, each once the previous answer has appeared and it sleeps again;
- term: after `ready`, send SIGTERM; expect `bye`, exit 0 and the segment gone;
- robust (advisory): strace makes the second write fail with EINTR (a write interrupted by a
  signal without SA_RESTART) while the grader sends SIGINTs; sigcatch must keep running.

Signals are sent only once sigcatch sleeps in a system call (or after a bound, if it never
sleeps), so no verdict depends on how fast it starts on a loaded machine.
"""
from __future__ import annotations

import re
import signal
from dataclasses import dataclass, field

from grader.harness import evidence, signals, waits
from grader.harness.api import Fail, check, compare_lines
from grader.harness.evidence import expect
from grader.harness.procfs import IpcObject, sysvipc_table
from grader.harness.spawn import Run

READY = re.compile(r"^ready (-?\d+)\s*$")
CAUGHT_PREFIX = "caught SIGINT"
SIGKILL_LINE = "cannot catch SIGKILL"
SEGMENT_SIZE = 4096
SIGINTS = 3

START_SECONDS = 5.0      # to print `ready`
SETTLE_SECONDS = 3.0     # to fall asleep before a signal is sent
SPIN_SETTLE = 0.2        # the same, once a program was seen never to sleep
# What sigcatch may still do between printing `ready` and its first sleep before it counts as never
# sleeping: the spec leaves nothing to do there (the references: no CPU time to speak of, a few calls).
AFTER_READY = {"cpu": 0.3, "switches": 3000}
ANSWER_SECONDS = 5.0     # for the line that answers a signal
EXIT_SECONDS = 5.0       # from SIGTERM to the exit
MEASURE_SECONDS = 1.0    # CPU and wakeups while waiting
# Busy waiting, as the README defines it: more than 10% of a CPU, or more than 5 wake-ups a second.
MAX_CPU_RATIO = 0.10
MAX_WAKEUPS_PER_SECOND = 5.0
# The second write fails with EINTR, as a write interrupted by a signal does without SA_RESTART.
# (strace's `signal=` injection is lost under --seccomp-bpf, so the grader sends the SIGINTs itself.)
ROBUST_INJECT = "write:error=EINTR:when=2"

ORDINAL = {1: "first", 2: "second", 3: "third"}


@dataclass
class Start:
    """sigcatch started, up to its `ready` line."""
    run: Run
    ready: str | None = None
    shmid: int | None = None
    segment: IpcObject | None = None
    masks: signals.SignalState | None = None            # /proc masks right after `ready` was read
    failure: Fail | None = None


def _announce(ctx, s: Start) -> None:
    """Read `ready SHMID`, then snapshot the signal masks and the segment it names (Fail if wrong)."""
    s.ready, _ = waits.expect_line(
        ctx, s.run, READY, START_SECONDS, shown="ready SHMID", example="ready 32769",
        hint="Print `ready SHMID` (then flush) once the handlers are installed and the segment exists.",
        exit_hint="Install the handlers, create the segment, print `ready SHMID`, flush, then wait.")
    s.shmid = int(READY.match(s.ready).group(1))
    s.masks = signals.signal_state(s.run.pid)
    objects = ctx.ipc_objects()
    s.segment = next((o for o in objects if o.kind == "shm" and o.id == s.shmid), None)
    shown = [("shared-memory segments at that moment", sysvipc_table([o for o in objects if o.kind == "shm"]))]
    expect(s.segment is not None, f"sigcatch printed `{s.ready}`, but no shared-memory segment has id {s.shmid}",
           expected="the id shmget() returned", observed=s.ready, evidence=shown,
           hint="Print the value returned by shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600).")
    expect(s.segment.key == 0 and s.segment.size == SEGMENT_SIZE and s.segment.mode == 0o600,
           "the segment is not the private 4096-byte segment the spec asks for",
           expected="key IPC_PRIVATE, size 4096 bytes, mode 0600", observed=s.segment.describe(),
           evidence=shown, hint="Create it with shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600).")


def start(ctx, inject: list[str] = ()) -> Start:
    s = Start(run=ctx.start("sigcatch", inject=list(inject)))
    s.failure = evidence.failure_of(lambda: _announce(ctx, s))
    return s


@dataclass
class Main:
    start: Start
    asleep: signals.Asleep | None = None
    waiting: waits.BlockingSample | None = None
    deliveries: list[signals.Delivery] = field(default_factory=list)
    alive_after: bool = False
    hang: Fail | None = None                   # a SIGINT got no answer and the program kept running


def run_main(ctx) -> Main:
    st = start(ctx)
    m = Main(start=st)
    if st.failure:
        return m
    run = st.run
    m.asleep = signals.wait_until_asleep(run.pid, SETTLE_SECONDS, effort=waits.Effort(run.pid, **AFTER_READY))
    settle = SETTLE_SECONDS if m.asleep.asleep else SPIN_SETTLE
    m.waiting = waits.measure(run.pid, MEASURE_SECONDS, max_cpu_ratio=MAX_CPU_RATIO,
                              max_wakeups_per_second=MAX_WAKEUPS_PER_SECOND)
    m.deliveries = signals.send_series(run, signal.SIGINT, SIGINTS, CAUGHT_PREFIX, timeout=ANSWER_SECONDS,
                                       settle=settle)
    last = m.deliveries[-1]
    if not last.answered and not last.exited:
        m.hang = ctx.hang(f"no `caught SIGINT` line within {ANSWER_SECONDS:g} s of the {ORDINAL[len(m.deliveries)]} "
                          "SIGINT", [run])
    elif last.answered:
        m.alive_after = signals.still_running(run, settle)     # asleep again, or gone
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
    t.asleep, t.rc, t.hang = signals.stop_with(
        ctx, run, signal.SIGTERM, settle=SPIN_SETTLE if spins else SETTLE_SECONDS, timeout=EXIT_SECONDS,
        hint="On SIGTERM, remove the segment, print `bye`, flush and exit(0). If the handler only "
             "sets a flag, the main loop must check that flag when pause()/sigsuspend() returns.")
    lines = run.lines()
    t.after_ready = lines[lines.index(st.ready) + 1:] if st.ready in lines else lines
    t.leftovers = [o for o in ctx.ipc_objects() if o.kind == "shm"]
    return t


def term(ctx) -> Term:
    return ctx.memo("term", lambda: run_term(ctx))


_READY_IN_WRITE = re.compile(r'(^"|\\n)ready ')   # `ready` at the start of a line, in strace's escaped data


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
    ready_at = run.write_index(_READY_IN_WRITE)
    order = [("the handler calls and writes, in the order sigcatch made them",
              signals.setup_excerpt(run.trace, run.pid, ("SIGINT", "SIGTERM")))]
    if ready_at is not None:
        # SIGTERM first: for Python it is the telling one (CPython installs a SIGINT handler of its own at start).
        signals.expect_handlers_before(run, ("SIGTERM", "SIGINT"), ready_at, "`ready`", language=ctx.language,
                                       evidence=order, hint=_EARLY_HINT)
    masks = m.start.masks
    expect(masks is not None, "sigcatch had already exited when `ready` was read", hint="Keep running until SIGTERM.")
    # CPython always has a SIGINT handler of its own, so SigCgt proves SIGINT only for C.
    needed = ["SIGTERM"] if ctx.language == "python" else ["SIGINT", "SIGTERM"]
    signals.expect_caught(masks, needed, "when `ready` was read", evidence=order,
                          hint="Install the handlers (sigaction or signal) before printing `ready`.")
    expect(ready_at is not None, "the trace shows no write of `ready` by sigcatch itself",
           expected="sigcatch writes `ready SHMID` to stdout with write()", evidence=order,
           hint="Print `ready SHMID` from the sigcatch process itself, to stdout.")


@check("sigkill-reported", depends=["ready-shmid"])
def sigkill_reported(ctx):
    """sigcatch tries to install a SIGKILL handler, and prints `cannot catch SIGKILL` when that fails"""
    run = main(ctx).start.run
    attempts = [sa for sa in signals.sigactions(run.trace, "SIGKILL", run.pid) if sa.handler is not None]
    expect(bool(attempts), "sigcatch never tried to install a handler for SIGKILL",
           expected="a sigaction(SIGKILL, ...) or signal(SIGKILL, ...) call, which fails",
           observed="no rt_sigaction(SIGKILL, ...) call with a handler in the trace",
           evidence=[("sigcatch's output", evidence.output(run))],
           hint="Try it for real: sigaction(SIGKILL, &sa, NULL) returns -1 with errno EINVAL "
                "(Python: signal.signal(signal.SIGKILL, handler) raises OSError). Print the line then.")
    expect(SIGKILL_LINE in run.lines(), f"sigcatch did not print `{SIGKILL_LINE}`",
           expected=SIGKILL_LINE, observed=evidence.output(run), evidence=[("its attempt, from the trace",
                                                                             attempts[0].call.raw)],
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
    setup = run.trace.excerpt([sa.call for sa in signals.sigactions(run.trace, "SIGINT", run.pid) if sa.sets])
    shown = [("the answers, line by line", table), ("how sigcatch set up SIGINT (trace)", setup or "(none)")]
    for k, d in enumerate(m.deliveries, 1):
        shown.append((f"SIGINT {k} was sent when", d.before.describe()))
        expect(not d.answered or d.line == expected[k - 1], f"wrong answer to the {ORDINAL[k]} SIGINT",
               expected=expected[k - 1], observed=d.line, evidence=shown,
               hint="Count the SIGINTs: the K-th one prints `caught SIGINT K`, K from 1.")
        if d.answered:
            continue
        if d.exited:
            lost = signals.handler_lost(run.trace, run.pid, "SIGINT") if k > 1 else None
            raise Fail(f"the {ORDINAL[k]} SIGINT ended sigcatch ({d.exit_text})",
                       expected=expected[k - 1] + ", and sigcatch still running",
                       observed=f"sigcatch {d.exit_text}", evidence=shown + [evidence.stderr(run)],
                       hint="Your SIGINT handler works only once: " + lost if lost else
                       "The default action of SIGINT is to terminate: install a handler with sigaction() (Python: "
                       "signal.signal) before printing `ready`, and do not exit from it.")
        failure = m.hang or Fail(f"no answer to the {ORDINAL[k]} SIGINT")
        failure.evidence = shown + failure.evidence
        failure.expected = expected[k - 1]
        failure.hint = failure.hint or ("The handler should set a volatile sig_atomic_t flag; when pause() or "
                                        "sigsuspend() returns, the main loop prints the line and flushes stdout.")
        raise failure
    expect(m.alive_after, f"sigcatch exited after the {ORDINAL[SIGINTS]} SIGINT", expected="still running, waiting",
           observed=run.describe_exit(), evidence=shown,
           hint="Only SIGTERM ends the program: after a SIGINT, go back to waiting.")


@check("no-busy-wait", depends=["ready-shmid"])
def no_busy_wait(ctx):
    """While it waits for signals, sigcatch sleeps in the kernel and uses almost no CPU (no busy waiting)"""
    m = main(ctx)
    waits.require_blocked(m.waiting, "sigcatch does not sleep while it waits for signals",
                          expected="almost no CPU and almost no wakeups: asleep in pause() or sigsuspend()",
                          evidence=[("before the measurement", m.asleep.describe() if m.asleep else "?")],
                          hint="A loop such as `while (!flag) ;` (or one with short sleeps) burns the CPU or wakes "
                               "up all the time. Wait with pause() or sigsuspend() (Python: signal.pause()): the "
                               "process sleeps in the kernel until a signal's handler has run.")


@check("sigterm-bye", depends=["ready-shmid"])
def sigterm_bye(ctx):
    """On SIGTERM sigcatch prints `bye` and exits with status 0 within 5 s"""
    t = term(ctx)
    if t.start.failure:
        raise t.start.failure
    run = t.start.run
    if t.hang:
        raise t.hang
    shown = [("sigcatch's output after `ready`", "\n".join(t.after_ready) or "(nothing)"),
             ("SIGTERM was sent when", t.asleep.describe() if t.asleep else "?"),
             ("the end of the trace", run.trace.excerpt(run.trace.events[-8:], 8))]
    expect(t.rc is None or t.rc >= 0, f"SIGTERM ended sigcatch at once ({run.describe_exit()})",
           expected="`bye`, then exit status 0", observed=run.describe_exit(), evidence=shown,
           hint="Without a handler, SIGTERM's default action terminates the program at once. Install a "
                "handler that sets a flag; the main loop then removes the segment, prints bye and exits 0.")
    expect("bye" in t.after_ready, "sigcatch did not print `bye` on SIGTERM", expected="bye",
           observed="\n".join(t.after_ready) or "(nothing after `ready`)", evidence=shown,
           hint="Print `bye` (and flush) after removing the segment, before exiting.")
    expect(t.rc == 0, f"sigcatch {run.describe_exit()} after SIGTERM", expected="exit status 0",
           observed=run.describe_exit(), evidence=shown + [evidence.stderr(run, "stderr")],
           hint="Finish with exit(0) (return 0 from main; Python: sys.exit(0)).")


@check("sigterm-removes-segment", depends=["ready-shmid"])
def sigterm_removes_segment(ctx):
    """On SIGTERM sigcatch removes its segment (IPC_RMID): it is gone once sigcatch has exited"""
    t = term(ctx)
    if t.start.failure:
        raise t.start.failure
    run = t.start.run
    left = [o for o in t.leftovers if o.id == t.start.shmid]
    shm_calls = [c for c in run.trace.calls(pid=run.pid) if c.name.startswith("shm")]
    expect(not left, f"segment {t.start.shmid} is still in the kernel after sigcatch ended",
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
    t = term(ctx)
    runs = [main(ctx).start.run] + ([] if t.start.failure else [t.start.run])
    signals.expect_no_output_in_handlers([run.trace for run in runs], "sigcatch")


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
    run, r = st.run, Robust(run=st.run)
    if st.ready is None:
        r.steps.append("sigcatch never printed `ready`; the other checks report that, this one judges nothing")
        run.kill()
        return r
    asleep = signals.wait_until_asleep(run.pid, SETTLE_SECONDS, effort=waits.Effort(run.pid, **AFTER_READY))
    r.steps.append(f"after `{st.ready}`: {asleep.describe()}")
    settle = SETTLE_SECONDS if asleep.asleep else SPIN_SETTLE
    if not asleep.exited:
        r.steps += signals.send_while_alive(run, signal.SIGINT, 2, settle)
    r.ended = not signals.still_running(run, settle)
    r.steps += [f"sigcatch {run.describe_exit()}"] if r.ended else []
    run.kill()
    r.injected = [c for c in run.trace.calls("write", run.pid) if "INJECTED" in c.raw]
    return r


@check("robust-interrupted-write", depends=["sigint-counted", "no-busy-wait"], advisory=True)
def robust_interrupted_write(ctx):
    """A signal that interrupts a blocking call (a write failing with EINTR) does not make sigcatch exit or crash"""
    r = ctx.memo("robust", lambda: run_robust(ctx))
    run, events = r.run, r.run.trace.events
    at = next((i for i, ev in enumerate(events) if r.injected and ev is r.injected[0]), max(0, len(events) - 10))
    expect(not r.ended, f"sigcatch {run.describe_exit()} after its write failed with EINTR (as when a signal "
           "interrupts it)", expected="the write fails with EINTR, the handler runs, and sigcatch keeps running",
           observed=run.describe_exit(),
           evidence=[("what the grader did", "\n".join(r.steps)),
                     ("the interrupted write and what followed (trace; INJECTED marks the EINTR strace made)",
                      run.trace.excerpt(events[at:at + 10], 10)), evidence.stderr(run, "stderr")],
           hint="A signal can arrive while the program is inside any blocking call. Without SA_RESTART that "
                "call then fails with errno EINTR: that is not an error to stop for. Install handlers with "
                "SA_RESTART, and where a call fails with EINTR, just go on (or retry).")
