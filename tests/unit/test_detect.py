"""Which assignment a bare `grade submit/` picks (grader/detect.py)."""
from pathlib import Path

import pytest

from grader import detect

PROGRAMS = {"shm-handshake": ["master", "slave"], "pipe-pipeline": ["pipeline"],
            "uds-echo": ["server", "client"], "echo-only": ["server"]}


def make(root: Path, name: str, *files: str) -> Path:
    sub = root / name
    for f in files:
        (sub / f).parent.mkdir(parents=True, exist_ok=True)
        (sub / f).write_text("int main(void){return 0;}\n")
    sub.mkdir(parents=True, exist_ok=True)
    return sub


def test_every_submission_has_the_programs(tmp_path):
    subs = [make(tmp_path, "ann", "master.c", "slave.c"), make(tmp_path, "bob", "src/master.py", "src/slave.py")]
    choice = detect.from_programs(subs, PROGRAMS)
    assert choice.name == "shm-handshake"
    assert choice.announce() == "grading as shm-handshake (every submission has master and slave)"


def test_a_misnamed_minority_still_counts_as_the_class(tmp_path):
    subs = [make(tmp_path, n, "pipeline.c") for n in ("a", "b", "c")] + [make(tmp_path, "d", "Pipeline.c")]
    choice = detect.from_programs(subs, PROGRAMS)
    assert (choice.name, choice.reason) == ("pipe-pipeline", "3 of 4 submissions have pipeline; "
                                                              "the other 1 match no assignment")


def test_larger_program_set_wins_over_its_subset(tmp_path):
    subs = [make(tmp_path, "a", "server.c", "client.c")]
    assert detect.from_programs(subs, PROGRAMS).name == "uds-echo"


def test_mixed_assignments_stop_naming_candidates_and_flag(tmp_path):
    subs = [make(tmp_path, "a", "master.c", "slave.c"), make(tmp_path, "b", "pipeline.c")]
    with pytest.raises(detect.DetectionError) as e:
        detect.from_programs(subs, PROGRAMS)
    msg = str(e.value)
    assert "shm-handshake (1)" in msg and "pipe-pipeline (1)" in msg and "-a NAME" in msg
    assert "\n" not in msg


def test_no_match_names_every_assignment(tmp_path):
    with pytest.raises(detect.DetectionError, match=r"no submission has the program files.*pipe-pipeline: pipeline.*-a"):
        detect.from_programs([make(tmp_path, "a", "hello.c")], PROGRAMS)


def test_a_minority_match_is_not_enough(tmp_path):
    subs = [make(tmp_path, "a", "pipeline.c"), make(tmp_path, "b", "x.c"), make(tmp_path, "c", "y.c")]
    with pytest.raises(detect.DetectionError, match="only 1 of 3"):
        detect.from_programs(subs, PROGRAMS)


def test_settings_file_above_wins_nearest_first(tmp_path):
    (tmp_path / "course.yaml").write_text("assignment: uds-echo\n")
    kit = tmp_path / "kit"
    (kit / "submit").mkdir(parents=True)
    assert detect.from_settings(kit / "submit").name == "uds-echo"
    (kit / ".grade.yaml").write_text("assignment: sig-catch\nhome: .ipcgrade\n")
    choice = detect.choose(kit / "submit", [], PROGRAMS)
    assert choice.name == "sig-catch" and choice.reason == f"{kit / '.grade.yaml'} says so"


def test_settings_without_assignment_fall_back_to_programs(tmp_path):
    (tmp_path / "course.yaml").write_text("assignments: assignments\n")
    subs = [make(tmp_path / "submit", "a", "pipeline.py")]
    assert detect.choose(tmp_path / "submit", subs, PROGRAMS).reason == "every submission has pipeline"
