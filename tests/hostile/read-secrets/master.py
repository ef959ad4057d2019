"""Try every place a secret could be; report what was readable on stderr."""
import os
import sys

A = "/opt/ipcgrade/assignments/shm-handshake"
candidates = [f"{A}/harness/hidden_checks.py", f"{A}/harness/checks.py", f"{A}/reference/c/master.c",
              f"{A}/reference/python/master.py", "/opt/ipcgrade/grader/harness/runner.py", "/work/ref/master",
              "/work/ref/slave", "/var/run/docker.sock", "/run/docker.sock", "/proc/1/environ", "/proc/1/mem"]
harness = [p for p in os.listdir("/proc") if p.isdigit() and os.path.exists(f"/proc/{p}/cmdline")
           and b"grader.harness" in open(f"/proc/{p}/cmdline", "rb").read()]
for pid in harness:
    candidates += [f"/proc/{pid}/environ", f"/proc/{pid}/mem", f"/proc/{pid}/fd/1", f"/proc/{pid}/root/etc/shadow"]
found = []
for path in candidates:
    try:
        with open(path, "rb") as f:
            if f.read(64):
                found.append(path)
    except OSError:
        pass
for folder in ("/opt/ipcgrade", "/run/ipcgrade", "/run/ipcgrade/traces", "/work/ref", "/submission/..", "/work"):
    try:
        names = os.listdir(folder)
    except OSError:
        continue
    others = [n for n in names if n not in ("sub", "submission", "scratch")] if folder in ("/work", "/submission/..") else names
    if folder == "/submission/..":
        others = [n for n in others if n == "submissions" or n.startswith(("alice", "reference", "student"))]
    if folder == "/work":
        others = [n for n in others if n not in ("ref",)]
    if others:
        found.append(f"{folder}: {others[:5]}")
print("nothing-readable" if not found else "READABLE: " + " ".join(found), file=sys.stderr)
sys.exit(1)
