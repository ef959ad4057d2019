"""Clean: a sysv_ipc reader that blocks in receive() until the writer shows up, then removes the queue."""
import sysv_ipc

KEY = 0x5A17
mq = sysv_ipc.MessageQueue(KEY, sysv_ipc.IPC_CREAT, mode=0o600)
print("reader ready", flush=True)
total = 0
while True:
    data, mtype = mq.receive()
    if mtype == 2:
        break
    total += int(data.decode())
print(f"total {total}", flush=True)
mq.remove()
