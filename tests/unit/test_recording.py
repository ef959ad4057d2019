"""The benchmark's record-and-replay of program runs: what the harness logs, and the bare replay of it."""
from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from grader.harness import recording

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import bare  # noqa: E402


class FakeOut:
    def __init__(self):
        self.data = bytearray()


class FakeRun:
    """Just what the recorder reads of spawn.Run: a tracer process, a pid, and drained stdout."""

    def __init__(self, label, argv, *, cwd, identity=None, stdin=None, keep_stdin=False, trace_set="x",
                 extra_env=None, inject=()):
        self.proc = subprocess.Popen(["sleep", "30"])
        self.pid = self.proc.pid
        self._out = FakeOut()
        if stdin is not None:
            self.send(stdin)
        if not keep_stdin:
            self.close_stdin()

    def send(self, data):
        return True

    def close_stdin(self):
        pass

    def tree(self):
        return [self.pid]


@pytest.fixture
def recorded(tmp_path, monkeypatch):
    log = tmp_path / "runs.jsonl"
    monkeypatch.setenv(recording.ENV, str(log))
    monkeypatch.setattr(os, "kill", os.kill)               # install() wraps it; restored afterwards
    for name in ("__init__", "send", "close_stdin"):
        monkeypatch.setattr(FakeRun, name, getattr(FakeRun, name))
    recording.install(FakeRun)
    return log


def events(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def test_nothing_is_wrapped_without_the_variable(monkeypatch):
    monkeypatch.delenv(recording.ENV, raising=False)
    before = (FakeRun.__init__, os.kill)
    recording.install(FakeRun)
    assert (FakeRun.__init__, os.kill) == before


def test_records_starts_stdin_signals_kills_and_the_output_lines_passed_on(recorded, tmp_path):
    (tmp_path / "data").write_bytes(b"grader-made")
    master = FakeRun("master", [str(tmp_path / "data"), "10"], cwd=str(tmp_path / "sub"))
    master._out.data += b"32769\n"
    slave = FakeRun("slave", ["slave", "10"], cwd=str(tmp_path / "sub"), stdin="32769\n")
    try:
        os.kill(master.pid, signal.SIGCONT)
        os.kill(master.pid, signal.SIGKILL)
        os.kill(master.pid, signal.SIGKILL)                # one kill event per run
    finally:
        for r in (master, slave):
            r.proc.kill()
            r.proc.wait()
    got = events(recorded)
    # Popen.kill() in the clean-up goes through os.kill too: the slave's kill is recorded, the master's not again.
    assert [e["event"] for e in got] == ["file", "start", "close", "start", "send", "close", "signal", "kill", "kill"]
    assert base64.b64decode(got[0]["data"]) == b"grader-made"
    assert got[3]["seen"] == [[1, False]] and got[3]["argv"] == ["slave", "10"]
    assert base64.b64decode(got[4]["data"]) == b"32769\n" and got[4]["refs"] == [[0, 0, "32769"]]
    assert got[6] == {**got[6], "run": 0, "signum": signal.SIGCONT, "main": True}
    assert [got[7]["run"], got[8]["run"]] == [0, 1]


def test_bare_replay_keeps_order_and_passes_the_bare_line_on(tmp_path):
    """A writer prints a line the recording saw as "old"; the reader must get the bare "new" line."""
    out = tmp_path / "got"
    events = [
        {"event": "start", "run": 0, "argv": ["sh", "-c", "echo new; sleep 0.2"], "cwd": "/work/sub", "env": {},
         "seen": []},
        {"event": "close", "run": 0, "seen": [[0, False]]},
        {"event": "start", "run": 1, "argv": ["sh", "-c", f"cat > {out}"], "cwd": "/work/sub", "env": {},
         "seen": [[1, False]]},
        {"event": "send", "run": 1, "data": base64.b64encode(b"old\n").decode(), "refs": [[0, 0, "old"]],
         "seen": [[1, False], [0, False]]},
        {"event": "close", "run": 1, "seen": [[1, True], [0, False]]},
    ]
    result = bare.replay_once(events, tmp_path, [], "")
    assert out.read_text() == "new\n"
    assert result.runs == 2 and result.stalls == 0 and result.seconds > 0


def test_harness_actions_are_recorded_with_their_arguments_and_replayed(tmp_path, monkeypatch):
    """A harness function that changes IPC state (posix.act's int offsets, a Run argument) is logged
    before it runs; the replay calls it again with the same arguments, the run being the bare one."""
    from grader.harness import posix
    calls = []
    fake_act = lambda shm, size, ints, take, give, wait=0.0: calls.append((ints, wait))
    monkeypatch.setattr(posix, "act", fake_act)
    monkeypatch.setitem(recording.ACTIONS, "grader.harness.posix", ("act",))
    monkeypatch.setitem(recording.ACTIONS, "grader.harness.semtrace", ())
    recorded = tmp_path / "runs.jsonl"
    monkeypatch.setenv(recording.ENV, str(recorded))
    monkeypatch.setattr(os, "kill", os.kill)
    for name in ("__init__", "send", "close_stdin"):
        monkeypatch.setattr(FakeRun, name, getattr(FakeRun, name))
    recording.install(FakeRun)
    run = FakeRun("consumer", ["consumer"], cwd=str(tmp_path / "sub"))
    try:
        posix.act("/bbe", 40, {8: 0, 0: 1}, take=["/bbe-empty"], give=[run])
    finally:
        run.proc.kill()
        run.proc.wait()
    action = [e for e in events(recorded) if e["event"] == "action"][0]
    assert action["function"] == "act" and action["seen"] == [[0, False]]
    monkeypatch.setattr(posix, "act", fake_act)          # the replay records nothing
    bare_run = bare._BareRun(["sleep", "5"], str(tmp_path), dict(os.environ))
    replay = bare.Replay()
    try:
        bare.harness_action(action, {0: bare_run}, replay)
    finally:
        bare_run.kill()
        bare_run.proc.wait()
    assert calls[0] == ({8: 0, 0: 1}, 0.0)
    assert replay.stalls == 0, replay.notes
    assert calls[1][0] == {8: 0, 0: 1} and calls[1][1] == bare.STALL_SECONDS   # the replay may wait


def test_bare_replay_stall_guard(tmp_path, monkeypatch):
    """A run that never prints what the harness saw is waited for once (a stall), not at every later
    event; past MAX_STALLS stalls the replay is abandoned instead of crawling on."""
    monkeypatch.setattr(bare, "STALL_SECONDS", 0.1)
    silent = [{"event": "start", "run": 0, "argv": ["sleep", "0.5"], "cwd": "/work/sub", "env": {}, "seen": []}]
    later = [{"event": "close", "run": 0, "seen": [[1, False]]}] * 4
    result = bare.replay_once(silent + later, tmp_path, [], "")
    assert result.stalls == 1 and not result.abandoned
    many = [{"event": "start", "run": i, "argv": ["sleep", "5"], "cwd": "/work/sub", "env": {},
             "seen": [[1, False]] * i} for i in range(bare.MAX_STALLS + 3)]
    result = bare.replay_once(many, tmp_path, [], "")
    assert result.abandoned and result.stalls == bare.MAX_STALLS
