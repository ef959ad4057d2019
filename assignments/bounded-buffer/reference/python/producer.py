"""producer NAME N CONSUMERS: puts 1..N and then CONSUMERS zeros into a bounded buffer of 8 slots
in POSIX shared memory, guarded by three named semaphores (empty, full, mutex)."""
import mmap
import re
import signal
import struct
import sys

import posix_ipc

SLOTS = 8
SIZE = 8 + 4 * SLOTS            # int32 in, int32 out, int32 slot[8]
USAGE = ("usage: producer NAME N CONSUMERS (NAME: 1-32 of [A-Za-z0-9_-], 0 <= N <= 1000000, "
         "1 <= CONSUMERS <= 8)")


class Stop(Exception):
    """SIGINT or SIGTERM arrived."""


def on_signal(signum, frame):
    raise Stop()


def number(text, lo, hi):
    if not re.fullmatch(r"[0-9]{1,9}", text) or not lo <= int(text) <= hi:
        raise ValueError(text)
    return int(text)


class Objects:
    """The shared memory and the three semaphores this producer created (and only those)."""

    def __init__(self, name):
        self.shm_name = "/" + name
        self.sem_names = [f"/{name}-{s}" for s in ("empty", "full", "mutex")]
        self.shm = None
        self.sems = []
        self.map = None

    def create(self):
        what = self.shm_name
        try:
            self.shm = posix_ipc.SharedMemory(self.shm_name, posix_ipc.O_CREX, mode=0o600, size=SIZE)
            for what, initial in zip(self.sem_names, (SLOTS, 0, 1)):
                self.sems.append(posix_ipc.Semaphore(what, posix_ipc.O_CREX, mode=0o600, initial_value=initial))
        except posix_ipc.ExistentialError as e:
            self.remove()
            raise SystemExit(f"producer: cannot create {what}: {e}")
        self.map = mmap.mmap(self.shm.fd, SIZE)
        self.shm.close_fd()

    def remove(self):
        if self.map is not None:
            self.map.close()
        if self.shm is not None:
            self.shm.unlink()
        for sem in self.sems:
            sem.unlink()
            sem.close()


def main(argv):
    try:
        if len(argv) != 4 or not re.fullmatch(r"[A-Za-z0-9_-]{1,32}", argv[1]):
            raise ValueError(argv)
        name, n, consumers = argv[1], number(argv[2], 0, 1000000), number(argv[3], 1, 8)
    except ValueError:
        print(USAGE, file=sys.stderr)
        return 2
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    objects = Objects(name)
    try:
        objects.create()
        empty, full, mutex = objects.sems
        ring = objects.map
        struct.pack_into("=ii", ring, 0, 0, 0)
        print("ready", flush=True)
        for v in list(range(1, n + 1)) + [0] * consumers:
            empty.acquire()
            mutex.acquire()
            i, = struct.unpack_from("=i", ring, 0)
            struct.pack_into("=i", ring, 8 + 4 * i, v)
            struct.pack_into("=i", ring, 0, (i + 1) % SLOTS)
            mutex.release()
            full.release()
        for _ in range(SLOTS):          # every slot free again: the consumers took everything
            empty.acquire()
    except (Stop, posix_ipc.SignalError):
        objects.remove()
        return 1
    objects.remove()
    print("done", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
