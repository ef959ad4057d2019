"""shm-handshake: master. See README.md for the specification."""
import struct
import sys

import sysv_ipc

INT = struct.Struct("i")   # one C int: INT.pack(v), INT.unpack(data)[0]


def main():
    n = int(sys.argv[1])
    # TODO: shm = sysv_ipc.SharedMemory(sysv_ipc.IPC_PRIVATE, sysv_ipc.IPC_CREX, mode=0o600, size=...)
    # TODO: set shm[0] = 0, print the id with flush=True
    # TODO: wait until shm[0] == 1, print sum=S
    # TODO: shm.detach(), shm.remove()
    return 0


if __name__ == "__main__":
    sys.exit(main())
