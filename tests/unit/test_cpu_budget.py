"""The benchmark's CPU budget: per-submission figures and the ceiling they imply."""
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import cpu_budget  # noqa: E402


def test_the_budget_splits_host_cpu_and_bounds_the_rate():
    before = cpu_budget.Sample(host=100.0, containers=50.0, grader=1.0)
    after = cpu_budget.Sample(host=112.0, containers=58.0, grader=2.0)      # 12 s of host CPU for 10 submissions
    out = cpu_budget.budget(before, after, wall=6.0, submissions=10, harness_cpu=[0.2] * 10)
    cores = os.cpu_count() or 1
    assert out["host_cpu_per_submission"] == 1.2
    assert out["containers_per_submission"] == 0.8
    assert out["docker_per_submission"] == 0.3          # 12 - 8 in containers - 1 in the grader, per submission
    assert out["harness_python_per_submission"] == 0.2
    assert out["ceiling_per_minute"] == round(cores * 60 / 1.0, 1)   # were the harness's Python free
    assert out["cores_busy"] == round(12 / (6 * cores), 2)


def test_without_a_readable_cgroup_the_docker_split_is_left_out():
    before = cpu_budget.Sample(host=0.0, containers=None, grader=0.0)
    after = cpu_budget.Sample(host=2.0, containers=None, grader=0.0)
    out = cpu_budget.budget(before, after, wall=1.0, submissions=2, harness_cpu=[])
    assert "docker_per_submission" not in out and "ceiling_per_minute" not in out
    assert out["host_cpu_per_submission"] == 1.0


def test_a_sample_reads_this_host():
    s = cpu_budget.Sample.now()
    assert s.host > 0 and s.grader >= 0
