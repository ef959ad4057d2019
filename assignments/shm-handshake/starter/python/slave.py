"""shm-handshake: slave. See README.md for the specification."""
import struct
import sys

import sysv_ipc

INT = struct.Struct("i")


def main():
    n = int(sys.argv[1])
    # TODO: shmid = int(sys.stdin.readline()); shm = sysv_ipc.attach(shmid)
    # TODO: write i*i at offset i*INT.size for i = 1..n, then 1 at offset 0
    # TODO: shm.detach()
    return 0


if __name__ == "__main__":
    sys.exit(main())
