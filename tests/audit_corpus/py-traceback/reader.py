"""Bug: the reader attaches to a queue that nobody created yet and dies with a traceback."""
import sysv_ipc

mq = sysv_ipc.MessageQueue(0x4B1D)
message, _ = mq.receive()
print(message.decode())
