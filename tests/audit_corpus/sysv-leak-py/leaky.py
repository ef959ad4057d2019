"""Bug: a semaphore set and a message queue are created and used but never removed."""
import sysv_ipc

sem = sysv_ipc.Semaphore(sysv_ipc.IPC_PRIVATE, sysv_ipc.IPC_CREX, mode=0o600, initial_value=1)
mq = sysv_ipc.MessageQueue(sysv_ipc.IPC_PRIVATE, sysv_ipc.IPC_CREX, mode=0o600)
sem.acquire()
mq.send(b"left behind")
sem.release()
print("done", flush=True)
