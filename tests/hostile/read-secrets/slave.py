"""Reference slave for shm-handshake (Python, sysv_ipc)."""
import struct
import sys

import sysv_ipc

INT = struct.Struct("i")


def main():
    if len(sys.argv) != 2:
        print(f"usage: {sys.argv[0]} N", file=sys.stderr)
        return 2
    n = int(sys.argv[1])
    shmid = int(sys.stdin.readline())
    shm = sysv_ipc.attach(shmid)
    for i in range(1, n + 1):
        shm.write(INT.pack(i * i), i * INT.size)
    shm.write(INT.pack(1), 0)   # only now: the data is complete
    shm.detach()
    return 0


if __name__ == "__main__":
    sys.exit(main())
