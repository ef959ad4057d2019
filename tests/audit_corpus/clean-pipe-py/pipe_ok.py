"""Clean: parent and child each close the end they do not use; the parent reads to EOF and reaps."""
import os

r, w = os.pipe()
pid = os.fork()
if pid == 0:
    os.close(r)
    os.write(w, b"hello from the child\n")
    os.close(w)
    os._exit(0)
os.close(w)
data = b""
while chunk := os.read(r, 4096):
    data += chunk
os.close(r)
os.waitpid(pid, 0)
print(data.decode(), end="", flush=True)
