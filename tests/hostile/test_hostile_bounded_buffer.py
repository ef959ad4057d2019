"""bounded-buffer's hostile cases (tests/hostile/bounded-buffer): submissions that forge or dodge the
semaphore recorder, fill /dev/shm, or leave a daemon and objects behind. In one batch with both
references: each gets a clear verdict short of full marks, the references keep full marks, and the
host is left as found (no container, no student process, no SysV object, nothing new in /dev/shm)."""
from __future__ import annotations

import json
import tempfile

import pytest

from grader import assignments, cli
from grader.run import sandbox

import corpus

pytestmark = pytest.mark.docker
NAME = "bounded-buffer"


@pytest.fixture(scope="module")
def batch(tmp_path_factory, docker_client):
    root = tmp_path_factory.mktemp("hostile-bb")
    subs = root / "submissions"
    subs.mkdir()
    expected = corpus.build_assignment_batch(subs, NAME, assignments.load(NAME).meta.programs)
    before = corpus.host_state()
    out, scratch = root / "out", root / "tmp"
    scratch.mkdir()
    with pytest.MonkeyPatch.context() as mp:       # the grader's temporary files: here, not in a shared /tmp
        mp.setattr(tempfile, "tempdir", str(scratch))
        assert cli.main([str(subs), "-a", NAME, "-o", str(out)]) == 0
    book = {s["student"]: s for s in json.loads((out / "grades.json").read_text())["submissions"]}
    return {"book": book, "expected": expected, "before": before, "after": corpus.host_state(),
            "scratch": sorted(p.name for p in scratch.iterdir()), "client": docker_client}


def test_every_case_gets_its_verdict(batch):
    book, expected = batch["book"], batch["expected"]
    assert set(book) == set(expected)
    assert corpus.wrong_verdicts(book, expected) == []


def test_no_hostile_case_gets_full_marks(batch):
    full = [s for s, got in batch["book"].items() if not s.startswith("reference-") and got["score"] == got["max_score"]]
    assert full == []


def test_host_left_as_found(batch):
    before, after = batch["before"], batch["after"]
    assert sandbox.leftover_containers(batch["client"], mine_only=True) == []
    assert after["student_processes"] == [] and after["sysv"] == before["sysv"]
    new = {n.removeprefix("sem.") for n in set(after["dev_shm"]) - set(before["dev_shm"])}
    assert not {n for n in new if n.startswith(("bb", "junk", "leak"))}, "the cases' objects reached the host's /dev/shm"
    assert batch["scratch"] == [], "the grader left temporary files"
