"""The local runner's namespace has an init that reaps orphans: a zombie left in /proc made every
clean-up's kill loop wait its whole limit for a process that could never go away."""
import subprocess
import sys

import pytest

from grader.run import localrun

# An orphan (the backgrounded sleep, whose parent shell exits at once) is re-parented to PID 1.
PROBE = """
import os, subprocess, time
subprocess.run(["sh", "-c", "sleep 0.2 & exit 0"])
time.sleep(1.0)
print(sum(open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()[0] == "Z"
          for p in os.listdir("/proc") if p.isdigit()))
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
