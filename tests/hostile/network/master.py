"""Report the network it can see on stderr, then fail."""
import os
import socket
import sys

ifaces = sorted(os.listdir("/sys/class/net"))
dev = [l.split(":")[0].strip() for l in open("/proc/net/dev").read().splitlines()[2:]]
tries = []
for host, port in (("127.0.0.1", 8080), ("127.0.0.1", 22), ("::1", 80)):
    try:
        socket.create_connection((host, port), timeout=1).close()
        tries.append(f"{host}:{port} connected")
    except OSError as e:
        tries.append(f"{host}:{port} {type(e).__name__}")
verdict = "only-loopback" if ifaces == ["lo"] and dev == ["lo"] and not any("connected" in t for t in tries) else "NETWORK"
print(verdict, ifaces, dev, tries, file=sys.stderr)
sys.exit(1)
