"""The bundled demo class, graded end to end through the `grade` command."""
import json

import pytest

from grader import cli
from grader.report.gradescope import gradescope_fields_ok

from conftest import REPO

EXPECTED = {  # student: (score, failed checks)
    "alice": (13, set()),
    "bob": (13, set()),
    "carol": (11, {"master-cleanup", "no-leaks"}),
    "dave": (2, {"master-prints-shmid"}),
    "erin": (6, {"handshake-completes", "master-with-reference-slave"}),
    "frank": (0, {"build"}),
    "gina": (12, {"segment-private"}),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory, docker_client):
    out = tmp_path_factory.mktemp("demo-results")
    assert cli.main([str(REPO / "demo" / "shm-handshake"), "-a", "shm-handshake", "-o", str(out)]) == 0
    return out


def test_gradebook_scores_and_failed_checks(graded):
    book = json.loads((graded / "grades.json").read_text())
    assert book["assignment"] == "shm-handshake"
    got = {s["student"]: (s["score"], {c["id"] for c in s["checks"] if c["status"] == "failed"})
           for s in book["submissions"]}
    assert got == EXPECTED
    for s in book["submissions"]:
        assert s["status"] == "graded" and s["max_score"] == 13
        assert {"id", "name", "status", "score", "max_score", "feedback"} <= set(s["checks"][0])


def test_csv_and_gradescope_files(graded):
    rows = (graded / "grades.csv").read_text().splitlines()
    assert rows[0].startswith("student,status,score,max_score,build,")
    assert len(rows) == 1 + len(EXPECTED)
    for student in EXPECTED:
        doc = json.loads((graded / student / "results.json").read_text())
        assert gradescope_fields_ok(doc) == []
        assert doc["score"] == EXPECTED[student][0]


def test_hangs_get_a_diagnosis_not_a_bare_timeout(graded):
    dave = (graded / "dave" / "feedback.md").read_text()
    assert "Process tree when the grader stopped waiting" in dave
    assert "master (pid" in dave and "flush" in dave
    erin = (graded / "erin" / "feedback.md").read_text()
    assert "using the CPU (busy, not waiting)" in erin and "volatile" in erin


def test_compile_errors_are_shown(graded):
    frank = (graded / "frank" / "feedback.md").read_text()
    assert "error: expected ',' or ';' before 'if'" in frank and "the programs do not build" in frank
