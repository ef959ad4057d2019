"""One disposable container per submission, removed whatever happens.

Every limit is enforced twice: cgroup limits on the container (memory, pids,
CPU) plus rlimits inside it, and a wall-clock limit both inside (`timeout`
around the harness) and on the host (kill after the deadline). The container
has no network, a read-only root, tmpfs scratch space, no new privileges and
only the capabilities the harness needs to trace and supervise the student uid.
"""
from __future__ import annotations

import os
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path

import requests
from docker.errors import APIError, DockerException, NotFound
from docker.types import Mount

LABEL = "ipcgrade"

# CAP_SETUID/SETGID: drop to the student uid; SYS_PTRACE: strace and /proc/PID/{fd,wchan,syscall};
# KILL: signal and kill student processes; DAC_OVERRIDE + CHOWN + FOWNER: prepare the student's
# files; IPC_OWNER: inspect the student's IPC objects.
HARNESS_CAPS = ["SETUID", "SETGID", "SYS_PTRACE", "KILL", "DAC_OVERRIDE", "CHOWN", "FOWNER", "IPC_OWNER"]


@dataclass(frozen=True)
class Limits:
    wall_seconds: int = 180          # whole harness run for one submission
    memory: str = "512m"
    pids: int = 256
    cpus: float = 1.0
    work_tmpfs: str = "64m"
    output_bytes: int = 8 << 20      # the harness's own answer
    runtime: str | None = None       # e.g. "runsc" (gVisor) when installed


@dataclass
class SandboxResult:
    exit_code: int | None
    stdout: bytes
    stderr: bytes
    timed_out: bool = False
    oom_killed: bool = False
    container_id: str = ""


@dataclass
class ActiveContainers:
    """Containers of this grader process, so Ctrl-C can kill them all at once."""
    ids: set = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def discard(self, cid):
        with self.lock:
            self.ids.discard(cid)

    def kill_all(self, client):
        with self.lock:
            ids = list(self.ids)
        for cid in ids:
            _remove(client, cid)


ACTIVE = ActiveContainers()


def _remove(client, cid: str) -> None:
    try:
        client.api.remove_container(cid, force=True)
    except NotFound:
        pass
    except (APIError, DockerException, requests.RequestException):
        pass


def container_config(image: str, command: list[str], submission: Path, limits: Limits) -> dict:
    """Keyword arguments for containers.create(); a pure function so tests can inspect it."""
    return dict(
        image=image, command=command, detach=True, init=True,
        network_mode="none", ipc_mode="private",
        mem_limit=limits.memory, memswap_limit=limits.memory, pids_limit=limits.pids,
        nano_cpus=int(limits.cpus * 1e9),
        read_only=True,
        tmpfs={"/work": f"size={limits.work_tmpfs},mode=755,exec",
               "/tmp": "size=16m,mode=1777,exec",
               "/run/ipcgrade": "size=128m,mode=700"},
        # A mount, not a volume: Docker must never create a missing source folder on the host.
        mounts=[Mount(target="/submission", source=str(submission.resolve()), type="bind", read_only=True)],
        security_opt=["no-new-privileges"],
        cap_drop=["ALL"], cap_add=HARNESS_CAPS,
        ulimits=[{"Name": "nofile", "Soft": 4096, "Hard": 4096}, {"Name": "core", "Soft": 0, "Hard": 0}],
        # A submission cannot make the kernel hold more than this in SysV objects.
        sysctls={"kernel.shmmax": str(64 << 20), "kernel.shmall": str((128 << 20) // 4096),
                 "kernel.shmmni": "256", "kernel.msgmni": "64", "kernel.msgmnb": "16384"},
        labels={LABEL: "grading", f"{LABEL}.owner": owner_label()},
        environment={"PYTHONDONTWRITEBYTECODE": "1"},
        stop_signal="SIGKILL",
        **({"runtime": limits.runtime} if limits.runtime else {}),
    )


def run_harness(client, image: str, submission: Path, assignment: str, limits: Limits = Limits(),
                visible_only: bool = False) -> SandboxResult:
    """Run the harness for one submission in a fresh container and return what it printed."""
    args = ["--assignment", assignment] + (["--visible-only"] if visible_only else [])
    return run_in_container(client, image, submission, ["python3", "-m", "grader.harness", *args], limits)


def run_in_container(client, image: str, mount: Path, command: list[str], limits: Limits = Limits()) -> SandboxResult:
    """Run `command` (a harness entry point) in a fresh container with `mount` at /submission (read-only).

    The container is removed whatever happens: normal exit, timeout, exception or Ctrl-C.
    """
    command = ["timeout", "-s", "KILL", str(limits.wall_seconds), *command]
    with ACTIVE.lock:  # clean_orphans must never see it created but not yet registered
        container = client.containers.create(**container_config(image, command, mount, limits))
        ACTIVE.ids.add(container.id)
    try:
        container.start()
        timed_out = False
        try:
            status = container.wait(timeout=limits.wall_seconds + 15)
            code = status.get("StatusCode")
        except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError):
            timed_out = True
            code = None
            try:
                container.kill()
            except (APIError, DockerException):
                pass
        state = client.api.inspect_container(container.id).get("State", {})
        oom = bool(state.get("OOMKilled"))
        if code == 137 and not oom:
            timed_out = True  # the in-container `timeout -s KILL` fired
        out = container.logs(stdout=True, stderr=False)[: limits.output_bytes]
        err = container.logs(stdout=False, stderr=True)[-20000:]
        return SandboxResult(code, out, err, timed_out, oom, container.id)
    finally:
        _remove(client, container.id)
        ACTIVE.discard(container.id)


def owner_label() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class ContainerInfo:
    id: str
    name: str
    labels: dict


def leftover_containers(client, mine_only: bool = False) -> list[ContainerInfo]:
    """Grading containers still present: all of them, or only this process's.

    Uses the plain list call: the high-level one inspects each container and
    fails when another grader removes one in the middle of the listing.
    """
    label = f"{LABEL}.owner={owner_label()}" if mine_only else LABEL
    rows = client.api.containers(all=True, filters={"label": label})
    return [ContainerInfo(r["Id"], (r.get("Names") or ["?"])[0].lstrip("/"), r.get("Labels") or {}) for r in rows]


def clean(client) -> int:
    """Remove every ipcgrade container (from crashed or killed runs)."""
    n = 0
    for c in leftover_containers(client):
        _remove(client, c.id)
        n += 1
    return n


def clean_orphans(client) -> int:
    """Remove containers whose grader is gone (it crashed or was killed), and this grader's own
    containers that no run is using any more (left when the daemon died under them)."""
    host, me = socket.gethostname(), owner_label()
    with ACTIVE.lock:
        return _clean_orphans(client, host, me)


def _clean_orphans(client, host: str, me: str) -> int:
    n = 0
    for c in leftover_containers(client):
        owner = c.labels.get(f"{LABEL}.owner", "")
        h, _, pid = owner.rpartition(":")
        dead_owner = h == host and pid.isdigit() and not _pid_alive(int(pid))
        mine_but_unused = owner == me and c.id not in ACTIVE.ids
        if dead_owner or mine_but_unused:
            _remove(client, c.id)
            n += 1
    return n


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
