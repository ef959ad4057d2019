"""Report renderers: shapes, escaping, and the guarantees students and CI rely on."""
from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET

import pytest
from junitparser import JUnitXml
from rich.console import Console

from grader.models import CheckOutcome, CheckStatus, Evidence, Gradebook, ScoredCheck, SubmissionResult
from grader.report import FORMATS, safe_dir_names, text, write_outputs
from grader.report.feedback import check_feedback, feedback_markdown
from grader.report.gradebook import gradebook_csv, gradebook_json
from grader.report.gradescope import gradescope_fields_ok, gradescope_results
from grader.report.junit import junit_xml
from grader.report.markdown import markdown_summary
from grader.report.terminal import render_check_report, summary_tables

NASTY = 'before\n```\n<xml> & "quotes" \x07 bell\n````\nafter'
SECRET = "SECRET-HIDDEN-EVIDENCE"
EVIL = "../evil name\n"


def scored(id, status, score, max_score, hidden=False, **outcome):
    return ScoredCheck(id=id, name=f"Check {id}", status=CheckStatus(status), score=score, max_score=max_score,
                       hidden=hidden, outcome=CheckOutcome(id=id, name=f"Check {id}", status=CheckStatus(status),
                                                           hidden=hidden, seconds=0.25, **outcome))


def passing(student):
    return SubmissionResult(student=student, status="graded", score=3, max_score=3, language="c", seconds=1.5,
                            checks=[scored("shm_create", "passed", 2, 2, message="segment created"),
                                    scored("pipe_eof", "passed", 1, 1)])


@pytest.fixture
def book() -> Gradebook:
    bob = SubmissionResult(student="bob", status="graded", score=1, max_score=7, language="python", checks=[
        scored("shm_create", "failed", 0, 2, message="segment never created", expected="/dev/shm/ring",
               observed="", evidence=[Evidence(label="strace", text=NASTY)], hint="call ```shm_open``` with O_CREAT"),
        scored("pipe_eof", "passed", 1, 1),
        scored("mq_order", "skipped", 0, 1, message="skipped because shm_create failed"),
        scored("sig_race", "error", 0, 1, message="harness timed out\n```\nstray fence above"),
        scored("cleanup", "failed", 0, 2, hidden=True, message="segment leaked",
               evidence=[Evidence(label="proc", text=SECRET)], hint="shm_unlink at exit"),
    ])
    carol = SubmissionResult(student="carol", status="error", error="build failed: missing Makefile")
    evil = SubmissionResult(student=EVIL, status="graded", score=0, max_score=1, language="c",
                            checks=[scored("pipe_eof", "failed", 0, 1, message="no EOF")])
    return Gradebook(assignment="ipc-ring", submissions=[passing("alice"), bob, carol, evil, passing("=1+1")])


def test_check_feedback_plain_text(book):
    bob = book.submissions[1]
    text = check_feedback(bob.checks[0])
    assert "FAILED" in text and "segment never created" in text
    assert "Expected:\n    /dev/shm/ring" in text and "Observed:\n    (nothing)" in text
    assert "Evidence (strace):" in text and "\\x07" in text and "\x07" not in text
    assert text.endswith("\nHow to fix: call ```shm_open``` with O_CREAT")
    assert "skipped because shm_create failed" in check_feedback(bob.checks[2])
    assert "How to fix" not in check_feedback(bob.checks[1])


def test_gradebook_json_shape(book):
    doc = json.loads("".join(gradebook_json(book)))
    assert set(doc) == {"assignment", "submissions"} and doc["assignment"] == "ipc-ring"
    alice, bob, carol = doc["submissions"][:3]
    assert alice == {"student": "alice", "score": 3, "max_score": 3, "status": "graded", "language": "c",
                     "seconds": 1.5, "checks": alice["checks"]} and "error" not in alice
    assert carol["status"] == "error" and carol["error"] == "build failed: missing Makefile" and carol["checks"] == []
    first = bob["checks"][0]
    assert set(first) == {"id", "name", "status", "score", "max_score", "seconds", "feedback"}
    assert [c["seconds"] for c in alice["checks"]] == [0.25, 0.25]      # each check's time, as the harness measured it
    assert (first["id"], first["status"], first["score"], first["max_score"]) == ("shm_create", "failed", 0, 2)
    assert first["feedback"] == check_feedback(book.submissions[1].checks[0])
    assert [c["status"] for c in bob["checks"]] == ["failed", "passed", "skipped", "error", "failed"]
    assert doc["submissions"][3]["student"] == EVIL
    # Streamed a submission at a time, yet the same text one json.dumps would give.
    assert "".join(gradebook_json(book)) == json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def test_gradebook_csv_columns_and_formula_guard(book):
    rows = list(csv.reader(io.StringIO("".join(gradebook_csv(book)))))
    assert rows[0] == ["student", "status", "score", "max_score", "shm_create", "pipe_eof", "mq_order",
                       "sig_race", "cleanup"]
    assert len(rows) == 1 + len(book.submissions)
    by_student = {r[0]: r for r in rows[1:]}
    assert by_student["alice"][4:] == ["2", "1", "", "", ""]
    assert by_student["bob"][1:] == ["graded", "1", "7", "0", "1", "", "0", "0"]
    assert by_student["carol"][1:4] == ["error", "0", "0"] and by_student["carol"][4:] == [""] * 5
    assert EVIL in by_student
    assert "'=1+1" in by_student and "=1+1" not in by_student


def test_gradescope_fields_and_hidden_visibility(book):
    bob = json.loads(gradescope_results(book.submissions[1]))
    assert gradescope_fields_ok(bob) == []
    assert bob["score"] == 1 and bob["visibility"] == "visible" and bob["stdout_visibility"] == "hidden"
    assert [t["status"] for t in bob["tests"]] == ["failed", "passed", "failed", "failed", "failed"]
    hidden = [t for t in bob["tests"] if "cleanup" in t["name"]]
    assert [t["visibility"] for t in hidden] == ["after_published"]
    assert {t["visibility"] for t in bob["tests"] if t not in hidden} == {"visible"}
    assert SECRET not in bob["output"]
    alice = json.loads(gradescope_results(book.submissions[0]))
    assert alice["execution_time"] == 1.5 and bob["execution_time"] == 0    # the submission's grading time

    carol = json.loads(gradescope_results(book.submissions[2]))
    assert gradescope_fields_ok(carol) == [] and carol["score"] == 0
    assert "missing Makefile" in carol["output"] and carol["tests"] == []


def test_gradescope_fields_ok_reports_problems():
    bad = {"score": "10", "execution_time": "1 s", "tests": [{"name": 3, "score": True, "status": "ok", "visibility": "public"}, 7]}
    problems = gradescope_fields_ok(bad)
    assert len(problems) == 7 and "execution_time is not a number" in problems, problems


def test_junit_counts_and_escaping(book):
    text = "".join(junit_xml(book))
    ET.fromstring(text.encode())  # well-formed despite \x07, <xml>, & and quotes
    assert "\x07" not in text
    suites = {s.name: s for s in JUnitXml.fromstring(text)}
    assert set(suites) == {"alice", "bob", "carol", "../evil name", "=1+1"}
    for sub in book.submissions:
        suite = suites["../evil name" if sub.student == EVIL else sub.student]
        statuses = [c.status for c in sub.checks]
        assert suite.failures == statuses.count(CheckStatus.failed)
        assert suite.errors == statuses.count(CheckStatus.error) + (sub.status == "error")
        assert suite.skipped == statuses.count(CheckStatus.skipped)
        assert suite.tests == len(sub.checks) + (sub.status == "error")
    bob_cases = {case.name: case for case in suites["bob"]}
    failure = bob_cases["shm_create: Check shm_create"].result[0]
    assert failure.message == "segment never created" and '<xml> & "quotes"' in failure.text
    assert next(iter(bob_cases.values())).classname == "ipc-ring.bob"
    root = ET.fromstring(text.encode())
    assert root.get("failures") == "3" and root.get("errors") == "2" and root.get("skipped") == "1"


def _code_blocks(md: str) -> list[str]:
    """Split fenced blocks as CommonMark does: a fence closes only on a bare line of >= as many backticks."""
    blocks, fence_len, current = [], 0, []
    for line in md.splitlines():
        m = re.match(r"^(`{3,})(.*)$", line)
        if fence_len == 0 and m:
            fence_len, current = len(m.group(1)), []
        elif fence_len and m and len(m.group(1)) >= fence_len and not m.group(2).strip():
            blocks.append("\n".join(current))
            fence_len = 0
        elif fence_len:
            current.append(line)
    assert fence_len == 0, "a fence was left open"
    return blocks


def test_markdown_fences_cannot_break(book):
    bob = book.submissions[1]
    md = feedback_markdown(bob, book.assignment)
    blocks = _code_blocks(md)
    assert blocks == [check_feedback(c) for c in bob.checks if c.status is not CheckStatus.passed]
    assert "`````text" in md  # longer than the 4-backtick run in the evidence
    assert "| Check shm\\_create | failed | 0 / 2 |" in md
    assert "**Score:** 1 / 7" in md
    summary = "".join(markdown_summary(book))
    failing = [check_feedback(c) for c in bob.checks if c.status in (CheckStatus.failed, CheckStatus.error)]
    assert _code_blocks(summary)[:len(failing)] == failing
    assert "| bob | graded | 1 / 7 | shm\\_create, sig\\_race, cleanup |" in summary
    assert summary.count("<details>") == 3  # bob, carol (error), evil
    assert "| ../evil name | graded | 0 / 1 | pipe\\_eof |" in summary  # newline in the name cannot split the row
    assert "<summary>../evil name: 0 / 1</summary>" in summary


def test_feedback_markdown_hides_hidden_checks(book):
    bob = book.submissions[1]
    full = feedback_markdown(bob, book.assignment)
    assert "Check cleanup (hidden)" in full and SECRET in full
    student = feedback_markdown(bob, book.assignment, include_hidden=False)
    assert "cleanup" not in student and SECRET not in student
    assert "1 hidden check runs at grading time." in student
    assert "**Score on visible checks:** 1 / 5" in student
    two = bob.model_copy(update={"checks": bob.checks + [scored("late", "passed", 1, 1, hidden=True)]})
    assert "2 hidden checks run at grading time." in feedback_markdown(two, "a", include_hidden=False)


def test_write_outputs_stays_inside(tmp_path, book):
    out = tmp_path / "out"
    write_outputs(book, out)
    names = safe_dir_names([s.student for s in book.submissions])
    assert len(set(names)) == len(names)
    for name in names:
        assert (out / name / "results.json").is_file() and (out / name / "feedback.md").is_file()
        assert "/" not in name and not name.startswith(".")
    for top in ("grades.json", "grades.csv", "summary.md", "junit.xml"):
        assert (out / top).is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
    for path in tmp_path.rglob("*"):
        assert path.resolve().is_relative_to(out.resolve())
        assert not path.name.endswith(".tmp")
    evil_dir = names[3]
    assert evil_dir.startswith("evil_name-")
    assert json.loads((out / evil_dir / "results.json").read_text()) == json.loads(
        gradescope_results(book.submissions[3]))


def test_safe_dir_names_unique_and_not_reserved():
    names = safe_dir_names(["a/b", "a b", "Alice", "alice", "grades.json", "..", "", "王伟", "x\u202ey"])
    assert len({n.casefold() for n in names}) == len(names)
    assert names[2] == "Alice" and names[3] == "alice-2" and names[4] == "grades.json-2"
    assert names[7] == "王伟" and all(n and n not in (".", "..") for n in names)


def test_formats_registry(book):
    assert set(FORMATS) == {"json", "junit", "markdown", "gradescope", "csv"}
    for fmt in FORMATS:
        assert isinstance(text(fmt, book), str)
    many = json.loads(text("gradescope", book))
    assert isinstance(many, list) and len(many) == len(book.submissions)
    one = Gradebook(assignment="a", submissions=[book.submissions[0]])
    assert json.loads(text("gradescope", one))["score"] == 3
    for fmt in ("json", "gradescope"):
        assert json.loads(text(fmt, Gradebook(assignment="a"))) in ({"assignment": "a", "submissions": []}, [])


def test_terminal_renders_literally(book):
    console = Console(record=True, width=200, file=io.StringIO())
    for table in summary_tables(book):
        console.print(table)
    render_check_report(book.submissions[1], console)
    out = console.export_text()
    assert "bob" in out and "1 / 7" in out and "shm_create, sig_race, cleanup" in out
    assert "FAIL" in out and "SKIP" in out and "How to fix: call ```shm_open```" in out and "\x07" not in out
    console = Console(record=True, width=200, file=io.StringIO())
    render_check_report(book.submissions[1], console, include_hidden=False)
    assert SECRET not in console.export_text()


def test_a_large_class_prints_as_several_tables_with_every_student(book):
    tables = list(summary_tables(book, rows_per_table=2))
    assert len(tables) == (len(book.submissions) + 1) // 2
    assert [t.row_count for t in tables][:-1] == [2] * (len(tables) - 1)
    assert sum(t.row_count for t in tables) == len(book.submissions)
    assert str(tables[0].title).endswith(f"(students 1-2 of {len(book.submissions)})")
    assert [t.row_count for t in summary_tables(Gradebook(assignment="a"))] == [0]


def test_write_outputs_refuses_planted_symlink(tmp_path):
    """A reused out_dir where a student's folder is a symlink must not redirect writes."""
    outside, out = tmp_path / "outside", tmp_path / "out"
    outside.mkdir()
    out.mkdir()
    (out / "mallory").symlink_to(outside, target_is_directory=True)
    with pytest.raises(ValueError):
        write_outputs(Gradebook(assignment="a", submissions=[passing("mallory")]), out)
    assert list(outside.iterdir()) == []


def test_unencodable_text_is_still_written(tmp_path):
    """A lone surrogate (possible in decoded student output) must not crash the batch."""
    sub = passing("lone\ud800surrogate")
    book = Gradebook(assignment="a", submissions=[sub])
    ET.fromstring("".join(junit_xml(book)).encode())
    write_outputs(book, tmp_path)
    assert json.loads((tmp_path / "grades.json").read_text())["submissions"][0]["student"] == "lone?surrogate"
