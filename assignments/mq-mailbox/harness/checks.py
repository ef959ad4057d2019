"""Visible checks for mq-mailbox.

One exchange (recv, two sends, end; every program the student's) is run once
and judged by several checks, so one bug shows up in the check that names it.
Mix-and-match runs against the reference recv or send put the blame on the
right side. Blocking is judged by kernel evidence (CPU time against wall time,
wakeups, wchan and the current system call), never by sleeping and hoping.
"""
from __future__ import annotations

import shlex
from dataclasses import dataclass, field

from grader.harness import sysv, waits
from grader.harness.api import Fail, check, compare_lines
from grader.harness.evidence import expect
from grader.harness.evidence import stderr as stderr_tail
from grader.harness.procfs import IpcObject, sysvipc_table
from grader.harness.spawn import Run

# Keys the harness picks, 0x4d420001 and up; the spec allows decimal or 0x-hex, so they alternate.
(KEY_SESSION, KEY_REF_SEND, KEY_REF_RECV, KEY_FLUSH, KEY_BLOCK, KEY_POLL, KEY_MISSING, KEY_FULL,
 KEY_EINTR) = (hex(k) if i % 2 == 0 else str(k) for i, k in enumerate(range(0x4d420001, 0x4d42000a)))

# Several sends, with spaces, a long text followed by a shorter one (a receiver
# that relies on a '\0' the sender never sent shows leftovers of the long one).
BATCHES = [["first message", "second, with  spaces", "3"],
           ["a longer fourth message: the quick brown fox jumps over the lazy dog", "5th", "sixth"]]

START_SECONDS = 5.0        # bounds only: a correct program takes milliseconds
RUN_SECONDS = 5.0
EXIT_SECONDS = 5.0
BLOCK_SECONDS = 1.0        # how long a waiting recv/send is measured
MAX_CPU_RATIO = 0.10        # busy waiting, as the README states it: more than 10% of a CPU ...
MAX_WAKEUPS_PER_SECOND = 5.0   # ... or more than 5 wakeups a second while waiting
FULL_QBYTES = 512          # the harness shrinks the queue to this (IPC_SET) ...
FILLER_SIZE = 256          # ... and fills it with two texts of the longest allowed size


clean_lines = sysv.printed_texts
trace_excerpt = sysv.calls_excerpt
failed_run = sysv.failed_run


def start_recv(ctx, key: str, impl: str = "student", inject: list[str] = ()) -> tuple[Run, IpcObject]:
    """Start recv and wait until its queue exists; Fail if it never appears."""
    recv = ctx.start("mailbox", ["recv", key], impl=impl, inject=inject)
    q = sysv.expect_created(
        ctx, "msg", key, recv, START_SECONDS, who=f"mailbox recv {key}", name="recv", noun="message queue",
        waiting="while recv waits",
        hint_exit="recv opens the queue with msgget(KEY, IPC_CREAT | 0600), KEY given in decimal or 0x-hex "
                  "(strtol(argv[2], NULL, 0) in C, int(sys.argv[2], 0) in Python).",
        hint_hang="recv must call msgget(KEY, IPC_CREAT | 0600) right away.")
    return recv, q


def run_program(ctx, args: list[str], impl: str, others: list[Run], timeout: float = RUN_SECONDS) -> Run:
    """Run send/end to completion; Fail unless it exits 0."""
    run = ctx.start("mailbox", args, impl=impl)
    rc = ctx.finish(run, timeout, what="mailbox " + " ".join(args[:2]), others=others)
    if rc != 0:
        raise failed_run(run, "mailbox " + " ".join(args[:2]),
                         "send and end exit 0 once their messages are in the queue.")
    return run


@dataclass
class Exchange:
    """What one recv / send... / end exchange showed."""
    key: str
    recv: Run | None = None
    queue: IpcObject | None = None         # the queue while recv waited
    programs: list[Run] = field(default_factory=list)
    failure: Fail | None = None            # recv never started, or a send/end failed
    exit_failure: Fail | None = None       # recv did not exit 0 after end
    leftovers: list[IpcObject] = field(default_factory=list)
    expected: list[str] = field(default_factory=lambda: [t for batch in BATCHES for t in batch])


def run_exchange(ctx, key: str, recv_impl: str = "student", send_impl: str = "student") -> Exchange:
    ex = Exchange(key=key)
    try:
        ex.recv, ex.queue = start_recv(ctx, key, recv_impl)
        for batch in BATCHES:
            ex.programs.append(run_program(ctx, ["send", key, *batch], send_impl, [ex.recv]))
        ex.programs.append(run_program(ctx, ["end", key], send_impl, [ex.recv]))
    except Fail as f:
        ex.failure = f
        return ex
    try:
        rc = ctx.finish(ex.recv, EXIT_SECONDS, what=f"mailbox recv {key} after `mailbox end {key}`")
        if rc != 0:
            ex.exit_failure = failed_run(ex.recv, "after the type-2 message, recv",
                                         "On a type-2 message recv removes the queue with "
                                         "msgctl(id, IPC_RMID, NULL) and exits 0.")
    except Fail as hang:
        hang.hint = ("recv kept waiting after `end`: on a type-2 message it must remove the queue and exit 0. "
                     "Receive with msgtyp 0 (any type) and look at mtype.")
        ex.exit_failure = hang
    ex.leftovers = ctx.ipc_objects()
    return ex


def exchange(ctx) -> Exchange:
    return ctx.memo("exchange", lambda: run_exchange(ctx, KEY_SESSION))


def judge_lines(ex: Exchange, who: str, hint: str) -> None:
    if ex.failure:
        raise ex.failure
    observed = clean_lines(ex.recv)
    ok, diff = compare_lines(ex.expected, observed)
    if ok:
        return
    evidence = [("recv's output, line by line", diff)]
    if ex.exit_failure:
        evidence.append(("note", "recv did not exit normally after `end`; this is its output until then"))
    evidence.append(("the sends, in order", "\n".join(f"mailbox {shlex.join(r.argv[-(len(b) + 2):])}"
                                                        for r, b in zip(ex.programs, BATCHES))))
    raise Fail(f"{who}: the texts did not arrive complete and in order", expected="\n".join(ex.expected),
               observed="\n".join(observed) or "(nothing)", evidence=evidence, hint=hint)


LINES_HINT = ("A message queue is FIFO: send each TEXT as its own type-1 message, in argument order; recv prints "
              "every type-1 text on its own line, for as long as it runs. msgrcv returns the number of bytes: the "
              "text is not '\\0'-terminated unless you terminate it (printf(\"%.*s\\n\", (int) n, m.mtext)).")


@check("fifo-order")
def fifo_order(ctx):
    """Texts from several sends arrive complete and in FIFO order: recv prints each on its own line"""
    judge_lines(exchange(ctx), "your send and recv together", LINES_HINT)


@check("recv-with-reference-send")
def recv_with_reference_send(ctx):
    """Your recv prints every text sent by the reference send, in order (so a wrong line is recv's fault)"""
    ex = run_exchange(ctx, KEY_REF_SEND, send_impl="reference")
    judge_lines(ex, "your recv with the reference send and end",
                "The reference send is known to be right, so look at recv: keep receiving (msgtyp 0, any type) "
                "and print every type-1 text until the type-2 message arrives. " + LINES_HINT.split(". ", 1)[1])


@check("send-with-reference-recv")
def send_with_reference_recv(ctx):
    """Your send and end work with the reference recv: every text arrives, in order"""
    ex = run_exchange(ctx, KEY_REF_RECV, recv_impl="reference")
    judge_lines(ex, "your send and end with the reference recv",
                "The reference recv is known to be right, so look at send: one type-1 msgsnd per TEXT, "
                "in the order of the arguments, each with the text's length as size.")
    expect(not ex.exit_failure, "the reference recv did not finish after your `mailbox end`", expected="recv exits 0",
           observed=ex.recv.describe_exit(),
           evidence=[("your end's message-queue calls", trace_excerpt(ex.programs[-1]))],
           hint="end sends exactly one message of type 2 (mtype = 2) with msgsnd, then exits 0.")


@check("queue-removed-after-end")
def queue_removed_after_end(ctx):
    """On the type-2 message from end, recv removes the queue (IPC_RMID) and exits 0"""
    ex = exchange(ctx)
    if ex.failure:
        raise ex.failure
    if ex.exit_failure:
        raise ex.exit_failure
    left = [o for o in ex.leftovers if o.kind == "msg"]
    expect(not left, "the queue is still in /proc/sysvipc/msg after recv exited", expected="(no message queue)",
           observed=sysvipc_table(left), evidence=[("recv's msgctl calls", sysv.rmid_calls(ex.recv))],
           hint="On the type-2 message call msgctl(id, IPC_RMID, NULL) (Python: queue.remove()) before "
                "exiting: a queue stays in the kernel, with its messages, until someone removes it. "
                "`ipcs -q` lists them on your machine, `ipcrm -q ID` removes one.")


@check("queue-keyed-0600")
def queue_keyed_0600(ctx):
    """The queue is keyed with KEY (not IPC_PRIVATE) and has mode 0600"""
    ex = exchange(ctx)
    if ex.queue is None:
        raise ex.failure
    gets = [c for r in [ex.recv, *ex.programs] for c in r.trace.calls("msgget")]
    evidence = [("the queue in /proc/sysvipc/msg while recv waited", ex.queue.describe()),
                ("msgget calls of recv, send and end", "\n".join(c.raw for c in gets) or "(none)")]
    sysv.expect_key_and_mode(
        ex.queue, gets, KEY_SESSION, 0o600, call="msgget", noun="queue", evidence=evidence,
        hint_key="Parse KEY with strtol(argv[2], NULL, 0) (Python: int(sys.argv[2], 0)), so both decimal "
                 "and 0x-hex work, and pass it to msgget; IPC_PRIVATE makes a queue nobody else can find.",
        hint_mode="Use msgget(KEY, IPC_CREAT | 0600) in every mode (Python: sysv_ipc.MessageQueue(key, "
                  "sysv_ipc.IPC_CREAT, mode=0o600)); 0666 lets every user read and forge your messages.")


@check("recv-flushes")
def recv_flushes(ctx):
    """recv prints each text as soon as it arrives (flushes stdout), while it keeps waiting for more"""
    recv, _ = start_recv(ctx, KEY_FLUSH)
    text = "flush me right away"
    sysv.run_queue_tool(ctx, "put", KEY_FLUSH, "1", text)
    line, _, never = waits.read_until_or_hang(ctx, recv, lambda _: True, EXIT_SECONDS)
    if line is not None and line.rstrip("\0") == text:
        return
    q = sysv.with_key("msg", KEY_FLUSH)
    alive = recv.alive()
    if alive:
        recv.kill()
    received = q is not None and q.qnum == 0
    writes = [c for c in recv.trace.calls("write") if c.arg(0) == "1"]
    evidence = [("the queue after the send", q.describe() if q else "(gone)"),
                ("recv's writes to stdout (fd 1)", recv.trace.excerpt(writes) if writes else "(none)")]
    expect(not (line is None and alive and received), "recv took the message out of the queue but did not print it "
           + ("before going back to sleep in msgrcv" if never else f"within {EXIT_SECONDS:g} s"),
           expected=text, observed="(nothing on stdout yet)", evidence=evidence,
           hint="stdout is a pipe when the grader runs you, so printf output is block-buffered: call "
                "fflush(stdout) after each line (Python: print(text, flush=True)).")
    raise Fail("recv did not print the text it was sent", expected=text,
               observed=repr(line) if line is not None else f"(nothing; recv {recv.describe_exit()})",
               evidence=evidence + [stderr_tail(recv, "recv's stderr")],
               hint="recv receives any type (msgtyp 0) and prints each type-1 text on its own line, then flushes.")


@check("recv-blocks")
def recv_blocks(ctx):
    """While no message comes, recv sleeps in a blocking msgrcv (state S, almost no CPU, no wakeups)"""
    recv, _ = start_recv(ctx, KEY_BLOCK)
    b = sysv.blocked_in(recv, "msgrcv", BLOCK_SECONDS, START_SECONDS, MAX_CPU_RATIO, MAX_WAKEUPS_PER_SECOND)
    sysv.require_blocked(
        recv, "msgrcv", b, "recv", "what the kernel showed while recv waited for a message that was never sent",
        exited_hint="With no message in the queue, a blocking msgrcv (msgflg 0) simply waits.",
        hint="Call msgrcv(id, &m, size, 0, 0) without IPC_NOWAIT (Python: queue.receive(), block=True) and "
             "let the kernel wake you when a message arrives. Polling with IPC_NOWAIT burns the CPU, and "
             "polling with short sleeps wakes up hundreds of times a second and answers late.")


@check("poll-nonblocking")
def poll_nonblocking(ctx):
    """poll prints `empty` at once on an empty queue (IPC_NOWAIT), or the text of a waiting message, and exits 0"""
    sysv.run_queue_tool(ctx, "create", KEY_POLL)
    poll = ctx.start("mailbox", ["poll", KEY_POLL])
    try:
        rc = ctx.finish(poll, EXIT_SECONDS, what=f"mailbox poll {KEY_POLL} on an empty queue")
    except Fail as hang:
        hang.message += ": it waited for a message instead of answering `empty`"
        hang.hint = ("poll must not wait: call msgrcv(id, &m, size, 0, IPC_NOWAIT) (Python: "
                     "queue.receive(block=False)) and print `empty` when it fails with ENOMSG (Python: BusyError).")
        raise hang
    calls = poll.trace.calls("msgrcv")
    evidence = [("poll's msgrcv calls", poll.trace.excerpt(calls) if calls else "(none)"),
                stderr_tail(poll, "poll's stderr")]
    blocking = [c for c in calls if "IPC_NOWAIT" not in c.arg(4)]
    if blocking:
        raise Fail("poll called msgrcv without IPC_NOWAIT", expected="msgrcv(..., IPC_NOWAIT) = -1 ENOMSG",
                   observed=blocking[0].raw, evidence=evidence,
                   hint="A blocking msgrcv on an empty queue waits forever; pass IPC_NOWAIT as msgflg.")
    ok, diff = compare_lines(["empty"], clean_lines(poll))
    expect(rc == 0 and ok, "poll on an empty queue did not print `empty` and exit 0", expected="empty (exit status 0)",
           observed=f"{poll.stdout[-500:]!r} ({poll.describe_exit()})",
           evidence=[("poll's output, line by line", diff), *evidence],
           hint="msgrcv with IPC_NOWAIT fails with errno ENOMSG on an empty queue: print `empty`, exit 0.")
    expect(any(c.errno == "ENOMSG" for c in calls), "poll printed `empty` without asking the queue",
           expected="msgrcv(..., IPC_NOWAIT) = -1 ENOMSG", observed="no msgrcv call failed with ENOMSG",
           evidence=evidence,
           hint="Do one msgrcv with IPC_NOWAIT and print `empty` only when it fails with ENOMSG.")
    text = "a message for poll"
    sysv.run_queue_tool(ctx, "put", KEY_POLL, "1", text)
    poll = ctx.start("mailbox", ["poll", KEY_POLL])
    rc = ctx.finish(poll, EXIT_SECONDS, what=f"mailbox poll {KEY_POLL} with one message waiting")
    ok, diff = compare_lines([text], clean_lines(poll))
    q = sysv.with_key("msg", KEY_POLL)
    expect(rc == 0 and ok, "poll with one message waiting did not print its text and exit 0",
           expected=f"{text} (exit status 0)", observed=f"{poll.stdout[-500:]!r} ({poll.describe_exit()})",
           evidence=[("poll's output, line by line", diff),
                     ("poll's msgrcv calls", poll.trace.excerpt(poll.trace.calls("msgrcv")) or "(none)"),
                     stderr_tail(poll, "poll's stderr")],
           hint="On success print the text of the type-1 message on its own line.")
    expect(q is not None and q.qnum == 0, "poll printed the text but left the message in the queue",
           expected="the queue empty afterwards (poll received it)",
           observed=q.describe() if q else "(the queue is gone)",
           hint="Receive the message with msgrcv; do not just peek, and do not remove the queue.")


@check("poll-missing-queue")
def poll_missing_queue(ctx):
    """poll on a queue that does not exist prints an error on stderr and exits 1 (no crash, no new queue)"""
    poll = ctx.start("mailbox", ["poll", KEY_MISSING])
    rc = ctx.finish(poll, EXIT_SECONDS, what=f"mailbox poll {KEY_MISSING} with no such queue")
    created = [o for o in ctx.ipc_objects() if o.kind == "msg"]
    evidence = [stderr_tail(poll, "poll's stderr"),
                ("poll's message-queue calls", trace_excerpt(poll))]
    hint = ("Open the queue with msgget(KEY, 0); when it returns -1 (errno ENOENT) print a message to stderr "
            "(perror) and exit 1. Python: catch sysv_ipc.ExistentialError.")
    expect(not created, "poll created the queue it was asked to poll",
           expected="no message queue (poll uses msgget(KEY, 0))",
           observed=sysvipc_table(created), evidence=evidence,
           hint="poll must not pass IPC_CREAT: a missing queue is an error, not something to create.")
    expect(rc >= 0, f"poll crashed on a missing queue: {poll.describe_exit()}", expected="exit status 1",
           observed=poll.describe_exit(), evidence=evidence, hint=hint)
    if "Traceback (most recent call last)" in poll.stderr:
        raise Fail("poll crashed with an uncaught exception on a missing queue", expected="an error message, exit 1",
                   observed=poll.stderr.strip().splitlines()[-1], evidence=evidence, hint=hint)
    expect(rc == 1 and bool(poll.stderr.strip()), "poll on a missing queue did not report an error and exit 1",
           expected="a message on stderr, exit status 1", evidence=evidence, hint=hint,
           observed=f"{poll.describe_exit()}, stderr {poll.stderr.strip()[:200]!r}, "
                    f"stdout {poll.stdout.strip()[:200]!r}")


@check("send-blocks-when-full")
def send_blocks_when_full(ctx):
    """When the queue is full, send sleeps in a blocking msgsnd, and finishes as soon as a receiver drains the queue"""
    full = sysv.FullQueue(ctx, KEY_FULL, FULL_QBYTES, FILLER_SIZE, RUN_SECONDS)
    texts = ["alpha, sent once there is room"]
    snd = ctx.start("mailbox", ["send", KEY_FULL, *texts])
    b = sysv.blocked_in(snd, "msgsnd", BLOCK_SECONDS, START_SECONDS, MAX_CPU_RATIO, MAX_WAKEUPS_PER_SECOND)
    sysv.require_blocked(
        snd, "msgsnd", b, "send", "what the kernel showed while send waited for room", [("the full queue", full.state)],
        exited_hint="Call msgsnd without IPC_NOWAIT (msgflg 0): on a full queue it sleeps until there is room.",
        hint="Use a blocking msgsnd (msgflg 0, Python: block=True); do not retry IPC_NOWAIT in a loop.")
    # Now drain it, as recv would: the grader's receiver takes every message, blocking.
    drain = full.drain(ctx, KEY_FULL, len(full.fillers) + len(texts))
    rc = ctx.finish(snd, RUN_SECONDS, what="send after the queue was drained", others=[drain])
    if rc != 0:
        raise failed_run(snd, "send, once the queue had room again,", "send exits 0 once all its texts are sent.")
    ctx.finish(drain, EXIT_SECONDS, what="the grader's receiver", others=[snd])
    ok, diff = compare_lines(full.fillers + texts, clean_lines(drain))
    expect(ok, "after the queue drained, send's text did not arrive after the messages already queued",
           expected="\n".join(full.fillers + texts), observed=drain.stdout[-1500:],
           evidence=[("what the grader's receiver got, line by line", diff),
                     ("send's message-queue calls", trace_excerpt(snd))],
           hint="When msgsnd returns after waiting, the message is in the queue: go on with the next text.")


@check("recv-retries-eintr", advisory=True)
def recv_retries_eintr(ctx):
    """When msgrcv is interrupted (EINTR), recv calls it again instead of giving up"""
    recv, _ = start_recv(ctx, KEY_EINTR, inject=["msgrcv:error=EINTR:when=1"])
    text = "after the interruption"
    sysv.run_queue_tool(ctx, "put", KEY_EINTR, "1", text)
    sysv.run_queue_tool(ctx, "put", KEY_EINTR, "2", "")
    rc = recv.wait(EXIT_SECONDS)
    if rc is None:
        recv.kill()
    calls = recv.trace.calls("msgrcv")
    evidence = [("recv's msgrcv calls (the first one was made to fail with EINTR)", recv.trace.excerpt(calls, 6)),
                stderr_tail(recv, "recv's stderr")]
    expect(rc == 0 and text in clean_lines(recv), "recv gave up when msgrcv was interrupted",
           expected=f"recv retries, prints {text!r}, exits 0 on the type-2 message",
           observed=f"recv {recv.describe_exit()}, output {recv.stdout[-300:]!r}", evidence=evidence,
           hint="A signal arriving while recv waits makes msgrcv fail with errno EINTR, even with "
                "SA_RESTART. Treat EINTR as 'try again': if (errno == EINTR) continue;. In Python, "
                "sysv_ipc raises a plain sysv_ipc.Error for it: catch it and call receive() again.")
