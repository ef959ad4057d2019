"""consumer NAME: takes values from the producer's bounded buffer until it takes a 0, then prints
how many non-zero values it took and their sum."""
import mmap
import struct
import sys

import posix_ipc

SLOTS = 8
SIZE = 8 + 4 * SLOTS


def main(argv):
    if len(argv) != 2:
        print("usage: consumer NAME", file=sys.stderr)
        return 2
    name = argv[1]
    sems = []
    try:
        shm = posix_ipc.SharedMemory("/" + name)
        for s in ("empty", "full", "mutex"):
            sems.append(posix_ipc.Semaphore(f"/{name}-{s}"))
    except posix_ipc.ExistentialError as e:
        print(f"consumer: {e}", file=sys.stderr)
        for sem in sems:
            sem.close()
        return 1
    ring = mmap.mmap(shm.fd, SIZE)
    shm.close_fd()
    empty, full, mutex = sems
    count = total = 0
    while True:
        full.acquire()
        mutex.acquire()
        o, = struct.unpack_from("=i", ring, 4)
        v, = struct.unpack_from("=i", ring, 8 + 4 * o)
        struct.pack_into("=i", ring, 4, (o + 1) % SLOTS)
        mutex.release()
        empty.release()
        if v == 0:
            break
        count += 1
        total += v
    print(f"count={count} sum={total}", flush=True)
    ring.close()
    for sem in sems:
        sem.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
