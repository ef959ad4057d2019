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
