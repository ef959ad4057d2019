"""Resource limits applied to every student process (and the tracer above it).

They back up the container's cgroup limits: a runaway process is stopped by
whichever limit it meets first.
"""
import os
import resource

STUDENT_LIMITS = {
    resource.RLIMIT_CPU: 20,               # seconds of CPU per process
    resource.RLIMIT_FSIZE: 64 << 20,       # no file larger than 64 MiB
    resource.RLIMIT_NOFILE: 1024,
    resource.RLIMIT_CORE: 0,
}

BUILD_LIMITS = {
    resource.RLIMIT_CPU: 30,
    resource.RLIMIT_FSIZE: 64 << 20,
    resource.RLIMIT_AS: 448 << 20,         # below the container's 512 MiB: a compile-time bomb meets
                                           # this rlimit (a clear compiler error), not the OOM killer
    resource.RLIMIT_CORE: 0,
}


def as_user(uid: int | None) -> dict:
    """subprocess keyword arguments that run the child as `uid` (no supplementary groups),
    or nothing when there is no other uid to switch to (the local runner, or not root)."""
    if uid is None or os.geteuid() != 0:
        return {}
    return {"user": uid, "group": uid, "extra_groups": []}


def apply(limits: dict[int, int]) -> None:
    """Called in the child before exec. Also volunteers it to the OOM killer first,
    so a memory hog dies before the harness that is watching it."""
    for what, value in limits.items():
        resource.setrlimit(what, (value, value))
    try:
        with open("/proc/self/oom_score_adj", "w") as f:
            f.write("1000")
    except OSError:
        pass
