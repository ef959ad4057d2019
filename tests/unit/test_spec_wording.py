"""The student-facing spec and the check say the same numbers (a spec is a contract)."""
import importlib.util
import sys
from pathlib import Path

ASSIGNMENTS = Path(__file__).resolve().parents[2] / "assignments"


def _checks(name: str):
    spec = importlib.util.spec_from_file_location(f"{name}_checks", ASSIGNMENTS / name / "harness" / "checks.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module                       # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_sig_catch_busy_waiting_limits_are_the_ones_the_spec_states():
    checks = _checks("sig-catch")
    readme = " ".join((ASSIGNMENTS / "sig-catch" / "README.md").read_text().split())
    assert f"at most {checks.MAX_CPU_RATIO:.0%} of a CPU" in readme
    assert f"at most {checks.MAX_WAKEUPS_PER_SECOND:g} times a second" in readme
    assert f"more than {checks.MAX_WAKEUPS_PER_SECOND:g} wake-ups a second, is busy waiting" in readme


def test_pipe_pipeline_states_as_requirements_what_its_checks_grade():
    readme = " ".join((ASSIGNMENTS / "pipe-pipeline" / "README.md").read_text().split())
    spec = readme.split("## What to submit")[0]          # the requirements, not the hints
    assert "closes **both** original pipe descriptors" in spec
    assert "Each command runs with SIGPIPE at its default action" in spec


def test_mq_mailbox_busy_waiting_limits_are_the_ones_the_spec_states():
    from grader.harness import waits
    checks = _checks("mq-mailbox")
    readme = " ".join((ASSIGNMENTS / "mq-mailbox" / "README.md").read_text().split())
    assert f"more than {checks.MAX_CPU_RATIO:.0%} of a CPU" in readme
    assert f"more than {checks.MAX_WAKEUPS_PER_SECOND:g} wakeups per second" in readme
    assert waits.MIN_MATCH_SHARE == 0.5 and "in more than half of the samples" in readme


def test_mq_mailbox_poll_error_wording_is_free_as_the_check_grades_it():
    readme = " ".join((ASSIGNMENTS / "mq-mailbox" / "README.md").read_text().split())
    assert "The wording of the error is yours" in readme


def test_uds_echo_states_what_an_early_hangup_and_a_signal_cost():
    readme = " ".join((ASSIGNMENTS / "uds-echo" / "README.md").read_text().split())
    assert "`ECONNRESET`" in readme and "loses that check's point" in readme
    assert "sent only while no client is connected" in readme
