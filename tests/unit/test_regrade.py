"""regrade: what changed between two gradings and why, shards, and merging them."""
from __future__ import annotations

import pytest

from grader.models import CheckOutcome, CheckStatus, Gradebook, ScoredCheck, SubmissionResult
from grader.score import regrade


def result(student: str, statuses: dict[str, str], *, content="c1", harness="h1", rubric="r1",
           status="graded") -> SubmissionResult:
    checks = [ScoredCheck(id=cid, name=cid, status=CheckStatus(s), score=1.0 if s == "passed" else 0.0,
                          max_score=1.0, outcome=CheckOutcome(id=cid, name=cid, status=CheckStatus(s)))
              for cid, s in statuses.items()]
    return SubmissionResult(student=student, status=status, score=sum(c.score for c in checks),
                            max_score=len(checks), checks=checks,
                            provenance={"content": content, "harness": harness, "rubric": rubric})


def book(*results) -> Gradebook:
    return Gradebook(assignment="demo", submissions=list(results))


def test_diff_names_the_changed_checks_and_the_reason():
    old = book(result("ann", {"a": "passed", "b": "failed"}), result("bob", {"a": "passed"}),
               result("gone", {"a": "passed"}))
    new = book(result("ann", {"a": "passed", "b": "passed"}, content="c2"), result("bob", {"a": "passed"}),
               result("new", {"a": "failed"}))
    changes = {c.student: c for c in regrade.diff(old, new)}
    assert set(changes) == {"ann", "gone", "new"}
    assert changes["ann"].checks == ["b: failed 0/1 -> passed 1/1"] and changes["ann"].reasons == ["code changed"]
    assert changes["gone"].reasons == ["submission removed"] and changes["new"].reasons == ["new submission"]
    text = regrade.render(regrade.diff(old, new))
    assert text.startswith("3 student(s) changed:") and "- ann: 1 -> 2 (code changed)" in text
    assert regrade.render(regrade.diff(old, old)) == "No student's result changed."


def test_a_change_with_the_same_inputs_is_called_nondeterministic():
    (change,) = regrade.diff(book(result("ann", {"a": "passed"})), book(result("ann", {"a": "failed"})))
    assert change.reasons == ["same inputs (a nondeterministic verdict?)"]


def test_save_and_load_the_full_gradebook(tmp_path):
    regrade.save_full(book(result("ann", {"a": "passed"})), tmp_path)
    loaded = regrade.load_full(tmp_path)
    assert loaded.assignment == "demo" and [s.student for s in loaded.submissions] == ["ann"]
    with pytest.raises(regrade.NoGradebook, match="holds no ipcgrade results"):
        regrade.load_full(tmp_path / "elsewhere")


def test_shards_split_every_student_exactly_once_and_merge_back():
    students = [f"s{i}" for i in range(40)]
    shards = [[s for s in students if regrade.in_shard(s, i, 3)] for i in (1, 2, 3)]
    assert sorted(sum(shards, [])) == sorted(students) and all(shards)
    merged = regrade.merge([book(*[result(s, {"a": "passed"}) for s in part]) for part in shards])
    assert [s.student for s in merged.submissions] == sorted(students)
    with pytest.raises(regrade.NoGradebook, match="more than one shard"):
        regrade.merge([book(result("ann", {})), book(result("ann", {}))])
    other = Gradebook(assignment="other", submissions=[])
    with pytest.raises(regrade.NoGradebook, match="different assignments"):
        regrade.merge([book(), other])


@pytest.mark.parametrize("text, error", [("2/4", None), ("0/4", "between 1 and N"), ("5/4", "between 1 and N"),
                                         ("x", "takes I/N")])
def test_parse_shard(text, error):
    if error is None:
        assert regrade.parse_shard(text) == (2, 4)
    else:
        with pytest.raises(ValueError, match=error):
            regrade.parse_shard(text)
