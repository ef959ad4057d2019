"""Gradescope autograder results.json, as documented for custom autograders.

Hidden checks get visibility "after_published" so students learn about them
only when grades are released; the top-level summary counts visible checks only
for the same reason.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from numbers import Real

from grader.models import CheckStatus, Gradebook, SubmissionResult
from grader.report._text import number
from grader.report.feedback import check_feedback

TEST_VISIBILITIES = {"visible", "hidden", "after_due_date", "after_published"}


def _summary(result: SubmissionResult) -> str:
    if result.status == "error":
        return ("Your submission could not be graded, so it scores 0.\n"
                f"Reason: {result.error or 'unknown error'}\n"
                "Check that it builds and follows the required file layout, then resubmit.")
    visible = [c for c in result.checks if not c.hidden]
    passed = sum(c.status is CheckStatus.passed for c in visible)
    text = f"{passed} of {len(visible)} visible checks passed."
    hidden = len(result.checks) - len(visible)
    if hidden:
        text += f" {hidden} hidden check(s) will be shown when grades are published."
    return text


def results_doc(result: SubmissionResult) -> dict:
    """The results.json document as a dict, before serialisation."""
    tests = [{"name": f"{c.id}: {c.name}", "score": number(c.score), "max_score": number(c.max_score),
              "status": "passed" if c.status is CheckStatus.passed else "failed",
              "output": check_feedback(c),
              "visibility": "after_published" if c.hidden else "visible"} for c in result.checks]
    score = number(result.score) if result.status == "graded" else 0
    return {"score": score, "execution_time": round(result.seconds, 2), "output": _summary(result), "tests": tests,
            "visibility": "visible", "stdout_visibility": "hidden"}


def gradescope_results(result: SubmissionResult) -> str:
    """results.json for one submission."""
    return json.dumps(results_doc(result), indent=2, ensure_ascii=False) + "\n"


def gradescope_gradebook(book: Gradebook) -> Iterator[str]:
    """Gradescope grades one submission at a time; a batch gives a list of documents, one at a time."""
    if len(book.submissions) == 1:
        yield gradescope_results(book.submissions[0])
        return
    yield "["
    for n, sub in enumerate(book.submissions):
        doc = json.dumps(results_doc(sub), indent=2, ensure_ascii=False)
        yield ("," if n else "") + "\n  " + doc.replace("\n", "\n  ")
    yield ("\n]" if len(book.submissions) else "]") + "\n"


def _is_number(value: object) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


def _test_problems(i: int, test: object) -> list[str]:
    if not isinstance(test, dict):
        return [f"tests[{i}] is not an object"]
    problems = [] if isinstance(test.get("name"), str) else [f"tests[{i}].name is not a string"]
    problems += [f"tests[{i}].{k} is not a number" for k in ("score", "max_score")
                 if k in test and not _is_number(test[k])]
    if "status" in test and test["status"] not in ("passed", "failed"):
        problems.append(f"tests[{i}].status {test['status']!r} is not passed/failed")
    if "visibility" in test and test["visibility"] not in TEST_VISIBILITIES:
        problems.append(f"tests[{i}].visibility {test['visibility']!r} is invalid")
    if "output" in test and not isinstance(test["output"], str):
        problems.append(f"tests[{i}].output is not a string")
    return problems


def gradescope_fields_ok(doc: dict) -> list[str]:
    """Problems with a results.json document; empty when Gradescope would accept it.

    Gradescope rejects a malformed file with a vague error, so we check the
    documented fields ourselves and can say exactly what is wrong.
    """
    problems = [] if _is_number(doc.get("score")) else ["score is missing or not a number"]
    if "execution_time" in doc and not _is_number(doc["execution_time"]):
        problems.append("execution_time is not a number")
    tests = doc.get("tests", [])
    if not isinstance(tests, list):
        return problems + ["tests is not a list"]
    for key in ("visibility", "stdout_visibility"):
        if key in doc and doc[key] not in TEST_VISIBILITIES:
            problems.append(f"{key} {doc[key]!r} is invalid")
    if "output" in doc and not isinstance(doc["output"], str):
        problems.append("output is not a string")
    for i, test in enumerate(tests):
        problems += _test_problems(i, test)
    return problems
