"""Bug: polls the queue with non-blocking receives in a tight loop instead of blocking."""
import sysv_ipc

KEY = 0x0b5e11
mq = sysv_ipc.MessageQueue(KEY, sysv_ipc.IPC_CREX, mode=0o600)
print("ready", flush=True)
while True:
    try:
        msg, _ = mq.receive(block=False)
        break
    except sysv_ipc.BusyError:
        continue                        # busy wait
print(msg.decode(), flush=True)
mq.remove()
