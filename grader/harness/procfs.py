"""Read kernel state from /proc: SysV IPC tables and per-process status, CPU time, wchan, fds.

Parsers take text so they are unit-testable; `read_*` helpers do the I/O and
return None for a process that has already gone (a normal race, not an error).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

from . import procaccess

PROC = "/proc"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


# ---------------------------------------------------------------- /proc/sysvipc

@dataclass
class IpcObject:
    """One row of /proc/sysvipc/{shm,msg,sem}; key is decimal there, perms octal."""
    kind: str                  # "shm", "msg" or "sem"
    key: int
    id: int
    perms: int                 # full mode, e.g. 0o1600 for a segment marked for removal
    uid: int
    cpid: int | None = None    # creator pid (shm only)
    size: int | None = None    # shm: bytes; msg: cbytes; sem: nsems
    nattch: int | None = None  # shm only
    qnum: int | None = None    # msg only
    raw: str = ""

    @property
    def mode(self) -> int:
        return self.perms & 0o777

    @property
    def marked_for_removal(self) -> bool:
        """A segment removed with IPC_RMID but still attached shows SHM_DEST (01000)."""
        return bool(self.perms & 0o1000)

    def describe(self) -> str:
        kind = {"shm": "shared-memory segment", "msg": "message queue", "sem": "semaphore set"}[self.kind]
        key = "IPC_PRIVATE" if self.key == 0 else f"0x{self.key & 0xffffffff:08x}"
        extra = []
        if self.kind == "shm":
            extra.append(f"size {self.size} bytes, attached by {self.nattch} process(es)")
            if self.cpid:
                extra.append(f"created by pid {self.cpid}")
        if self.kind == "msg":
            extra.append(f"{self.qnum} message(s) in it")
        return f"{kind} id {self.id} (key {key}, mode {self.mode:04o}{', ' + ', '.join(extra) if extra else ''})"


_SYSVIPC_COLUMNS = {
    "shm": ("key", "shmid", "perms", "size", "cpid", "lpid", "nattch", "uid"),
    "msg": ("key", "msqid", "perms", "cbytes", "qnum", "lspid", "lrpid", "uid"),
    "sem": ("key", "semid", "perms", "nsems", "uid"),
}


def parse_sysvipc(kind: str, text: str) -> list[IpcObject]:
    rows = []
    lines = text.splitlines()
    if not lines:
        return rows
    header = lines[0].split()
    for line in lines[1:]:
        cols = line.split()
        if len(cols) < len(header):
            continue
        v = dict(zip(header, cols))
        obj = IpcObject(kind=kind, key=int(v["key"]), id=int(v.get("shmid") or v.get("msqid") or v.get("semid")),
                        perms=int(v["perms"], 8), uid=int(v["uid"]), raw=line.strip())
        if kind == "shm":
            obj.size, obj.cpid, obj.nattch = int(v["size"]), int(v["cpid"]), int(v["nattch"])
        elif kind == "msg":
            obj.size, obj.qnum = int(v["cbytes"]), int(v["qnum"])
        else:
            obj.size = int(v["nsems"])
        rows.append(obj)
    return rows


def read_sysvipc(kinds: tuple[str, ...] = ("shm", "msg", "sem")) -> list[IpcObject]:
    out = []
    for kind in kinds:
        try:
            with open(f"{PROC}/sysvipc/{kind}") as f:
                out.extend(parse_sysvipc(kind, f.read()))
        except OSError:
            pass
    return out


def sysvipc_table(objects: list[IpcObject]) -> str:
    """A readable snapshot for feedback."""
    if not objects:
        return "(no SysV IPC objects)"
    return "\n".join(o.describe() for o in objects)


# ---------------------------------------------------------------- /proc/PID

STATE_NAMES = {"R": "running", "S": "sleeping", "D": "in uninterruptible wait", "Z": "zombie (exited, not reaped)",
               "T": "stopped", "t": "stopped by the tracer", "X": "dead", "I": "idle"}


@dataclass
class ProcStat:
    pid: int
    comm: str
    state: str
    ppid: int
    utime: int                 # clock ticks
    stime: int
    starttime: int

    @property
    def cpu_seconds(self) -> float:
        return (self.utime + self.stime) / CLOCK_TICKS


def parse_stat(text: str) -> ProcStat:
    # comm may hold spaces and parentheses: split at the last ')'.
    lpar, rpar = text.index("("), text.rindex(")")
    pid = int(text[:lpar].strip())
    comm = text[lpar + 1:rpar]
    rest = text[rpar + 2:].split()
    # rest[0] is field 3 (state); field N is rest[N - 3].
    return ProcStat(pid=pid, comm=comm, state=rest[0], ppid=int(rest[1]),
                    utime=int(rest[11]), stime=int(rest[12]), starttime=int(rest[19]))


def parse_status(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        out[key.strip()] = value.strip()
    return out


def signal_mask(hex_mask: str) -> set[int]:
    """Decode SigCgt/SigIgn/SigBlk: signal N is bit N-1."""
    value = int(hex_mask, 16)
    return {n + 1 for n in range(64) if value >> n & 1}


def _read(path: str) -> str | None:
    try:
        with open(path) as f:
            return f.read()
    except (OSError, ValueError):
        return None


def read_stat(pid: int) -> ProcStat | None:
    text = _read(f"{PROC}/{pid}/stat")
    try:
        return parse_stat(text) if text else None
    except (ValueError, IndexError):
        return None


def read_status(pid: int) -> dict[str, str] | None:
    text = _read(f"{PROC}/{pid}/status")
    return parse_status(text) if text else None


def _read_protected(path: str) -> str | None:
    """Like _read, for entries that need ptrace access (see procaccess); Unreadable propagates."""
    try:
        return procaccess.read_text(path)
    except (OSError, ValueError):
        return None


def read_posix_timers(pid: int) -> str:
    """/proc/PID/timers: the POSIX timers (timer_create) of a process, '' if none or unreadable."""
    return (_read_protected(f"{PROC}/{pid}/timers") or "").strip()


def read_wchan(pid: int) -> str:
    text = _read_protected(f"{PROC}/{pid}/wchan")
    return text.strip() if text and text.strip() not in ("0", "") else ""


SYSCALL_NAMES_X86_64 = {0: "read", 1: "write", 7: "poll", 23: "select", 34: "pause", 35: "nanosleep", 43: "accept",
                        61: "wait4", 67: "shmdt", 69: "msgsnd", 70: "msgrcv", 130: "rt_sigsuspend", 202: "futex",
                        230: "clock_nanosleep", 232: "epoll_wait", 270: "pselect6", 271: "ppoll", 288: "accept4",
                        45: "recvfrom", 47: "recvmsg", 44: "sendto", 46: "sendmsg", 42: "connect", 247: "waitid",
                        65: "semop", 220: "semtimedop", 243: "mq_timedreceive", 242: "mq_timedsend",
                        59: "execve", 322: "execveat", 128: "rt_sigtimedwait", 281: "epoll_pwait",
                        441: "epoll_pwait2", 299: "recvmmsg", 449: "futex_waitv"}


def read_current_syscall(pid: int) -> str:
    """The syscall a process is sleeping in, from /proc/PID/syscall ('running' if none)."""
    text = _read_protected(f"{PROC}/{pid}/syscall")
    if not text:
        return ""
    first = text.split()[0]
    if first == "running":
        return "running (not in a system call)"
    if first.lstrip("-").isdigit():
        nr = int(first)
        if nr < 0:
            return "(not in a system call)"
        return SYSCALL_NAMES_X86_64.get(nr, f"syscall {nr}")
    return first


def read_syscall_args(pid: int) -> tuple[str, list[int]] | None:
    """(name, the six arguments) of the system call a process sleeps in, from /proc/PID/syscall;
    None when it runs in user space, is gone, or the entry is unreadable."""
    text = _read_protected(f"{PROC}/{pid}/syscall")
    parts = text.split() if text else []
    if len(parts) < 7 or not parts[0].isdigit():
        return None
    try:
        args = [int(a, 16) for a in parts[1:7]]
    except ValueError:
        return None
    nr = int(parts[0])
    return SYSCALL_NAMES_X86_64.get(nr, f"syscall {nr}"), args


def read_syscall_and_fd(pid: int) -> tuple[int | None, int | None]:
    """The syscall number a sleeping process is in and its first argument (often an fd),
    from /proc/PID/syscall; (None, None) when it is running or gone."""
    text = _read_protected(f"{PROC}/{pid}/syscall")
    parts = text.split() if text else []
    if len(parts) < 2 or not parts[0].lstrip("-").isdigit():
        return None, None
    try:
        return int(parts[0]), int(parts[1], 16)
    except ValueError:
        return int(parts[0]), None


@dataclass
class FdInfo:
    fd: int
    target: str                # e.g. "pipe:[1234]", "socket:[99]", "/dev/null"
    flags: int | None = None   # from fdinfo: O_ACCMODE tells read or write end of a pipe

    @property
    def pipe_inode(self) -> int | None:
        if self.target.startswith("pipe:["):
            return int(self.target[6:-1])
        return None

    @property
    def access(self) -> str:
        if self.flags is None:
            return "?"
        return {0: "read", 1: "write", 2: "read/write"}.get(self.flags & 3, "?")


def read_fds(pid: int) -> list[FdInfo]:
    out = []
    try:
        names = procaccess.listdir(f"{PROC}/{pid}/fd")
    except OSError:
        return out
    for name in sorted(names, key=lambda n: int(n) if n.isdigit() else 0):
        try:
            target = procaccess.readlink(f"{PROC}/{pid}/fd/{name}")
        except OSError:
            continue
        flags = None
        info = _read_protected(f"{PROC}/{pid}/fdinfo/{name}")
        if info:
            for line in info.splitlines():
                if line.startswith("flags:"):
                    flags = int(line.split()[1], 8)
        out.append(FdInfo(int(name), target, flags))
    return out


def read_cmdline(pid: int) -> list[str]:
    """The process's argv ([] once it has gone, or for a zombie); bytes that are not UTF-8 (a
    student's argv may hold anything) are replaced rather than losing the whole command line."""
    try:
        with open(f"{PROC}/{pid}/cmdline", "rb") as f:
            raw = f.read()
    except OSError:
        return []
    return [a.decode(errors="replace") for a in raw.split(b"\0") if a]


def read_uid(pid: int) -> int | None:
    try:
        return os.stat(f"{PROC}/{pid}").st_uid
    except OSError:
        return None


def all_pids() -> list[int]:
    return sorted(int(n) for n in os.listdir(PROC) if n.isdigit())


def pids_of_uid(uid: int) -> list[int]:
    return [p for p in all_pids() if read_uid(p) == uid]


@dataclass
class ProcessSnapshot:
    """Everything feedback needs about one process at one moment."""
    pid: int
    ppid: int
    comm: str
    cmdline: list[str]
    state: str
    wchan: str
    syscall: str
    cpu_seconds: float
    fds: list[FdInfo] = field(default_factory=list)

    @property
    def state_name(self) -> str:
        return STATE_NAMES.get(self.state, self.state)


def snapshot(pid: int) -> ProcessSnapshot | None:
    st = read_stat(pid)
    if st is None:
        return None
    try:
        wchan, syscall, fds = read_wchan(pid), read_current_syscall(pid) if st.state != "Z" else "", read_fds(pid)
    except procaccess.Unreadable:   # evidence only: say so rather than give up the diagnosis
        wchan, syscall, fds = "(not readable on this platform)", "", []
    return ProcessSnapshot(pid=pid, ppid=st.ppid, comm=st.comm, cmdline=read_cmdline(pid), state=st.state,
                           wchan=wchan, syscall=syscall, cpu_seconds=st.cpu_seconds, fds=fds)


def oom_kills() -> int:
    """How many processes the out-of-memory killer has killed in this container (cgroup v1 or v2)."""
    for path in ("/sys/fs/cgroup/memory/memory.oom_control", "/sys/fs/cgroup/memory.events"):
        text = _read(path)
        if text:
            for line in text.splitlines():
                if line.startswith("oom_kill "):
                    return int(line.split()[1])
    return 0
