"""Unix domain sockets, seen from the harness: socket files, who listens, who holds what, a client.

A socket assignment is judged from outside the student's programs:

- socket files: a fresh path, what is at a path (without following links), a
  stale socket file as a crashed server leaves it;
- the kernel's view: /proc/net/unix says which socket listens where, and
  /proc/PID/fd which sockets a process holds; `peers()` asks the kernel
  (sock_diag) which socket is connected to which, what each has queued unread
  and whether a side was shut down;
- a read-read deadlock (a client that never shut down its sending side, reading
  until end of file from a server that reads too) is proven from that state in
  well under a second, instead of being waited out (`wait_or_deadlock`);
- `HarnessClient`: the harness's own client, which sends exactly the bytes a
  check needs and reads reply lines; a peer that hung up (EPIPE, ECONNRESET)
  shows as end of file, never as an exception;
- a server's life: `start_server` (up to its `listening` line), `connect`,
  `no_reply`, `serve_in_a_row`, `expect_clean_shutdown` (on SIGTERM/SIGINT),
  each failure with its diagnosis.

`wait_asleep`, `ended` and `gone` are small process helpers that belong with
waits/evidence once those modules take them.
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
from collections.abc import Callable
from dataclasses import dataclass, field

from . import procfs, stillness, waits
from .api import Fail
from .evidence import stderr as stderr_tail
from .spawn import Run

# The socket-level sends (write is in the default set), so a client's trace shows what it sent whatever call it
# used (C's send() is sendto; Python's sendall is sendto too), whether it shut a side down, and whether it set
# a receive timeout (SO_RCVTIMEO: its read would end by itself, so it is no deadlock).
SOCKET_IO_TRACE = "sendto,sendmsg,shutdown,setsockopt"
TRACEBACK = "Traceback (most recent call last)"
# How long a program that has just died gets to be seen dead: on a loaded machine strace can take
# well over 0.2 s to report the exit, and "still running" must not depend on that.
EXIT_GRACE = 1.0
SOCKET_SETUP_CALLS = ("socket", "unlink", "unlinkat", "bind", "listen")

_paths = itertools.count(1)


# ---------------------------------------------------------------- socket files

def fresh_path(folder: str, stem: str = "echo") -> str:
    """A socket path in FOLDER (the student's) that nothing occupies yet."""
    while True:
        path = os.path.join(folder, f"{stem}-{next(_paths)}.sock")
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


def make_stale_socket(path: str, uid: int | None) -> None:
    """Leave a socket file at PATH that nobody listens on, owned by UID, as a crashed server would."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
    try:
        s.bind(path)
    finally:
        s.close()
    if uid is not None and os.geteuid() == 0:
        os.lchown(path, uid, uid)


# ---------------------------------------------------------------- the kernel's socket table

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


def socket_inode(fd: procfs.FdInfo) -> int:
    return int(fd.target[len("socket:["):-1])


def held_sockets(pids: list[int]) -> set[int]:
    """Inodes of the sockets these processes hold."""
    return {socket_inode(fd) for pid in pids for fd in socket_fds(pid)}


def fd_table(pid: int, table: dict[int, UnixSocket] | None = None) -> str:
    """The process's open files, each socket explained."""
    table = unix_sockets() if table is None else table
    lines = []
    for fd in procfs.read_fds(pid):
        what = fd.target
        if fd.target.startswith("socket:["):
            sock = table.get(socket_inode(fd))
            what += f"  {sock.describe()}" if sock else "  (not a Unix socket)"
        lines.append(f"fd {fd.fd:>3} -> {what}")
    return "\n".join(lines) or "(no open files)"


def listening_at(path: str, pids: list[int], table: dict[int, UnixSocket] | None = None) -> list[UnixSocket]:
    """The sockets listening at PATH that one of PIDS holds."""
    table = unix_sockets() if table is None else table
    held = held_sockets(pids)
    return [s for s in table.values() if s.path == path and s.listening and s.inode in held]


def not_listening(path: str, program: str, pids: list[int], table: dict[int, UnixSocket],
                  evidence: list[tuple[str, str]], ready: str = "listening") -> Fail | None:
    """Why no stream socket that PROGRAM (PIDS) holds listens at PATH, or None when one does."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return Fail(f"{program} printed `{ready}`, but there is no socket file at PATH",
                    expected=f"a socket file at {path}", observed="no such file", evidence=evidence,
                    hint="bind() the socket to exactly the path given as the first argument.")
    if not stat.S_ISSOCK(st.st_mode):
        return Fail("PATH is not a socket file", expected="a socket file (bind creates it)",
                    observed=describe_path(path), evidence=evidence,
                    hint="bind() an AF_UNIX socket to PATH; do not create the file yourself.")
    at_path = [s for s in table.values() if s.path == path]
    listening = [s for s in at_path if s.listening]
    if not listening:
        return Fail("no socket listens at PATH", expected=f"a listening socket bound to {path}",
                    observed="\n".join(s.describe() for s in at_path) or "no socket bound to PATH",
                    evidence=evidence, hint=f"Call listen() on the socket after bind(), before printing `{ready}`.")
    sock = listening[0]
    if sock.type != socket.SOCK_STREAM:
        return Fail("the socket at PATH is not a stream socket", expected="SOCK_STREAM",
                    observed=sock.describe(), evidence=evidence,
                    hint="Create it with socket(AF_UNIX, SOCK_STREAM, 0) (Python: socket.SOCK_STREAM).")
    if sock.inode not in held_sockets(pids):
        return Fail(f"the socket listening at PATH does not belong to {program}",
                    expected=f"{program} holds the listening socket", observed=sock.describe(), evidence=evidence,
                    hint=f"{program} itself must create, bind and listen on the socket, and keep it open.")
    return None


def wait_connections_closed(pid: int, timeout: float) -> tuple[list[procfs.FdInfo], bool]:
    """After every client has hung up: the sockets a server still holds, once it holds only one
    (its listening socket) or sleeps again (it has finished with the last client, so what it still
    holds is leaked); and whether it was seen asleep."""
    seen_asleep = False

    def settled() -> bool:
        nonlocal seen_asleep
        if len(socket_fds(pid)) <= 1:
            return True
        seen_asleep = wait_asleep(pid, 0.25)       # short: a busy server never sleeps, yet may close it
        return seen_asleep
    waits.until(settled, timeout, 0.0)
    return socket_fds(pid), seen_asleep


# ---------------------------------------------------------------- connections: who is whose peer

@dataclass
class Endpoint:
    """One connected Unix socket as sock_diag reports it."""
    inode: int
    peer: int | None           # the inode at the other end
    unread: int | None         # bytes queued for this socket that its owner has not read yet
    shutdown: int              # bit 0: no more receiving (SHUT_RD); bit 1: no more sending (SHUT_WR)

    @property
    def sending_shut(self) -> bool:
        return bool(self.shutdown & 2)


_NETLINK_SOCK_DIAG, _SOCK_DIAG_BY_FAMILY = 4, 20
_NLM_F_REQUEST, _NLM_F_DUMP, _NLMSG_DONE, _NLMSG_ERROR = 1, 0x300, 3, 2
_UDIAG_SHOW_PEER, _UDIAG_SHOW_RQLEN = 0x04, 0x10
_UNIX_DIAG_PEER, _UNIX_DIAG_RQLEN, _UNIX_DIAG_SHUTDOWN = 2, 4, 6


def peers() -> dict[int, Endpoint]:
    """inode -> Endpoint for every Unix socket in this network namespace, from the kernel's
    sock_diag interface (what `ss -x` reads): /proc/net/unix names no peers."""
    req = struct.pack("=BBxxIIIII", socket.AF_UNIX, 0, 0xffffffff, 0,
                      _UDIAG_SHOW_PEER | _UDIAG_SHOW_RQLEN, 0xffffffff, 0xffffffff)
    msg = struct.pack("=IHHII", 16 + len(req), _SOCK_DIAG_BY_FAMILY, _NLM_F_REQUEST | _NLM_F_DUMP, 1, 0) + req
    out: dict[int, Endpoint] = {}
    try:
        nl = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, _NETLINK_SOCK_DIAG)
    except OSError:
        return out
    with nl:
        nl.settimeout(2.0)
        try:
            nl.send(msg)
            while True:
                data = nl.recv(65536)
                pos = 0
                while pos + 16 <= len(data):
                    length, kind = struct.unpack_from("=IH", data, pos)
                    if kind in (_NLMSG_DONE, _NLMSG_ERROR) or length < 16:
                        return out
                    _parse_endpoint(data[pos + 16:pos + length], out)
                    pos += (length + 3) & ~3
                if not data:
                    return out
        except OSError:
            return out


def _parse_endpoint(body: bytes, out: dict[int, Endpoint]) -> None:
    if len(body) < 16:
        return
    inode = struct.unpack_from("=I", body, 4)[0]
    ep = Endpoint(inode=inode, peer=None, unread=None, shutdown=0)
    pos = 16
    while pos + 4 <= len(body):
        alen, atype = struct.unpack_from("=HH", body, pos)
        if alen < 4:
            break
        value = body[pos + 4:pos + alen]
        if atype == _UNIX_DIAG_PEER and len(value) >= 4:
            ep.peer = struct.unpack_from("=I", value)[0]
        elif atype == _UNIX_DIAG_RQLEN and len(value) >= 4:
            ep.unread = struct.unpack_from("=I", value)[0]
        elif atype == _UNIX_DIAG_SHUTDOWN and len(value) >= 1:
            ep.shutdown = value[0]
        pos += (alen + 3) & ~3
    out[inode] = ep


# ---------------------------------------------------------------- a read-read deadlock, proven

# Calls that read one fd (their first argument), by x86-64 number: read, readv, recvfrom, recvmsg.
_READ_CALLS = {0: "read", 19: "readv", 45: "recvfrom", 47: "recvmsg"}


@dataclass
class Reader:
    """A process asleep in a read of one end of a connected Unix socket."""
    pid: int
    label: str
    fd: int
    call: str
    end: Endpoint
    counters: stillness.Counters | None    # CPU time and context switches (None: unreadable)


@dataclass
class ReadDeadlock:
    """Two processes, each asleep reading its end of the same connection, nothing unread at either end
    and no one else holding an end: neither will ever send, so neither can ever wake (short of a signal)."""
    a: Reader
    b: Reader

    def describe(self) -> str:
        lines = [f"{me.label} (pid {me.pid}): asleep in {me.call}(fd {me.fd}) on socket {me.end.inode}, connected to "
                 f"socket {other.end.inode} of {other.label}; nothing unread for it ({me.end.unread} bytes); no CPU "
                 "used and no wakeups while watched" for me, other in ((self.a, self.b), (self.b, self.a))]
        if not self.a.end.sending_shut:
            lines.append(f"{self.a.label} has not shut down its sending side (no shutdown(SHUT_WR)), so "
                         f"{self.b.label}'s read never returns end of file")
        return "\n".join(lines)


def _readers(pids: list[int], label: str, ends: dict[int, Endpoint]) -> list[Reader]:
    out = []
    for pid in pids:
        st = procfs.read_stat(pid)
        nr, fd = procfs.read_syscall_and_fd(pid)
        if st is None or st.state != "S" or nr not in _READ_CALLS or fd is None:
            continue
        try:
            target = os.readlink(f"{procfs.PROC}/{pid}/fd/{fd}")
        except OSError:
            continue
        if not target.startswith("socket:["):
            continue
        end = ends.get(int(target[len("socket:["):-1]))
        if end is not None and end.peer:
            out.append(Reader(pid, label, fd, _READ_CALLS[nr], end, stillness.read_counters(pid)))
    return out


def _holders(inode: int) -> set[int]:
    return {pid for pid in procfs.all_pids() for fd in socket_fds(pid) if socket_inode(fd) == inode}


def read_deadlock(first: Run, second: Run) -> ReadDeadlock | None:
    """A deadlock between FIRST and SECOND (a client and its server, say) proven from kernel state alone:
    each asleep in a read of one end of one connection, with nothing unread at either end and no third
    process holding an end. Seen twice, 0.2 s apart, with no CPU used and no wakeup in between: a pair
    that still talks never looks like this, since one of them always has data to read or is running."""
    def look() -> ReadDeadlock | None:
        ends = peers()
        mine = _readers(first.tree(), first.label, ends)
        theirs = {r.end.inode: r for r in _readers(second.tree(), second.label, ends)}
        for a in mine:
            b = theirs.get(a.end.peer)
            if b is None or b.end.peer != a.end.inode or a.end.unread != 0 or b.end.unread != 0:
                continue
            if _holders(a.end.inode) == {a.pid} and _holders(b.end.inode) == {b.pid}:
                return ReadDeadlock(a, b)
        return None

    before = look()
    if before is None:
        return None
    if any("SO_RCVTIMEO" in c.raw for run in (first, second) for c in run.trace.calls("setsockopt")):
        return None                            # a read with a timeout ends by itself: no deadlock
    time.sleep(0.2)
    after = look()
    if after is None:
        return None
    same = all((x.pid, x.fd) == (y.pid, y.fd) and stillness.unchanged(x.counters, y.counters)
               for x, y in ((before.a, after.a), (before.b, after.b)))
    if not same or any(stillness.self_waker(x.pid) for x in (after.a, after.b)):
        return None                            # a timer or another thread may still end the read
    return after


def wait_or_deadlock(run: Run, other: Run, timeout: float) -> tuple[int | None, ReadDeadlock | None]:
    """Wait up to TIMEOUT for RUN to exit: (exit status, None); or stop early, with (None, the proof),
    as soon as RUN and OTHER are proven deadlocked reading from each other."""
    found = waits.until(lambda: run.poll() is not None or read_deadlock(run, other), timeout, 0.1,
                        pids=lambda: [*run.tree(), *other.tree()], nap=run.nap)
    if isinstance(found, ReadDeadlock):
        return None, found
    return run.wait(0.0), None


def deadlock_failure(ctx, proof: ReadDeadlock, runs: list[Run], what: str, hint: str) -> Fail:
    """The Fail for a proven read-read deadlock (ctx.hang's report included; every run is killed)."""
    a, b = proof.a.label, proof.b.label
    fail = ctx.hang(f"{what}: {a} and {b} are deadlocked: each is asleep reading from the other, waiting for "
                    "data the other will never send", runs, hint=hint)
    fail.expected = (f"{a} reads each reply after sending its line, or shuts down its sending side "
                     "(shutdown(SHUT_WR)) once it has sent everything, before reading until end of file")
    fail.observed = (f"both asleep in a read on the two ends of one connection, nothing in flight either way, "
                     f"{a} " + ("has shut down its sending side" if proof.a.end.sending_shut else
                                "never shut down its sending side"))
    fail.evidence.insert(0, ("the connection, from the kernel (sock_diag and /proc/PID/syscall)", proof.describe()))
    return fail


def deadlock_fix(blame: str | None, client: str, server: str) -> str:
    """How to undo a client/server read-read deadlock; BLAME says whose bug it is ("client",
    "server"; None when both programs are the student's)."""
    client_fix = (f"{client} never signalled the end of its input: it reads until end of file, but the server only "
                  "closes after reading end of file from it. After sending the last line, call shutdown(fd, SHUT_WR) "
                  "(Python: sock.shutdown(socket.SHUT_WR)); or read each reply line right after sending its line. ")
    server_fix = (f"{server} waits to read more before it replies: reply to every complete line as soon as you have "
                  "read it, without waiting for the next line or for end of file. ")
    return {"client": client_fix, "server": server_fix}.get(blame, f"Either {client_fix}Or {server_fix}")


# ---------------------------------------------------------------- the harness's own client

class HarnessClient:
    """The harness's own client: sends exactly the bytes a check needs, reads reply lines."""

    def __init__(self, path: str, timeout: float = 5.0):
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
        return waits.until(lambda: self.unread() <= 0, timeout, 0.005)

    def received(self) -> int:
        """Bytes the server sent that this client has not read yet (FIONREAD)."""
        return struct.unpack("i", fcntl.ioctl(self.sock.fileno(), termios.FIONREAD, b"\0" * 4))[0]

    def wait_received(self, timeout: float) -> bool:
        """True once a reply waits unread in this client's socket: closing now leaves it unread,
        so the server's next read() fails with ECONNRESET instead of returning 0."""
        return waits.until(lambda: self.received() > 0, timeout, 0.005)

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
            except TimeoutError:
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


# ---------------------------------------------------------------- processes (to fold into waits/evidence)

def wait_asleep(pid: int | None, timeout: float, effort: waits.Effort | None = None) -> bool:
    """True once the process sleeps in the kernel (state S in several samples in a row). With `effort`,
    False as soon as the process has done more than that allows (it spins: see waits.Effort)."""
    if pid is None:
        return False
    streak = 0

    def settled() -> bool | str:
        nonlocal streak
        st = procfs.read_stat(pid)
        if st is None or st.state == "Z":
            return "gone"
        if effort is not None and effort.spent():
            return "spinning"
        streak = streak + 1 if st.state == "S" else 0
        return streak >= 3
    return waits.until(settled, timeout, 0.02) is True


def ended(run: Run) -> str:
    """'exited with status 1' or 'was killed by SIGPIPE', to follow the program's name."""
    text = run.describe_exit()
    return f"was {text}" if text.startswith("killed") else text


def gone(run: Run) -> str:
    """How a server is doing, for a failure message. It gets a moment to finish exiting: a server
    that has just removed its socket file is usually on its way out, and saying "still running"
    or "exited" must not depend on which instant the grader looked."""
    if run.wait(EXIT_GRACE) is None:
        return "the server is still running"
    return f"the server {ended(run)}"


def stdout_tail(run: Run, limit: int = 500) -> tuple[str, str]:
    """("echoserver's stdout", its last LIMIT characters): what a server printed, as evidence."""
    return (f"{run.label}'s stdout", run.stdout[-limit:] or "(empty)")


def setup_calls(run: Run) -> str:
    """The run's socket set-up calls (socket, unlink, bind, listen) as evidence."""
    calls = [c for c in run.trace.calls() if c.name in SOCKET_SETUP_CALLS]
    return run.trace.excerpt(calls, 12) or "(none traced)"


# ---------------------------------------------------------------- a server, and clients of it

def start_server(ctx, program: str, path: str, *, impl: str = "student", trace: str, ready: str = "listening",
                 seconds: float = 10.0) -> Run:
    """Start `PROGRAM PATH` and wait for its READY line; Fail (or, for the reference, error) if it never comes."""
    server = ctx.start(program, [path], impl=impl, trace=trace)
    line, _, never = waits.read_until_or_hang(ctx, server, lambda text: text.strip() == ready, seconds)
    if line is not None:
        return server
    if impl == "reference":
        raise RuntimeError(f"the reference {program} did not start: {server.describe_exit()}, "
                           f"stdout {server.stdout[-300:]!r}, stderr {server.stderr[-500:]!r}")
    if server.wait(EXIT_GRACE) is None:
        fail = waits.add_proof(ctx.hang(f"{program} {path} will never print `{ready}`: every process is asleep in a "
                                        "wait that nothing left can end" if never else
                                        f"{program} {path} did not print `{ready}` within {seconds:g} s", [server]),
                               never)
        flushed = bool(server.stdout) or server.wrote_stdout()     # the trace is complete once it was killed
        fail.expected = f"a line `{ready}` on stdout once the socket listens"
        fail.observed = repr(server.stdout[-300:]) if server.stdout else "nothing on stdout"
        fail.hint = (f"{program} never wrote anything to stdout: `{ready}` is still in its output buffer. "
                     "stdout is a pipe when the grader runs you, so printf output is buffered until you call "
                     f"fflush(stdout) (Python: print('{ready}', flush=True)).") if not flushed else (
                     f"Print exactly `{ready}` on a line of its own once listen() has succeeded.")
        raise fail
    raise Fail(f"{program} {path} {ended(server)} without printing `{ready}`",
               expected=f"`{ready}` on stdout, then the server keeps running",
               observed=server.describe_exit(),
               evidence=[stderr_tail(server, tail=2000), stdout_tail(server, 1000),
                         ("its socket calls", setup_calls(server))],
               hint="Check every socket call (socket, bind, listen) and print the reason with perror() when one fails.")


def connect(server: Run, path: str, who: str = "the harness's client", *, hint: str,
            reply_seconds: float = 5.0) -> HarnessClient:
    """A client connected to PATH, or a Fail about the server: when it has gone (or never kept its
    socket), connecting fails, and that is the student's bug, not the harness's."""
    try:
        return HarnessClient(path, reply_seconds)
    except OSError as e:
        raise Fail(f"{who} could not connect to {path}: {e.strerror or e}; {gone(server)}",
                   expected="the server keeps listening on PATH until SIGTERM or SIGINT",
                   observed=describe_path(path),
                   evidence=[stdout_tail(server), stderr_tail(server)],
                   hint=hint) from None


def no_reply(ctx, server: Run, what: str, sent: str, eof: bool, *, hint: str, reply_seconds: float) -> Fail:
    """The harness's client got no reply line: say whether the server hung, hung up, or exited."""
    if eof and server.wait(EXIT_GRACE) is None:
        return Fail(f"{server.label} closed the connection without replying after {what}",
                    expected="one reply line per line sent", observed="end of file on the connection",
                    evidence=[("the harness sent", sent)], hint=hint)
    if server.alive():
        fail = ctx.hang(f"no reply from {server.label} within {reply_seconds:g} s after {what}", [server], hint=hint)
        fail.evidence.insert(0, ("the harness sent", sent))
        return fail
    return Fail(f"{server.label} {ended(server)} after {what}, without replying",
                expected="the server replies and keeps running", observed=server.describe_exit(),
                evidence=[("the harness sent", sent), stdout_tail(server), stderr_tail(server)],
                hint=hint)


@dataclass
class ClientsInARow:
    """What clients served one after another showed: how many were served, what the server held after."""
    path: str
    server: Run
    served: int = 0
    failure: Fail | None = None
    idle: bool = False
    fds: list[procfs.FdInfo] = field(default_factory=list)
    table: dict[int, UnixSocket] = field(default_factory=dict)
    fd_text: str = ""


def serve_in_a_row(server: Run, path: str, count: int, *, reply_seconds: float, settle_seconds: float,
                   no_reply: Callable[[Run, str, str, bool], Fail], hint: str, hint_exit: str) -> ClientsInARow:
    """COUNT clients, one after another, each sending one line and reading its reply; then the
    sockets the server still holds once it has finished with the last one."""
    s = ClientsInARow(path=path, server=server)
    for i in range(1, count + 1):
        text = f"client {i} of {count}"
        try:
            c = HarnessClient(path, reply_seconds)
        except OSError as e:
            s.failure = Fail(f"client {i} of {count} could not connect: {e.strerror or e}; {gone(server)}",
                             expected=f"{count} clients served one after another",
                             observed=f"{s.served} client(s) served",
                             evidence=[("what is at PATH", describe_path(path)), stdout_tail(server),
                                       stderr_tail(server)], hint=hint)
            return s
        try:
            c.send(text.encode() + b"\n")
            lines = c.read_lines(1, reply_seconds)
        finally:
            c.close()
        if not lines:
            s.failure = no_reply(server, f"client {i} of {count} sent a line", repr(text + "\n"), c.eof)
            s.failure.message = f"{s.failure.message} ({s.served} client(s) served before)"
            return s
        s.served = i
    s.fds, s.idle = wait_connections_closed(server.pid, settle_seconds)
    s.table = unix_sockets()
    s.fd_text = fd_table(server.pid, s.table)
    if not server.alive():
        s.failure = Fail(f"after {count} clients, {gone(server)}", evidence=[stderr_tail(server)], hint=hint_exit)
    return s


def expect_clean_shutdown(ctx, server: Run, path: str, signum: int, seconds: float, *, ready: str = "listening",
                          farewell: str = "bye") -> None:
    """Send SIGNUM to a server: expect it to print FAREWELL, exit 0 and leave no socket file at PATH;
    Fail with the evidence (its output, what is at PATH, its signals and unlink calls) otherwise."""
    name = signal.Signals(signum).name
    program = server.label
    server.signal(signum)
    rc = server.wait(seconds)
    if rc is None:
        raise ctx.hang(f"{program} did not exit within {seconds:g} s of {name}", [server],
                       hint=f"Install a handler for {name} with sigaction() without SA_RESTART, so the blocked "
                            "accept() returns -1 with errno EINTR; then leave the loop and clean up. "
                            "(Python: let the handler raise an exception that ends the loop.)")
    after = [line.strip() for line in server.lines()]
    trace_unlinks = [c for c in server.trace.calls() if c.name in ("unlink", "unlinkat") and path in c.raw]
    evidence = [stdout_tail(server), stderr_tail(server),
                ("what is at PATH afterwards", describe_path(path)),
                (f"signals and unlink calls of {program}",
                 server.trace.excerpt(sorted(server.trace.signals() + trace_unlinks, key=lambda e: e.time), 10)
                 or "(none traced)")]
    if rc < 0:
        raise Fail(f"{program} was {server.describe_exit()}: it has no handler for {name}",
                   expected=f"on {name}: close the socket, unlink PATH, print `{farewell}`, exit 0",
                   observed=server.describe_exit(), evidence=evidence,
                   hint=f"Catch {name} (sigaction; Python: signal.signal) and clean up before exiting.")
    if rc != 0:
        uncaught = TRACEBACK in server.stderr
        raise Fail(f"{program} {ended(server)} after {name}"
                   + (" with an uncaught Python exception" if uncaught else ""),
                   expected="exit status 0", observed=server.describe_exit(), evidence=evidence,
                   hint=(f"Install your own handler for {name} with signal.signal(); "
                         + ("without one, SIGINT raises KeyboardInterrupt wherever the program is. "
                            if signum == signal.SIGINT else "")
                         + "Let it end the accept loop, then clean up and exit 0.") if uncaught else
                        "A shutdown on request is a normal end: clean up and exit 0.")
    shown = after[after.index(ready) + 1:] if ready in after else after
    if farewell not in shown:
        raise Fail(f"{program} did not print `{farewell}` on {name}", expected=f"a line `{farewell}` after `{ready}`",
                   observed=server.stdout[-300:] or "(nothing on stdout)", evidence=evidence,
                   hint=f"Print `{farewell}` (and flush) after closing the socket and removing PATH.")
    try:
        os.lstat(path)
    except FileNotFoundError:
        return
    raise Fail(f"the socket file is still there after {program} exited on {name}",
               expected=f"{path} removed", observed=describe_path(path), evidence=evidence,
               hint="Closing the socket does not remove its file: call unlink(PATH) (Python: os.unlink(path)) "
                    "before exiting, or the next server start finds a stale file.")
