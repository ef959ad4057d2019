"""The busy-waiting limits that mq-mailbox's README promises are the ones its checks apply."""
from pathlib import Path

from grader.harness import blocking

README = Path(__file__).resolve().parents[2] / "assignments" / "mq-mailbox" / "README.md"


def test_readme_states_the_blocking_limits_the_check_uses():
    text = " ".join(README.read_text().split())
    assert f"more than {blocking.MAX_CPU_RATIO:.0%} of a CPU" in text
    assert f"more than {blocking.MAX_WAKEUPS_PER_SECOND:g} wakeups per second" in text
    assert blocking.MIN_MATCH_SHARE == 0.5 and "in more than half of the samples" in text
