"""Clean: attaches the segment master printed, writes, detaches, then tells master through the queue."""
import sys

import sysv_ipc

KEY = 0x0a0d17

shm = sysv_ipc.attach(int(sys.argv[1]))
shm.write((1234).to_bytes(4, sys.byteorder))
shm.detach()
sysv_ipc.MessageQueue(KEY).send(b"done", type=1)
