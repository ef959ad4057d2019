"""The harness's warm start (grader/harness/__main__.py): it waits for the host's start signal, and
the wall limit, counted from that signal, kills the grading as `timeout -s KILL` would."""
from __future__ import annotations

import os
import time

from grader.harness import __main__ as entry


def test_the_start_signal_is_a_file_and_waiting_gives_up_when_none_comes(tmp_path):
    signal_file = tmp_path / "go"
    assert not entry.wait_for(str(signal_file), idle_seconds=0.05)
    signal_file.touch()
    assert entry.wait_for(str(signal_file), idle_seconds=0.05)


def test_the_grading_keeps_its_exit_status_within_the_limit():
    assert entry.supervised(lambda: 0, wall_seconds=30) == 0
    assert entry.supervised(lambda: 3, wall_seconds=30) == 3


def test_grading_past_the_wall_limit_is_killed_like_timeout_does():
    def forever():
        while True:
            time.sleep(1)
    assert entry.supervised(forever, wall_seconds=0.2) == 128 + 9


def test_a_grading_that_dies_of_a_signal_reports_it():
    assert entry.supervised(lambda: os.kill(os.getpid(), 15), wall_seconds=30) == 128 + 15


def test_the_metadata_comes_from_its_prebuilt_copy_only_while_the_yaml_is_unchanged(tmp_path, monkeypatch):
    from grader.harness import prebuild
    adir = tmp_path / "assignments" / "demo"
    adir.mkdir(parents=True)
    (adir / "assignment.yaml").write_text("programs: [master, slave]\n")
    monkeypatch.setattr(prebuild, "PREBUILT", str(tmp_path / "refbin"))
    monkeypatch.setattr(prebuild, "ROOT", str(tmp_path / "assignments"))
    prebuild.main()                                        # no C reference: nothing kept
    assert prebuild.load_meta(str(adir)) == {"programs": ["master", "slave"]}
    (adir / "reference" / "c").mkdir(parents=True)
    for prog in ("master", "slave"):
        (adir / "reference" / "c" / f"{prog}.c").write_text("int main(void) { return 0; }\n")
    prebuild.main()
    kept = tmp_path / "refbin" / "demo" / "assignment.json"
    assert kept.is_file()
    kept.write_text(kept.read_text().replace('"slave"', '"other"'))   # the copy is what is read...
    assert prebuild.load_meta(str(adir)) == {"programs": ["master", "other"]}
    (adir / "assignment.yaml").write_text("programs: [a, b]\n")       # ...until the YAML changes
    assert prebuild.load_meta(str(adir)) == {"programs": ["a", "b"]}
