"""sandbox.DockerRunner against a fake Docker client: errors are told apart by exception type,
HTTP status and container state (never by message text), and every container is removed."""
from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
import requests
from docker.errors import APIError, ImageNotFound

from grader.run import sandbox
from grader.run.dockerenv import DockerUnavailable
from grader.run.runners import Limits, RunnerUnavailable


def api_error(status: int, cls=APIError):
    response = requests.Response()
    response.status_code = status
    return cls("refused", response=response, explanation="whatever the daemon says")


class FakeContainer:
    def __init__(self, client, cid):
        self.client, self.id = client, cid

    def start(self):
        if self.client.start_error:
            raise self.client.start_error

    def wait(self, timeout):
        if self.client.wait_error:
            raise self.client.wait_error
        self.client.waited.append(self.id)
        return {"StatusCode": self.client.exit_code}

    def _started_grading(self):
        mounts = {m["Target"]: Path(m["Source"]) for m in self.client.by_id[self.id]["mounts"]}
        if "/start" in mounts:   # what a warm container's harness would find when it starts grading
            self.client.graded[self.id] = (sorted(os.listdir(mounts["/submission"])),
                                           (mounts["/start"] / "go").exists())

    def kill(self):
        pass

    def logs(self, stdout, stderr, stream=False, follow=False):
        if stream:
            self._started_grading()
            data = self.client.stdout
            return iter([data[:5], data[5:]])
        return self.client.stdout if stdout else self.client.stderr


class FakeAPI:
    def __init__(self, client):
        self.client = client

    def inspect_container(self, cid):
        return {"State": self.client.state}

    def remove_container(self, cid, force):
        self.client.removed.append(cid)

    def containers(self, all, filters):
        return []


class FakeClient:
    def __init__(self, **kw):
        self.create_error = kw.get("create_error")
        self.start_error = kw.get("start_error")
        self.wait_error = kw.get("wait_error")
        self.exit_code = kw.get("exit_code", 0)
        self.state = kw.get("state", {})
        self.stdout, self.stderr = kw.get("stdout", b""), kw.get("stderr", b"")
        self.created, self.removed = [], []
        self.by_id, self.empty_at_creation, self.graded, self.waited = {}, {}, {}, []
        self.lock = threading.Lock()
        self.api = FakeAPI(self)
        self.containers = self

    def create(self, **config):
        if self.create_error:
            raise self.create_error
        with self.lock:
            self.created.append(config)
            cid = f"c{len(self.created)}"
        self.by_id[cid] = config
        self.empty_at_creation[cid] = not os.listdir(config["mounts"][0]["Source"])
        return FakeContainer(self, cid)


def run(client, tmp_path, limits=Limits()):
    with sandbox.DockerRunner(limits, client=client, image="ipcgrade:test") as box:
        return box.run_command(tmp_path, ["python3", "-m", "grader.harness"])


def test_a_normal_run_returns_its_output_and_removes_the_container(tmp_path):
    client = FakeClient(stdout=b'{"event": "end"}\n', stderr=b"warning")
    res = run(client, tmp_path, Limits(wall_seconds=30))
    assert (res.exit_code, res.stdout, res.stderr, res.timed_out, res.oom_killed) == \
        (0, b'{"event": "end"}\n', b"warning", False, False)
    assert client.created[0]["command"][:4] == ["timeout", "-s", "KILL", "30"]
    assert client.created[0]["labels"][sandbox.RUNNER_LABEL]
    assert client.removed == ["c1"]


def test_limits_that_ended_the_run(tmp_path):
    assert run(FakeClient(exit_code=137), tmp_path).timed_out                       # the inner `timeout`
    oom = run(FakeClient(exit_code=137, state={"OOMKilled": True}), tmp_path)
    assert oom.oom_killed and not oom.timed_out
    late = run(FakeClient(wait_error=requests.exceptions.ReadTimeout()), tmp_path)   # the host's deadline
    assert late.timed_out and late.exit_code is None


def test_a_missing_image(tmp_path):
    client = FakeClient(create_error=api_error(404, ImageNotFound))
    with pytest.raises(sandbox.GradingImageMissing, match="is missing .* rerun and it will be rebuilt"):
        run(client, tmp_path)


@pytest.mark.parametrize("code", sandbox.CANNOT_EXECUTE)
def test_an_image_that_cannot_execute_the_harness(tmp_path, code):
    client = FakeClient(exit_code=code, stderr=b"exec timeout failed")
    with pytest.raises(sandbox.GradingImageMissing, match=r"is broken \(exec timeout failed\).*--force"):
        run(client, tmp_path)
    assert client.removed == ["c1"]


def test_a_container_the_runtime_refused_to_start(tmp_path):
    client = FakeClient(start_error=api_error(400), state={"Error": "exec: python3: not found"})
    with pytest.raises(sandbox.GradingImageMissing, match=r"is broken \(exec: python3: not found\)"):
        run(client, tmp_path)
    assert client.removed == ["c1"]


@pytest.mark.parametrize("error", [api_error(500), api_error(409),
                                   requests.exceptions.ConnectionError("daemon gone")])
def test_anything_else_is_the_daemon_failing(tmp_path, error):
    client = FakeClient(start_error=error)
    with pytest.raises(DockerUnavailable, match="the Docker daemon failed") as caught:
        run(client, tmp_path)
    assert not isinstance(caught.value, sandbox.GradingImageMissing)
    assert isinstance(caught.value, RunnerUnavailable)


def test_leaving_the_runner_removes_what_is_still_running(tmp_path):
    client = FakeClient()
    box = sandbox.DockerRunner(client=client, image="ipcgrade:test")
    with box:
        box._active.add("still-running")
    assert "still-running" in client.removed


def student(tmp_path, name):
    folder = tmp_path / name
    folder.mkdir()
    (folder / f"{name}.c").write_text("int main(void) { return 0; }\n")
    return folder


def test_warm_containers_each_grade_one_submission_that_appeared_only_for_its_run(tmp_path):
    client = FakeClient(stdout=b'{"event": "end"}\n', state={"Running": True})
    box = sandbox.DockerRunner(Limits(wall_seconds=30), client=client, image="ipcgrade:test")
    with box:
        first = box.run(student(tmp_path, "alice"), "shm-handshake")
        second = box.run(student(tmp_path, "bob"), "shm-handshake")
    assert first.stdout == b'{"event": "end"}\n'
    assert first.container_id not in client.waited          # its end line was enough: no wait for the exit
    assert first.container_id != second.container_id
    assert client.graded[first.container_id] == (["alice.c"], True)
    assert client.graded[second.container_id] == (["bob.c"], True)
    assert all(client.empty_at_creation.values())          # no container saw a submission before its run
    config = client.created[0]
    assert [(m["Target"], m["ReadOnly"]) for m in config["mounts"]] == [("/submission", True), ("/start", True)]
    assert config["command"][-4:] == ["--wait-for", "/start/go", "--wall-seconds", "30"]
    assert config["network_mode"] == "none" and config["read_only"]
    # leaving the runner removed every container (used, warm and being removed) and every host folder
    assert set(client.removed) >= set(client.by_id)
    assert not any(Path(c["mounts"][0]["Source"]).parent.exists() for c in client.created)


def test_cancel_removes_the_warm_containers_too(tmp_path):
    client = FakeClient(state={"Running": True})
    box = sandbox.DockerRunner(client=client, image="ipcgrade:test")
    with box:
        box.run(student(tmp_path, "alice"), "shm-handshake")
        box.prepare("shm-handshake")
        ready = [w.container.id for waiting in box._ready.values() for w in waiting]
        assert ready                                   # the next run's container waits
        box.cancel()
        assert set(ready) <= set(client.removed) and not box._ready
    assert set(client.removed) >= set(client.by_id)


def test_a_warm_container_that_stopped_is_not_used(tmp_path):
    client = FakeClient(state={"Running": False})
    box = sandbox.DockerRunner(client=client, image="ipcgrade:test")
    with box:
        box.run(student(tmp_path, "alice"), "shm-handshake")
        box.prepare("shm-handshake")
        stale = [w.container.id for waiting in box._ready.values() for w in waiting]
        res = box.run(student(tmp_path, "bob"), "shm-handshake")
    assert res.container_id not in stale
    assert client.graded[res.container_id] == (["bob.c"], True)


def test_a_warm_run_without_an_end_line_waits_for_the_exit_and_its_limits(tmp_path):
    client = FakeClient(stdout=b'{"event": "plan"}\n', exit_code=137, state={"Running": True})
    with sandbox.DockerRunner(client=client, image="ipcgrade:test") as box:
        res = box.run(student(tmp_path, "alice"), "shm-handshake")
    assert res.container_id in client.waited and res.timed_out and res.stdout == b'{"event": "plan"}\n'


def test_no_warm_container_is_started_beyond_the_runs_a_batch_announced(tmp_path):
    client = FakeClient(stdout=b'{"event": "end"}\n', state={"Running": True})
    with sandbox.DockerRunner(client=client, image="ipcgrade:test") as box:
        box.expect(2)
        box.run(student(tmp_path, "alice"), "shm-handshake")
        box.prepare("shm-handshake")
        box.run(student(tmp_path, "bob"), "shm-handshake")
    assert len(client.created) == 2
