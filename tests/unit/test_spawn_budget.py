"""A run's CPU budget: a spinning program is given up on once it has burnt the budget;
a sleeping one is waited for (CPU time, not wall time, is what the budget counts)."""
import sys

from grader.harness.spawn import Identity, Run


def run(tmp_path, code: str) -> Run:
    identity = Identity(user=None, uid=None, trace_dir=str(tmp_path / "traces"), kill_scope="uid")
    return Run("prog", [sys.executable, "-c", code], cwd=str(tmp_path), identity=identity, trace_set=None)


def test_a_spinning_program_is_given_up_on_after_its_cpu_budget(tmp_path):
    r = run(tmp_path, "while True: pass")
    try:
        assert r.wait(120, cpu_budget=0.3) is None
        assert r.alive() and r.cpu_seconds() >= 0.3
    finally:
        r.kill()


def test_a_sleeping_program_is_waited_for_whatever_the_budget(tmp_path):
    r = run(tmp_path, "import time; time.sleep(1.0)")
    assert r.wait(120, cpu_budget=0.3) == 0
