"""Visible checks for uds-echo.

The student's server is judged with the harness's own client (a Python socket
that sends exactly the bytes a check needs: a line split over several writes,
several lines in one write) and by kernel state: /proc/net/unix says which
socket listens where, /proc/PID/fd which sockets the server holds, and the
shared blocking helper whether it sleeps while idle. Mix-and-match runs the
reference client against the student's server and the reverse, so a wrong echo
is blamed on the side that has the bug.
"""
from __future__ import annotations

import fcntl
import itertools
import os
import signal
import socket
import stat
import struct
import termios
import time
from dataclasses import dataclass, field

from grader.harness import blocking, procfs
from grader.harness.api import Fail, check, compare_lines
from grader.harness.spawn import Run

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
TRACEBACK = "Traceback (most recent call last)"

_paths = itertools.count(1)


# ---------------------------------------------------------------- paths and sockets

def fresh_path(ctx) -> str:
    """A socket path in the student's folder that nothing occupies yet."""
    while True:
        path = os.path.join(ctx.workdir, f"echo-{next(_paths)}.sock")
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            return path
        if not stat.S_ISDIR(st.st_mode):
            try:
                os.unlink(path)          # unlink never follows a link the student planted
                return path
            except OSError:
                pass


def describe_path(path: str) -> str:
    """What is at PATH, without following links (like ls -l)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return f"{path}: no such file"
    kind = ("a socket" if stat.S_ISSOCK(st.st_mode) else "a symbolic link" if stat.S_ISLNK(st.st_mode)
            else "a directory" if stat.S_ISDIR(st.st_mode) else "a regular file" if stat.S_ISREG(st.st_mode)
            else "a special file")
    return f"{stat.filemode(st.st_mode)} uid {st.st_uid} {path} ({kind})"


def make_stale_socket(ctx, path: str) -> None:
    """Leave a socket file at PATH that nobody listens on, owned by the student, as a crashed server would."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
    try:
        s.bind(path)
    finally:
        s.close()
    if ctx.identity.uid is not None and os.geteuid() == 0:
        os.lchown(path, ctx.identity.uid, ctx.identity.uid)


@dataclass
class UnixSocket:
    """One row of /proc/net/unix."""
    inode: int
    flags: int
    type: int
    state: int
    path: str

    @property
    def listening(self) -> bool:
        return bool(self.flags & 0x10000)          # __SO_ACCEPTCON

    def describe(self) -> str:
        kind = {1: "stream", 2: "datagram", 5: "seqpacket"}.get(self.type, f"type {self.type}")
        if self.listening:
            return f"{kind} socket listening at {self.path or '(no path)'}"
        if self.state == 3:
            return f"connected {kind} socket (a client connection)"
        return f"{kind} socket, not connected{' bound to ' + self.path if self.path else ''}"


def unix_sockets() -> dict[int, UnixSocket]:
    """inode -> socket, from /proc/net/unix (this container's network namespace)."""
    out = {}
    try:
        with open("/proc/net/unix") as f:
            rows = f.read().splitlines()[1:]
    except OSError:
        return out
    for row in rows:
        cols = row.split()
        if len(cols) < 7:
            continue
        try:
            s = UnixSocket(inode=int(cols[6]), flags=int(cols[3], 16), type=int(cols[4], 16),
                           state=int(cols[5], 16), path=cols[7] if len(cols) > 7 else "")
        except ValueError:
            continue
        out[s.inode] = s
    return out


def socket_fds(pid: int) -> list[procfs.FdInfo]:
    return [fd for fd in procfs.read_fds(pid) if fd.target.startswith("socket:[")]


def _inode(fd: procfs.FdInfo) -> int:
    return int(fd.target[len("socket:["):-1])


def fd_table(pid: int, table: dict[int, UnixSocket] | None = None) -> str:
    """The process's open files, each socket explained."""
    table = unix_sockets() if table is None else table
    lines = []
    for fd in procfs.read_fds(pid):
        what = fd.target
        if fd.target.startswith("socket:["):
            sock = table.get(_inode(fd))
            what += f"  {sock.describe()}" if sock else "  (not a Unix socket)"
        lines.append(f"fd {fd.fd:>3} -> {what}")
    return "\n".join(lines) or "(no open files)"


class HarnessClient:
    """The harness's own client: sends exactly the bytes a check needs, reads reply lines."""

    def __init__(self, path: str, timeout: float = REPLY_SECONDS):
        st = os.lstat(path)                         # FileNotFoundError: nothing there
        if not stat.S_ISSOCK(st.st_mode):           # never connect through a planted link
            raise ConnectionRefusedError(f"{path} is not a socket ({describe_path(path)})")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        self.sock.settimeout(timeout)
        try:
            self.sock.connect(path)
        except OSError:
            self.sock.close()
            raise
        self.buf = b""
        self.eof = False

    def send(self, data: bytes) -> None:
        """A server that has hung up or exited (EPIPE, ECONNRESET) shows as end of file, which the
        checks diagnose; whether the send itself notices depends on timing, so it never raises."""
        try:
            self.sock.sendall(data)
        except OSError:
            self.eof = True

    def unread(self) -> int:
        """Bytes sent that the server has not read yet (SIOCOUTQ)."""
        return struct.unpack("i", fcntl.ioctl(self.sock.fileno(), termios.TIOCOUTQ, b"\0" * 4))[0]

    def wait_consumed(self, timeout: float) -> bool:
        """True once the server has read everything sent so far: the next write is a separate read for it."""
        deadline = time.monotonic() + timeout
        while self.unread() > 0:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.005)
        return True

    def done_sending(self) -> None:
        self.sock.shutdown(socket.SHUT_WR)

    def read_lines(self, count: int, timeout: float) -> list[str]:
        """Up to `count` reply lines; fewer on EOF or timeout (self.eof tells which)."""
        deadline = time.monotonic() + timeout
        lines: list[str] = []
        while len(lines) < count:
            if b"\n" in self.buf:
                line, self.buf = self.buf.split(b"\n", 1)
                lines.append(line.decode(errors="replace"))
                continue
            left = deadline - time.monotonic()
            if self.eof or left <= 0:
                break
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                break
            except OSError:
                data = b""
            if not data:
                self.eof = True
            self.buf += data
        return lines

    def rest(self) -> str:
        """Whatever partial line is left (for evidence)."""
        return self.buf.decode(errors="replace")

    def close(self) -> None:
        self.sock.close()


# ---------------------------------------------------------------- processes

def wait_idle(pid: int | None, timeout: float = IDLE_SECONDS) -> bool:
    """True once the process sleeps in the kernel (state S in several samples in a row)."""
    if pid is None:
        return False
    deadline = time.monotonic() + timeout
    streak = 0
    while time.monotonic() < deadline:
        st = procfs.read_stat(pid)
        if st is None or st.state == "Z":
            return False
        streak = streak + 1 if st.state == "S" else 0
        if streak >= 3:
            return True
        time.sleep(0.02)
    return False


def _socket_calls(run: Run) -> str:
    names = ("socket", "unlink", "unlinkat", "bind", "listen")
    calls = [c for c in run.trace.calls() if c.name in names]
    return run.trace.excerpt(calls, 12) or "(none traced)"


def start_server(ctx, path: str, impl: str = "student") -> Run:
    """Start `echoserver PATH` and wait for its `listening` line; Fail (or, for the reference, error) if it never comes."""
    server = ctx.start("echoserver", [path], impl=impl, trace=SERVER_TRACE)
    deadline = time.monotonic() + START_SECONDS
    while True:
        line = server.read_line(max(0.0, deadline - time.monotonic()))
        if line is None:
            break
        if line.strip() == "listening":
            return server
    if impl == "reference":
        raise RuntimeError(f"the reference echoserver did not start: {server.describe_exit()}, "
                           f"stdout {server.stdout[-300:]!r}, stderr {server.stderr[-500:]!r}")
    if server.wait(0.2) is None:
        fail = ctx.hang(f"echoserver {path} did not print `listening` within {START_SECONDS:g} s", [server])
        flushed = bool(server.stdout) or server.wrote_stdout()     # the trace is complete once it was killed
        fail.expected = "a line `listening` on stdout once the socket listens"
        fail.observed = repr(server.stdout[-300:]) if server.stdout else "nothing on stdout"
        fail.hint = ("echoserver never wrote anything to stdout: `listening` is still in its output buffer. "
                     "stdout is a pipe when the grader runs you, so printf output is buffered until you call "
                     "fflush(stdout) (Python: print('listening', flush=True)).") if not flushed else (
                     "Print exactly `listening` on a line of its own once listen() has succeeded.")
        raise fail
    raise Fail(f"echoserver {path} {ended(server)} without printing `listening`",
               expected="`listening` on stdout, then the server keeps running",
               observed=server.describe_exit(),
               evidence=[("echoserver's stderr", server.stderr[-2000:] or "(empty)"),
                         ("echoserver's stdout", server.stdout[-1000:] or "(empty)"),
                         ("its socket calls", _socket_calls(server))],
               hint="Check every socket call (socket, bind, listen) and print the reason with perror() when one fails.")


def connect(server: Run, path: str, who: str = "the harness's client") -> HarnessClient:
    """A client connected to PATH, or a Fail about the server: when it has gone (or never kept its
    socket), connecting fails, and that is the student's bug, not the harness's."""
    try:
        return HarnessClient(path)
    except OSError as e:
        raise Fail(f"{who} could not connect to {path}: {e.strerror or e}; {server_gone(server)}",
                   expected="the server keeps listening on PATH until SIGTERM or SIGINT",
                   observed=describe_path(path),
                   evidence=[("echoserver's stdout", server.stdout[-500:] or "(empty)"),
                             ("echoserver's stderr", server.stderr[-1500:] or "(empty)")],
                   hint="Keep the listening socket open and go back to accept() after each client; only "
                        "SIGTERM or SIGINT ends the server.") from None


def ended(run: Run) -> str:
    """'exited with status 1' or 'was killed by SIGPIPE', to follow the program's name."""
    text = run.describe_exit()
    return f"was {text}" if text.startswith("killed") else text


def server_gone(server: Run) -> str:
    """How the server is doing, for a failure message. It gets a moment to finish exiting: a server
    that has just removed its socket file is usually on its way out, and saying "still running"
    or "exited" must not depend on which instant the grader looked."""
    if server.wait(1.0) is None:
        return "the server is still running"
    return f"the server {ended(server)}"


# ---------------------------------------------------------------- the server starts

@check("server-listening")
def server_listening(ctx):
    """echoserver PATH listens on an AF_UNIX stream socket bound to PATH and prints `listening`"""
    path = fresh_path(ctx)
    server = start_server(ctx, path)
    table = unix_sockets()
    at_path = [s for s in table.values() if s.path == path]
    evidence = [("what is at PATH", describe_path(path)), ("echoserver's open files", fd_table(server.pid, table)),
                ("its socket calls", _socket_calls(server))]
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        raise Fail("echoserver printed `listening`, but there is no socket file at PATH",
                   expected=f"a socket file at {path}", observed="no such file", evidence=evidence,
                   hint="bind() the socket to exactly the path given as the first argument.")
    if not stat.S_ISSOCK(st.st_mode):
        raise Fail("PATH is not a socket file", expected="a socket file (bind creates it)",
                   observed=describe_path(path), evidence=evidence,
                   hint="bind() an AF_UNIX socket to PATH; do not create the file yourself.")
    listening = [s for s in at_path if s.listening]
    if not listening:
        raise Fail("no socket listens at PATH", expected=f"a listening socket bound to {path}",
                   observed="\n".join(s.describe() for s in at_path) or "no socket bound to PATH",
                   evidence=evidence, hint="Call listen() on the socket after bind(), before printing `listening`.")
    sock = listening[0]
    if sock.type != 1:
        raise Fail("the socket at PATH is not a stream socket", expected="SOCK_STREAM",
                   observed=sock.describe(), evidence=evidence,
                   hint="Create it with socket(AF_UNIX, SOCK_STREAM, 0) (Python: socket.SOCK_STREAM).")
    held = {_inode(fd) for pid in server.tree() for fd in socket_fds(pid)}
    if sock.inode not in held:
        raise Fail("the socket listening at PATH does not belong to echoserver",
                   expected="echoserver holds the listening socket", observed=sock.describe(), evidence=evidence,
                   hint="echoserver itself must create, bind and listen on the socket, and keep it open.")


# ---------------------------------------------------------------- echo, and mix-and-match

def _echo(ctx, server_impl: str, client_impl: str, blame: str | None) -> None:
    path = fresh_path(ctx)
    server = start_server(ctx, path, server_impl)
    client = ctx.start("echoclient", [path, *TEXTS], impl=client_impl)
    setting = {"server": "the reference client against your echoserver",
               "client": "your echoclient against the reference server",
               None: "your echoclient against your echoserver"}[blame]
    hint_blame = {"server": "The reference client is known to be right, so the problem is in your echoserver.",
                  "client": "The reference server is known to be right, so the problem is in your echoclient.",
                  None: ("The two mix-and-match checks (reference client with your server, your client with the "
                         "reference server) tell which of your programs is wrong.")}[blame]
    try:
        rc = ctx.finish(client, CLIENT_SECONDS, what=f"echoclient {path} {' '.join(TEXTS)}", others=[server])
    except Fail as hang:
        hang.message = f"{setting}: {hang.message}"
        hang.hint = ("The client sends one line and waits for the reply line. Check that the server sends "
                     "each reply with its newline, and that the client stops reading once it has one line. "
                     + hint_blame)
        raise
    expected = [t.upper() for t in TEXTS]
    ok, table = compare_lines(expected, client.lines())
    command = f"echoclient {path} " + " ".join(f"'{t}'" for t in TEXTS)
    if not ok:
        raise Fail(f"{setting}: the replies printed are wrong", expected="\n".join(expected),
                   observed=client.stdout[-1000:] or "(nothing on stdout)",
                   evidence=[(f"stdout of {command}, line by line", table),
                             ("echoclient's stderr", client.stderr[-1500:] or "(empty)")],
                   hint="Every TEXT is sent as one line; the server sends it back uppercased and the client prints "
                        "each reply line. " + hint_blame)
    if rc != 0:
        raise Fail(f"{setting}: echoclient {ended(client)}", expected="exit status 0",
                   observed=client.describe_exit(), evidence=[("echoclient's stderr", client.stderr[-1500:] or "(empty)")],
                   hint="echoclient exits 0 after printing every reply. " + hint_blame)


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

def _no_reply(ctx, server: Run, what: str, sent: str, eof: bool) -> Fail:
    """The harness's client got no reply line: say whether the server hung, hung up, or exited."""
    hint = ("Serve each client until it closes (read() returns 0), replying to every complete line; "
            "then close that connection and accept() the next client. Only SIGTERM or SIGINT ends the server.")
    if eof and server.wait(1.0) is None:
        return Fail(f"echoserver closed the connection without replying after {what}",
                    expected="one reply line per line sent", observed="end of file on the connection",
                    evidence=[("the harness sent", sent)], hint=hint)
    if server.alive():
        fail = ctx.hang(f"no reply from echoserver within {REPLY_SECONDS:g} s after {what}", [server], hint=hint)
        fail.evidence.insert(0, ("the harness sent", sent))
        return fail
    return Fail(f"echoserver {ended(server)} after {what}, without replying",
                expected="the server replies and keeps running", observed=server.describe_exit(),
                evidence=[("the harness sent", sent), ("echoserver's stdout", server.stdout[-500:] or "(empty)"),
                          ("echoserver's stderr", server.stderr[-1500:] or "(empty)")], hint=hint)


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

@dataclass
class Clients:
    """What twenty clients in a row showed."""
    path: str
    server: Run
    served: int = 0
    failure: Fail | None = None
    idle: bool = False
    fds: list[procfs.FdInfo] = field(default_factory=list)
    table: dict[int, UnixSocket] = field(default_factory=dict)
    fd_text: str = ""


def _clients_in_a_row(ctx) -> Clients:
    path = fresh_path(ctx)
    s = Clients(path=path, server=start_server(ctx, path))
    for i in range(1, CLIENTS_IN_A_ROW + 1):
        text = f"client {i} of {CLIENTS_IN_A_ROW}"
        try:
            c = HarnessClient(path)
        except OSError as e:
            s.failure = Fail(f"client {i} of {CLIENTS_IN_A_ROW} could not connect: {e.strerror or e}; "
                             f"{server_gone(s.server)}", expected=f"{CLIENTS_IN_A_ROW} clients served one after another",
                             observed=f"{s.served} client(s) served", evidence=[
                                 ("what is at PATH", describe_path(path)),
                                 ("echoserver's stdout", s.server.stdout[-500:] or "(empty)"),
                                 ("echoserver's stderr", s.server.stderr[-1500:] or "(empty)")],
                             hint="After a client closes, close that connection and go back to accept() for the "
                                  "next one; only SIGTERM or SIGINT ends the server.")
            return s
        try:
            c.send(text.encode() + b"\n")
            lines = c.read_lines(1, REPLY_SECONDS)
        finally:
            c.close()
        if not lines:
            s.failure = _no_reply(ctx, s.server, f"client {i} of {CLIENTS_IN_A_ROW} sent a line", repr(text + "\n"), c.eof)
            s.failure.message = f"{s.failure.message} ({s.served} client(s) served before)"
            return s
        s.served = i
    # Every client has closed. Done as soon as only one socket is left; otherwise, once the server
    # sleeps again it has finished with the last client, and whatever it still holds is leaked.
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        s.fds = socket_fds(s.server.pid)
        if len(s.fds) <= 1 or time.monotonic() > deadline:
            break
        s.idle = wait_idle(s.server.pid, 0.25)       # short: a busy server never sleeps, yet may close it
        if s.idle:
            s.fds = socket_fds(s.server.pid)
            break
    s.table = unix_sockets()
    s.fd_text = fd_table(s.server.pid, s.table)
    if not s.server.alive():
        s.failure = Fail(f"after {CLIENTS_IN_A_ROW} clients, {server_gone(s.server)}",
                         evidence=[("echoserver's stderr", s.server.stderr[-1500:] or "(empty)")],
                         hint="Only SIGTERM or SIGINT ends the server.")
    return s


def clients_in_a_row(ctx) -> Clients:
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
    extra = [fd for fd in s.fds if not (s.table.get(_inode(fd)) and s.table[_inode(fd)].listening)]
    if len(s.fds) > 1 or extra:
        raise Fail(f"after {CLIENTS_IN_A_ROW} clients had closed, echoserver still holds {len(extra)} "
                   f"connection socket(s)", expected="only the listening socket (besides 0, 1 and 2)",
                   observed=f"{len(s.fds)} sockets open", evidence=[
                       (f"/proc/{s.server.pid}/fd after the clients", s.fd_text)],
                   hint="accept() returns a new file descriptor for every client. close() it when the client "
                        "is done (read() returned 0), or the server runs out of descriptors after ~1000 clients.")


# ---------------------------------------------------------------- idle means blocked

@check("idle-blocks", depends=["server-listening"])
def idle_blocks(ctx):
    """While idle, the server sleeps in accept() or read() instead of spinning"""
    path = fresh_path(ctx)
    server = start_server(ctx, path)
    wait_idle(server.pid, IDLE_SECONDS)
    waiting = blocking.measure(server.pid, MEASURE_SECONDS)
    if not waiting.blocked:
        raise Fail("with no client, echoserver keeps running instead of sleeping in accept()",
                   expected="~0 CPU and no wakeups while no client connects",
                   observed=f"CPU ratio {waiting.cpu_ratio:.2f}, {waiting.wakeups_per_second:.0f} wakeups/s",
                   evidence=[("echoserver with no client", waiting.describe()),
                             ("its open files", fd_table(server.pid))],
                   hint="Leave the listening socket blocking (no O_NONBLOCK, no settimeout/setblocking(False)) and "
                        "call accept(): the kernel puts the server to sleep until a client connects. A loop that "
                        "retries on EAGAIN burns a whole CPU core.")
    c = connect(server, path)
    try:
        c.send(b"ping\n")
        if not c.read_lines(1, REPLY_SECONDS):
            raise _no_reply(ctx, server, "a client sent a line", "'ping\\n'", c.eof)
        wait_idle(server.pid, IDLE_SECONDS)
        reading = blocking.measure(server.pid, MEASURE_SECONDS)
    finally:
        c.close()
    if not reading.blocked:
        raise Fail("while a connected client sends nothing, echoserver keeps running instead of sleeping in read()",
                   expected="~0 CPU and no wakeups while the client is silent",
                   observed=f"CPU ratio {reading.cpu_ratio:.2f}, {reading.wakeups_per_second:.0f} wakeups/s",
                   evidence=[("echoserver with a silent client", reading.describe()),
                             ("with no client (for comparison)", waiting.describe())],
                   hint="Use a blocking read()/recv() on the connection: it sleeps until data or EOF arrives.")


# ---------------------------------------------------------------- signals, stale files

def signal_exit(ctx, signum: int) -> None:
    """Send SIGTERM/SIGINT to an idle server: expect `bye`, exit 0, and no socket file left."""
    name = signal.Signals(signum).name
    path = fresh_path(ctx)
    server = start_server(ctx, path)
    wait_idle(server.pid, IDLE_SECONDS)
    server.signal(signum)
    rc = server.wait(EXIT_SECONDS)
    if rc is None:
        raise ctx.hang(f"echoserver did not exit within {EXIT_SECONDS:g} s of {name}", [server],
                       hint=f"Install a handler for {name} with sigaction() without SA_RESTART, so the blocked "
                            "accept() returns -1 with errno EINTR; then leave the loop and clean up. "
                            "(Python: let the handler raise an exception that ends the loop.)")
    after = [line.strip() for line in server.lines()]
    trace_unlinks = [c for c in server.trace.calls() if c.name in ("unlink", "unlinkat") and path in c.raw]
    evidence = [("echoserver's stdout", server.stdout[-500:] or "(empty)"),
                ("echoserver's stderr", server.stderr[-1500:] or "(empty)"),
                ("what is at PATH afterwards", describe_path(path)),
                ("signals and unlink calls of echoserver",
                 server.trace.excerpt(sorted(server.trace.signals() + trace_unlinks, key=lambda e: e.time), 10) or "(none traced)")]
    if rc < 0:
        raise Fail(f"echoserver was {server.describe_exit()}: it has no handler for {name}",
                   expected=f"on {name}: close the socket, unlink PATH, print `bye`, exit 0",
                   observed=server.describe_exit(), evidence=evidence,
                   hint=f"Catch {name} (sigaction; Python: signal.signal) and clean up before exiting.")
    if rc != 0:
        uncaught = TRACEBACK in server.stderr
        raise Fail(f"echoserver {ended(server)} after {name}"
                   + (" with an uncaught Python exception" if uncaught else ""),
                   expected="exit status 0", observed=server.describe_exit(), evidence=evidence,
                   hint=(f"Install your own handler for {name} with signal.signal(); "
                         + ("without one, SIGINT raises KeyboardInterrupt wherever the program is. "
                            if signum == signal.SIGINT else "")
                         + "Let it end the accept loop, then clean up and exit 0.") if uncaught else
                        "A shutdown on request is a normal end: clean up and exit 0.")
    shown = after[after.index("listening") + 1:] if "listening" in after else after
    if "bye" not in shown:
        raise Fail(f"echoserver did not print `bye` on {name}", expected="a line `bye` after `listening`",
                   observed=server.stdout[-300:] or "(nothing on stdout)", evidence=evidence,
                   hint="Print `bye` (and flush) after closing the socket and removing PATH.")
    try:
        os.lstat(path)
    except FileNotFoundError:
        return
    raise Fail(f"the socket file is still there after echoserver exited on {name}",
               expected=f"{path} removed", observed=describe_path(path), evidence=evidence,
               hint="Closing the socket does not remove its file: call unlink(PATH) (Python: os.unlink(path)) "
                    "before exiting, or the next server start finds a stale file.")


@check("sigterm-cleanup", depends=["server-listening"])
def sigterm_cleanup(ctx):
    """On SIGTERM the server prints `bye`, exits 0 and removes its socket file"""
    signal_exit(ctx, signal.SIGTERM)


@check("stale-socket", depends=["server-listening"])
def stale_socket(ctx):
    """A stale socket file left at PATH by an earlier run is removed before bind, and the server starts"""
    path = fresh_path(ctx)
    make_stale_socket(ctx, path)
    before = describe_path(path)
    server = ctx.start("echoserver", [path], trace=SERVER_TRACE)
    started = server.wait_for_output("listening\n", START_SECONDS)
    if not started:
        if server.wait(0.2) is None:
            raise ctx.hang(f"echoserver did not print `listening` within {START_SECONDS:g} s when a stale "
                           "socket file was at PATH", [server])
        binds = [c for c in server.trace.calls("bind") if path in c.raw]
        raise Fail(f"with a stale socket file at PATH, echoserver {ended(server)}",
                   expected="the stale file removed, then bind and listen succeed",
                   observed=(binds[-1].raw if binds else server.describe_exit()),
                   evidence=[("at PATH before the server started", before),
                             ("echoserver's socket calls", _socket_calls(server)),
                             ("echoserver's stderr", server.stderr[-1500:] or "(empty)")],
                   hint="bind() fails with EADDRINUSE while a file exists at PATH, even if no server uses it "
                        "(one killed without cleanup leaves it). unlink(PATH) before bind() and ignore ENOENT "
                        "(Python: os.unlink in try/except FileNotFoundError).")
    wait_idle(server.pid, IDLE_SECONDS)
    table = unix_sockets()
    held = {_inode(fd) for fd in socket_fds(server.pid)}
    mine = [s for s in table.values() if s.path == path and s.listening and s.inode in held]
    if not mine:
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
    make_stale_socket(ctx, stale)
    for what, path in (("no file at PATH", missing), ("a socket file at PATH that nobody listens on", stale)):
        client = ctx.start("echoclient", [path, "hello"])
        rc = ctx.finish(client, CLIENT_SECONDS, what=f"echoclient {path} hello ({what})")
        connects = client.trace.calls("connect")
        evidence = [("at PATH", describe_path(path)),
                    ("echoclient's connect calls", client.trace.excerpt(connects, 4) or "(none traced)"),
                    ("echoclient's stderr", client.stderr[-1500:] or "(empty)")]
        if rc < 0:
            raise Fail(f"with {what}, echoclient crashed: {client.describe_exit()}",
                       expected="a message on stderr and exit status 1", observed=client.describe_exit(),
                       evidence=evidence,
                       hint="connect() returns -1 when no server listens. Check its result, print the reason "
                            "(perror or strerror(errno)) to stderr and exit 1, before reading any reply.")
        if TRACEBACK in client.stderr:
            raise Fail(f"with {what}, echoclient crashed with an uncaught Python exception",
                       expected="a short message on stderr and exit status 1",
                       observed=client.stderr.strip().splitlines()[-1][:300], evidence=evidence,
                       hint="Put connect() in try/except OSError, print a message to sys.stderr and return 1.")
        if rc != 1:
            raise Fail(f"with {what}, echoclient {ended(client)}", expected="exit status 1",
                       observed=client.describe_exit(), evidence=evidence,
                       hint="When nothing listens at PATH, exit with status 1.")
        if not client.stderr.strip():
            raise Fail(f"with {what}, echoclient exited 1 without saying why", expected="an error message on stderr",
                       observed="nothing on stderr", evidence=evidence,
                       hint="Tell the user what went wrong, e.g. perror(\"connect\"), on stderr.")
