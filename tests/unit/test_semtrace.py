"""semtrace: parsing, replaying and judging recorded semaphore calls (pure logic, no processes)."""
from types import SimpleNamespace

import pytest

from grader.harness import semtrace
from grader.harness.api import Fail

E, F, M = "/b-empty", "/b-full", "/b-mutex"
INITIAL = {E: 8, F: 0, M: 1}
CONSUMER = [("wait", F), ("wait", M), ("post", M), ("post", E)]


def record(*rows) -> str:
    """rows: (pid, call, name[, result, in, out]) -> the preload library's line format."""
    seq, out = {}, []
    for pid, call, name, *rest in rows:
        result, ring_in, ring_out = (rest + [0, "-", "-"])[:3] if rest else (0, "-", "-")
        seq[pid] = seq.get(pid, 0) + 1
        out.append(f"{pid} {seq[pid]} {call} {name} {result} 0 {ring_in} {ring_out} -")
    return "\n".join(out) + "\n"


def take(pid, out_before, out_after):
    return [(pid, "wait>", F), (pid, "wait<", F), (pid, "wait>", M), (pid, "wait<", M, 0, 0, out_before),
            (pid, "post", M, 0, 0, out_after), (pid, "post", E)]


def test_parse_skips_forged_or_cut_lines():
    calls = semtrace.parse(record((7, "post", F)) + "garbage line\n7 x post\n")
    assert [(c.pid, c.call, c.name) for c in calls] == [(7, "post", F)]


def test_replay_names_who_holds_the_mutex_and_who_waits():
    calls = semtrace.parse(record((1, "wait>", M), (1, "wait<", M), (1, "wait>", F), (2, "wait>", E), (2, "wait<", E),
                                  (2, "wait>", M)))
    r = semtrace.replay(calls, INITIAL, (M,))
    assert r.values == {E: 7, F: 0, M: 0}
    text = r.describe({1: "consumer", 2: "producer"})
    assert f"consumer: holds {M}; waits in sem_wait({F})" in text
    assert f"producer: waits in sem_wait({M})" in text


def test_a_correct_consumer_passes_and_a_swapped_one_is_named():
    run = SimpleNamespace(pid=5, label="consumer 1")
    good = semtrace.parse(record(*take(5, 0, 1), *take(5, 1, 2)))
    semtrace.judge(good, run, CONSUMER, lock=M, index="ring_out", slots=8, initial=INITIAL)
    swapped = semtrace.parse(record((5, "wait<", M), (5, "wait<", F), (5, "post", M), (5, "post", E)))
    with pytest.raises(Fail, match=f"locks {M} before waiting on {F}"):
        semtrace.judge(swapped, run, CONSUMER, lock=M, index="ring_out", slots=8, initial=INITIAL)


def test_missing_mutex_and_polling_are_named():
    run = SimpleNamespace(pid=5, label="consumer 1")
    no_mutex = semtrace.parse(record((5, "wait<", F), (5, "post", E)))
    with pytest.raises(Fail, match=f"never locks {M}"):
        semtrace.judge(no_mutex, run, CONSUMER, lock=M, index="ring_out", slots=8, initial=INITIAL)
    polling = semtrace.parse(record((5, "try", F, -1), (5, "try", F)))
    with pytest.raises(Fail, match="polls with sem_trywait"):
        semtrace.judge(polling, run, CONSUMER, lock=M, index="ring_out", slots=8, initial=INITIAL)


def test_a_ring_index_that_wraps_wrongly_is_caught():
    run = SimpleNamespace(pid=5, label="consumer 1")
    calls = semtrace.parse(record(*take(5, 6, 7), *take(5, 7, 8)))
    with pytest.raises(Fail, match="moved `out` wrongly"):
        semtrace.judge(calls, run, CONSUMER, lock=M, index="ring_out", slots=8, initial=INITIAL)


def test_a_record_cut_short_by_a_hang_is_not_a_deviation():
    run = SimpleNamespace(pid=5, label="producer")
    cycle = [("wait", E), ("wait", M), ("post", M), ("post", F)]
    calls = semtrace.parse(record((5, "wait<", E), (5, "wait<", M), (5, "post", M), (5, "post", F)))
    semtrace.judge(calls, run, cycle, lock=M, index="ring_in", slots=8, initial=INITIAL, rounds=3, complete=False)
    with pytest.raises(Fail):
        semtrace.judge(calls, run, cycle, lock=M, index="ring_in", slots=8, initial=INITIAL, rounds=3)
