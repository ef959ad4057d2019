"""Bad input gets one clear line and a non-zero exit; other students' results are unaffected."""
import json
import shutil

import pytest

from grader import assignments, cli
from grader.locations import Home, Locations
from grader.yamlfile import ConfigError

from conftest import REPO

REF_C = REPO / "assignments" / "shm-handshake" / "reference" / "c"


def test_unknown_assignment(tmp_path, capsys):
    (tmp_path / "alice").mkdir()
    assert cli.main([str(tmp_path), "-a", "no-such-thing"]) == 2
    assert "unknown assignment 'no-such-thing'" in capsys.readouterr().err


def test_empty_and_missing_folders(tmp_path, capsys):
    assert cli.main([str(tmp_path), "-a", "shm-handshake"]) == 2
    assert "no submissions found" in capsys.readouterr().err
    assert cli.main([str(tmp_path / "nope"), "-a", "shm-handshake"]) == 2
    assert "nope" in capsys.readouterr().err


def test_invalid_rubric_names_the_line(tmp_path, monkeypatch):
    (tmp_path / "shm-handshake.yaml").write_text("assignment: shm-handshake\nchecks:\n  build: -1\n  sum-correct: [\n")
    where = Locations.bundled(Home(tmp_path / "assignments", tmp_path))   # a course re-weighting a rubric
    with pytest.raises(ConfigError, match=r"shm-handshake.yaml:\d+: invalid YAML"):
        assignments.load("shm-handshake", where)
    (tmp_path / "shm-handshake.yaml").write_text("assignment: shm-handshake\nchecks:\n  build: 1\n  no-leaks: -2\n")
    with pytest.raises(ConfigError, match=r"shm-handshake.yaml:4: checks.no-leaks"):
        assignments.load("shm-handshake", where)


@pytest.mark.docker
def test_broken_submissions_get_error_verdicts_and_others_are_graded(tmp_path, docker_client):
    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copytree(REF_C, subs / "good")
    (subs / "corrupt.zip").write_bytes(b"PK\x03\x04 this is not really a zip")
    (subs / "half").mkdir()
    shutil.copy(REF_C / "master.c", subs / "half")
    both = subs / "both"
    shutil.copytree(REF_C, both)
    for f in (REPO / "assignments" / "shm-handshake" / "reference" / "python").glob("*.py"):
        shutil.copy(f, both)
    out = tmp_path / "out"
    assert cli.main([str(subs), "-a", "shm-handshake", "-o", str(out)]) == 0
    book = {s["student"]: s for s in json.loads((out / "grades.json").read_text())["submissions"]}
    assert book["good"]["score"] == book["good"]["max_score"] == 13
    assert book["corrupt"]["status"] == "error" and "corrupt archive" in book["corrupt"]["error"]
    build = {s: next(c for c in book[s]["checks"] if c["id"] == "build") for s in ("half", "both")}
    assert build["half"]["status"] == "failed" and "missing file(s): slave.c" in build["half"]["feedback"]
    assert build["both"]["status"] == "failed" and "both C and Python" in build["both"]["feedback"]
