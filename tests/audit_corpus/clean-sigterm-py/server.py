"""Clean: a SIGTERM handler removes the queue before exiting; waits with signal.pause()."""
import os
import signal

import sysv_ipc

mq = sysv_ipc.MessageQueue(sysv_ipc.IPC_PRIVATE, sysv_ipc.IPC_CREX, mode=0o600)


def on_term(signum, frame):
    mq.remove()
    print("removed the queue", flush=True)
    os._exit(0)


signal.signal(signal.SIGTERM, on_term)
print(f"ready {mq.id}", flush=True)
while True:
    signal.pause()
