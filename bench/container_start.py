#!/usr/bin/env python3
"""What each part of the grading container's configuration costs at start: wall time and host CPU.

    python3 bench/container_start.py [--repeats 15] [--variant NAME ...]

A no-op container (`true`) with the grading configuration (sandbox.container_config) is created,
started, waited for and removed; then the same with one option changed at a time. The variants are
interleaved round by round (the machine is noisy, and a slow minute then hits every variant alike),
and every figure is a median over the rounds of this one run, printed as a ratio to the baseline.

CPU is counted twice: the whole host's busy time (/proc/stat: every process, so on a shared machine
it includes the neighbours), and Docker's own CPU: dockerd and containerd with the children they
reaped (the shim's launcher), plus this container's shim with the children it reaped (runc, the
container's processes), read once the container has exited; what the shim does while the container
is removed, and other users' calls to the daemons meanwhile, are not told apart.

Removal is compared too (--removal): the daemon removing the container itself (auto_remove), and
the Docker SDK's low-level calls instead of its model objects (no inspect after create).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cpu_budget import TICK, host_busy  # noqa: E402  (bench/, next to this file)
from docker.errors import NotFound  # noqa: E402
from docker.models.containers import _create_container_args  # noqa: E402

from grader.run import dockerenv, image, sandbox  # noqa: E402
from grader.run.runners import Limits  # noqa: E402

DAEMONS = ("dockerd", "containerd")


def daemon_pids() -> list[int]:
    pids = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/comm") as f:
                    if f.read().strip() in DAEMONS:
                        pids.append(int(d))
            except OSError:
                pass
    return pids


def daemons_cpu(pids: list[int]) -> float:
    """CPU seconds of the Docker daemons and of the children they reaped."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += sum(int(x) for x in fields[11:15])         # utime stime cutime cstime
        except OSError:
            pass
    return total / TICK


def shim_cpu(container_id: str) -> float:
    """CPU seconds of the container's shim and the children it reaped (runc, the container's init)."""
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/cmdline", "rb") as f:
                    if b"containerd-shim" not in f.read(64) or container_id.encode() not in open(
                            f"/proc/{d}/cmdline", "rb").read():
                        continue
                with open(f"/proc/{d}/stat") as f:
                    return sum(int(x) for x in f.read().rsplit(")", 1)[1].split()[11:15]) / TICK
            except OSError:
                pass
    return 0.0


def without(key):
    def change(c):
        c.pop(key)
    return change


def one_tmpfs_fewer(c):
    del c["tmpfs"]["/run/ipcgrade"]


def two_tmpfs_fewer(c):
    del c["tmpfs"]["/run/ipcgrade"]
    del c["tmpfs"]["/tmp"]


def no_init(c):
    c["init"] = False


def writable_root(c):
    c["read_only"] = False


def default_caps(c):
    c.pop("cap_drop")
    c.pop("cap_add")


def no_limits(c):
    for key in ("mem_limit", "memswap_limit", "pids_limit", "nano_cpus"):
        c.pop(key)


# name -> change to the grading configuration (None: the configuration itself)
VARIANTS = {
    "baseline": None,
    "baseline-again": None,     # the noise floor: the same configuration, its ratio should be 1.00
    "no-init": no_init,
    "tmpfs-2": one_tmpfs_fewer,
    "tmpfs-1": two_tmpfs_fewer,
    "no-sysctls": without("sysctls"),
    "no-ulimits": without("ulimits"),
    "no-cap-changes": default_caps,
    "no-security-opt": without("security_opt"),
    "writable-root": writable_root,
    "no-cgroup-limits": no_limits,
    "no-bind-mount": lambda c: c["mounts"].clear(),
    "net-default": lambda c: c.update(network_mode="bridge"),
}


def once(client, tag: str, empty: Path, change, removal: str) -> tuple[float, float, float]:
    """One container: (wall seconds, host CPU seconds, daemons' CPU seconds) from create to gone."""
    config = sandbox.container_config(tag, ["true"], empty, Limits())
    if change is not None:
        change(config)
    pids = daemon_pids()
    w0, h0, d0 = time.perf_counter(), host_busy(), daemons_cpu(pids)
    if removal == "low-level":
        cid = client.api.create_container(**_create_container_args(
            {**config, "version": client.api._version}))["Id"]
        client.api.start(cid)
        client.api.wait(cid)
    else:
        config["auto_remove"] = removal == "auto-remove"
        cid = client.containers.create(**config).id
        client.api.start(cid)
        client.api.wait(cid)
    shim = shim_cpu(cid)
    if removal == "auto-remove":
        try:
            client.api.wait(cid, condition="removed")
        except NotFound:
            pass            # already gone
    else:
        client.api.remove_container(cid, force=True)
    return time.perf_counter() - w0, host_busy() - h0, daemons_cpu(pids) - d0 + shim


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--variant", action="append", choices=list(VARIANTS), help="default: all")
    ap.add_argument("--removal", action="store_true", help="also compare ways of removing the container")
    args = ap.parse_args()
    client = dockerenv.client()
    tag = image.ensure_image(client)
    names = args.variant or list(VARIANTS)
    for always in ("baseline-again", "baseline"):
        if always not in names:
            names.insert(0, always)
    names.sort(key=lambda n: n != "baseline")
    runs = [(n, "wait+remove") for n in names] + \
        ([("baseline", "auto-remove"), ("baseline", "low-level")] if args.removal else [])
    samples: dict[tuple[str, str], list[tuple[float, float, float]]] = {r: [] for r in runs}
    with tempfile.TemporaryDirectory() as empty:
        once(client, tag, Path(empty), None, "wait+remove")      # warm the daemon's caches
        for i in range(args.repeats):
            order = runs[i % len(runs):] + runs[:i % len(runs)]   # rotate: no variant always follows another
            for r in order:
                samples[r].append(once(client, tag, Path(empty), VARIANTS[r[0]], r[1]))
    med = {r: [statistics.median(s[k] for s in samples[r]) for k in range(3)] for r in runs}
    base = med[("baseline", "wait+remove")]
    print(f"{args.repeats} rounds, medians; ratio to the grading configuration in brackets")
    print(f"{'variant':<30} {'wall s':>14} {'host CPU s':>16} {'docker CPU s':>16}")
    for r in runs:
        cells = [f"{v:.3f} ({v / b:.2f})" if b else f"{v:.3f}" for v, b in zip(med[r], base)]
        print(f"{r[0] + ' ' + r[1]:<30} {cells[0]:>14} {cells[1]:>16} {cells[2]:>16}")


if __name__ == "__main__":
    main()
