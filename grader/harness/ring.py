"""The shared ring of a POSIX bounded buffer: its names, one session of producer and consumers, probes.

A ring is a shared-memory object /NAME (int32 in, out, slot[8]) and the named semaphores
/NAME-empty (8), /NAME-full (0) and /NAME-mutex (1). The bounded-buffer checks build on this
module; what is here is the protocol's, so another ring assignment (other sizes, SysV
semaphores) would reuse the session and the probes and change the constants.
"""
import re
from dataclasses import dataclass, field

from . import posix, semtrace
from .api import Fail

SLOTS, SIZE = 8, 40
START, RUN = 10.0, 60.0
PROTO_N, MIX_N, STRESS_N, CONSUMERS = 200, 1000, 20000, 3
# How the ring's programs are seen blocked (waits.blocked_in's arguments). Before its sem_wait a producer
# puts 8 values and a consumer starts (Python: about 0.06 s of CPU); past 0.5 s it is polling.
FUTEX = {"wchans": semtrace.FUTEX_WCHANS, "syscalls": ("futex",), "settle_cpu": 0.5}
DEADLOCK_HINT = ("Wait on the counting semaphore (empty or full) first and lock the mutex only then: "
                 "a process that sleeps while holding the mutex stops everybody else.")
READY_HINT = "Create the objects, then print ready as the first line (and flush) before putting any value."


def sems(name: str) -> dict[str, str]:
    return {s: f"/{name}-{s}" for s in ("empty", "full", "mutex")}


def initial(name: str) -> dict[str, int]:
    return dict(zip(sems(name).values(), (SLOTS, 0, 1)))


def every(name: str) -> list[str]:
    return [f"/{name}", *sems(name).values()]


def own(name: str) -> list:
    """The session's objects now in /dev/shm."""
    return posix.objects(only=every(name))


@dataclass
class Session:
    name: str
    producer: object = None
    consumers: list = field(default_factory=list)
    rec: semtrace.Recorder | None = None
    failure: Fail | None = None
    leftovers: list = field(default_factory=list)
    objects, blocked, rc = [], None, None       # lonely(): /dev/shm after `ready`, slept?, status after a signal
    ignored_mutex: str | None = None            # what the held-mutex probe saw it do without the mutex


def run_session(ctx, name, n, consumers=1, producer_impl="student", consumer_impl="student",
                record=False, traced=True) -> Session:
    posix.remove(ctx.identity.uid, every(name))
    before = {o.name for o in posix.objects()}
    s = Session(name, rec=semtrace.Recorder(f"{ctx.workdir}/../semtrace", ctx.identity.uid, name) if record else None)
    what = f"producer {name} {n} {consumers} with {consumers} consumer(s)"
    try:
        s.producer = semtrace.start(ctx, "producer", [name, n, consumers], impl=producer_impl, rec=s.rec, traced=traced)
        semtrace.await_line(ctx, s.producer, "ready", START, READY_HINT)
        ref = "reference " if consumer_impl != "student" else ""
        s.consumers = [semtrace.start(ctx, "consumer", [name], impl=consumer_impl, rec=s.rec, traced=traced,
                                      label=f"{ref}consumer {i + 1}") for i in range(consumers)]
        semtrace.wait_all(ctx, [s.producer, *s.consumers], what, rec=s.rec, initial=initial(name),
                          locks=(sems(name)["mutex"],), timeout=RUN, hint=DEADLOCK_HINT)
    except Fail as f:
        s.failure = f
    s.leftovers = [o for o in posix.objects() if o.name in every(name) or o.name not in before]
    return s


def printed(consumer) -> tuple[int, int]:
    """The count and sum a consumer printed last ((0, 0) when its line is wrong)."""
    m = re.fullmatch(r"count=(\d+) sum=(-?\d+)", (consumer.lines() or [""])[-1])
    return (int(m[1]), int(m[2])) if m else (0, 0)


def totals(s: Session) -> tuple[int, int]:
    """The sums of every consumer's count and sum (a consumer whose line is wrong counts as 0)."""
    got = [printed(c) for c in s.consumers]
    return sum(g[0] for g in got), sum(g[1] for g in got)


def probe_producer_on_full(s: Session) -> str | None:
    """The producer sleeps on a full buffer (in = 0). The grader locks the mutex and takes slot 0
    (out = 1, post empty): the producer must now sleep on the mutex with `in` still 0. Then the
    grader lets go and waits until the producer has put 9 (in = 1) and sleeps again. Only on a
    buffer as the spec makes it, full, with the mutex free (else other checks say what is wrong)."""
    n, shm = sems(s.name), f"/{s.name}"
    sizes = [o.size for o in s.objects if o.kind == "shm" and o.name == shm]
    if sizes != [SIZE] or posix.semaphore_value(n["mutex"]) != 1 or posix.semaphore_value(n["full"]) != SLOTS:
        return None
    posix.act(shm, SIZE, {4: 1}, take=[n["mutex"], n["full"]], give=[n["empty"]])
    seen = semtrace.held_lock_probe(s.producer, shm, 0, n["empty"], n["mutex"], START)
    held_in = (posix.read_ints(shm, [0]) or [None])[0]
    posix.act(shm, SIZE, {}, take=[], give=[n["mutex"]])
    # It puts 9 now: wait until `in` moves on (to whatever value: a wrong wrap is the protocol checks'
    # to judge) and it sleeps again. One that went on without the mutex has moved already.
    moved = (shm, 0, held_in) if not seen and held_in is not None else None
    semtrace.settled(s.producer, None, START, moved=moved, changed=True)
    return seen


def probe_consumer_on_empty(ctx, s: Session) -> None:
    """The consumer sleeps on an empty buffer the grader made. The grader puts a 0 while it holds
    the mutex (the consumer must sleep on the mutex with `out` still 0), lets go, and waits for the
    consumer to end; what it did without the mutex goes to `s.ignored_mutex`, a failure to `s.failure`."""
    name, n, consumer = s.name, sems(s.name), s.consumers[0]
    posix.act(f"/{name}", SIZE, {8: 0, 0: 1}, take=[n["empty"], n["mutex"]], give=[n["full"]])  # put a 0
    s.ignored_mutex = semtrace.held_lock_probe(consumer, f"/{name}", 4, n["full"], n["mutex"], START)
    posix.act(f"/{name}", SIZE, {}, take=[], give=[n["mutex"]])
    try:
        ctx.finish(consumer, START, what="consumer, once the grader had put a 0")
    except Fail as f:
        s.failure = f
