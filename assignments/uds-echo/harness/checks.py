"""Visible checks for uds-echo.

The student's server is judged with the harness's own client (a Python socket
that sends exactly the bytes a check needs: a line split over several writes,
several lines in one write) and by kernel state: /proc/net/unix says which
socket listens where, /proc/PID/fd which sockets the server holds, and the
shared blocking helper whether it sleeps while idle. Mix-and-match runs the
reference client against the student's server and the reverse, so a wrong echo
is blamed on the side that has the bug. The generic parts live in
grader/harness/sockets.py.
"""
from __future__ import annotations

import signal

from grader.harness import signals, sockets, waits
from grader.harness.api import Fail, check, compare_lines
from grader.harness.evidence import expect
from grader.harness.evidence import stderr as stderr_tail
from grader.harness.sockets import TRACEBACK, HarnessClient, describe_path, ended, fd_table, socket_inode, unix_sockets
from grader.harness.spawn import DEFAULT_TRACE, Run

START_SECONDS = 10.0       # until `listening` appears
CLIENT_SECONDS = 10.0      # for echoclient to finish
REPLY_SECONDS = 5.0        # for a reply line to the harness's client
IDLE_SECONDS = 3.0         # for the server to settle into a blocking wait
MEASURE_SECONDS = 1.0      # how long idle blocking is measured
EXIT_SECONDS = 10.0        # for the server to exit after a signal
SETTLE_SECONDS = 10.0      # for the server to finish with its last client
CLIENTS_IN_A_ROW = 20

TEXTS = ["hello world", "Unix domain sockets", "mixed Case 123!"]
# The server's trace leaves out accept(): a busy accept loop would flood it.
SERVER_TRACE = "socket,bind,listen,unlink,unlinkat,close,write,%signal,%process"
# A client's trace shows what it sent, whatever call it used (send() is sendto), and any shutdown().
CLIENT_TRACE = f"{DEFAULT_TRACE},{sockets.SOCKET_IO_TRACE}"
KEEP_SERVING = ("Serve each client until it closes (read() returns 0), replying to every complete line; "
                "then close that connection and accept() the next client. Only SIGTERM or SIGINT ends the server.")


def fresh_path(ctx) -> str:
    return sockets.fresh_path(ctx.workdir)


def start_server(ctx, path: str, impl: str = "student") -> Run:
    """Start `echoserver PATH` and wait for its `listening` line (see sockets.start_server)."""
    return sockets.start_server(ctx, "echoserver", path, impl=impl, trace=SERVER_TRACE, seconds=START_SECONDS)


def connect(server: Run, path: str, who: str = "the harness's client") -> HarnessClient:
    return sockets.connect(server, path, who, reply_seconds=REPLY_SECONDS,
                           hint="Keep the listening socket open and go back to accept() after each client; only "
                                "SIGTERM or SIGINT ends the server.")


server_gone = sockets.gone


def _no_reply(ctx, server: Run, what: str, sent: str, eof: bool) -> Fail:
    return sockets.no_reply(ctx, server, what, sent, eof, hint=KEEP_SERVING, reply_seconds=REPLY_SECONDS)


# ---------------------------------------------------------------- the server starts

@check("server-listening")
def server_listening(ctx):
    """echoserver PATH listens on an AF_UNIX stream socket bound to PATH and prints `listening`"""
    path = fresh_path(ctx)
    server = start_server(ctx, path)
    table = unix_sockets()
    evidence = [("what is at PATH", describe_path(path)), ("echoserver's open files", fd_table(server.pid, table)),
                ("its socket calls", sockets.setup_calls(server))]
    fail = sockets.not_listening(path, "echoserver", server.tree(), table, evidence)
    if fail:
        raise fail


# ---------------------------------------------------------------- echo, and mix-and-match

def _echo(ctx, server_impl: str, client_impl: str, blame: str | None) -> None:
    path = fresh_path(ctx)
    server = start_server(ctx, path, server_impl)
    client = ctx.start("echoclient", [path, *TEXTS], impl=client_impl, trace=CLIENT_TRACE)
    setting = {"server": "the reference client against your echoserver",
               "client": "your echoclient against the reference server",
               None: "your echoclient against your echoserver"}[blame]
    hint_blame = {"server": "The reference client is known to be right, so the problem is in your echoserver.",
                  "client": "The reference server is known to be right, so the problem is in your echoclient.",
                  None: ("The two mix-and-match checks (reference client with your server, your client with the "
                         "reference server) tell which of your programs is wrong.")}[blame]
    rc, deadlock = sockets.wait_or_deadlock(client, server, CLIENT_SECONDS)
    if deadlock:
        raise sockets.deadlock_failure(ctx, deadlock, [client, server], setting,
                                       sockets.deadlock_fix(blame, "echoclient", "echoserver") + hint_blame)
    if rc is None:
        raise ctx.hang(f"{setting}: echoclient {path} {' '.join(TEXTS)} did not finish within {CLIENT_SECONDS:g} s",
                       [client, server], hint="The client sends one line and waits for the reply line. Check that "
                       "the server sends each reply with its newline, and that the client stops reading once it has "
                       "one line. " + hint_blame)
    expected = [t.upper() for t in TEXTS]
    ok, table = compare_lines(expected, client.lines())
    command = f"echoclient {path} " + " ".join(f"'{t}'" for t in TEXTS)
    client_stderr = stderr_tail(client, "echoclient's stderr")     # also for the reference: `setting` says whose
    expect(ok, f"{setting}: the replies printed are wrong", expected="\n".join(expected),
           observed=client.stdout[-1000:] or "(nothing on stdout)",
           evidence=[(f"stdout of {command}, line by line", table), client_stderr],
           hint="Every TEXT is sent as one line; the server sends it back uppercased and the client prints "
                "each reply line. " + hint_blame)
    expect(rc == 0, f"{setting}: echoclient {ended(client)}", expected="exit status 0", observed=client.describe_exit(),
           evidence=[client_stderr], hint="echoclient exits 0 after printing every reply. " + hint_blame)


@check("echo-correct", depends=["server-listening"])
def echo_correct(ctx):
    """Your echoclient against your echoserver prints each TEXT back uppercased, then exits 0"""
    _echo(ctx, "student", "student", None)


@check("server-with-reference-client", depends=["server-listening"])
def server_with_reference_client(ctx):
    """The reference echoclient against your echoserver gets every line back uppercased (blames the server)"""
    _echo(ctx, "student", "reference", "server")


@check("client-with-reference-server")
def client_with_reference_server(ctx):
    """Your echoclient against the reference echoserver prints every reply line (blames the client)"""
    _echo(ctx, "reference", "student", "client")


# ---------------------------------------------------------------- the harness's own client

@check("split-lines", depends=["server-listening"])
def split_lines(ctx):
    """A line that arrives in several pieces (separate writes) is echoed once, whole"""
    pieces = [b"hel", b"lo, wor", b"ld\n"]
    sent = " then ".join(repr(p) for p in pieces) + ", each write read by the server before the next"
    path = fresh_path(ctx)
    server = start_server(ctx, path)
    c = connect(server, path)
    try:
        for piece in pieces[:-1]:
            c.send(piece)
            if not c.wait_consumed(REPLY_SECONDS):
                raise ctx.hang(f"echoserver did not read {piece!r} within {REPLY_SECONDS:g} s", [server])
        c.send(pieces[-1])
        c.done_sending()
        lines = c.read_lines(1, REPLY_SECONDS)
        if not lines:
            raise _no_reply(ctx, server, "a line sent in three pieces", sent, c.eof)
        lines += c.read_lines(10, 0.5)          # anything else it sent, for the evidence
        partial = c.rest()
    finally:
        c.close()
    expected = ["HELLO, WORLD"]
    ok, table = compare_lines(expected, [line.upper() for line in lines])   # framing here; case is echo-correct's
    if not ok:
        ok, table = compare_lines(expected, lines)
        raise Fail("a line split across writes was not echoed as one line", expected="HELLO, WORLD",
                   observed="\n".join(lines) + (f"\n(and without a newline: {partial!r})" if partial else ""),
                   evidence=[("the harness sent", sent), ("reply lines", table)],
                   hint="A stream socket has no message boundaries: one read() can return part of a line. "
                        "Keep what you read in a buffer and reply only when it holds a whole line (up to '\\n').")


@check("batched-lines", depends=["server-listening"])
def batched_lines(ctx):
    """Several lines that arrive in one write are each echoed, in order"""
    data = b"first line\nsecond line\nthird line\n"
    path = fresh_path(ctx)
    server = start_server(ctx, path)
    c = connect(server, path)
    try:
        c.send(data)                             # one write: the server gets all three lines in one read
        c.done_sending()
        lines = c.read_lines(3, REPLY_SECONDS)
        if not lines:
            raise _no_reply(ctx, server, "three lines in one write", repr(data), c.eof)
        if len(lines) < 3 and not c.eof:
            raise ctx.hang(f"echoserver replied to {len(lines)} of 3 lines sent in one write, then went quiet "
                           f"for {REPLY_SECONDS:g} s", [server],
                           hint="One read() can return several lines: reply to every complete line in the buffer.")
        lines += c.read_lines(10, 0.2) if len(lines) >= 3 else []
    finally:
        c.close()
    expected = ["FIRST LINE", "SECOND LINE", "THIRD LINE"]
    ok, table = compare_lines(expected, [line.upper() for line in lines])   # framing here; case is echo-correct's
    if not ok:
        ok, table = compare_lines(expected, lines)
        raise Fail("lines sent in one write were not all echoed", expected="\n".join(expected),
                   observed="\n".join(lines), evidence=[("the harness sent (one write)", repr(data)),
                                                        ("reply lines", table)],
                   hint="One read() can return several lines at once. Reply to every complete line in what you "
                        "read, and keep the rest (an incomplete line) for the next read.")


# ---------------------------------------------------------------- many clients, file descriptors

def _clients_in_a_row(ctx) -> sockets.ClientsInARow:
    path = fresh_path(ctx)
    return sockets.serve_in_a_row(
        start_server(ctx, path), path, CLIENTS_IN_A_ROW, reply_seconds=REPLY_SECONDS, settle_seconds=SETTLE_SECONDS,
        no_reply=lambda server, what, sent, eof: _no_reply(ctx, server, what, sent, eof),
        hint="After a client closes, close that connection and go back to accept() for the next one; only SIGTERM "
             "or SIGINT ends the server.", hint_exit="Only SIGTERM or SIGINT ends the server.")


def clients_in_a_row(ctx) -> sockets.ClientsInARow:
    return ctx.memo("clients", lambda: _clients_in_a_row(ctx))


@check("twenty-clients", depends=["server-listening"])
def twenty_clients(ctx):
    """Twenty clients in a row are served, one after another, by the same server"""
    s = clients_in_a_row(ctx)
    if s.failure:
        raise s.failure


@check("no-leaked-fds", depends=["twenty-clients"])
def no_leaked_fds(ctx):
    """After twenty clients have closed, the server holds no socket but its listening one (/proc/PID/fd)"""
    s = clients_in_a_row(ctx)
    extra = [fd for fd in s.fds if not getattr(s.table.get(socket_inode(fd)), "listening", False)]
    expect(len(s.fds) <= 1 and not extra, f"after {CLIENTS_IN_A_ROW} clients had closed, echoserver still holds "
           f"{len(extra)} connection socket(s)", expected="only the listening socket (besides 0, 1 and 2)",
           observed=f"{len(s.fds)} sockets open", evidence=[(f"/proc/{s.server.pid}/fd after the clients", s.fd_text)],
           hint="accept() returns a new file descriptor for every client. close() it when the client "
                "is done (read() returned 0), or the server runs out of descriptors after ~1000 clients.")


# ---------------------------------------------------------------- idle means blocked

@check("idle-blocks", depends=["server-listening"])
def idle_blocks(ctx):
    """While idle, the server sleeps in accept() or read() instead of spinning"""
    # Two servers at once, each on its own PATH, measured over the same window: one with no client (it
    # waits in accept()), one whose client sent a line, got its reply and went silent (it waits in read()).
    idle_path, silent_path = fresh_path(ctx), fresh_path(ctx)
    server = start_server(ctx, idle_path)
    talker = start_server(ctx, silent_path)
    c = connect(talker, silent_path)
    try:
        c.send(b"ping\n")
        if not c.read_lines(1, REPLY_SECONDS):
            raise _no_reply(ctx, talker, "a client sent a line", "'ping\\n'", c.eof)
        for run in (server, talker):
            sockets.wait_asleep(run.pid, IDLE_SECONDS, waits.Effort(run.pid))
        waiting, reading = waits.measure_together([server.pid, talker.pid], MEASURE_SECONDS)
    finally:
        c.close()
    waits.require_blocked(waiting, "with no client, echoserver keeps running instead of sleeping in accept()",
                          expected="~0 CPU and no wakeups while no client connects",
                          measured="echoserver with no client", evidence=[("its open files", fd_table(server.pid))],
                          hint="Leave the listening socket blocking (no O_NONBLOCK, no settimeout/setblocking(False)) "
                               "and call accept(): the kernel puts the server to sleep until a client connects. A "
                               "loop that retries on EAGAIN burns a whole CPU core.")
    waits.require_blocked(reading, "while a connected client sends nothing, echoserver keeps running instead of "
                          "sleeping in read()", expected="~0 CPU and no wakeups while the client is silent",
                          measured="echoserver with a silent client",
                          evidence=[("with no client (for comparison)", waiting.describe())],
                          hint="Use a blocking read()/recv() on the connection: it sleeps until data or EOF arrives.")


# ---------------------------------------------------------------- signals, stale files

def signal_exit(ctx, signum: int) -> None:
    """Send SIGTERM/SIGINT to an idle server: expect `bye`, exit 0, and no socket file left."""
    path = fresh_path(ctx)
    server = start_server(ctx, path)
    signals.wait_until_asleep(server.pid, IDLE_SECONDS, effort=waits.Effort(server.pid))      # in accept(): its handlers are in place
    sockets.expect_clean_shutdown(ctx, server, path, signum, EXIT_SECONDS)


@check("sigterm-cleanup", depends=["server-listening"])
def sigterm_cleanup(ctx):
    """On SIGTERM the server prints `bye`, exits 0 and removes its socket file"""
    signal_exit(ctx, signal.SIGTERM)


@check("stale-socket", depends=["server-listening"])
def stale_socket(ctx):
    """A stale socket file left at PATH by an earlier run is removed before bind, and the server starts"""
    path = fresh_path(ctx)
    sockets.make_stale_socket(path, ctx.identity.uid)
    before = describe_path(path)
    server = ctx.start("echoserver", [path], trace=SERVER_TRACE)
    started = server.wait_for_output("listening\n", START_SECONDS)
    if not started:
        if server.wait(sockets.EXIT_GRACE) is None:
            raise ctx.hang(f"echoserver did not print `listening` within {START_SECONDS:g} s when a stale "
                           "socket file was at PATH", [server])
        binds = [c for c in server.trace.calls("bind") if path in c.raw]
        raise Fail(f"with a stale socket file at PATH, echoserver {ended(server)}",
                   expected="the stale file removed, then bind and listen succeed",
                   observed=(binds[-1].raw if binds else server.describe_exit()),
                   evidence=[("at PATH before the server started", before),
                             ("echoserver's socket calls", sockets.setup_calls(server)),
                             stderr_tail(server)],
                   hint="bind() fails with EADDRINUSE while a file exists at PATH, even if no server uses it "
                        "(one killed without cleanup leaves it). unlink(PATH) before bind() and ignore ENOENT "
                        "(Python: os.unlink in try/except FileNotFoundError).")
    signals.wait_until_asleep(server.pid, IDLE_SECONDS, effort=waits.Effort(server.pid))      # asleep in accept(): listen() is done
    table = unix_sockets()
    if not sockets.listening_at(path, [server.pid], table):
        raise Fail("echoserver printed `listening`, but it does not hold a socket listening at PATH",
                   expected=f"echoserver's own listening socket bound to {path}",
                   observed="\n".join(s.describe() for s in table.values() if s.path == path) or "nothing bound to PATH",
                   evidence=[("at PATH before the server started", before),
                             ("echoserver's open files", fd_table(server.pid, table))],
                   hint="Remove the stale file, then bind() and listen() on your own socket.")


# ---------------------------------------------------------------- the client without a server

@check("client-no-server")
def client_no_server(ctx):
    """echoclient with nothing listening at PATH prints an error on stderr and exits 1, without crashing"""
    missing = fresh_path(ctx)
    stale = fresh_path(ctx)
    sockets.make_stale_socket(stale, ctx.identity.uid)
    for what, path in (("no file at PATH", missing), ("a socket file at PATH that nobody listens on", stale)):
        client = ctx.start("echoclient", [path, "hello"])
        rc = ctx.finish(client, CLIENT_SECONDS, what=f"echoclient {path} hello ({what})")
        connects = client.trace.calls("connect")
        evidence = [("at PATH", describe_path(path)),
                    ("echoclient's connect calls", client.trace.excerpt(connects, 4) or "(none traced)"),
                    stderr_tail(client)]
        expect(rc >= 0, f"with {what}, echoclient crashed: {client.describe_exit()}",
               expected="a message on stderr and exit status 1", observed=client.describe_exit(), evidence=evidence,
               hint="connect() returns -1 when no server listens. Check its result, print the reason "
                    "(perror or strerror(errno)) to stderr and exit 1, before reading any reply.")
        if TRACEBACK in client.stderr:
            raise Fail(f"with {what}, echoclient crashed with an uncaught Python exception",
                       expected="a short message on stderr and exit status 1",
                       observed=client.stderr.strip().splitlines()[-1][:300], evidence=evidence,
                       hint="Put connect() in try/except OSError, print a message to sys.stderr and return 1.")
        expect(rc == 1, f"with {what}, echoclient {ended(client)}", expected="exit status 1",
               observed=client.describe_exit(), evidence=evidence,
               hint="When nothing listens at PATH, exit with status 1.")
        expect(bool(client.stderr.strip()), f"with {what}, echoclient exited 1 without saying why",
               expected="an error message on stderr", observed="nothing on stderr", evidence=evidence,
               hint="Tell the user what went wrong, e.g. perror(\"connect\"), on stderr.")
