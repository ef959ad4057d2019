"""Signals as the kernel and the trace show them: masks, delivery, and handler spans.

Three kinds of helpers, usable by any assignment that sends or catches signals:

- /proc masks: `signal_state(pid)` decodes SigCgt (caught), SigIgn (ignored),
  SigBlk (blocked) and SigPnd/ShdPnd (pending) of /proc/PID/status into signal
  names (`procfs.signal_mask` does the bit arithmetic: signal N is bit N-1).
- Delivery: `wait_until_asleep(pid)` waits until a process sleeps in a system
  call (so a signal sent now finds it waiting, not still starting up), and
  `send_and_await(run, SIGINT, "caught SIGINT")` sends a signal and waits for
  the line that answers it, keeping any other lines it read on the way.
- The trace: `sigactions(trace)` lists the rt_sigaction calls with their
  handler and flags decoded, and `handler_spans(trace)` cuts out each run of a
  signal handler: the events of one pid between strace's `--- SIGINT {...} ---`
  delivery line and the `rt_sigreturn` that ends that handler. Whatever the
  handler did (a write, say) is in the span.

strace 6.1 prints a delivery and the handler's return like this:

    27 08:17:38.105102 --- SIGINT {si_signo=SIGINT, si_code=SI_USER, si_pid=1, si_uid=0} ---
    27 08:17:38.105139 write(1, "in handler\\n", 11) = 11
    27 08:17:38.105162 rt_sigreturn({mask=[]}) = -1 EINTR (Interrupted system call)

A delivery opens a span only when the pid has a handler for that signal at that
moment: strace also shows signals that are ignored or take their default action
(no rt_sigreturn follows those). Dispositions are followed through the trace:
rt_sigaction sets them, a fork copies them, a thread shares them, execve resets
handled signals to the default, and SA_RESETHAND resets a handler once it has
been delivered. A handler that never returns (it called exit, or the trace
ended) leaves its span open: `returned` is False.
"""
from __future__ import annotations

import os
import re
import signal as _signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from . import procfs, waits
from .api import Fail
from .evidence import expect
from .processes import FORK_SYSCALLS
from .trace import Event, SignalEvent, Syscall, Trace

# ---------------------------------------------------------------- names and masks


def name(signum: int) -> str:
    """SIGINT for 2; SIGRTMIN+3 style names for real-time signals."""
    try:
        return _signal.Signals(signum).name
    except ValueError:
        rtmin = int(_signal.SIGRTMIN)
        return f"SIGRTMIN+{signum - rtmin}" if signum >= rtmin else f"signal {signum}"


def number(signame: str) -> int | None:
    try:
        return int(getattr(_signal, signame))
    except (AttributeError, TypeError, ValueError):
        return None


def decode_mask(hex_mask: str) -> list[str]:
    """A SigCgt/SigIgn/SigBlk/SigPnd hex mask as signal names, in signal-number order."""
    return [name(n) for n in sorted(procfs.signal_mask(hex_mask))]


@dataclass
class SignalState:
    """The signal masks of one process at one moment (from /proc/PID/status)."""
    pid: int
    caught: list[str] = field(default_factory=list)     # SigCgt: a handler is installed
    ignored: list[str] = field(default_factory=list)    # SigIgn
    blocked: list[str] = field(default_factory=list)    # SigBlk
    pending: list[str] = field(default_factory=list)    # SigPnd (thread) and ShdPnd (process)
    raw: dict[str, str] = field(default_factory=dict)

    def catches(self, signame: str) -> bool:
        return signame in self.caught

    def describe(self) -> str:
        def row(label: str, key: str, names: list[str]) -> str:
            return f"{label:8} {key} {self.raw.get(key, '?')}: {' '.join(names) or '(none)'}"
        return "\n".join([row("caught", "SigCgt", self.caught), row("ignored", "SigIgn", self.ignored),
                          row("blocked", "SigBlk", self.blocked),
                          row("pending", "SigPnd", self.pending)])


def parse_signal_state(pid: int, status: dict[str, str]) -> SignalState:
    keys = ("SigCgt", "SigIgn", "SigBlk", "SigPnd", "ShdPnd")
    raw = {k: status[k] for k in keys if k in status}
    pending = sorted(set(decode_mask(raw.get("SigPnd", "0"))) | set(decode_mask(raw.get("ShdPnd", "0"))),
                     key=lambda s: number(s) or 0)
    return SignalState(pid=pid, caught=decode_mask(raw.get("SigCgt", "0")),
                       ignored=decode_mask(raw.get("SigIgn", "0")),
                       blocked=decode_mask(raw.get("SigBlk", "0")), pending=pending, raw=raw)


def signal_state(pid: int) -> SignalState | None:
    """The masks of a live process, or None once it has gone."""
    status = procfs.read_status(pid)
    return parse_signal_state(pid, status) if status else None


# ---------------------------------------------------------------- waiting and delivery

@dataclass
class Asleep:
    """Where a process was when `wait_until_asleep` returned."""
    pid: int
    asleep: bool                 # sleeping (state S) inside a system call
    exited: bool = False
    state: str = ""
    syscall: str = ""
    wchan: str = ""
    seconds: float = 0.0
    spun: str = ""               # why the wait gave up early: what the process did instead (waits.Effort)

    def describe(self) -> str:
        if self.exited:
            return f"pid {self.pid} had exited"
        where = self.syscall or "no system call"
        state = procfs.STATE_NAMES.get(self.state, self.state)
        verdict = "asleep" if self.asleep else f"not asleep after {self.seconds:.1f} s"
        text = f"pid {self.pid} {verdict}: {state}, in {where}" + (f" (wchan {self.wchan})" if self.wchan else "")
        return text + (f"; {self.spun}" if self.spun else "")


def _syscall(pid: int) -> str:
    """The system call `pid` sleeps in; "" in user space; "(unreadable)" without ptrace access."""
    text = procfs.read_current_syscall(pid)
    if not text:
        return "(unreadable)"
    if text.startswith(("running", "(")) or text in STARTING_UP:
        return ""
    return text


# A process still in execve (often in state D, reading the binary on a loaded machine)
# has not installed a handler yet: it must never count as asleep and ready for a signal.
STARTING_UP = {"execve", "execveat"}


def _deliverable(pid: int) -> bool:
    """A signal is pending and not blocked: the process is about to be woken for it."""
    status = procfs.read_status(pid)
    if not status:
        return False
    pending = procfs.signal_mask(status.get("SigPnd", "0")) | procfs.signal_mask(status.get("ShdPnd", "0"))
    return bool(pending - procfs.signal_mask(status.get("SigBlk", "0")))


def wait_until_asleep(pid: int | None, timeout: float, interval: float = 0.005,
                      effort: waits.Effort | None = None) -> Asleep:
    """Poll until `pid` sleeps in a system call (pause, sigsuspend, read...), or `timeout` passes.

    "Asleep" means state S (an interruptible sleep), inside a system call other
    than execve, with no unblocked signal pending (one that is pending would wake
    it at once). State D is disk I/O or a lock, never a wait for a signal: a
    process seen there may still be starting up.

    Sending a signal only then means the program is past its start-up: its
    handlers are in place and the signal interrupts its wait. A busy-waiting
    program never sleeps: this returns after `timeout` with asleep=False (or, with
    `effort`, as soon as it has done more than that allows), and the caller may send
    the signal anyway.
    """
    t0 = time.monotonic()
    last = Asleep(pid=pid or 0, asleep=False)
    if pid is None:
        last.exited = True
        return last

    def look() -> bool:
        nonlocal last
        st = procfs.read_stat(pid)
        if st is None or st.state in ("Z", "X"):
            last = Asleep(pid=pid, asleep=False, exited=True, seconds=time.monotonic() - t0)
            return True
        sc = _syscall(pid) if st.state == "S" else ""
        if sc and _deliverable(pid):
            sc = ""                          # a signal is on its way: it is about to wake up
        last = Asleep(pid=pid, asleep=bool(sc), state=st.state, syscall=sc, seconds=time.monotonic() - t0)
        if not last.asleep and effort is not None:
            last.spun = effort.spent() or ""
        return last.asleep or bool(last.spun)

    waits.until(look, timeout, interval, pids=lambda: [pid])
    if not last.exited:
        last.wchan = procfs.read_wchan(pid)
    return last


@dataclass
class Delivery:
    """One signal sent by `send_and_await`, and what came back."""
    signum: int
    before: Asleep                          # where the process was when the signal was sent
    line: str | None = None                 # the line that answered, or None
    other_lines: list[str] = field(default_factory=list)   # lines read on the way that did not match
    exited: bool = False                    # the process ended instead of answering
    exit_text: str = ""                     # e.g. "killed by SIGINT"
    seconds: float = 0.0                    # from the signal to the answer (or giving up)

    @property
    def signame(self) -> str:
        return name(self.signum)

    @property
    def answered(self) -> bool:
        return self.line is not None


def send_and_await(run, signum: int, want: str | Callable[[str], bool], *, timeout: float = 5.0,
                   settle: float = 2.0) -> Delivery:
    """Wait (up to `settle` s) until the run's process sleeps, send `signum`, await a matching line.

    `want` is a line prefix or a predicate. Lines that do not match are kept in
    `other_lines`. On EOF or timeout `line` is None, and `exited` says whether
    the process ended (then `exit_text` says how).
    """
    before = wait_until_asleep(run.pid, settle)
    d = Delivery(signum=signum, before=before)
    t0 = time.monotonic()
    run.signal(signum)
    d.line, d.other_lines = run.read_until(want, timeout)
    d.seconds = time.monotonic() - t0
    if d.line is None and run.wait(0.3) is not None:
        d.exited, d.exit_text = True, run.describe_exit()
    return d


def awaits(pid: int | None, signum: int) -> bool:
    """The process is ready to take `signum` with sigwait: it has blocked it (SigBlk), or already
    sleeps in sigwait (which unblocks it meanwhile)."""
    status = procfs.read_status(pid) if pid else None
    if not status:
        return False
    if signum in procfs.signal_mask(status.get("SigBlk", "0")):
        return True
    return "sigtimedwait" in procfs.read_wchan(pid)


def send_to_student(pid: int | None, signum: int, uid: int | None) -> None:
    """Send a signal, but only to a process of the student's uid (a pid may have been reused)."""
    if pid and (uid is None or procfs.read_uid(pid) == uid):
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass


# ---------------------------------------------------------------- rt_sigaction in the trace

_SA_HANDLER = re.compile(r"sa_handler=(?P<h>[^,}]+)")
_SA_FLAGS = re.compile(r"sa_flags=(?P<f>[^,}]+)")


@dataclass
class Sigaction:
    """One rt_sigaction call: which signal, and the new action if it set one."""
    call: Syscall
    signal: str                   # "SIGINT"
    handler: str | None           # "SIG_DFL", "SIG_IGN", "0x55d1...", or None when only queried (act NULL)
    flags: list[str] = field(default_factory=list)   # e.g. ["SA_RESTORER", "SA_RESTART"]

    @property
    def sets(self) -> bool:
        """It changed the disposition (an action was given and the call succeeded)."""
        return self.handler is not None and not self.call.failed

    @property
    def installs_handler(self) -> bool:
        """It installed a function as handler (not SIG_DFL or SIG_IGN)."""
        return self.sets and self.handler not in ("SIG_DFL", "SIG_IGN")

    @property
    def one_shot(self) -> bool:
        return "SA_RESETHAND" in self.flags or "SA_ONESHOT" in self.flags


def parse_sigaction(call: Syscall) -> Sigaction:
    act = call.arg(1)
    handler, flags = None, []
    if act.startswith("{"):
        hm, fm = _SA_HANDLER.search(act), _SA_FLAGS.search(act)
        handler = hm.group("h").strip() if hm else "?"
        flags = [f.strip() for f in fm.group("f").split("|")] if fm else []
    return Sigaction(call=call, signal=call.arg(0), handler=handler, flags=flags)


def sigactions(trace: Trace, signame: str | None = None, pid: int | None = None) -> list[Sigaction]:
    """The rt_sigaction calls of a trace (for one signal and/or pid), decoded, in order."""
    out = [parse_sigaction(c) for c in trace.calls("rt_sigaction", pid)]
    return [s for s in out if signame is None or s.signal == signame]


@dataclass
class HandlerTimeline:
    """How a program set up one signal's handler around one moment (say, the write of `ready`)."""
    signal: str
    before: list[Sigaction]       # successful calls setting the disposition before that moment
    late: list[Sigaction]         # handlers installed after it, before the next signal arrived

    @property
    def in_place(self) -> bool:
        """A handler (not SIG_DFL/SIG_IGN) was in place at that moment."""
        return bool(self.before) and self.before[-1].installs_handler


def handler_timeline(trace: Trace, pid: int, signame: str, at: int) -> HandlerTimeline:
    """`signame`'s handler in `pid` at trace event index `at`: what was set before, what came late."""
    index = {id(ev): i for i, ev in enumerate(trace.events)}
    first_signal = next((i for i, ev in enumerate(trace.events) if isinstance(ev, SignalEvent)
                         and ev.pid == pid and i > at), len(trace.events))
    setting = [sa for sa in sigactions(trace, signame, pid) if sa.sets]
    return HandlerTimeline(signame, [sa for sa in setting if index[id(sa.call)] < at],
                           [sa for sa in setting if at < index[id(sa.call)] < first_signal and sa.installs_handler])


def setup_excerpt(trace: Trace, pid: int, names: tuple[str, ...], limit: int = 12) -> str:
    """The calls of `pid` that set a disposition for these signals, and its writes to stdout, in order:
    shows whether handlers were in place before the program announced it was ready."""
    shown = [ev for ev in trace.calls(pid=pid)
             if (ev.name == "rt_sigaction" and ev.arg(0) in names and parse_sigaction(ev).sets)
             or (ev.name == "write" and ev.arg(0) == "1")]
    return trace.excerpt(shown, limit) if shown else "(no such calls traced)"


def disposition_at_exec(trace: Trace, pid: int, signame: str) -> str | None:
    """`signame`'s disposition in `pid` when its first successful execve ran: "SIG_DFL", "SIG_IGN" or
    "handler" (None if it never exec'd). An ignored signal stays ignored in the new program.

    Followed through the trace, process by process: a child starts with its parent's
    disposition at the fork (strace may print the child's calls first), rt_sigaction
    changes it, execve resets a handler to SIG_DFL. The traced program starts at SIG_DFL.
    """
    own: dict[int, list[Syscall]] = {}
    parent: dict[int, tuple[int, int]] = {}        # child -> (parent, index of the fork in its calls)
    for c in trace.calls():
        own.setdefault(c.pid, []).append(c)
        if c.name in FORK_SYSCALLS and not c.failed and c.ret and c.ret > 0:
            parent[c.ret] = (c.pid, len(own[c.pid]) - 1)

    def before(p: int, upto: int, depth: int = 0) -> str:
        src = parent.get(p)
        disp = before(*src, depth + 1) if src and depth < 64 else "SIG_DFL"
        for c in own.get(p, [])[:upto]:
            if c.name == "rt_sigaction" and c.arg(0) == signame and parse_sigaction(c).sets:
                h = parse_sigaction(c).handler
                disp = h if h in ("SIG_DFL", "SIG_IGN") else "handler"
            elif c.name in ("execve", "execveat") and c.ret == 0 and disp == "handler":
                disp = "SIG_DFL"
        return disp

    execve = next((i for i, c in enumerate(own.get(pid, [])) if c.name in ("execve", "execveat") and c.ret == 0), None)
    return None if execve is None else before(pid, execve)


def handler_lost(trace: Trace, pid: int, signame: str) -> str | None:
    """Why a handler ran only once, in words for the student, or None: installed with SA_RESETHAND,
    or put back to SIG_DFL/SIG_IGN once the first signal had come."""
    setting = [sa for sa in sigactions(trace, signame, pid) if sa.sets]
    first = next((ev.time for ev in trace.signals(pid) if ev.signal == signame), None)
    if any(sa.one_shot for sa in setting):
        return (f"it was installed with SA_RESETHAND, so the kernel puts back the default action (terminate) as "
                f"soon as it has run, and the second {signame} kills the program. Drop SA_RESETHAND.")
    if first is not None and any(sa.handler in ("SIG_DFL", "SIG_IGN") and sa.call.time >= first for sa in setting):
        return (f"after the first {signame} the default action (SIG_DFL) is put back, so the second {signame} "
                "kills the program. Leave your handler installed.")
    return None


# ---------------------------------------------------------------- handler spans


@dataclass
class HandlerSpan:
    """What one pid did while one signal handler ran."""
    pid: int
    signal: str
    delivery: SignalEvent
    events: list[Event] = field(default_factory=list)    # between delivery and rt_sigreturn (nested spans included)
    end: Syscall | None = None                           # the rt_sigreturn, None if the handler never returned
    depth: int = 0                                       # 0, or 1+ for a handler that interrupted another

    @property
    def returned(self) -> bool:
        return self.end is not None

    def calls(self, name: str | None = None) -> list[Syscall]:
        return [e for e in self.events if isinstance(e, Syscall) and (name is None or e.name == name)]

    def writes(self, fds: tuple[str, ...] | None = None) -> list[Syscall]:
        """write-family calls in the handler, optionally only to some fds (e.g. ("1", "2"))."""
        out = [c for c in self.calls() if c.name in ("write", "writev", "pwrite64", "pwritev", "pwritev2")]
        return [c for c in out if fds is None or c.arg(0).split("<")[0] in fds]

    def excerpt(self, limit: int = 10) -> str:
        lines = [self.delivery.raw] + [e.raw for e in self.events[:limit]]
        if len(self.events) > limit:
            lines.append(f"... ({len(self.events) - limit} more)")
        lines.append(self.end.raw if self.end else "(the handler never returned: no rt_sigreturn)")
        return "\n".join(lines)


_CLONE_THREAD = re.compile(r"\bCLONE_THREAD\b")


def handler_spans(trace: Trace, pid: int | None = None, signame: str | None = None) -> list[HandlerSpan]:
    """Every run of a signal handler in the trace, in delivery order (optionally for one pid/signal)."""
    tables: dict[int, dict[str, str]] = {}      # pid -> signal -> "handler" | "SIG_DFL" | "SIG_IGN"
    oneshot: dict[int, dict[str, bool]] = {}    # shared like tables
    stacks: dict[int, list[HandlerSpan]] = {}
    spans: list[HandlerSpan] = []

    def table(p: int) -> dict[str, str]:
        return tables.setdefault(p, {})

    def oneshots(p: int) -> dict[str, bool]:
        return oneshot.setdefault(p, {})

    for ev in trace.events:
        p = ev.pid
        for span in stacks.get(p, []):       # every open handler of this pid sees the event
            span.events.append(ev)
        if isinstance(ev, SignalEvent):
            disp = table(p).get(ev.signal, "SIG_DFL")
            if disp == "handler":
                stack = stacks.setdefault(p, [])
                span = HandlerSpan(pid=p, signal=ev.signal, delivery=ev, depth=len(stack))
                stack.append(span)
                spans.append(span)
                if oneshots(p).get(ev.signal):
                    table(p)[ev.signal] = "SIG_DFL"
                    oneshots(p)[ev.signal] = False
            continue
        if not isinstance(ev, Syscall):
            continue
        if ev.name == "rt_sigreturn":
            stack = stacks.get(p)
            if stack:
                span = stack.pop()
                span.events.pop()            # the rt_sigreturn itself was appended above
                span.end = ev
        elif ev.name == "rt_sigaction":
            sa = parse_sigaction(ev)
            if sa.sets:
                table(p)[sa.signal] = sa.handler if sa.handler in ("SIG_DFL", "SIG_IGN") else "handler"
                oneshots(p)[sa.signal] = sa.one_shot
        elif ev.name in FORK_SYSCALLS and ev.ret and ev.ret > 0 and not ev.failed:
            # strace may show the child's first calls before the parent's clone returns:
            # what the child already set overrides what it inherited.
            child = ev.ret
            own, own_once = tables.get(child, {}), oneshot.get(child, {})
            if ev.name in ("clone", "clone3") and _CLONE_THREAD.search(" ".join(ev.args)):
                table(p).update(own)                                   # threads share dispositions
                oneshots(p).update(own_once)
                tables[child], oneshot[child] = table(p), oneshots(p)
            else:
                tables[child] = {**table(p), **own}
                oneshot[child] = {**oneshots(p), **own_once}
        elif ev.name == "execve" and not ev.failed and ev.ret == 0:
            fresh = {s: d for s, d in table(p).items() if d == "SIG_IGN"}
            tables[p], oneshot[p] = fresh, {}
            stacks.pop(p, None)
    return [s for s in spans if (pid is None or s.pid == pid) and (signame is None or s.signal == signame)]


def expect_no_output_in_handlers(traces: list[Trace], who: str) -> None:
    """Fail if a handler wrote to stdout or stderr before it returned: printf is not async-signal-safe."""
    for trace in traces:
        for span in handler_spans(trace):
            writes = span.writes(("1", "2"))
            expect(not writes, f"{who} wrote output from inside its {span.signal} handler",
                   expected=f"no write between the delivery of {span.signal} and the handler's return (rt_sigreturn)",
                   observed=writes[0].raw if writes else None,
                   evidence=[(f"the {span.signal} handler, from the trace", span.excerpt())],
                   hint="A handler can interrupt the main program anywhere, even inside printf, while "
                        "stdio's buffer is half updated; printf from the handler can then lose or garble "
                        "output, or deadlock. Only async-signal-safe functions (man 7 signal-safety) may be "
                        "called in a handler, and printf, fflush and exit are not. Set a volatile "
                        "sig_atomic_t flag in the handler and print in the main loop.")


def send_while_alive(run, signum: int, count: int, settle: float) -> list[str]:
    """Send `signum` `count` times, each once the process sleeps again (or after `settle` s);
    what the grader saw after each, in words. Stops when the process has exited."""
    steps = []
    for k in range(1, count + 1):
        run.signal(signum)
        asleep = wait_until_asleep(run.pid, settle)
        steps.append(f"{name(signum)} {k} sent; then: {asleep.describe()}")
        if asleep.exited:
            break
    return steps


def still_running(run, settle: float, grace: float = 0.3) -> bool:
    """Whether the run's process goes on after what it was just sent, from kernel state: True as soon
    as it sleeps in a system call again (back to waiting: a process asleep is not ending), False once
    it has exited. Only a process never seen asleep within `settle` s (a busy one) gets `grace` s of
    wall time to end."""
    seen = wait_until_asleep(run.pid, settle)
    if seen.asleep:
        return True
    return run.wait(5.0 if seen.exited else grace) is None


def send_series(run, signum: int, count: int, want: str | Callable[[str], bool], *, timeout: float,
                settle: float) -> list[Delivery]:
    """`send_and_await` up to `count` times, each once the previous answer has come; stops at the
    first signal that gets no answer (the last Delivery then says whether the process ended)."""
    out: list[Delivery] = []
    for _ in range(count):
        out.append(send_and_await(run, signum, want, timeout=timeout, settle=settle))
        if not out[-1].answered:
            break
    return out


def expect_handlers_before(run, names: tuple[str, ...], at: int, moment: str, *, language: str,
                           evidence: list[tuple[str, str]], hint: str) -> None:
    """Fail unless `run`'s program had a handler for each signal in place before trace event `at`
    (the write of `moment`, e.g. "`ready`"), and installed none later: a signal sent as soon as it
    announced itself would otherwise take the default action. Checked in the order of `names`."""
    timelines = [handler_timeline(run.trace, run.pid, n, at) for n in names]
    for tl in timelines:
        expect(tl.in_place, f"no handler for {tl.signal} was installed before {moment} was written",
               expected=f"rt_sigaction({tl.signal}, {{sa_handler=your handler ...}}) before the write of {moment}",
               observed=(f"the handler for {tl.signal} was installed only after {moment}" if tl.late else
                         f"no handler for {tl.signal} before {moment}"), evidence=evidence, hint=hint)
    for tl in timelines:
        # CPython installs a SIGINT handler of its own (it raises KeyboardInterrupt) before any user code.
        python_note = (f" (the handler in place before {moment} was CPython's own, which raises "
                       "KeyboardInterrupt)" if language == "python" and tl.signal == "SIGINT" else "")
        expect(not tl.late, f"{run.label} installed its {tl.signal} handler after {moment}{python_note}",
               expected=f"the handler for {tl.signal} installed once, before {moment}",
               observed=tl.late[0].call.raw if tl.late else None, evidence=evidence, hint=hint)


def stop_with(ctx, run, signum: int, *, settle: float, timeout: float,
              hint: str | None = None) -> tuple[Asleep, int | None, Fail | None]:
    """Send `signum` once the process sleeps (or after `settle` s) and wait up to `timeout` s for it to
    end: (where it was when the signal went, its exit status, None) or, if it kept running, the proved
    hang as the last item. On an exit, stdout is read to its end: the last lines may still be on
    their way on a loaded machine, since Run.wait gives the output only a second."""
    asleep = wait_until_asleep(run.pid, settle)
    run.signal(signum)
    rc = run.wait(timeout)
    if rc is None:
        return asleep, None, ctx.hang(f"{run.label} did not exit within {timeout:g} s of {name(signum)}", [run],
                                      hint=hint)
    run.read_until(lambda line: False, timeout)
    return asleep, rc, None


def expect_caught(state: SignalState, names: list[str], when: str, **fail) -> None:
    """Fail unless the kernel showed a handler (SigCgt) for every signal in `names` `when` ..."""
    missing = [n for n in names if not state.catches(n)]
    expect(not missing, f"{when}, the kernel showed no handler for {' and '.join(missing)}",
           expected=f"SigCgt in /proc/PID/status includes {' and '.join(names)}", observed=state.describe(), **fail)
