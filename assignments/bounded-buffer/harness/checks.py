"""Visible checks for bounded-buffer (POSIX shared memory and named semaphores).

The protocol is judged from each process's recorded semaphore calls
(grader.harness.semtrace), never from luck: a missing mutex is seen in the
record even when no value happens to be lost. The results of unrecorded runs
(three consumers, the reference programs) are the independent second signal.
"""
from __future__ import annotations

import mmap
import signal
import struct
from dataclasses import dataclass, field

from grader.harness import posix, semtrace
from grader.harness.api import Fail, check
from grader.harness.blocking import blocked_in

SLOTS, SIZE = 8, 40
START, RUN = 10.0, 60.0
PROTO_N, MIX_N, STRESS_N, CONSUMERS = 200, 1000, 20000, 3
FUTEX = {"wchans": semtrace.FUTEX_WCHANS, "syscalls": ("futex",)}
DEADLOCK_HINT = ("Wait on the counting semaphore (empty or full) first and lock the mutex only then: "
                 "a process that sleeps while holding the mutex stops everybody else.")


def sems(name: str) -> dict[str, str]:
    return {s: f"/{name}-{s}" for s in ("empty", "full", "mutex")}


def initial(name: str) -> dict[str, int]:
    s = sems(name)
    return {s["empty"]: SLOTS, s["full"]: 0, s["mutex"]: 1}


def expected_line(n_values: int, total: int) -> str:
    return f"count={n_values} sum={total}"


def own(name: str) -> list:
    """The session's objects now in /dev/shm (the local runner shares /dev/shm with the host)."""
    return [o for o in posix.objects() if o.name in (f"/{name}", *sems(name).values())]


def recorder(ctx, label):
    return semtrace.Recorder(f"{ctx.workdir}/../semtrace", ctx.identity.uid, label)


def await_ready(ctx, producer, what):
    line = producer.read_line(START)
    if line == "ready":
        return
    if line is None and producer.alive():
        raise ctx.hang(f"{what} did not print `ready` within {START:g} s", [producer],
                       hint="Print ready as the first line, and flush it, once the objects exist.")
    producer.kill()
    raise Fail(f"{what} did not print `ready` first", expected="ready",
               observed=repr(line) if line is not None else f"{producer.describe_exit()}; stderr: {producer.stderr[-300:]!r}",
               hint="Create the objects, then print ready (and flush) before putting any value.")


@dataclass
class Session:
    name: str
    producer: object = None
    consumers: list = field(default_factory=list)
    rec: semtrace.Recorder | None = None
    failure: Fail | None = None
    leftovers: list = field(default_factory=list)
    objects: list = field(default_factory=list)     # lonely producer: /dev/shm after `ready`,
    blocked: object = None                          # whether it slept, and its status after a signal
    rc: int | None = None


def run_session(ctx, name, n, consumers=1, producer_impl="student", consumer_impl="student",
                record=False, traced=True) -> Session:
    posix.remove(ctx.identity.uid, [f"/{name}", *sems(name).values()])
    s = Session(name, rec=recorder(ctx, name) if record else None)
    what = f"producer {name} {n} {consumers} with {consumers} consumer(s)"
    try:
        s.producer = semtrace.start(ctx, "producer", [name, n, consumers], impl=producer_impl, rec=s.rec, traced=traced)
        await_ready(ctx, s.producer, f"producer {name} {n} {consumers}")
        ref = "reference " if consumer_impl != "student" else ""
        s.consumers = [semtrace.start(ctx, "consumer", [name], impl=consumer_impl, rec=s.rec, traced=traced,
                                      label=f"{ref}consumer {i + 1}") for i in range(consumers)]
        semtrace.wait_all(ctx, [s.producer, *s.consumers], what, rec=s.rec, initial=initial(name),
                          locks=(sems(name)["mutex"],), timeout=RUN, hint=DEADLOCK_HINT)
    except Fail as f:
        s.failure = f
    s.leftovers = own(name)
    return s


def totals(s: Session) -> tuple[int, int]:
    """The sums of every consumer's count and sum (a consumer whose line is wrong counts as 0)."""
    count = total = 0
    for c in s.consumers:
        line = (c.lines() or [""])[-1].split()
        if len(line) == 2 and line[0].startswith("count=") and line[1].startswith("sum="):
            count, total = count + int(line[0][6:] or 0), total + int(line[1][4:] or 0)
    return count, total


def require_totals(s: Session, n: int, what: str, hint: str):
    if s.failure:
        raise s.failure
    want = expected_line(n, n * (n + 1) // 2)
    got = expected_line(*totals(s)) if len(s.consumers) > 1 else (s.consumers[0].lines() or ["(nothing)"])[-1]
    if got != want:
        outputs = "\n".join(f"{c.label}: {c.stdout.strip()!r}" for c in s.consumers)
        raise Fail(f"{what}: wrong totals for N={n}", expected=want, observed=got,
                   evidence=[("what each consumer printed", outputs)], hint=hint)


def require_asleep(b, what: str, sem: str):
    if not b.ok:
        raise Fail(f"{what} does not sleep in sem_wait", expected="asleep in futex, no CPU",
                   observed="; ".join(b.problems()), evidence=[("measured", b.describe())],
                   hint=f"Use sem_wait({sem}), which sleeps; a sem_trywait loop (with or without a sleep) polls.")


def lonely(ctx, sig=signal.SIGTERM) -> Session:
    """producer bbl 20 1 with no consumer: it fills the 8 slots and must then sleep; then `sig`."""
    def session():
        s = Session("bbl")
        posix.remove(ctx.identity.uid, [f"/{s.name}", *sems(s.name).values()])
        s.producer = semtrace.start(ctx, "producer", [s.name, 20, 1])
        await_ready(ctx, s.producer, "producer bbl 20 1")
        s.objects = own(s.name)
        s.blocked = blocked_in(s.producer.pid, 1.0, settle=START, **FUTEX)
        s.producer.signal(sig)
        s.rc = s.producer.wait(START)
        s.leftovers = own(s.name)
        return s
    return ctx.memo(("lonely", sig), session)


@check("producer-creates-objects")
def producer_creates_objects(ctx):
    """producer prints `ready` once /NAME (40 bytes) and the semaphores /NAME-empty, -full, -mutex exist"""
    s = lonely(ctx)
    want = {("shm", "/bbl", SIZE)} | {("sem", n, None) for n in sems("bbl").values()}
    got = {(o.kind, o.name, o.size if o.kind == "shm" else None) for o in s.objects}
    if got != want:
        raise Fail("the objects in /dev/shm after `ready` are not the ones the spec names",
                   expected="shared memory /bbl of 40 bytes; semaphores /bbl-empty, /bbl-full, /bbl-mutex",
                   observed=posix.table(s.objects), hint="ftruncate the object to exactly 40 bytes; name "
                   "the semaphores /NAME-empty, /NAME-full and /NAME-mutex.")


@check("objects-mode-0600", depends=["producer-creates-objects"])
def objects_mode_0600(ctx):
    """The shared memory and the semaphores are created with mode 0600"""
    wrong = [o for o in lonely(ctx).objects if o.mode != 0o600]
    if wrong:
        raise Fail("objects readable or writable by other users", expected="mode 0600 for all four",
                   observed=posix.table(wrong), hint="Pass 0600 to shm_open and sem_open (Python: mode=0o600).")


@check("producer-sleeps-when-full", depends=["producer-creates-objects"])
def producer_sleeps_when_full(ctx):
    """With no consumer, the producer fills the 8 slots and then sleeps in sem_wait without using the CPU"""
    require_asleep(lonely(ctx).blocked, "with a full buffer the producer", "empty")


@check("producer-sigterm-cleanup", depends=["producer-creates-objects"])
def producer_sigterm_cleanup(ctx):
    """On SIGTERM the producer removes the shared memory and the semaphores and exits 1"""
    s = lonely(ctx)
    if s.rc != 1 or s.leftovers:
        raise Fail("SIGTERM while the producer waited: not cleaned up", expected="exit status 1, /dev/shm empty",
                   observed=f"{s.producer.describe_exit()}; {posix.table(s.leftovers)}",
                   hint="Catch SIGTERM and SIGINT (a handler that sets a flag; sem_wait then fails with EINTR), "
                        "then shm_unlink and sem_unlink everything and exit 1.")


@check("consumer-sleeps-when-empty")
def consumer_sleeps_when_empty(ctx):
    """With an empty buffer the consumer sleeps in sem_wait(full), not holding the mutex, and takes a 0 once put"""
    name, rec = "bbe", recorder(ctx, "bbe")
    posix.remove(ctx.identity.uid, [f"/{name}", *sems(name).values()])
    posix.make_buffer(name, SLOTS, SIZE, ctx.identity.uid)
    consumer = semtrace.start(ctx, "consumer", [name], rec=rec)
    require_asleep(blocked_in(consumer.pid, 1.0, settle=START, **FUTEX), "with an empty buffer the consumer", "full")
    if posix.semaphore_value(sems(name)["mutex"]) == 0:
        raise semtrace.deadlock(ctx, [consumer], "deadlock: the consumer sleeps in sem_wait while it holds "
                                "/bbe-mutex, so no producer can ever lock the mutex to put a value", rec=rec,
                                initial=initial(name), locks=(sems(name)["mutex"],), hint=DEADLOCK_HINT)
    empty, mutex, full = (posix.semaphore(sems(name)[k]) for k in ("empty", "mutex", "full"))
    empty.acquire(0)
    mutex.acquire(0)
    with open(posix.path_of("shm", f"/{name}"), "r+b") as f, mmap.mmap(f.fileno(), SIZE) as ring:
        struct.pack_into("=iii", ring, 0, 1, 0, 0)            # slot[0] = 0; in = 1
    mutex.release()
    full.release()
    ctx.finish(consumer, START, what="consumer, once the grader had put a 0")
    posix.remove(None, [f"/{name}", *sems(name).values()])
    if consumer.lines() != [expected_line(0, 0)] or consumer.returncode != 0:
        raise Fail("the consumer took the grader's 0 but did not end as the spec says",
                   expected=f"{expected_line(0, 0)}, exit 0", observed=f"{consumer.stdout!r}; {consumer.describe_exit()}")


def protocol_session(ctx, side: str) -> Session:
    """Recorded: the student's producer with one reference consumer, or the reference producer with
    three of the student's consumers."""
    if side == "producer":
        return ctx.memo("proto-p", lambda: run_session(ctx, "bbp", PROTO_N, 1, consumer_impl="reference", record=True))
    return ctx.memo("proto-c", lambda: run_session(ctx, "bbc", PROTO_N, CONSUMERS, producer_impl="reference", record=True))


@check("producer-protocol", depends=["producer-creates-objects"])
def producer_protocol(ctx):
    """Every value: sem_wait(empty), sem_wait(mutex), slot[in], in+1, sem_post(mutex), sem_post(full); then 8 x sem_wait(empty) before removing anything"""
    s = protocol_session(ctx, "producer")
    if s.producer is None or s.producer.pid is None:
        raise s.failure
    n = sems(s.name)
    semtrace.judge(s.rec.calls(), s.producer, [("wait", n["empty"]), ("wait", n["mutex"]), ("post", n["mutex"]),
                   ("post", n["full"])], rounds=PROTO_N + 1, tail=[("wait", n["empty"])] * SLOTS, lock=n["mutex"],
                   index="ring_in", slots=SLOTS, initial=initial(s.name), counted=n["full"])
    if s.failure:
        raise s.failure


@check("consumer-protocol")
def consumer_protocol(ctx):
    """Every consumer, for every value: sem_wait(full), sem_wait(mutex), slot[out], out+1, sem_post(mutex), sem_post(empty)"""
    s = protocol_session(ctx, "consumer")
    if not s.consumers:
        raise s.failure
    n = sems(s.name)
    for c in s.consumers:
        semtrace.judge(s.rec.calls(), c, [("wait", n["full"]), ("wait", n["mutex"]), ("post", n["mutex"]),
                       ("post", n["empty"])], lock=n["mutex"], index="ring_out", slots=SLOTS, initial=initial(s.name))
    if s.failure:
        raise s.failure


@check("producer-with-reference-consumer", depends=["producer-creates-objects"])
def producer_with_reference_consumer(ctx):
    """Your producer with the reference consumer: the consumer gets 1..N exactly once"""
    require_totals(protocol_session(ctx, "producer"), PROTO_N, "your producer with the reference consumer",
                   "The reference consumer is right, so the values your producer put are wrong.")


@check("consumer-with-reference-producer", depends=["consumer-protocol"])
def consumer_with_reference_producer(ctx):
    """Your consumer with the reference producer prints the right count and sum"""
    s = run_session(ctx, "bbr", MIX_N, 1, producer_impl="reference")
    require_totals(s, MIX_N, "your consumer with the reference producer",
                   "The reference producer is right, so the problem is in your consumer.")


def one_session(ctx, n):
    return ctx.memo(("one", n), lambda: run_session(ctx, f"bb1-{n}", n))


@check("one-consumer", depends=["producer-protocol", "consumer-protocol"])
def one_consumer(ctx):
    """One producer and one consumer: count and sum are right for N = 0, 10 and 100000"""
    for n in (0, 10, 100000):
        s = one_session(ctx, n)
        require_totals(s, n, "one consumer", "Count the non-zero values you took; keep the sum in 64 bits.")
        if s.producer.lines() != ["ready", "done"]:
            raise Fail(f"producer {n} 1 did not print ready and done", expected="ready\ndone",
                       observed=s.producer.stdout[-200:])


@check("no-leftovers", depends=["one-consumer"])
def no_leftovers(ctx):
    """Nothing is left in /dev/shm once the producer has printed done and the consumer has exited"""
    s = one_session(ctx, 10)
    if s.leftovers:
        raise Fail("objects outlived the programs", expected="(nothing in /dev/shm)", observed=posix.table(s.leftovers),
                   hint="After the final waits: munmap, shm_unlink(\"/NAME\"), then sem_close and sem_unlink each "
                        "semaphore (Python: unlink before close).")


@check("three-consumers", depends=["producer-protocol", "consumer-protocol"])
def three_consumers(ctx):
    """Three consumers at once (not recorded): the counts add up to N and the sums to N(N+1)/2"""
    s = run_session(ctx, "bb3", STRESS_N, CONSUMERS, traced=False)
    require_totals(s, STRESS_N, "three consumers", "Values were lost or taken twice: hold the mutex around the "
                   "slot access, and put one 0 for each consumer.")
