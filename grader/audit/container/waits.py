"""Audit rules on waiting: busy waiting (probe windows and the trace) and hangs on semaphores and
futexes (what every live process sleeps in at the end)."""
from __future__ import annotations

from grader.audit.container import fds as fd_history
from grader.audit.container.observation import (
    CERTAIN,
    LIKELY,
    Finding,
    Observation,
    ProcessRun,
    StuckProcess,
    Window,
    _excerpt,
    label,
    run_of,
)
from grader.harness import waits as harness_waits
from grader.harness.trace import Syscall

MAX_CPU_RATIO = harness_waits.MAX_CPU_RATIO
MAX_WAKEUPS = harness_waits.MAX_WAKEUPS_PER_SECOND


# ------------------------------------------------------------------ busy waiting

POLL_ERRNOS = {"EAGAIN", "EWOULDBLOCK", "ENOMSG", "ETIMEDOUT", "EINTR"}
IDLE_CALLS = {"sched_yield", "nanosleep", "clock_nanosleep"}
CONTEXT_CALLS = {"shmat", "msgget", "semget", "mq_open", "pipe", "pipe2"}


QUERY_CMDS = {"IPC_STAT", "SHM_STAT", "SHM_STAT_ANY", "MSG_STAT", "MSG_STAT_ANY", "SEM_STAT", "SEM_STAT_ANY",
              "IPC_INFO", "SHM_INFO", "MSG_INFO", "SEM_INFO", "GETVAL", "GETALL", "GETPID", "GETNCNT", "GETZCNT"}


def _no_progress(c: Syscall) -> bool:
    """A call that moved nothing: a failed non-blocking poll, an empty WNOHANG wait, a yield or nap,
    or a status query (IPC_STAT, GETVAL: how sysv_ipc's read() and semaphore-polling loops look)."""
    if c.name in IDLE_CALLS:
        return True
    if c.name in ("shmctl", "msgctl", "semctl") and not c.failed and \
            any(a.strip() in QUERY_CMDS for a in c.args[1:3]):
        return True
    if c.name in fd_history.WAITS and "WNOHANG" in " ".join(c.args) and c.ret == 0:
        return True
    if c.name == "kill" and c.arg(1) == "0":
        return True
    return c.failed and c.errno in POLL_ERRNOS


def _has_context(run: ProcessRun, pid: int, before: float) -> str | None:
    """The IPC object or handler the process could be waiting on, set up before the window."""
    for c in run.trace.calls():
        if c.time > before or c.failed:
            continue
        if c.name in CONTEXT_CALLS:
            return c.raw
        if c.name == "rt_sigaction" and c.arg(1).startswith("{sa_handler=") \
                and not c.arg(1).startswith(("{sa_handler=SIG_DFL", "{sa_handler=SIG_IGN")) \
                and not (run.language == "python" and c.arg(0) == "SIGINT"):  # CPython's own handler
            return c.raw
    return None


MIN_LOOP_CALLS = 3             # one nap, or a nap and a write, is a step, not a loop
MIN_RUNNABLE = 0.8             # on a loaded machine a spinner gets little CPU, but it is always runnable
SPIN_WINDOWS = 2               # windows in a row (1 s) without any system call before a process counts as spinning


def _call_text(c: Syscall) -> str:
    """`msgrcv() = -1 ENOMSG`; an unfinished or interrupted call shows no result (strace's ERESTART* is internal)."""
    if c.ret is None or (c.errno or "").startswith("ERESTART"):
        return f"{c.name}()"
    return f"{c.name}() = {c.ret}" + (f" {c.errno}" if c.errno else "")


def _poll_loop(w: Window, calls: list[Syscall]) -> bool:
    """Polling, by the trace: only calls that moved nothing, at least MIN_LOOP_CALLS of them, and more
    wake-ups a second than a blocked process makes (each finished call is one wake-up; ptrace stops are not)."""
    wall = max(w.t1 - w.t0, 1e-6)
    return (len(calls) >= MIN_LOOP_CALLS and all(_no_progress(c) for c in calls)
            and (len(calls) / wall > MAX_WAKEUPS or w.cpu_ratio > MAX_CPU_RATIO))


def busy_waits(obs: Observation) -> list[Finding]:
    out = []
    worst: dict[int, tuple[Window, list[Syscall], str | None, float]] = {}
    spin_streak: dict[int, int] = {}
    for w in sorted(obs.windows, key=lambda w: (w.pid, w.t0)):
        run = run_of(obs, w.pid)
        if run is None or w.exited or (w.blocked and w.runnable < MIN_RUNNABLE):
            spin_streak[w.pid] = 0
            continue   # it slept: few wake-ups and little CPU, and not always runnable (a spinner starved of
            # CPU on a loaded machine is switched in rarely, but it is runnable all the time)
        calls = [c for c in run.trace.calls(pid=w.pid) if w.t0 <= c.time <= w.t1]
        spinning = not calls and (w.cpu_ratio > MAX_CPU_RATIO or w.runnable >= MIN_RUNNABLE)
        spin_streak[w.pid] = spin_streak.get(w.pid, 0) + 1 if spinning else 0
        context = _has_context(run, w.pid, w.t0)
        if spinning:
            if spin_streak[w.pid] < SPIN_WINDOWS:
                continue   # a short burst of work (a start-up, on a loaded machine) looks the same; keep watching
        elif not _poll_loop(w, calls):
            continue
        rate = len(calls) / max(w.t1 - w.t0, 1e-6)
        prev = worst.get(w.pid)
        if prev is None or w.cpu_ratio + rate / 1000 > prev[0].cpu_ratio + prev[3] / 1000:
            worst[w.pid] = (w, calls, context or (calls[0].raw if calls else None), rate)
    for pid, (w, calls, context, rate) in sorted(worst.items()):
        out.append(_busy_finding(obs, pid, w, calls, context, rate, spin_streak))
    return out


def _busy_finding(obs: Observation, pid: int, w: Window, calls: list[Syscall], context: str | None, rate: float,
                  spin_streak: dict[int, int]) -> Finding:
    who = label(obs, pid)
    wall = w.t1 - w.t0
    if calls:
        names: dict[str, int] = {}
        for c in calls:
            names[_call_text(c)] = names.get(_call_text(c), 0) + 1
        how = f"it polled in a loop, {len(calls)} calls in {wall:.2f} s: " + ", ".join(
            f"{n} x {k}" for k, n in sorted(names.items(), key=lambda kv: -kv[1]))
        seen = _excerpt([c.raw for c in calls], 6)
        run = run_of(obs, pid)
        dropped = {k: n for k, n in (run.thinned if run else {}).items() if k[0] == pid}
        if dropped:
            how += " in the calls kept"
            seen += "\n(the trace keeps one such failed poll per 10 ms; over the whole run " + ", ".join(
                f"{n} more {name}() = -1 {err}" for (_, name, err), n in sorted(dropped.items())) + " were dropped)"
        certainty = CERTAIN
    else:
        how = ("it made no system call at all: it is spinning on memory (a flag in shared memory or a variable)"
               + ("" if context else ", or computing"))
        seen = "(no system call in the window)"
        certainty = CERTAIN if context else LIKELY
    if w.cpu_ratio > MAX_CPU_RATIO:
        what = (f"{who} busy-waited: it kept {w.cpu_ratio:.0%} of a CPU busy (limit {MAX_CPU_RATIO:.0%}) "
                f"for {wall:.2f} s; {how}")
    elif not calls:
        what = (f"{who} busy-waited: it was running or waiting for a CPU in {w.runnable:.0%} of the samples "
                f"for {wall:.2f} s, never asleep (it got {w.cpu_ratio:.0%} of a CPU on this busy machine); {how}")
    else:
        what = (f"{who} polled instead of blocking: {rate:.0f} system calls a second (limit {MAX_WAKEUPS:g}/s) "
                f"for {wall:.2f} s, using {w.cpu_ratio:.0%} of a CPU; {how}")
    return Finding(
        "busy-wait", what, who,
        [("CPU time against wall time in that window (blocking probe)", w.describe),
         ("its system calls in that window (each finished call is one wake-up)", seen),
         ("what it was waiting on (set up before)", context or "(no IPC object or signal handler: nothing in sight)")],
        "Let the kernel put the process to sleep until there is something to do: a blocking msgrcv() "
        "(without IPC_NOWAIT), semop() on a semaphore the other process increments, read() on a pipe, "
        "pause()/sigsuspend() for a signal, waitpid() without WNOHANG. A loop that checks a flag burns "
        "a whole CPU and slows down the very process it is waiting for; a loop around a short "
        "sleep still wakes up hundreds of times a second.", certainty,
        origin=calls[0].raw if calls else (context or ""))


# ------------------------------------------------------------------ hangs on semaphores and futexes

HANG_CALLS = {"semop", "semtimedop", "futex"}
FUTEX_PRIVATE = 128


def _waits_for(p: StuckProcess) -> str:
    if p.line:
        return p.line
    return f"{p.call}({', '.join(hex(a) for a in p.args[:4])})" + (f" at {p.wchan}" if p.wchan else "")


def hangs(obs: Observation) -> list[Finding]:
    """A process asleep in semop or a futex wait with no timeout, when every live process was asleep in an
    untimed wait: nothing in the run can ever post the semaphore or wake the futex."""
    live = obs.stuck
    if not live or not all(p.asleep_untimed for p in live):
        return []      # someone is running or in a timed sleep: it might still act
    out = []
    waiters = [p for p in live if p.call in HANG_CALLS]
    for p in waiters:
        others = [q for q in live if q.pid != p.pid]
        if p.call == "futex":
            flag_private = bool(len(p.args) > 1 and p.args[1] & FUTEX_PRIVATE)
            memory_private = p.mapping.split()[1:2] and p.mapping.split()[1].endswith("p")
            if p.threads == 1 and (flag_private or memory_private):
                where = ("the wait is FUTEX_PRIVATE" if flag_private else
                         f"the futex word is in private memory ({p.mapping}): after fork() each process has its "
                         "own copy")
                why = (f"{where}, and the process has one thread, so no other process can ever wake it")
            else:
                why = "every process that could wake it is itself waiting"
            what = "a futex (a POSIX semaphore, mutex or condition variable)"
        else:
            why = ("no other process is left to post the semaphore" if not others else
                   "every other process is itself waiting, so none can post it")
            what = "a System V semaphore"
        deadlock = [q for q in others if q.call in HANG_CALLS]
        message = f"{p.who} waits for ever on {what}: {why}"
        if deadlock:
            message += "; " + ", ".join(q.who for q in deadlock) + " wait" + ("s" if len(deadlock) == 1 else "") + \
                       " on semaphores too (a deadlock: each holds what another needs)"
        evidence = [(f"the call {p.who} is stuck in", _waits_for(p))]
        if others:
            evidence.append(("every other live process and what it waits on",
                             "\n".join(f"{q.who}: {_waits_for(q)}" for q in others)))
        if obs.hang_report:
            evidence.append(("every process when the run was stopped", obs.hang_report))
        hint = ("Make sure every path that takes a lock gives it back (an early return or exit inside the critical "
                "section loses the unlock; SEM_UNDO makes the kernel undo it when the process dies), and take "
                "several locks in the same order in every process.") if p.call != "futex" or not deadlock else ""
        if p.call == "futex":
            hint = ("A semaphore used between processes must be in memory they share: sem_init(&s, 1, value) on a "
                    "sem_t inside mmap(MAP_SHARED) or a shm segment, or a named semaphore (sem_open). A global "
                    "sem_t is copied by fork(), so each process posts and waits on its own copy.")
        out.append(Finding("hang", message, p.who, evidence, hint, origin=p.line))
    return out
