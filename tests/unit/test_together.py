"""Jobs run side by side (together.side_by_side): results in order, the first failure raised, and the
same results when no thread can be started (a fork bomb took the pid limit)."""
import threading

import pytest

from grader.harness.together import side_by_side


def test_results_come_in_job_order_and_jobs_overlap():
    barrier = threading.Barrier(3, timeout=5)      # all three must be running at once to pass it

    def job(v):
        return lambda: (barrier.wait(), v)[1]
    assert side_by_side([job("a"), job("b"), job("c")]) == ["a", "b", "c"]
    assert side_by_side([]) == []


def test_the_first_failure_in_job_order_is_raised_after_all_have_ended():
    ended = []

    def fail(e):
        def job():
            ended.append(e)
            raise e
        return job
    first, second = KeyError("first"), ValueError("second")
    with pytest.raises(KeyError):
        side_by_side([lambda: ended.append("ok"), fail(first), fail(second)])
    assert sorted(map(str, ended)) == sorted(["ok", str(first), str(second)])


def test_without_threads_the_jobs_run_in_the_callers_thread(monkeypatch):
    def no_thread(self):
        raise RuntimeError("can't start new thread")
    monkeypatch.setattr(threading.Thread, "start", no_thread)
    me = threading.get_ident()
    assert side_by_side([lambda: threading.get_ident() == me] * 3) == [True, True, True]
