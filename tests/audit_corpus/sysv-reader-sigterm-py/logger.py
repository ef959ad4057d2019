"""Bug: a sysv_ipc log collector that blocks in receive() for ever and has no SIGTERM handler,
so the administrator's `kill` leaves the queue behind."""
import sysv_ipc

mq = sysv_ipc.MessageQueue(0x10C6, sysv_ipc.IPC_CREAT, mode=0o600)
print("collecting", flush=True)
while True:
    text, _ = mq.receive()
    print(text.decode(), flush=True)
