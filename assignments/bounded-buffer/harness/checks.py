"""Visible checks for bounded-buffer (POSIX shared memory and named semaphores).

The protocol is judged from recorded semaphore calls (grader.harness.semtrace), never from luck; the
totals of unrecorded runs (three consumers, the reference programs) are the independent second signal.
"""
import signal

from grader.harness import posix, ring, semtrace
from grader.harness.api import Fail, ReferenceUnavailable, check
from grader.harness.ring import (
    CONSUMERS,
    DEADLOCK_HINT,
    FUTEX,
    MIX_N,
    PROTO_N,
    READY_HINT,
    SIZE,
    SLOTS,
    START,
    STRESS_N,
    Session,
    every,
    initial,
    own,
    printed,
    run_session,
    sems,
    totals,
)
from grader.harness.waits import blocked_in, require_blocked


def require_totals(s: Session, n: int, what: str, hint: str):
    if s.failure:
        raise s.failure
    want = f"count={n} sum={n * (n + 1) // 2}"
    got = "count={} sum={}".format(*totals(s)) if len(s.consumers) > 1 else (s.consumers[0].lines() or ["(nothing)"])[-1]
    if got != want:
        outputs = "\n".join(f"{c.label}: {c.stdout.strip()!r}" for c in s.consumers)
        raise Fail(f"{what}: wrong totals for N={n}", expected=want, observed=got,
                   evidence=[("what each consumer printed", outputs)], hint=hint)


def require_asleep(b, what: str, sem: str):  # b: a waits.blocked_in() verdict
    require_blocked(b, f"{what} does not sleep in sem_wait", expected="asleep in futex, no CPU",
                    hint=f"Use sem_wait({sem}), which sleeps; a sem_trywait loop (with or without a sleep) polls.")


def lonely(ctx, sig=signal.SIGTERM) -> Session:
    """producer bbl 20 1 with no consumer: it fills the 8 slots and must then sleep; then `sig`."""
    def session():
        s = Session("bbl")
        posix.remove(ctx.identity.uid, every(s.name))
        s.producer = semtrace.start(ctx, "producer", [s.name, 20, 1])
        semtrace.await_line(ctx, s.producer, "ready", START, READY_HINT)
        s.objects = own(s.name)
        s.blocked = blocked_in(s.producer.pid, 1.0, settle=START, **FUTEX)
        if s.blocked.ok:
            s.ignored_mutex = ring.probe_producer_on_full(s)
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
        raise Fail("the objects in /dev/shm after `ready` are not the ones the spec names", observed=posix.table(s.objects),
                   expected="shared memory /bbl of 40 bytes; semaphores /bbl-empty, /bbl-full, /bbl-mutex",
                   hint="ftruncate the object to exactly 40 bytes; name the semaphores /NAME-empty, -full and -mutex.")


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


def empty_buffer(ctx) -> Session:
    """consumer bbe on a buffer the grader made: it must sleep on full. The grader then puts a 0
    while it holds the mutex (the consumer must sleep on the mutex, `out` still 0: the held-mutex
    probe), and lets go of the mutex."""
    def session():
        name, n = "bbe", sems("bbe")
        s = Session(name, rec=semtrace.Recorder(f"{ctx.workdir}/../semtrace", ctx.identity.uid, name))
        posix.remove(ctx.identity.uid, every(name))
        posix.make_buffer(name, SLOTS, SIZE, ctx.identity.uid)
        consumer = semtrace.start(ctx, "consumer", [name], rec=s.rec)
        s.consumers = [consumer]
        s.blocked = blocked_in(consumer.pid, 1.0, settle=START, **FUTEX)
        if not s.blocked.ok:
            consumer.kill()
        elif posix.semaphore_value(n["mutex"]) == 0:
            s.failure = semtrace.deadlock(ctx, [consumer], "deadlock: the consumer sleeps in sem_wait while it holds "
                                          "/bbe-mutex, so no producer can ever lock the mutex to put a value", rec=s.rec,
                                          initial=initial(name), locks=(n["mutex"],), hint=DEADLOCK_HINT)
            consumer.kill()
        else:
            ring.probe_consumer_on_empty(ctx, s)
        posix.remove(None, every(name))
        return s
    return ctx.memo("empty", session)


def require_mutex(s: Session, what: str):
    if s.ignored_mutex:
        raise Fail(f"{what} does not wait for the mutex", expected="asleep in sem_wait(mutex) while the grader holds it",
                   observed=s.ignored_mutex, hint="Lock the mutex (sem_wait) before touching the ring, every time.")


@check("consumer-sleeps-when-empty")
def consumer_sleeps_when_empty(ctx):
    """With an empty buffer the consumer sleeps in sem_wait(full), not holding the mutex, and takes a 0 once put"""
    s = empty_buffer(ctx)
    require_asleep(s.blocked, "with an empty buffer the consumer", "full")
    if s.failure:
        raise s.failure
    consumer = s.consumers[0]
    if consumer.lines() != ["count=0 sum=0"] or consumer.returncode != 0:
        raise Fail("the consumer took the grader's 0 but did not end as the spec says",
                   expected="count=0 sum=0, exit 0", observed=f"{consumer.stdout!r}; {consumer.describe_exit()}")


def protocol_session(ctx, side: str) -> Session:
    """Recorded: your producer and the reference consumer, or the reference producer and three of your consumers
    (in the kit, which has no reference, your own programs)."""
    try:
        other = {"consumer_impl" if side == "producer" else "producer_impl": ctx.command("producer", "reference") and "reference"}
    except ReferenceUnavailable:
        other = {}
    return ctx.memo(side, lambda: run_session(ctx, f"bb{side[0]}", PROTO_N, 1 if side == "producer" else CONSUMERS,
                                              record=True, **other))


def judge(s: Session, run, counting: str, posted: str, **kw):
    n = sems(s.name)
    semtrace.judge(s.rec.calls(), run, [("wait", n[counting]), ("wait", n["mutex"]), ("post", n["mutex"]),
                   ("post", n[posted])], lock=n["mutex"], slots=SLOTS, initial=initial(s.name),
                   complete=s.failure is None, **kw)


@check("producer-protocol", depends=["producer-creates-objects"])
def producer_protocol(ctx):
    """Every value: sem_wait(empty), sem_wait(mutex), slot[in], in+1, sem_post(mutex), sem_post(full); then 8 x sem_wait(empty) before removing anything"""
    s = protocol_session(ctx, "producer")
    if s.producer is not None and s.producer.pid is not None:
        judge(s, s.producer, "empty", "full", rounds=PROTO_N + 1, tail=[("wait", sems(s.name)["empty"])] * SLOTS,
              index="ring_in", counted=sems(s.name)["full"])
    if s.failure:
        raise s.failure
    require_mutex(lonely(ctx), "with the buffer full, the producer")   # evidence no record can forge


@check("consumer-protocol")
def consumer_protocol(ctx):
    """Every consumer, for every value: sem_wait(full), sem_wait(mutex), slot[out], out+1, sem_post(mutex), sem_post(empty)"""
    s = protocol_session(ctx, "consumer")
    calls = s.rec.calls()
    for c in s.consumers:
        judge(s, c, "full", "empty", index="ring_out")
        took = printed(c)[0] + 1          # its values and the 0
        seen = sum(k.pid == c.pid and k.call == "wait<" and k.ok and k.name == sems(s.name)["full"] for k in calls)
        if not s.failure and seen < took:
            raise semtrace.unseen(c, seen, took)
    if s.failure:
        raise s.failure
    require_mutex(empty_buffer(ctx), "the consumer")   # evidence no record can forge


@check("producer-with-reference-consumer", depends=["producer-creates-objects"])
def producer_with_reference_consumer(ctx):
    """Your producer with the reference consumer: the consumer gets 1..N exactly once"""
    ctx.command("consumer", "reference")        # in the kit, deferred: it has no reference
    require_totals(protocol_session(ctx, "producer"), PROTO_N, "your producer with the reference consumer",
                   "The reference consumer is right, so the values your producer put are wrong.")


@check("consumer-with-reference-producer", depends=["consumer-protocol"])
def consumer_with_reference_producer(ctx):
    """Your consumer with the reference producer prints the right count and sum"""
    require_totals(run_session(ctx, "bbr", MIX_N, 1, producer_impl="reference"), MIX_N, "your consumer with the reference producer",
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
            raise Fail(f"producer {n} 1 did not print ready and done", expected="ready\ndone", observed=s.producer.stdout[-200:])


@check("no-leftovers", depends=["one-consumer"])
def no_leftovers(ctx):
    """Nothing is left in /dev/shm once the producer has printed done and the consumer has exited"""
    s = one_session(ctx, 10)
    if s.leftovers:
        raise Fail("objects outlived the programs", expected="(nothing in /dev/shm)", observed=posix.table(s.leftovers),
                   hint="After the final waits: munmap, shm_unlink, then sem_close and sem_unlink each semaphore.")


@check("three-consumers", depends=["producer-protocol", "consumer-protocol"])
def three_consumers(ctx):
    """Three consumers at once (not recorded): the counts add up to N and the sums to N(N+1)/2"""
    require_totals(run_session(ctx, "bb3", STRESS_N, CONSUMERS, traced=False), STRESS_N, "three consumers", "Values were lost or taken twice: hold the mutex around the "
                   "slot access, and put one 0 for each consumer.")
