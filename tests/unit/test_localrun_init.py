"""The local runner's namespace has an init that reaps orphans: a zombie left in /proc made every
clean-up's kill loop wait its whole limit for a process that could never go away."""
import subprocess
import sys

import pytest

from grader.run import localrun

# An orphan (the backgrounded sleep, whose parent shell exits at once) is re-parented to PID 1. The
# probe waits until the orphan has ended and no zombie is left, or 30 s: then it prints how many
# zombies there are (1 where nobody reaps, as soon as it exits; 0 with an init).
PROBE = """
import os, subprocess, time
def procs():
    out = []
    for p in os.listdir("/proc"):
        try:
            comm, rest = open(f"/proc/{p}/stat").read().rsplit(")", 1)
        except (OSError, ValueError):
            continue
        out.append((comm.split("(", 1)[1], rest.split()[0]))
    return out
subprocess.run(["sh", "-c", "sleep 0.2 & exit 0"])
deadline = time.monotonic() + 30
while True:
    now = procs()
    zombies = sum(state == "Z" for _, state in now)
    orphan_alive = any(comm == "sleep" and state != "Z" for comm, state in now)
    if (not orphan_alive and not zombies) or time.monotonic() > deadline:
        break
    time.sleep(0.05)
print(zombies)
"""


def test_an_orphan_of_the_run_does_not_stay_a_zombie():
    try:
        localrun.check_available()
    except localrun.LocalRunnerUnavailable as e:
        pytest.skip(str(e))
    out = subprocess.run([*localrun.UNSHARE, "--", *localrun.PRIVATE_DEV_SHM, sys.executable, "-c", PROBE],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["0"]
