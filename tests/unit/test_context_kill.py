"""The local runner's clean-up does not wait for the harness's own exited children (a tracer it has
just killed): only their Popen can take them out of /proc, and the kill loop used to wait its whole
half second for them after every hang."""
import subprocess
import sys
import time

from grader.harness import procfs
from grader.harness.context import _exited_child_of_mine


def test_an_exited_child_not_yet_reaped_is_not_waited_for():
    done = subprocess.Popen([sys.executable, "-c", "pass"])
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        for _ in range(500):
            st = procfs.read_stat(done.pid)
            if st is not None and st.state == "Z":
                break
            time.sleep(0.01)
        assert _exited_child_of_mine(done.pid)
        assert not _exited_child_of_mine(live.pid)
        assert not _exited_child_of_mine(1)            # not a child of ours
    finally:
        live.kill()
        live.wait()
        done.wait()
