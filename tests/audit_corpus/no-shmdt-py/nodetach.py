"""Bug: the segment is removed (fine: it goes away at the last detach) but never detached explicitly."""
import sysv_ipc

shm = sysv_ipc.SharedMemory(sysv_ipc.IPC_PRIVATE, sysv_ipc.IPC_CREX, mode=0o600, size=4096)
shm.write(b"hello")
print(shm.read(5).decode(), flush=True)
shm.remove()
