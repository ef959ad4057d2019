"""The writer: three numbers, then a stop message (type 2)."""
import sysv_ipc

mq = sysv_ipc.MessageQueue(0x5A17)
for n in (1, 2, 3):
    mq.send(str(n).encode(), type=1)
mq.send(b"", type=2)
print("writer done", flush=True)
