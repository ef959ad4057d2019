"""bounded-buffer: producer NAME N CONSUMERS. See README.md for the specification."""
import mmap
import signal
import struct
import sys

import posix_ipc

SLOTS = 8
SIZE = 40                      # int32 in, int32 out, int32 slot[8], native byte order
INT = struct.Struct("=i")      # INT.pack_into(buf, offset, v); INT.unpack_from(buf, offset)[0]


def main():
    if len(sys.argv) != 4:
        print("usage: producer NAME N CONSUMERS", file=sys.stderr)
        return 2
    # TODO: check NAME, N and CONSUMERS (exit 2 with a usage line)
    # TODO: handle SIGINT and SIGTERM (remove everything, exit 1)
    # TODO: posix_ipc.SharedMemory("/" + name, posix_ipc.O_CREX, mode=0o600, size=SIZE); mmap.mmap(shm.fd, SIZE)
    # TODO: posix_ipc.Semaphore("/NAME-empty", posix_ipc.O_CREX, mode=0o600, initial_value=8), -full (0), -mutex (1)
    # TODO: in = out = 0; print("ready", flush=True)
    # TODO: put 1..N then CONSUMERS zeros: empty.acquire(); mutex.acquire(); slot[in] = v; in = (in + 1) % 8;
    #       mutex.release(); full.release()
    # TODO: 8 x empty.acquire(); close the map; unlink the memory; unlink, then close, each semaphore; print done
    return 0


if __name__ == "__main__":
    sys.exit(main())
