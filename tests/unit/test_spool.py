"""The on-disk gradebook: results filled in any order, read back in order, saved and loaded."""
import pytest

from grader import spool
from grader.models import SubmissionResult


def result(name: str, score: float = 1) -> SubmissionResult:
    return SubmissionResult(student=name, status="graded", score=score, max_score=2)


def test_slots_filled_in_finishing_order_read_in_class_order():
    s = spool.ResultSpool(3)
    for i in (2, 0, 1):
        s.put(i, result(f"s{i}", score=i))
    assert [r.student for r in s] == ["s0", "s1", "s2"]
    assert s[1].score == 1 and s[-1].student == "s2" and [r.student for r in s[1:]] == ["s1", "s2"]
    assert len(s) == 3


def test_an_unfilled_slot_is_an_error_not_a_silent_gap():
    s = spool.ResultSpool(2)
    s.put(0, result("a"))
    with pytest.raises(LookupError):
        s[1]


def test_save_and_load_round_trip(tmp_path):
    path = tmp_path / "gradebook.jsonl"
    spool.save("shm", [result("b"), result("a ünïcode\nname")], path)
    assignment, loaded = spool.ResultSpool.load(path)
    assert assignment == "shm" and [r.student for r in loaded] == ["b", "a ünïcode\nname"]


def test_a_loaded_gradebook_stays_readable_after_a_newer_one_replaces_it(tmp_path):
    path = tmp_path / "gradebook.jsonl"
    spool.save("shm", [result("old")], path)
    _, old = spool.ResultSpool.load(path)
    spool.save("shm", [result("new"), result("newer")], path)
    assert [r.student for r in old] == ["old"]
    assert [r.student for r in spool.ResultSpool.load(path)[1]] == ["new", "newer"]


@pytest.mark.parametrize("text, message", [
    ("", "header"),
    ("not json\n", "header"),
    ('{"assignment": "shm"}\n{"student": 3}\n', "line 2"),
])
def test_a_damaged_gradebook_is_rejected_with_where(tmp_path, text, message):
    path = tmp_path / "gradebook.jsonl"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        spool.ResultSpool.load(path)
