"""Where a graded class's CPU goes on this host: what bench.py reports as the CPU budget.

On a machine whose cores are all busy, submissions per minute is cores x 60 / CPU per submission,
so the CPU a submission costs, and who spends it, says what any change can gain:

  - host: every process on the machine (/proc/stat, busy time), divided by the class size;
  - containers: the grading containers' own cgroups (the harness, the compiler, the tracer and the
    student's programs), where the host's cgroup layout lets us read it (Docker's cgroupfs driver,
    cgroup v1 or v2); the rest of the host's CPU, less the grader process, is Docker starting and
    removing containers (dockerd, containerd, the shims, runc, the kernel's namespace set-up);
  - harness Python: the harness's own interpreter, every thread (its report's `harness_cpu_seconds`).

`ceiling_per_minute` is what the class would reach if the harness's own Python cost nothing and
the cores were always busy: the bound that no change to the harness's code alone can pass.
"""
from __future__ import annotations

import os
import resource
from dataclasses import dataclass

TICK = os.sysconf("SC_CLK_TCK")
# Docker's parent cgroup with the cgroupfs driver: cgroup v1 (cpuacct, nanoseconds), v2 (cpu.stat, usec).
CGROUP_V1 = "/sys/fs/cgroup/cpuacct/docker/cpuacct.usage"
CGROUP_V2 = "/sys/fs/cgroup/docker/cpu.stat"


def host_busy() -> float:
    """CPU seconds the whole host has spent outside idle and iowait since boot."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    return (sum(fields) - fields[3] - fields[4]) / TICK


def containers_cpu() -> float | None:
    """CPU seconds of every Docker container since the daemon started (removed ones included:
    a parent cgroup keeps what its children used), or None where the layout is another."""
    try:
        with open(CGROUP_V1) as f:
            return int(f.read()) / 1e9
    except OSError:
        pass
    try:
        with open(CGROUP_V2) as f:
            for line in f:
                key, value = line.split()
                if key == "usage_usec":
                    return int(value) / 1e6
    except OSError:
        pass
    return None


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Sample:
    host: float
    containers: float | None
    grader: float

    @classmethod
    def now(cls) -> Sample:
        return cls(host_busy(), containers_cpu(), own_cpu())


def budget(before: Sample, after: Sample, wall: float, submissions: int, harness_cpu: list[float]) -> dict:
    """Per submission: host CPU and its parts; the cores' use; the ceiling (see the module's docstring)."""
    n, cores = submissions, os.cpu_count() or 1
    host = after.host - before.host
    out = {"host_cpu_per_submission": round(host / n, 3),
           "cores_busy": round(host / (wall * cores), 2),
           "grader_process_per_submission": round((after.grader - before.grader) / n, 3)}
    if before.containers is not None and after.containers is not None:
        inside = after.containers - before.containers
        out["containers_per_submission"] = round(inside / n, 3)
        out["docker_per_submission"] = round((host - inside - (after.grader - before.grader)) / n, 3)
    if harness_cpu:
        python = sum(harness_cpu) / len(harness_cpu)
        out["harness_python_per_submission"] = round(python, 3)
        rest = host / n - python
        out["ceiling_per_minute"] = round(cores * 60 / rest, 1) if rest > 0 else None
    return out
