"""Reference master for shm-handshake (Python, sysv_ipc)."""
import struct
import sys
import time

import sysv_ipc

INT = struct.Struct("i")


def main():
    if len(sys.argv) != 2:
        print(f"usage: {sys.argv[0]} N", file=sys.stderr)
        return 2
    n = int(sys.argv[1])
    if not 1 <= n <= 1000:
        print("N must be between 1 and 1000", file=sys.stderr)
        return 2
    shm = sysv_ipc.SharedMemory(sysv_ipc.IPC_PRIVATE, sysv_ipc.IPC_CREX, mode=0o600, size=(n + 1) * INT.size)
    shm.write(INT.pack(0), 0)
    print(shm.id, flush=True)
    while INT.unpack(shm.read(INT.size, 0))[0] != 1:
        time.sleep(0.001)
    total = sum(INT.unpack(shm.read(INT.size, i * INT.size))[0] for i in range(1, n + 1))
    print(f"sum={total}", flush=True)
    shm.detach()
    shm.remove()
    return 0


if __name__ == "__main__":
    sys.exit(main())
