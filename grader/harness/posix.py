"""POSIX shared-memory objects and named semaphores, seen from outside: the files in /dev/shm.

`shm_open("/x")` is the file /dev/shm/x and `sem_open("/x")` the file
/dev/shm/sem.x, so their names, modes, sizes and leaks are plain file facts.
The harness can also make a buffer itself (with posix_ipc, as root, then hand
it to the student uid) to test a consumer alone.
"""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass

SHM_DIR = "/dev/shm"
SEM_PREFIX = "sem."


@dataclass(frozen=True)
class PosixObject:
    kind: str        # "shm" or "sem"
    name: str        # as the program names it: "/x" or "/x-mutex"
    mode: int
    size: int
    uid: int

    @property
    def path(self) -> str:
        return path_of(self.kind, self.name)

    def describe(self) -> str:
        what = "shared memory" if self.kind == "shm" else "semaphore"
        return f"{what} {self.name} ({self.path}): mode {self.mode:04o}, {self.size} bytes, owner uid {self.uid}"


def path_of(kind: str, name: str) -> str:
    base = name.lstrip("/")
    return os.path.join(SHM_DIR, SEM_PREFIX + base if kind == "sem" else base)


def objects(only: list[str] | None = None) -> list[PosixObject]:
    """Every POSIX shm object and named semaphore now in /dev/shm (or those named in `only`)."""
    out = []
    try:
        entries = sorted(os.listdir(SHM_DIR))
    except OSError:
        return []
    for entry in entries:
        try:
            st = os.lstat(os.path.join(SHM_DIR, entry))
        except OSError:
            continue
        if not stat.S_ISREG(st.st_mode):
            continue
        kind, base = ("sem", entry[len(SEM_PREFIX):]) if entry.startswith(SEM_PREFIX) else ("shm", entry)
        if only is None or "/" + base in only:
            out.append(PosixObject(kind, "/" + base, stat.S_IMODE(st.st_mode), st.st_size, st.st_uid))
    return out


def table(objs: list[PosixObject]) -> str:
    return "\n".join(o.describe() for o in objs) or f"({SHM_DIR} holds no POSIX IPC object)"


def remove(uid: int | None, names: list[str] = ()) -> None:
    """Remove what a check left behind: every object the student uid owns (in a container, where
    /dev/shm is private), or, without a second uid (the local runner, which shares the host's
    /dev/shm), only the objects named."""
    wanted = {n for n in names}
    for o in objects():
        if (uid is not None and o.uid == uid) or o.name in wanted:
            try:
                os.unlink(o.path)
            except OSError:
                pass


def make_buffer(name: str, slots: int, size: int, uid: int | None, suffixes=("empty", "full", "mutex")) -> None:
    """Create shared memory /NAME (`size` zero bytes) and the semaphores /NAME-empty (slots),
    /NAME-full (0) and /NAME-mutex (1), mode 0600, owned by `uid`: a buffer as a producer
    leaves it before putting anything."""
    import posix_ipc
    shm = posix_ipc.SharedMemory("/" + name, posix_ipc.O_CREX, mode=0o600, size=size)
    shm.close_fd()
    for suffix, value in zip(suffixes, (slots, 0, 1)):
        posix_ipc.Semaphore(f"/{name}-{suffix}", posix_ipc.O_CREX, mode=0o600, initial_value=value).close()
    if uid is not None and os.geteuid() == 0:
        for path in [path_of("shm", "/" + name)] + [path_of("sem", f"/{name}-{s}") for s in suffixes]:
            os.chown(path, uid, uid)


def act(shm: str, size: int, ints: dict[int, int], take: list[str], give: list[str], wait: float = 0.0) -> None:
    """Play one side of a protocol once: take each semaphore in `take` (without waiting: the caller
    knows they are free; a replay, which cannot know, waits up to `wait` seconds), write native
    int32 values at the given offsets of shared memory `shm`, then post each semaphore in `give`."""
    import mmap
    import struct

    import posix_ipc
    for name in take:
        sem = posix_ipc.Semaphore(name)
        sem.acquire(wait)
        sem.close()
    with open(path_of("shm", shm), "r+b") as f, mmap.mmap(f.fileno(), size) as ring:
        for offset, value in ints.items():
            struct.pack_into("=i", ring, offset, value)
    for name in give:
        sem = posix_ipc.Semaphore(name)
        sem.release()
        sem.close()


def read_ints(shm: str, offsets: list[int]) -> list[int] | None:
    """The native int32 values at `offsets` of shared memory `shm` now (None if it is gone)."""
    import struct
    try:
        with open(path_of("shm", shm), "rb") as f:
            data = f.read(max(offsets) + 4)
    except OSError:
        return None
    return [struct.unpack_from("=i", data, o)[0] if len(data) >= o + 4 else None for o in offsets]


def semaphore_value(name: str) -> int | None:
    """The semaphore's value now (sem_getvalue), or None if it does not exist."""
    import posix_ipc
    try:
        sem = posix_ipc.Semaphore(name)
    except posix_ipc.ExistentialError:
        return None
    try:
        return sem.value
    finally:
        sem.close()
