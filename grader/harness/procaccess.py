"""Ptrace-mode /proc reads (wchan, syscall, fd, fdinfo) with or without CAP_SYS_PTRACE.

The kernel lets a process read another's /proc/PID/{wchan,syscall,fd,fdinfo}
only with ptrace access: the same uid (and a dumpable target), or
CAP_SYS_PTRACE. In our grading container the root harness holds that
capability. On a platform that runs us under Docker's default capability set
(Gradescope, PrairieLearn) it does not, and the kernel then answers root with
EACCES, or, for wchan, with a silent "0" that would read as "not waiting".

There the read is made by an *agent*: a small process started by the harness
under the target's uid, which has ptrace access by being that uid. It answers
one request per datagram on a socketpair and hands back opened fds with
SCM_RIGHTS. It makes itself non-dumpable, so student code of the same uid can
neither ptrace it nor find it among the student's processes (its /proc entry
becomes root's); it can still kill it, and the next request starts a new one.

What no agent can read: a process that is non-dumpable and not ours (the
execute-only reference in a mix-and-match run). Such a read raises Unreadable,
which a check reports as an error verdict saying why, never as a pass or fail.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading

CAP_SYS_PTRACE = 19


class Unreadable(Exception):
    """A /proc entry the grader needs but cannot read on this platform (capability missing)."""


def has_capability(cap: int, status_text: str | None = None) -> bool:
    """Whether this process holds `cap` in its effective set (from CapEff in /proc/self/status)."""
    if status_text is None:
        try:
            with open("/proc/self/status") as f:
                status_text = f.read()
        except OSError:
            return False
    for line in status_text.splitlines():
        if line.startswith("CapEff:"):
            return bool(int(line.split()[1], 16) >> cap & 1)
    return False


def needs_agent() -> bool:
    """Root without CAP_SYS_PTRACE: reads of other uids' entries must go through an agent."""
    return os.geteuid() == 0 and not has_capability(CAP_SYS_PTRACE)


NEEDS_AGENT = needs_agent()

# The agent's whole program, run with `python3 -I -c` under the target uid: the harness's own
# files may be readable by root only, so it imports nothing from them.
AGENT_SOURCE = r'''
import ctypes, json, os, socket
ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)   # PR_SET_DUMPABLE 0: no ptrace, /proc entry owned by root
import sys
sock = socket.socket(fileno=int(sys.argv[1]))
while True:
    try:
        data = sock.recv(4096)
    except OSError:
        break
    if not data:
        break
    req = json.loads(data)
    path, fds = req["path"], []
    if not path.startswith("/proc/"):
        sock.send(json.dumps({"errno": 1}).encode())
        continue
    try:
        if req["op"] == "read":
            with open(path) as f:
                answer = {"value": f.read()}
        elif req["op"] == "readlink":
            answer = {"value": os.readlink(path)}
        elif req["op"] == "listdir":
            answer = {"value": os.listdir(path)}
        else:
            fds = [os.open(path, req["flags"])]
            answer = {"value": None}
    except OSError as e:
        answer = {"errno": e.errno or 5}
    except ValueError:
        answer = {"errno": 22}
    try:
        socket.send_fds(sock, [json.dumps(answer).encode()], fds)
    except OSError:
        break
    for fd in fds:
        os.close(fd)
'''


class Agent:
    """One agent process for one uid, restarted on demand if something killed it."""

    def __init__(self, uid: int):
        self.uid = uid
        self.lock = threading.Lock()
        self.proc: subprocess.Popen | None = None
        self.sock: socket.socket | None = None

    def _start(self) -> None:
        from . import limits
        self.close()
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-I", "-c", AGENT_SOURCE, str(theirs.fileno())], cwd="/",
                env={"LANG": "C.UTF-8"}, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, pass_fds=(theirs.fileno(),), start_new_session=True,
                **limits.as_user(self.uid))
        finally:
            theirs.close()
        mine.settimeout(5.0)
        self.sock = mine

    def request(self, op: str, path: str, flags: int = 0):
        with self.lock:
            for attempt in (1, 2):
                if self.sock is None or self.proc is None or self.proc.poll() is not None:
                    self._start()
                try:
                    self.sock.send(json.dumps({"op": op, "path": path, "flags": flags}).encode())
                    data, fds, _flags, _addr = socket.recv_fds(self.sock, 1 << 20, 1)
                    if not data:
                        raise ConnectionError("the agent closed its socket")
                    answer = json.loads(data)
                    break
                except (OSError, ValueError) as e:
                    self.close()
                    if attempt == 2:
                        raise Unreadable(
                            f"cannot read {path}: this platform gives the grader no CAP_SYS_PTRACE, and the "
                            f"helper that reads /proc as uid {self.uid} did not answer ({e})") from None
        if "errno" in answer:
            raise OSError(answer["errno"], os.strerror(answer["errno"]), path)
        return fds[0] if op == "open" else answer["value"]

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait()
            self.proc = None


_agents: dict[int, Agent] = {}
_agents_lock = threading.Lock()


def _owner(path: str) -> tuple[int, int] | None:
    """(pid, uid that owns its /proc entry) for a /proc/PID/... path, else None."""
    parts = path.split("/")
    if len(parts) < 3 or parts[1] != "proc" or not parts[2].isdigit():
        return None
    pid = int(parts[2])
    st = os.stat(f"/proc/{pid}")   # FileNotFoundError for a process that has gone, as a direct read
    return pid, st.st_uid


def _real_uid(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("Uid:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _route(path: str) -> Agent | None:
    """The agent that must make this read, or None when the harness can make it itself."""
    if not NEEDS_AGENT:
        return None
    owner = _owner(path)
    if owner is None:
        return None
    pid, uid = owner
    if uid == os.geteuid():
        real = _real_uid(pid)
        if real is None or real == os.geteuid():
            return None   # our own process
        # A non-dumpable process of another uid (its /proc entry is root's): no uid has access.
        raise Unreadable(f"cannot read {path}: process {pid} is not dumpable (an execute-only program, such as "
                         "the reference solution) and this platform gives the grader no CAP_SYS_PTRACE")
    with _agents_lock:
        agent = _agents.get(uid)
        if agent is None:
            agent = _agents[uid] = Agent(uid)
    return agent


def read_text(path: str) -> str:
    agent = _route(path)
    if agent is None:
        with open(path) as f:
            return f.read()
    return agent.request("read", path)


def readlink(path: str) -> str:
    agent = _route(path)
    return os.readlink(path) if agent is None else agent.request("readlink", path)


def listdir(path: str) -> list[str]:
    agent = _route(path)
    return os.listdir(path) if agent is None else agent.request("listdir", path)


def open_fd(path: str, flags: int) -> int:
    """os.open() of /proc/PID/fd/N; the fd is ours either way."""
    agent = _route(path)
    return os.open(path, flags) if agent is None else agent.request("open", path, flags | os.O_CLOEXEC)


def agent_pids() -> set[int]:
    """The running agents: cleanup that kills every process of the student uid must spare them."""
    with _agents_lock:
        return {a.proc.pid for a in _agents.values() if a.proc is not None}


def shutdown() -> None:
    """Stop every agent (end of the harness run)."""
    with _agents_lock:
        for agent in _agents.values():
            agent.close()
        _agents.clear()

