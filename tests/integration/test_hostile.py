"""The hostile corpus: whatever a submission does, the batch finishes, it gets a clear verdict,
the references in the same batch keep full marks, and the host is left exactly as it was."""
from __future__ import annotations

import json
import socket
import sys
import threading

import pytest

from grader import cli
from grader.run import sandbox

from conftest import REPO

sys.path.insert(0, str(REPO / "tests" / "hostile"))
import corpus  # noqa: E402

CORPUS = corpus.CORPUS
PORT = 8080  # the network case tries to connect here; a host listener must see nothing


class Listener(threading.Thread):
    """A host service on loopback that no container may reach."""

    def __init__(self):
        super().__init__(daemon=True)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", PORT))
        self.sock.listen()
        self.sock.settimeout(0.2)
        self.connections = 0
        self.stop = False

    def run(self):
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
                self.connections += 1
                conn.close()
            except OSError:
                pass


@pytest.fixture(scope="module")
def hostile_batch(tmp_path_factory, docker_client):
    root = tmp_path_factory.mktemp("hostile")
    subs = root / "submissions"
    subs.mkdir()
    expected = corpus.build_batch(subs)
    before = corpus.host_state()
    listener = Listener()
    listener.start()
    try:
        out = root / "out"
        assert cli.main([str(subs), "-a", "shm-handshake", "-o", str(out)]) == 0
    finally:
        listener.stop = True
        listener.join()
        listener.sock.close()
    book = {s["student"]: s for s in json.loads((out / "grades.json").read_text())["submissions"]}
    return {"book": book, "expected": expected, "before": before, "after": corpus.host_state(),
            "listener_connections": listener.connections, "client": docker_client}


def test_corpus_is_large_enough():
    assert len([p for p in CORPUS.iterdir() if p.is_dir()]) + 8 >= 25


def test_every_submission_gets_its_verdict(hostile_batch):
    book, expected = hostile_batch["book"], hostile_batch["expected"]
    assert set(book) == set(expected)
    assert corpus.wrong_verdicts(book, expected) == []


def test_references_in_the_same_batch_keep_full_marks(hostile_batch):
    for lang in ("c", "python"):
        ref = hostile_batch["book"][f"reference-{lang}"]
        assert ref["status"] == "graded" and ref["score"] == ref["max_score"] > 0


def test_host_left_exactly_as_found(hostile_batch):
    before, after = hostile_batch["before"], hostile_batch["after"]
    assert sandbox.leftover_containers(hostile_batch["client"], mine_only=True) == []
    assert after["student_processes"] == [] and after["sysv"] == before["sysv"]
    assert after["tmp"] == before["tmp"], "files appeared in /tmp"
    assert after["repo"] == before["repo"], "files appeared in the repository"


def test_no_connection_reached_the_host(hostile_batch):
    assert hostile_batch["listener_connections"] == 0
