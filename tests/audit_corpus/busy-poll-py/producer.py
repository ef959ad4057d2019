"""Clean producer: sends one message to the consumer's queue."""
import sysv_ipc

sysv_ipc.MessageQueue(0x0b5e11).send(b"hello", type=1)
