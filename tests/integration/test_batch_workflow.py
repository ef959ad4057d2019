"""Instructor workflow: cached reruns, rubric-only rescoring, regrade diffs, shards, and resuming after Ctrl-C."""
import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader import cli
from grader.run import sandbox
from grader.score import regrade

from conftest import REPO

DEMO = REPO / "demo" / "shm-handshake"


def _grade(subs, out, *extra):
    assert cli.main([str(subs), "-a", "shm-handshake", "-o", str(out), *extra]) in (0,)
    return {s["student"]: s for s in json.loads((out / "grades.json").read_text())["submissions"]}


@pytest.fixture(scope="module")
def first_run(tmp_path_factory, docker_client):
    root = tmp_path_factory.mktemp("workflow")
    subs = root / "class"
    shutil.copytree(DEMO, subs)
    out = root / "out"
    return subs, out, _grade(subs, out)


def test_unchanged_rerun_reuses_every_result(first_run, capsys):
    subs, out, first = first_run
    capsys.readouterr()
    again = _grade(subs, out)
    printed = " ".join(capsys.readouterr().out.split())
    assert "(0 run, 7 unchanged and reused)" in printed and "No student's result changed." in printed
    assert {k: v["score"] for k, v in again.items()} == {k: v["score"] for k, v in first.items()}


def test_rubric_change_rescores_without_running(first_run, tmp_path, monkeypatch, capsys):
    subs, out, first = first_run
    rubric = (REPO / "rubrics" / "shm-handshake.yaml").read_text().replace("no-leaks: 1", "no-leaks: 5")
    (tmp_path / "rubrics").mkdir()
    (tmp_path / "rubrics" / "shm-handshake.yaml").write_text(rubric)
    (tmp_path / "course.yaml").write_text("rubrics: rubrics\n")
    monkeypatch.setenv("IPCGRADE_COURSE", str(tmp_path))   # a course re-weighting a bundled assignment
    capsys.readouterr()
    again = _grade(subs, out)
    printed = capsys.readouterr().out
    assert "(0 run, 7 unchanged and reused)" in " ".join(printed.split())
    assert again["alice"]["max_score"] == first["alice"]["max_score"] + 4
    assert again["carol"]["score"] == first["carol"]["score"]          # carol fails no-leaks
    assert "alice:" in printed and "rubric changed" in printed


def test_changed_code_is_regraded_and_explained(first_run, tmp_path, capsys):
    subs, out, first = first_run
    shutil.copy(REPO / "assignments/shm-handshake/reference/c/master.c", subs / "carol" / "master.c")
    capsys.readouterr()
    again = _grade(subs, out)
    printed = capsys.readouterr().out
    assert "(1 run, 6 unchanged and reused)" in " ".join(printed.split())
    assert again["carol"]["score"] == again["carol"]["max_score"]
    assert "carol:" in printed and "code changed" in printed and "no-leaks: failed" in printed
    changes = regrade.diff(regrade.load_full(out), regrade.load_full(out))
    assert changes == []


def test_force_runs_everything(first_run, capsys):
    subs, out, _ = first_run
    capsys.readouterr()
    _grade(subs, out, "--force", "--format", "json")
    assert cli.main(["diff", str(out), str(out)]) == 0


def test_shards_merge_into_the_full_gradebook(first_run, tmp_path):
    subs, out, _ = first_run
    full = _grade(subs, out)
    parts = []
    for i in (1, 2, 3):
        part = tmp_path / f"shard{i}"
        shutil.copytree(out / ".state", part / ".state")   # a CI runner may start from a cache too
        (part / ".state" / "gradebook.jsonl").unlink()
        _grade(subs, part, "--shard", f"{i}/3")
        parts.append(part)
    sizes = [len(json.loads((p / "grades.json").read_text())["submissions"]) for p in parts]
    assert sum(sizes) == 7
    merged = tmp_path / "merged"
    assert cli.main(["merge", *map(str, parts), "-o", str(merged)]) == 0
    book = {s["student"]: s["score"] for s in json.loads((merged / "grades.json").read_text())["submissions"]}
    assert book == {k: v["score"] for k, v in full.items()}
    assert cli.main([str(subs), "-a", "shm-handshake", "--shard", "4/3"]) == 2


def _containers_of(docker_client, pid: int) -> list:
    return [c for c in sandbox.leftover_containers(docker_client) if c.labels.get("ipcgrade.owner", "").endswith(f":{pid}")]


def _slow_submission(folder: Path) -> None:
    """A master that never ends: a timed sleep is never a proven hang, so it waits out the 5 s limit
    (a pause() would be proven hung at once, and the batch could end before the signal)."""
    folder.mkdir(parents=True)
    (folder / "master.c").write_text("#include <unistd.h>\nint main(void) { for (;;) sleep(1); }\n")
    (folder / "slave.c").write_text("int main(void) { return 0; }\n")


def _start_batch(subs: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "grader.cli", str(subs), "-a", "shm-handshake", "-o", str(out),
                             "-j", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_sigterm_stops_the_batch_as_ctrl_c_does(tmp_path, docker_client):
    """A cancelled CI job, or `kill`, sends SIGTERM: the batch stops with its containers removed."""
    subs = tmp_path / "class"
    for i in range(2):
        _slow_submission(subs / f"hang{i}")
    proc = _start_batch(subs, tmp_path / "out")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not _containers_of(docker_client, proc.pid) and proc.poll() is None:
        time.sleep(0.2)
    assert _containers_of(docker_client, proc.pid), "no grading container was seen running"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143 and "terminated" in err.decode(), err.decode()[-2000:]
    assert _containers_of(docker_client, proc.pid) == []


def test_ctrl_c_leaves_nothing_running_and_the_rerun_resumes(tmp_path, docker_client):
    subs = tmp_path / "class"
    for i in range(4):              # slow ones, so the batch is still running when interrupted
        _slow_submission(subs / f"hang{i}")
        shutil.copytree(REPO / "assignments/shm-handshake/reference/c", subs / f"ok{i}")
    out = tmp_path / "out"
    proc = _start_batch(subs, out)
    state = out / ".state"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(state.glob("*.json"))) < 2:
        time.sleep(0.2)
    finished_before = len(list(state.glob("*.json")))
    assert finished_before >= 2
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err.decode()[-2000:]
    assert _containers_of(docker_client, proc.pid) == []
    kept = len(list(state.glob("*.json")))
    assert kept >= finished_before
    done = subprocess.run([sys.executable, "-m", "grader.cli", str(subs), "-a", "shm-handshake", "-o", str(out)],
                          capture_output=True, timeout=600)
    assert done.returncode == 0
    text = " ".join(done.stdout.decode().split())
    assert f"{8 - kept} run, {kept} unchanged and reused" in text
