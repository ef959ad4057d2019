"""Bug: the parent reads until end-of-file but never closed its own write end, so EOF never comes.

The child wrote its line and exited; the parent is stuck in read() on a pipe whose only
writer is itself (and its child stays unreaped meanwhile: a consequence of the hang).
"""
import os

r, w = os.pipe()
pid = os.fork()
if pid == 0:
    os.close(r)
    os.write(w, b"hello\n")
    os.close(w)
    os._exit(0)
# missing: os.close(w)
data = b""
while chunk := os.read(r, 4096):
    data += chunk
os.waitpid(pid, 0)
print(data.decode(), end="", flush=True)
