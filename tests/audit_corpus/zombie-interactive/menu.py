"""Bug: an interactive demo forks a helper that finishes at once, then walks through its
steps with pauses and never waits for it: the helper stays a zombie."""
import os
import sys
import time

pid = os.fork()
if pid == 0:
    print("helper: done", flush=True)
    os._exit(0)
for step in ("connect", "send", "disconnect"):
    print(f"step: {step}", flush=True)
    time.sleep(0.8)
sys.exit(0)
