"""Hidden checks for bounded-buffer: the spec's error cases and SIGINT. Run at grading time, never shipped."""
import signal

from grader.harness import posix, semtrace
from grader.harness.api import Fail, check
from grader.harness.ring import SIZE, SLOTS, START, every, own

from .checks import lonely


@check("producer-usage", hidden=True)
def producer_usage(ctx):
    """producer rejects wrong arguments with a usage line on stderr and exit status 2, creating nothing"""
    for args in ([], ["bb/u", 5, 1], ["u" * 33, 5, 1], ["bbu", -1, 1], ["bbu", 1000001, 1], ["bbu", 5, 9]):
        run = semtrace.start(ctx, "producer", args, traced=False)
        rc = run.wait(START)
        made = own("bbu")
        if rc != 2 or not run.stderr.strip() or made:
            run.kill()
            raise Fail(f"producer {' '.join(map(str, args))}: wrong arguments not refused",
                       expected="a usage line on stderr, exit status 2, nothing created",
                       observed=f"{run.describe_exit()}; stderr {run.stderr[-200:]!r}; {posix.table(made)}",
                       hint="Check NAME (1-32 of [A-Za-z0-9_-]), 0 <= N <= 1000000 and 1 <= CONSUMERS <= 8 first.")


@check("producer-refuses-existing", hidden=True)
def producer_refuses_existing(ctx):
    """If an object exists already, producer names it on stderr, leaves it alone and exits 1"""
    for kind, obj in (("shm", "/bbx"), ("sem", "/bbx-mutex")):
        posix.remove(ctx.identity.uid, every("bbx"))
        posix.make_buffer("bbx", SLOTS, SIZE, ctx.identity.uid)
        posix.remove(None, [n for n in every("bbx") if n != obj])
        run = semtrace.start(ctx, "producer", ["bbx", 5, 1], traced=False)
        line = run.read_line(START)
        run.kill()
        kept = any(o.name == obj and o.kind == kind for o in posix.objects())
        if line is not None or run.returncode != 1 or obj.lstrip("/") not in run.stderr or not kept:
            raise Fail(f"producer started although {obj} existed", expected=f"an error naming {obj}, exit 1, {obj} kept",
                       observed=f"first line {line!r}; {run.describe_exit()}; stderr {run.stderr[-200:]!r}; "
                                f"{obj} {'kept' if kept else 'removed'}",
                       hint="Create every object with O_CREAT | O_EXCL (Python: posix_ipc.O_CREX).")


@check("consumer-missing-objects", hidden=True)
def consumer_missing_objects(ctx):
    """consumer exits 1 with an error, creating nothing, when the objects (or one of them) are missing"""
    for missing in ("everything", "/bbm-mutex"):
        posix.remove(ctx.identity.uid, every("bbm"))
        if missing != "everything":
            posix.make_buffer("bbm", SLOTS, SIZE, ctx.identity.uid)
            posix.remove(None, [missing])
        before = own("bbm")
        run = semtrace.start(ctx, "consumer", ["bbm"], traced=False)
        rc = run.wait(START)
        after = own("bbm")
        if rc != 1 or not run.stderr.strip() or after != before:
            run.kill()
            raise Fail(f"consumer with {missing} missing", expected="an error on stderr, exit 1, nothing created",
                       observed=f"{run.describe_exit()}; stderr {run.stderr[-200:]!r}; now: {posix.table(after)}",
                       hint="Open without O_CREAT: shm_open(name, O_RDWR, 0), sem_open(name, 0).")


@check("producer-sigint-cleanup", depends=["producer-creates-objects"], hidden=True)
def producer_sigint_cleanup(ctx):
    """On SIGINT the producer removes the shared memory and the semaphores and exits 1"""
    s = lonely(ctx, signal.SIGINT)
    if s.rc != 1 or s.leftovers:
        raise Fail("SIGINT while the producer waited: not cleaned up", expected="exit status 1, /dev/shm empty",
                   observed=f"{s.producer.describe_exit()}; {posix.table(s.leftovers)}",
                   hint="Handle SIGINT as SIGTERM: remove every object, then exit 1.")
