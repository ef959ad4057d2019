"""The client: one line out, one line back."""
import socket

with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
    s.connect("echo.sock")
    s.sendall(b"ping\n")
    print("echoed:", s.recv(64).decode().strip(), flush=True)
