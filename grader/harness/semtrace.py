"""Record and judge POSIX semaphore calls (sem_open, sem_wait, sem_post, ...) of student programs.

An uncontended sem_wait/sem_post never enters the kernel, so strace cannot see
a semaphore protocol. semtrace.c, preloaded into every process of a recorded
session (C programs and Python's posix_ipc alike), appends one line per call to
a session file; this module starts programs with it, parses the file and
replays it.

Trust: the records are written by the student's own processes, which can
write anything to a file they hold open (or skip the library: drop LD_PRELOAD,
re-execute, wait with raw futex calls). A forged record can make a wrong
protocol look right, or hide a deadlock's cause; it cannot change what the
kernel shows (who sleeps in futex, what is left in /dev/shm), what shared
memory holds, or the values the reference programs print. So the record judges
the protocol's order; the one rule whose breach may never show in any outcome,
the mutex, is also proven without it (held_lock_probe: the grader holds the
mutex and reads the ring index); a program the recorder did not see fails
(unseen); and an unrecorded run (the stress run with several consumers, and
runs with the reference programs) is the independent check of the outcome.
"""
from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass, field

from . import procfs, stillness, waits
from .api import Fail
from .deadlock import timed_futex

ENV = "IPCGRADE_SEMTRACE"
PREBUILT = "/usr/local/lib/ipcgrade/semtrace.so"   # compiled when the grading image is built
SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "semtrace.c")
READ_CAP = 8 << 20
WAITS = ("wait<", "twait<")
FUTEX_WCHANS = ("futex_do_wait", "futex_wait_queue", "futex_wait")


def library(cache_dir: str) -> str:
    """The preload library: the image's copy, or compiled once into `cache_dir` (local runner)."""
    if os.path.isfile(PREBUILT):
        return PREBUILT
    out = os.path.join(cache_dir, "semtrace.so")
    if not os.path.isfile(out):
        os.makedirs(cache_dir, exist_ok=True)
        subprocess.run(["gcc", "-shared", "-fPIC", "-O2", "-o", out, SOURCE, "-ldl"], check=True,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    return out


@dataclass(frozen=True)
class Call:
    index: int       # line number in the session file: one global order
    pid: int
    seq: int         # the process's own count
    call: str        # open, wait>, wait<, post, try, twait>, twait<, close, unlink, shmopen, shmunlink
    name: str
    result: int
    errno: int
    ring_in: int | None
    ring_out: int | None
    arg: str

    @property
    def ok(self) -> bool:
        return self.result == 0

    def describe(self) -> str:
        func = {"open": "sem_open", "wait>": "sem_wait (enters)", "wait<": "sem_wait (returns)",
                "post": "sem_post", "try": "sem_trywait", "twait>": "sem_timedwait (enters)",
                "twait<": "sem_timedwait (returns)", "close": "sem_close", "unlink": "sem_unlink",
                "shmopen": "shm_open", "shmunlink": "shm_unlink"}.get(self.call, self.call)
        res = "" if self.call in ("wait>", "twait>", "post") else (" = 0" if self.ok else f" = -1 (errno {self.errno})")
        ring = f"   [in={self.ring_in} out={self.ring_out}]" if self.ring_in is not None else ""
        return f"#{self.index} pid {self.pid}: {func}({self.name}){res}{ring}"


def parse(text: str) -> list[Call]:
    """Lines of the session file; a malformed line (a forged or cut one) is skipped."""
    out = []
    for i, line in enumerate(text.splitlines(), 1):
        f = line.split(" ")
        if len(f) != 9:
            continue
        try:
            ring = (None, None) if f[6] == "-" else (int(f[6]), int(f[7]))
            out.append(Call(i, int(f[0]), int(f[1]), f[2], f[3], int(f[4]), int(f[5]), *ring, f[8]))
        except ValueError:
            continue
    return out


class Recorder:
    """One session file; programs started through `argv()` append their semaphore calls to it."""

    def __init__(self, directory: str, uid: int | None, label: str):
        os.makedirs(directory, mode=0o711, exist_ok=True)
        self.library = library(directory)
        self.path = os.path.join(directory, f"{label}.{time.monotonic_ns()}.rec")
        fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        if uid is not None and os.geteuid() == 0:
            os.fchown(fd, uid, uid)
        os.close(fd)

    def argv(self, command: list[str]) -> list[str]:
        return ["env", f"LD_PRELOAD={self.library}", f"{ENV}={self.path}", *command]

    def size(self) -> int:
        try:
            return os.stat(self.path).st_size
        except OSError:
            return 0

    def calls(self) -> list[Call]:
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            return []
        with os.fdopen(fd, errors="replace") as f:
            return parse(f.read(READ_CAP))


@dataclass
class Replay:
    """The semaphores' values and who holds or waits for what, after replaying the record."""
    values: dict[str, int]
    waiting: dict[int, Call] = field(default_factory=dict)      # pid -> its wait that has not returned
    holding: dict[int, list[Call]] = field(default_factory=dict)  # pid -> its waits not yet matched by a post

    def describe(self, labels: dict[int, str]) -> str:
        lines = [f"{name} = {value}" for name, value in sorted(self.values.items())]
        lines = ["semaphore values replayed from the record: " + ", ".join(lines)]
        for pid in sorted(set(self.waiting) | set(self.holding)):
            who = labels.get(pid, f"pid {pid}")
            held = [c.name for c in self.holding.get(pid, [])]
            parts = [f"holds {', '.join(held)}"] if held else []
            if pid in self.waiting:
                w = self.waiting[pid]
                parts.append(f"waits in sem_wait({w.name}) since record #{w.index}")
            lines.append(f"{who}: " + "; ".join(parts))
        return "\n".join(lines)


def replay(calls: list[Call], initial: dict[str, int], binary: tuple[str, ...] = ()) -> Replay:
    """Values after every call (`initial` plus posts minus successful waits), each process's pending
    wait, and which of the `binary` semaphores (locks, such as a mutex) each process holds."""
    r = Replay(dict(initial))
    for c in calls:
        if c.call in ("wait>", "twait>"):
            r.waiting[c.pid] = c
        elif c.call in WAITS or c.call == "try":
            r.waiting.pop(c.pid, None)
            if c.ok and c.name in r.values:
                r.values[c.name] -= 1
                if c.name in binary:
                    r.holding.setdefault(c.pid, []).append(c)
        elif c.call == "post" and c.name in r.values:
            r.values[c.name] += 1
            if c.name in binary:
                held = r.holding.get(c.pid, [])
                for i, h in enumerate(held):
                    if h.name == c.name:
                        del held[i]
                        break
    r.holding = {p: h for p, h in r.holding.items() if h}
    return r


def all_asleep_in_futex(pids: list[int]) -> bool:
    """Every process asleep in a futex wait (a sem_wait that had to sleep), twice, with no CPU used
    and no wake-up in between: nobody is running, so nobody can post."""
    def sample() -> list[stillness.Counters | None] | None:
        out = []
        for pid in pids:
            st = procfs.read_stat(pid)
            if st is None or st.state != "S" or not procfs.read_wchan(pid).startswith(FUTEX_WCHANS):
                return None
            if timed_futex(pid):
                return None                     # sem_timedwait: it ends by itself
            out.append(stillness.read_counters(pid))
        return out
    first = sample()
    if not first:
        return False
    time.sleep(0.1)
    second = sample()
    return (second is not None and all(map(stillness.unchanged, first, second))
            and not any(stillness.self_waker(pid) for pid in pids))   # a timer or thread may still post


def settled(run, taken: str | None, timeout: float, moved: tuple[str, int, int] | None = None,
            changed: bool = False) -> bool:
    """Wait until `run` has taken the semaphore `taken` (its value is 0 again), or until the int32
    at (shm, offset) is `value` (`moved`; with `changed`, until it is no longer `value`), and then
    either sleeps in a futex wait or has exited: it has done all it can without the next semaphore.
    False if not within `timeout`."""
    from .posix import read_ints, semaphore_value
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        took = taken is None or semaphore_value(taken) == 0
        went = moved is None or (read_ints(moved[0], [moved[1]]) == [moved[2]]) != changed
        if took and went and (not run.alive() or all_asleep_in_futex([run.pid])):
            return True
        run.wait(0.02)
    return False


def held_lock_probe(run, shm: str, offset: int, taken: str, lock: str, timeout: float) -> str | None:
    """After the grader, holding `lock`, has posted `taken` (the counting semaphore `run` sleeps
    on): what the shared memory shows `run` did without the lock (the ring index at `offset`
    moved from 0), or None. Kernel and shared-memory evidence that no record written by the
    program can change; None too when `run` does not get that far within `timeout`."""
    from .posix import read_ints
    if not settled(run, taken, timeout):
        return None
    moved = (read_ints(shm, [offset]) or [None])[0]
    if moved in (None, 0):
        return None
    return (f"while the grader held {lock}, {run.label} went on without it: the ring index at offset "
            f"{offset} of {shm} moved from 0 to {moved}")


STEP_CALLS = {"wait<": "wait", "twait<": "timedwait", "try": "trywait", "post": "post",
              "unlink": "unlink", "shmunlink": "unlink"}
STEP_FUNCS = {"wait": "sem_wait", "timedwait": "sem_timedwait", "trywait": "sem_trywait", "post": "sem_post",
              "unlink": "unlink"}


def steps(calls: list[Call], pid: int) -> list[Call]:
    """The calls of one process that make its protocol: returned waits (a wait that failed, say with
    EINTR, took nothing and is left out), every try, posts and removals."""
    return [c for c in calls if c.pid == pid and c.call in STEP_CALLS and (c.ok or c.call == "try")]


def token(c: Call) -> tuple[str, str]:
    return STEP_CALLS[c.call], c.name


def show(tok: tuple[str, str] | None) -> str:
    return f"{STEP_FUNCS[tok[0]]}({tok[1]})" if tok else "nothing more"


def first_mismatch(done: list[Call], expected: list[tuple[str, str]]) -> int | None:
    """Index of the first step that differs from `expected` (or is missing, or is one too many)."""
    for i in range(max(len(done), len(expected))):
        if i >= len(done) or i >= len(expected) or token(done[i]) != expected[i]:
            return i
    return None


def excerpt(done: list[Call], at: int, before: int = 6, after: int = 2) -> str:
    lo = max(0, at - before)
    return "\n".join(("-> " if i == at else "   ") + c.describe() for i, c in enumerate(done[lo:at + after + 1], lo))


def ring_step(done: list[Call], lock: str, index: str, slots: int) -> int | None:
    """Position in `done` of the first post of `lock` where the ring index read from shared memory
    ("ring_in" or "ring_out") did not move on by exactly one, mod `slots`, since the wait on `lock`
    returned: the slot access between them used the wrong index or moved it wrongly."""
    held = None
    for i, c in enumerate(done):
        if c.name != lock:
            continue
        if c.call in WAITS:
            held = getattr(c, index)
        elif c.call == "post" and held is not None:
            now = getattr(c, index)
            if now is not None and now != (held + 1) % slots:
                return i
            held = None
    return None


def start(ctx, program: str, args, *, impl: str = "student", rec: Recorder | None = None, traced: bool = True,
          label: str | None = None):
    """ctx.start for one of the assignment's programs, with its semaphore calls recorded into `rec`."""
    argv = ctx.command(program, impl) + [str(a) for a in args]
    return ctx.start(rec.argv(argv) if rec else argv, trace="default" if traced else None,
                     label=label or (program if impl == "student" else f"reference {program}"))


def await_line(ctx, run, text: str, timeout: float, hint: str) -> None:
    """Fail unless `run`'s first stdout line is `text` (a hang diagnosis if it never comes)."""
    line, before, never = waits.read_until_or_hang(ctx, run, lambda _: True, timeout)
    if line == text:
        return
    if line is None and run.alive():
        said = (f"{run.label} will never print `{text}`: every process is asleep in a wait that nothing left can end"
                if never else f"{run.label} did not print `{text}` within {timeout:g} s")
        raise waits.add_proof(ctx.hang(said, [run], hint=hint), never)
    run.kill()
    raise Fail(f"{run.label} did not print `{text}` first", expected=text, hint=hint,
               observed=repr(line) if line is not None else f"{run.describe_exit()}; stderr: {run.stderr[-300:]!r}")


def deadlock(ctx, runs, message: str, *, rec: Recorder | None = None, initial: dict[str, int] | None = None,
             locks: tuple[str, ...] = (), hint: str | None = None):
    """A hang Fail (ctx.hang: process tree, wchans, CPU) whose first evidence names, from the record,
    which process holds which lock and which semaphore each one waits for."""
    fail = ctx.hang(message, runs, hint=hint)
    if rec and initial:
        labels = {r.pid: f"{r.label} (pid {r.pid})" for r in runs}
        fail.evidence.insert(0, ("who holds and who waits (from the recorded semaphore calls)",
                                 replay(rec.calls(), initial, locks).describe(labels)))
    return fail


def wait_all(ctx, runs, what: str, *, rec: Recorder | None = None, initial: dict[str, int] | None = None,
             locks: tuple[str, ...] = (), timeout: float = 60.0, hint: str | None = None) -> None:
    """Wait until every run has ended with status 0. A deadlock (every live process asleep in a
    futex wait, with no CPU used and no wake-up) fails at once, without waiting for `timeout`."""
    deadline = time.monotonic() + timeout
    watch = waits.hang_watch(ctx, runs)
    while True:
        alive = [r for r in runs if r.alive()]
        if not alive:
            break
        if all(r.pid is not None for r in alive) and all_asleep_in_futex([r.pid for r in alive]):
            raise deadlock(ctx, runs, f"{what}: deadlock. Every process still running sleeps in sem_wait, and "
                           "none of them can post the semaphore another one waits for",
                           rec=rec, initial=initial, locks=locks, hint=hint)
        proof = watch.proven()              # stuck elsewhere (a pipe, a signal wait, a child...)
        if proof is not None and any(r.alive() for r in runs):
            raise waits.add_proof(deadlock(ctx, runs, waits.proven_hang_message(what, proof, timeout), rec=rec,
                                           initial=initial, locks=locks, hint=hint), proof)
        if time.monotonic() > deadline:
            raise ctx.hang(f"{what} did not finish within {timeout:g} s", runs, hint=hint)
        alive[0].wait(0.05)
    for r in runs:
        r.wait(5.0)         # ended already: this lets the drain threads take in all of its output
    bad = next((r for r in runs if r.returncode != 0), None)
    if bad:
        raise Fail(f"{what}: {bad.label} {bad.describe_exit()}", expected="exit status 0",
                   observed=bad.describe_exit(), evidence=[(f"{bad.label}'s stderr", bad.stderr[-1500:] or "(empty)")])


def judge(calls: list[Call], run, cycle: list[tuple[str, str]], *, lock: str, index: str, slots: int,
          initial: dict[str, int], rounds: int | None = None, tail: list[tuple[str, str]] = (),
          counted: str | None = None, complete: bool = True) -> None:
    """Fail unless `run`'s recorded steps are `cycle` once per value (`rounds` times, or as many
    times as it went round when None), then `tail` (anything after it is not judged when
    `rounds` is given), with the ring `index` moved on by one inside every `lock` section.
    `counted` is the semaphore whose value is the number of items still in the buffer. When the
    session did not complete (it hung, say), a record that simply stops is not a deviation."""
    done = steps(calls, run.pid)
    if not done and complete:
        raise unseen(run)
    whole = rounds is None
    if whole:
        rounds = max(1, -(-len(done) // len(cycle)))
    expected = list(cycle) * rounds + list(tail)
    i = first_mismatch(done if whole else done[:len(expected)], expected)
    if i is not None and not (i == len(done) and not complete):
        raise _left_protocol(calls, run, done, i, expected, lock, initial, counted)
    bad = ring_step(done, lock, index, slots)
    if bad is not None:
        what = index.split("_")[1]
        raise Fail(f"{run.label} moved `{what}` wrongly while holding {lock}",
                   expected=f"{what} = ({what} + 1) % {slots} before {show(token(done[bad]))}",
                   observed=f"{what} = {getattr(done[bad], index)}",
                   evidence=[(f"{run.label}'s recorded calls ([in out] read from its own mapping)",
                              excerpt(done, bad))],
                   hint=f"Use slot[{what}], then {what} = ({what} + 1) % {slots}, while holding the mutex.")


def unseen(run, seen: int = 0, took: int | None = None) -> Fail:
    """The Fail for a run whose semaphore calls the recorder did not see (all of them, or all but
    `seen` of the `took` values it says it took): its protocol cannot be judged."""
    observed = (f"{seen} recorded round(s) for the {took} values it took" if took is not None
                else "no semaphore call recorded")
    return Fail(f"the grader's recorder never saw {run.label}'s semaphore calls, so its protocol cannot be judged",
                expected="every sem_wait and sem_post recorded as the program makes it", observed=observed,
                hint="Call sem_open, sem_wait and sem_post of the C library (Python: posix_ipc) from the program "
                     "itself, and keep its environment: a program that drops LD_PRELOAD, re-executes itself, or "
                     "waits with its own futex calls is not recorded and fails this check.")


def _left_protocol(calls, run, done, i, expected, lock, initial, counted) -> Fail:
    """The Fail for the first step where `run` left the protocol, saying what that step means."""
    seen = token(done[i]) if i < len(done) else None
    want = expected[i] if i < len(expected) else None
    message = f"{run.label} left the protocol at its semaphore call {i + 1}"
    if seen and seen[0] in ("trywait", "timedwait"):
        message = f"{run.label} polls with {show(seen)} instead of sleeping in sem_wait"
    elif seen and seen[0] == "unlink" and counted:
        left = replay([c for c in calls if c.index < done[i].index], initial).values.get(counted, 0)
        message = (f"{run.label} removed the objects without first waiting for {show(want)}: {counted} was "
                   f"{left} then, so {left} value(s) were still in the buffer and consumers may still be running")
    elif seen == ("wait", lock) and want and want[0] == "wait" and want[1] != lock:
        message = (f"{run.label} locks {lock} before waiting on {want[1]}: when {want[1]} is 0 it sleeps "
                   f"holding {lock}, and nobody can ever post {want[1]} (deadlock)")
    elif want == ("wait", lock) and not any(c.name == lock for c in done):
        message = f"{run.label} never locks {lock}: two processes can use the same slot at once"
    ev = excerpt(done, min(i, len(done) - 1)) if done else "(no semaphore call recorded)"
    return Fail(message, expected=show(want), observed=show(seen),
                evidence=[(f"{run.label}'s recorded semaphore calls", ev)],
                hint=f"For each value: {', '.join(show(t) for t in expected[:4])}, with the slot access between "
                     "the mutex's wait and post. Every wait is a blocking sem_wait.")
