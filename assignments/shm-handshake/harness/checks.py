"""Visible checks for shm-handshake.

One handshake session (master N=10, then slave) is run once and judged by
several checks, so a single bug shows up in exactly the check that names it.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from grader.harness import procfs
from grader.harness.api import Fail, check
from grader.harness.procfs import IpcObject, sysvipc_table
from grader.harness.spawn import Run

SESSION_N = 10
SECONDS = 5.0
# Once slave has exited, master has only to see the flag, sum N ints and clean up. Measured from
# the start of that wait to master's exit: C reference 0.00 s of CPU, Python reference 0.01 s (one
# clock tick; interpreter shut-down included). 0.2 s is twenty times that, and ends the wait early
# (and deterministically: CPU time does not stretch on a busy machine) for a master that spins.
SPIN_CPU_SECONDS = 0.2
# A master that has attached the segment and then slept and woken this many times with nothing
# written to stdout is polling for the flag while its shmid sits unflushed: slave can never start,
# so there is nothing to wait for. The reference writes the id right after shmat, before any wait.
POLLS_BEFORE_PRINT = 200
INT_SIZE = 4


@dataclass
class Session:
    """What one master/slave handshake showed."""
    n: int
    master: Run
    slave: Run | None = None
    shmid: int | None = None
    segment: IpcObject | None = None
    id_failure: Fail | None = None       # master did not print a usable shmid
    run_failure: Fail | None = None      # the handshake did not complete
    leftovers: list[IpcObject] = field(default_factory=list)

    def sum_line(self) -> str | None:
        lines = self.master.lines()
        return lines[1] if len(lines) > 1 else None


def _flush_hint(run: Run) -> str | None:
    if run.wrote_stdout():
        return None
    return ("master never wrote anything to stdout: the shmid is still sitting in its output buffer. "
            "When stdout is a pipe (as here), printf output is buffered until you call fflush(stdout); "
            "in Python use print(shmid, flush=True).")


def _voluntary_switches(pid: int | None) -> int | None:
    status = procfs.read_status(pid) if pid else None
    return int(status.get("voluntary_ctxt_switches", 0)) if status else None


def _first_line(master: Run) -> tuple[str | None, str | None]:
    """(master's first line, None), or (None, why it is known never to come) once master polls with
    its output unwritten, or (None, None) after SECONDS, or at end of file."""
    deadline = time.monotonic() + SECONDS
    polls_from = None
    while True:
        line = master.read_line(min(0.1, max(0.0, deadline - time.monotonic())))
        if line is not None or master.stdout_closed() or time.monotonic() >= deadline:
            return line, None
        if master.wrote_stdout():
            continue                                 # a line is on its way
        switches = _voluntary_switches(master.pid)
        if switches is None:
            continue
        if polls_from is None:
            if any(not c.failed for c in master.trace.calls("shmat")):
                polls_from = switches
        elif switches - polls_from >= POLLS_BEFORE_PRINT:
            return None, (f"after attaching the segment it went to sleep and woke up {switches - polls_from} "
                          "times (polling for the flag) with nothing written to stdout")


def run_session(ctx, n: int, master_impl: str = "student", slave_impl: str = "student") -> Session:
    """master, then slave with master's first line; either side may be the reference (mix-and-match)."""
    master = ctx.start("master", [n], impl=master_impl)
    s = Session(n=n, master=master)
    line, polling = _first_line(master)
    if line is None:
        if master.wait(0.2) is None:
            s.id_failure = ctx.hang(f"master {n} waits for slave without having printed its shmid: {polling}"
                                    if polling else f"master {n} did not print a shmid within {SECONDS:g} s",
                                    [master])
            s.id_failure.hint = _flush_hint(master) or (
                "master must print the shmid on its first line and flush it before waiting for slave.")
        else:
            s.id_failure = Fail(f"master {n} {master.describe_exit()} without printing a shmid",
                                observed=master.stderr[-2000:] or "(nothing on stderr)",
                                hint="Print the shmid (then flush) right after creating and attaching the segment.")
        return s
    try:
        s.shmid = int(line.strip())
    except ValueError:
        s.id_failure = Fail("master's first line is not a shmid", expected="an integer, e.g. 32769",
                            observed=repr(line), hint="Print only the number returned by shmget() on the first line.")
        master.kill()
        return s
    objects = ctx.ipc_objects()
    s.segment = next((o for o in objects if o.kind == "shm" and o.id == s.shmid), None)
    if s.segment is None:
        s.id_failure = Fail(f"master printed {s.shmid}, but no shared-memory segment has that id",
                            evidence=[("SysV IPC objects at that moment", sysvipc_table(objects))],
                            hint="Print the value shmget() returned, after checking it is not -1.")
        master.kill()
        return s
    s.slave = ctx.start("slave", [n], stdin=line + "\n", impl=slave_impl)
    try:
        rc_slave = ctx.finish(s.slave, SECONDS, what=f"slave {n}", others=[master])
        rc_master = ctx.finish(master, SECONDS, what=f"master {n}", others=[s.slave], cpu_budget=SPIN_CPU_SECONDS)
    except Fail as hang:
        if s.slave.returncode == 0:
            hang.hint = ("slave finished, but master never noticed shm[0] == 1. If master polls shm[0] in a loop, "
                         "declare the pointer volatile (volatile int *shm): otherwise the compiler may read "
                         "shm[0] once and spin forever.")
        s.run_failure = hang
        s.leftovers = ctx.ipc_objects()
        return s
    s.leftovers = ctx.ipc_objects()
    bad = [(name, run, rc) for name, run, rc in (("master", master, rc_master), ("slave", s.slave, rc_slave)) if rc != 0]
    if bad:
        name, run, rc = bad[0]
        s.run_failure = Fail(f"{name} {n} {run.describe_exit()}", expected="exit status 0",
                             observed=run.describe_exit(), evidence=[(f"{name}'s stderr", run.stderr[-2000:] or "(empty)")],
                             hint="A crash (SIGSEGV) usually means shmat failed and its result was used anyway: "
                                  "check it against (void *) -1.")
    return s


def session(ctx) -> Session:
    return ctx.memo(("session", SESSION_N), lambda: run_session(ctx, SESSION_N))


def _calls_on(run: Run, name: str, first_arg: str):
    return [c for c in run.trace.calls(name) if c.arg(0) == first_arg and not c.failed]


@check("master-prints-shmid")
def master_prints_shmid(ctx):
    """master prints the id of the segment it created on its first line, and flushes it"""
    s = session(ctx)
    if s.id_failure:
        raise s.id_failure


@check("segment-private", depends=["master-prints-shmid"])
def segment_private(ctx):
    """The segment is private (IPC_PRIVATE) with mode 0600, not readable or writable by others"""
    s = session(ctx)
    seg = s.segment
    call = [c for c in s.master.trace.calls("shmget") if c.ret == s.shmid]
    evidence = [("the segment in /proc/sysvipc/shm", seg.describe())]
    if call:
        evidence.append(("master's shmget call", call[0].raw))
    if seg.key != 0:
        raise Fail("the segment has a key; it must be created with IPC_PRIVATE",
                   expected="key IPC_PRIVATE (0)", observed=f"key 0x{seg.key & 0xffffffff:08x}", evidence=evidence,
                   hint="Pass IPC_PRIVATE as the first argument of shmget(); slave learns the id from stdin.")
    if seg.mode != 0o600:
        raise Fail("the segment's permissions are wrong", expected="mode 0600 (only its owner may use it)",
                   observed=f"mode {seg.mode:04o}", evidence=evidence,
                   hint="Use IPC_CREAT | 0600 in shmget(): 0666 lets every user on the machine read and change it.")


@check("segment-size", depends=["master-prints-shmid"])
def segment_size(ctx):
    """The segment is large enough for N+1 ints (the flag and N values)"""
    s = session(ctx)
    need = (s.n + 1) * INT_SIZE
    if s.segment.size < need:
        raise Fail(f"the segment is too small for N={s.n}", expected=f"at least {need} bytes ((N+1) * sizeof(int))",
                   observed=f"{s.segment.size} bytes", evidence=[("the segment", s.segment.describe())],
                   hint="shm[0] is the flag and shm[1..N] the values: that is N+1 ints. Writing past the end "
                        "only seems to work because the kernel rounds segments up to a whole page.")


@check("handshake-completes", depends=["master-prints-shmid"])
def handshake_completes(ctx):
    """master and slave both finish with exit status 0 once slave has written the data"""
    s = session(ctx)
    if s.run_failure:
        raise s.run_failure


@check("slave-detaches", depends=["master-prints-shmid"])
def slave_detaches(ctx):
    """slave attaches the segment it was given and detaches it explicitly with shmdt"""
    s = session(ctx)
    attaches = _calls_on(s.slave, "shmat", str(s.shmid))
    if not attaches:
        raise Fail("slave never attached the segment whose id it read", expected=f"shmat({s.shmid}, ...)",
                   observed="no successful shmat call with that id",
                   evidence=[("slave's IPC calls", s.slave.trace.excerpt(s.slave.trace.calls()[:20]))],
                   hint="Read the shmid from stdin and pass it to shmat().")
    addrs = {a.ret for a in attaches}
    detaches = [c for c in s.slave.trace.calls("shmdt") if not c.failed and _int(c.arg(0)) in addrs]
    if not detaches:
        raise Fail("slave never detached the segment", expected="shmdt(address returned by shmat)",
                   observed="no shmdt call: the segment was only detached implicitly when slave exited",
                   evidence=[("slave's attach", attaches[0].raw)],
                   hint="Call shmdt(shm) (Python: shm.detach()) when you are done with the segment.")


@check("sum-correct", depends=["handshake-completes"])
def sum_correct(ctx):
    """master prints sum=S with S = 1*1 + 2*2 + ... + N*N, for several N"""
    for n in (1, SESSION_N, 100):
        s = session(ctx) if n == SESSION_N else run_session(ctx, n)
        if s.id_failure or s.run_failure:
            raise s.id_failure or s.run_failure
        expected = f"sum={sum(i * i for i in range(1, n + 1))}"
        if s.sum_line() != expected:
            raise Fail(f"wrong result for N={n}", expected=expected, observed=repr(s.sum_line()),
                       evidence=[("master's whole stdout", s.master.stdout[-1000:])],
                       hint="Sum shm[1] .. shm[N] (both ends included), after slave has set shm[0] = 1.")
        ctx.reset()


@check("master-cleanup", depends=["handshake-completes"])
def master_cleanup(ctx):
    """master detaches the segment with shmdt and removes it with shmctl(IPC_RMID)"""
    s = session(ctx)
    m = s.master
    attaches = _calls_on(m, "shmat", str(s.shmid))
    addrs = {a.ret for a in attaches}
    detached = [c for c in m.trace.calls("shmdt") if not c.failed and _int(c.arg(0)) in addrs]
    removed = [c for c in m.trace.calls("shmctl") if c.arg(0) == str(s.shmid) and "IPC_RMID" in c.arg(1) and not c.failed]
    ipc_calls = m.trace.excerpt([c for c in m.trace.calls() if c.name.startswith("shm")])
    if not removed:
        raise Fail("master never removed the segment", expected=f"shmctl({s.shmid}, IPC_RMID, NULL)",
                   observed="no IPC_RMID: the segment stays in the kernel after both programs exit",
                   evidence=[("master's shared-memory calls", ipc_calls)],
                   hint="After printing the sum, call shmctl(shmid, IPC_RMID, NULL) (Python: shm.remove()).")
    if not detached:
        raise Fail("master never detached the segment", expected="shmdt(address returned by shmat)",
                   observed="no shmdt call", evidence=[("master's shared-memory calls", ipc_calls)],
                   hint="Call shmdt(shm) (Python: shm.detach()) before removing the segment.")


@check("no-leaks", depends=["handshake-completes"])
def no_leaks(ctx):
    """No System V IPC object is left in the kernel after master and slave have exited"""
    s = session(ctx)
    if s.leftovers:
        raise Fail(f"{len(s.leftovers)} IPC object(s) outlived the programs",
                   expected="(no SysV IPC objects)", observed=sysvipc_table(s.leftovers),
                   hint="Every segment you create must be removed with shmctl(id, IPC_RMID, NULL); "
                        "it stays in the kernel (using memory) until someone removes it. "
                        "`ipcs -m` lists the segments on your own machine.")


def _mixed(ctx, master_impl: str, slave_impl: str, blame: str):
    n = SESSION_N
    s = run_session(ctx, n, master_impl, slave_impl)
    if s.id_failure or s.run_failure:
        failure = s.id_failure or s.run_failure
        failure.message = f"with the reference {blame == 'master' and 'slave' or 'master'}: {failure.message}"
        raise failure
    expected = f"sum={sum(i * i for i in range(1, n + 1))}"
    if s.sum_line() != expected:
        raise Fail(f"your {blame} with the reference {'slave' if blame == 'master' else 'master'} "
                   f"gives the wrong sum for N={n}", expected=expected, observed=repr(s.sum_line()),
                   hint=(f"The reference {'slave' if blame == 'master' else 'master'} is known to be right, "
                         f"so the problem is in your {blame}."))


@check("master-with-reference-slave", depends=["master-prints-shmid"])
def master_with_reference_slave(ctx):
    """Your master works with the reference slave (so a wrong sum is master's fault)"""
    _mixed(ctx, "student", "reference", "master")


@check("slave-with-reference-master")
def slave_with_reference_master(ctx):
    """Your slave works with the reference master (so a wrong sum is slave's fault)"""
    _mixed(ctx, "reference", "student", "slave")


def _int(text: str) -> int | None:
    try:
        return int(text, 0)
    except ValueError:
        return None
