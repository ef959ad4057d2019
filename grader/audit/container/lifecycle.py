"""Audit rules on how processes end: crashes (error signals, non-zero exits, tracebacks) and zombies."""
from __future__ import annotations

from grader.audit.container import fds as fd_history
from grader.audit.container.observation import (
    Finding,
    Observation,
    _children,
    _excerpt,
    label,
)
from grader.harness.processes import reaped
from grader.harness.trace import Trace

# A parent that ends right after its child (the textbook fork example) leaves a zombie for a few of its own
# system calls: no finding. One that sleeps or waits for something else while the child is dead keeps a
# zombie: a finding. Judged from the parent's traced calls, so the verdict does not depend on how long
# those few calls took on a busy machine; the wall-clock limit below only catches a parent that computes
# for a long time without any system call.
SLEEPING_CALLS = frozenset({"nanosleep", "clock_nanosleep", "pause", "rt_sigsuspend", "read", "readv", "msgrcv",
                            "msgsnd", "semop", "semtimedop", "futex", "accept", "accept4", "recvfrom", "recvmsg",
                            "mq_timedreceive", "mq_timedsend", "wait4", "waitid", "sched_yield"})
ZOMBIE_LONG_SECONDS = 2.0


# ------------------------------------------------------------------ crashes

ERROR_SIGNALS = {"SIGSEGV", "SIGBUS", "SIGFPE", "SIGILL", "SIGABRT", "SIGSYS", "SIGTRAP"}
SIGNAL_HINT = {
    "SIGSEGV": "a segmentation fault: a pointer to memory the process may not use (NULL, freed, out of bounds, "
               "or the (void *) -1 of a failed shmat)",
    "SIGBUS": "a bus error: memory past the end of a mapped file or shared-memory object",
    "SIGFPE": "an arithmetic error, usually an integer division by zero",
    "SIGABRT": "abort(), usually a failed assert() or the C library detecting heap corruption",
}


def _traceback(stderr: str) -> str | None:
    i = stderr.rfind("Traceback (most recent call last):")
    return stderr[i:].strip() if i >= 0 else None


def crashes(obs: Observation) -> list[Finding]:
    """A process killed by an error signal, or a started process that exited with a non-zero status (a
    Python traceback among them); never the SIGTERM/SIGKILL the audit or the scenario sent."""
    out = []
    for r in obs.runs:
        for pid, ex in sorted(r.trace.exits().items()):
            who = label(obs, pid)
            if ex.signal in ERROR_SIGNALS:
                sig = [e.raw for e in r.trace.signals() if e.pid == pid and e.signal == ex.signal]
                out.append(Finding(
                    "crash", f"{who} was killed by {ex.signal}: {SIGNAL_HINT.get(ex.signal, 'a fatal error')}", who,
                    [("the signal", sig[-1] if sig else ex.raw), ("how it ended", ex.raw),
                     ("its last system calls", _excerpt([c.raw for c in r.trace.calls(pid=pid)][-5:]))],
                    "Run it under a debugger to see the line: build with -g, then `gdb ./prog` and `run`, or "
                    "`valgrind ./prog`. The last system calls above show how far it got.", origin=ex.raw))
            elif ex.code not in (None, 0) and pid == r.pid:
                # Only a started process: a forked child's exit status is often its answer to the parent
                # (WEXITSTATUS), which the trace cannot tell from a failure.
                tb = _traceback(r.stderr)
                if tb:
                    last = tb.strip().splitlines()[-1]
                    message = f"{who} died with a Python exception: {last}"
                    hint = ("Read the traceback from the bottom up: the last line is the error, the lines above it "
                            "the calls that led there. Catch the exception where the program can do something "
                            "sensible (a missing queue: create it, or start the program that creates it first).")
                    evidence = [("the traceback (stderr)", _excerpt(tb.splitlines(), 16)), ("how it ended", ex.raw)]
                else:
                    message = f"{who} exited with status {ex.code}, which means failure"
                    err = r.stderr.strip().splitlines()[-5:]
                    hint = ("A non-zero exit status tells the shell and the parent that the program failed. If "
                            "that is intended (bad arguments, a missing object), print why on stderr; otherwise "
                            "find the failing call in the evidence.")
                    evidence = [("how it ended", ex.raw),
                                ("its last system calls", _excerpt([c.raw for c in r.trace.calls(pid=pid)][-5:]))]
                    if err:
                        evidence.append(("the end of its stderr", "\n".join(err)))
                out.append(Finding("crash", message, who, evidence, hint, origin=ex.raw))
    return out


# ------------------------------------------------------------------ zombies

def _reaped(trace: Trace, parent: int, child: int, leaders: dict[int, int]) -> bool:
    """Did the parent, or one of its threads, reap the child (processes.reaped reads wait4 and waitid)?"""
    return any(child in reaped(trace, tid) for tid in {parent} | {t for t, lead in leaders.items() if lead == parent})


def _ignores_sigchld(trace: Trace, pid: int, before: float) -> bool:
    for c in trace.calls("rt_sigaction", pid):
        if c.arg(0) == "SIGCHLD" and c.time <= before and not c.failed and \
                ("SIG_IGN" in c.arg(1) or "SA_NOCLDWAIT" in c.arg(1)):
            return True
    return False


def _slept_while_zombie(trace: Trace, parent: int, died: float, end: float) -> bool:
    """Did the parent sleep or wait (for anything) while its child was a zombie: in a call that was
    under way when the child died, or in one it made before its own end?"""
    own = [c for c in trace.calls(pid=parent)]
    before = [c for c in own if c.time <= died]
    if before and before[-1].name in SLEEPING_CALLS and not before[-1].failed:
        return True
    return any(died < c.time <= end and c.name in SLEEPING_CALLS for c in own)


def zombies(obs: Observation, hung: set[int] = frozenset()) -> list[Finding]:
    out = []
    for r in obs.runs:
        exits = r.trace.exits()
        leaders = fd_history.thread_leaders(r.trace)
        for child, (parent, fork) in sorted(_children(r.trace).items()):
            cex = exits.get(child)
            if cex is None or parent in hung:
                continue
            pex = exits.get(parent)
            if pex is not None and pex.time < cex.time:
                continue   # the parent went first: the child was adopted and reaped by init
            if _reaped(r.trace, parent, child, leaders) or _ignores_sigchld(r.trace, parent, cex.time):
                continue
            end = pex.time if pex is not None else max((e.time for e in r.trace.events), default=cex.time)
            if pex is not None and not _slept_while_zombie(r.trace, parent, cex.time, end) \
                    and end - cex.time < ZOMBIE_LONG_SECONDS:
                continue   # the parent ended right after it: init reaped it at once
            waits = [c.raw for c in r.trace.calls() if c.pid == parent and c.name in fd_history.WAITS]
            lasted = (f"{pex.time - cex.time:.2f} s, until its parent ended" if pex is not None
                      else "until the end of the run")
            evidence = [("the fork", fork.raw), ("the child's exit", cex.raw),
                        ("the parent's wait calls", _excerpt(waits) if waits else "(none)"),
                        ("the parent's end", pex.raw if pex else "(still running)")]
            if child in obs.zombies_seen:
                evidence.append(("/proc while it was a zombie", obs.zombies_seen[child]))
            out.append(Finding(
                "zombie", f"{label(obs, child)} exited but {label(obs, parent)} never waited for it: it stayed "
                f"a zombie for {lasted}", label(obs, parent), evidence,
                "Reap every child: waitpid(pid, &status, 0) (Python: os.waitpid(pid, 0)) once it should "
                "have finished, or a SIGCHLD handler that loops on waitpid(-1, &s, WNOHANG). Each zombie "
                "keeps a slot in the process table until its parent waits for it or exits.", origin=fork.raw))
    return out
