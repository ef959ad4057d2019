"""Run.stdout_in_flight: what the trace says the program wrote to its stdout, against what the grader
has taken in. A hang proof ("will never print `ready`") is refused while bytes are on their way."""
import shutil
import sys

import pytest

from grader.harness.spawn import Identity, Run

pytestmark = pytest.mark.skipif(shutil.which("strace") is None, reason="needs strace")


def run(tmp_path, code: str) -> Run:
    identity = Identity(user=None, uid=None, trace_dir=str(tmp_path / "traces"), kill_scope="uid")
    return Run("prog", [sys.executable, "-c", code], cwd=str(tmp_path), identity=identity,
               trace_set="write,dup2,dup3,close", extra_env={"PYTHONUNBUFFERED": ""})


def _wait_traced(r: Run, name: str) -> None:
    for _ in range(500):
        if any(c.name == name for c in r.trace.calls()):
            return
        r.wait(0.01)
    raise AssertionError(f"{name} never showed in the trace")


def test_bytes_written_but_not_taken_in_are_in_flight(tmp_path):
    r = run(tmp_path, "import os, time; os.write(1, b'ready 7\\n'); time.sleep(30)")
    try:
        line, _ = r.read_until("ready", 10)
        _wait_traced(r, "write")
        assert line == "ready 7" and not r.stdout_in_flight()
        with r._cond:
            r._out.total = 0            # as if the grader's reader had not appended them yet
        assert r.stdout_in_flight()
    finally:
        r.kill()


def test_writes_after_fd_1_is_replaced_are_not_counted(tmp_path):
    code = ("import os, time; f = os.open('elsewhere', os.O_WRONLY | os.O_CREAT, 0o600); os.dup2(f, 1); "
            "os.write(1, b'x' * 100); os.write(2, b'done'); time.sleep(30)")
    r = run(tmp_path, code)
    try:
        assert r.read_until(lambda _: False, 0.1)[0] is None
        _wait_traced(r, "dup2")
        for _ in range(500):
            if sum(c.arg(0) == "1" for c in r.trace.calls("write")):
                break
            r.wait(0.01)
        assert not r.stdout_in_flight()
    finally:
        r.kill()
