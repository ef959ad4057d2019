"""The Docker runner: one disposable container per submission, removed whatever happens.

Every limit is enforced twice: cgroup limits on the container (memory, pids,
CPU) plus rlimits inside it, and a wall-clock limit both inside (`timeout`
around the harness) and on the host (kill after the deadline). The container
has no network, a read-only root, tmpfs scratch space, no new privileges and
only the capabilities the harness needs to trace and supervise the student uid.

Docker's failures are told apart by what they are, never by their wording: a
missing image is `ImageNotFound`; an image that cannot run the harness either
leaves the runtime's error in the container's `State.Error` (the container never
started) or makes the container exit with 126/127 (the shell convention for a
command that could not be executed: tini or `timeout` found nothing to run);
anything else the daemon or its connection does is `DockerUnavailable`.

In a batch, a submission's container is *warm*: created and started while the
previous submission is being graded, with an empty /submission and the harness
already loaded, waiting for its start signal (a file in a second read-only
mount, /start, that the student cannot read). `run` fills the folder behind
/submission, then creates the signal; the harness's wall limit counts from there.
Each warm container serves exactly one submission, and its folder is filled only
when its own run starts, so no student ever sees another's files. Finished
containers are removed in the background; closing the runner (or `cancel()`)
waits for that and removes the warm ones too, so nothing is left behind.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import requests
from docker.errors import APIError, DockerException, ImageNotFound, NotFound
from docker.types import Mount

from grader.discover.staging import stage_into, staged_copy
from grader.locations import Locations
from grader.run import dockerenv
from grader.run.dockerenv import DockerUnavailable
from grader.run.image import ensure_image
from grader.run.runners import Limits, RunResult, SharedOpen, harness_args

LABEL = "ipcgrade"
RUNNER_LABEL = f"{LABEL}.runner"

# CAP_SETUID/SETGID: drop to the student uid; SYS_PTRACE: strace and /proc/PID/{fd,wchan,syscall};
# KILL: signal and kill student processes; DAC_OVERRIDE + CHOWN + FOWNER: prepare the student's
# files; IPC_OWNER: inspect the student's IPC objects.
HARNESS_CAPS = ["SETUID", "SETGID", "SYS_PTRACE", "KILL", "DAC_OVERRIDE", "CHOWN", "FOWNER", "IPC_OWNER"]
# Exit statuses of a command that could not be executed at all (126: not executable, 127: not found),
# from tini or from `timeout`; the harness itself never exits with them.
CANNOT_EXECUTE = (126, 127)

SandboxResult = RunResult        # the old name
# Where a warm container looks for its start signal, and how old a warm container may get before it is
# replaced rather than used (its harness gives up waiting after grader.harness.__main__.IDLE_SECONDS).
START_DIR = "/start"
START_FILE = f"{START_DIR}/go"
WARM_MAX_AGE = 300.0


class GradingImageMissing(DockerUnavailable):
    """The image vanished or cannot run the harness: every remaining submission would fail the same way."""


# Runners of this process that are open: their containers are in use, every other container
# this process labelled is an orphan (left when the daemon died under a run).
_OPEN_RUNNERS: set[str] = set()
_OPEN_LOCK = threading.Lock()


class DockerRunner(SharedOpen):
    """The grading runner (see grader.run.runners.Runner): owns its client, image, limits and containers.

    Entering connects to the daemon (unless given a client), makes sure the grading
    image exists (unless given one) and removes orphaned containers; leaving removes
    every container it still has, so Ctrl-C leaves nothing running.
    """

    def __init__(self, limits: Limits = Limits(), *, client=None, image: str | None = None,
                 where: Locations | None = None, warm: bool = True):
        self.limits = limits
        self.client = client
        self.image = image
        self.where = where      # which assignments the image must hold (None: the bundled ones)
        self.warm = warm        # start each run's successor while it runs (False: one cold container per run)
        self.token = uuid.uuid4().hex[:16]
        self._active: set[str] = set()
        self._lock = threading.Lock()
        self._ready: dict[tuple[str, bool], list[_Warm]] = {}   # started, waiting for a submission
        self._generation = 0            # bumped by cancel(): what was being prepared before is discarded
        self._to_come: int | None = None    # runs announced by expect() and not begun (None: unknown)
        self._starting: dict[tuple[str, bool], int] = {}    # warm containers being started, per key
        self._background: set[threading.Thread] = set()

    def _open(self) -> None:
        if self.client is None:
            self.client = dockerenv.client()
        if self.image is None:
            self.image = ensure_image(self.client, self.where)
        with _OPEN_LOCK:
            _OPEN_RUNNERS.add(self.token)
        clean_orphans(self.client)

    def _close(self) -> None:
        self.cancel()
        self._settle()      # removals and warm starts still in flight: wait, then remove what they left
        self.cancel()
        with _OPEN_LOCK:
            _OPEN_RUNNERS.discard(self.token)
        with self._lock:
            self._to_come = None

    def cancel(self) -> None:
        with self._lock:
            self._generation += 1
            ids = list(self._active)
            ready = [w for waiting in self._ready.values() for w in waiting]
            self._ready.clear()
        for cid in ids:
            _remove(self.client, cid)
        for w in ready:
            self._dispose(w)

    def run(self, submission: Path, assignment: str, visible_only: bool = False) -> RunResult:
        if not self.warm:
            with staged_copy(submission) as clean:
                return self.run_command(clean, harness_args(assignment, visible_only))
        key = (assignment, visible_only)
        warm = self._take_ready(key) or self._guarded(lambda: self._start_warm(key))
        with self._lock:
            if self._to_come is not None:
                self._to_come = max(0, self._to_come - 1)
            ahead = len(self._ready.get(key, ())) + self._starting.get(key, 0)
            successor = self._to_come is None or self._to_come > ahead
            if successor:
                self._starting[key] = self._starting.get(key, 0) + 1
        if successor:
            self._in_background(self._replenish, key, self._generation)
        try:
            stage_into(submission, warm.slot / "submission")
            (warm.slot / "start" / "go").touch()
            return self._guarded(lambda: self._collect_until_end(warm.container))
        finally:
            self._in_background(self._dispose, warm)

    def prepare(self, assignment: str, visible_only: bool = False) -> None:
        """Wait until a warm container for this assignment is ready (the state a batch's next run finds)."""
        self._settle()
        key = (assignment, visible_only)
        with self._lock:
            if self._ready.get(key):
                return
        warm = self._guarded(lambda: self._start_warm(key))
        with self._lock:
            self._ready.setdefault(key, []).append(warm)

    def _settle(self) -> None:
        """Wait for the removals and warm starts in flight."""
        while True:
            with self._lock:
                threads = list(self._background)
            if not threads:
                return
            for t in threads:
                t.join()

    # ---------------------------------------------------------------- warm containers
    def _start_warm(self, key: tuple[str, bool]) -> _Warm:
        """A started container for `key` whose harness waits for its submission."""
        assignment, visible_only = key
        slot = Path(tempfile.mkdtemp(prefix="ipcgrade-slot-"))
        (slot / "submission").mkdir()
        (slot / "start").mkdir(mode=0o700)       # the signal: root in the container reads it, the student cannot
        os.chmod(slot, 0o755)
        command = [*harness_args(assignment, visible_only), "--wait-for", START_FILE,
                   "--wall-seconds", str(self.limits.wall_seconds)]
        config = container_config(self.image, command, slot / "submission", self.limits)
        config["mounts"].append(Mount(target=START_DIR, source=str((slot / "start").resolve()), type="bind",
                                      read_only=True))
        try:
            container = self._create(config)
        except BaseException:
            shutil.rmtree(slot, ignore_errors=True)
            raise
        warm = _Warm(container, slot, time.monotonic())
        try:
            self._start(container)
        except BaseException:
            self._dispose(warm)
            raise
        return warm

    def _take_ready(self, key: tuple[str, bool]) -> _Warm | None:
        """A warm container for `key` that is still young and running, if one is ready."""
        while True:
            with self._lock:
                waiting = self._ready.get(key)
                warm = waiting.pop(0) if waiting else None
            if warm is None:
                return None
            try:
                running = _state(self.client, warm.container.id).get("Running")
            except (DockerException, requests.RequestException):
                running = False
            if running and time.monotonic() - warm.born < WARM_MAX_AGE:
                return warm
            self._in_background(self._dispose, warm)

    def expect(self, runs: int) -> None:
        """A batch is about to ask for `runs` runs: warm containers are started for those only."""
        with self._lock:
            self._to_come = (self._to_come or 0) + runs

    def _replenish(self, key: tuple[str, bool], generation: int) -> None:
        """Start the next run's container now; a failure here is met again, and reported, by that run."""
        warm = None
        try:
            warm = self._start_warm(key)
        except Exception:
            pass
        with self._lock:
            self._starting[key] -= 1
            if warm is not None and generation == self._generation:
                self._ready.setdefault(key, []).append(warm)
                return
        if warm is not None:
            self._dispose(warm)         # cancelled meanwhile

    def _dispose(self, warm: _Warm) -> None:
        _remove(self.client, warm.container.id)
        with self._lock:
            self._active.discard(warm.container.id)
        shutil.rmtree(warm.slot, ignore_errors=True)

    def _in_background(self, fn, *args) -> None:
        def body():
            try:
                fn(*args)
            finally:
                with self._lock:
                    self._background.discard(threading.current_thread())
        t = threading.Thread(target=body, name="ipcgrade-runner", daemon=True)
        with self._lock:
            self._background.add(t)
        t.start()

    def run_command(self, mount: Path, command: list[str]) -> RunResult:
        """Run `command` (a harness entry point) in a fresh container with `mount` at /submission
        (read-only). The container is removed whatever happens: exit, timeout, exception or Ctrl-C."""
        return self._guarded(lambda: self._run_container(mount, command))

    def _guarded(self, step):
        """`step()`, with Docker's failures told apart (see the module's docstring)."""
        try:
            res = step()
        except ImageNotFound:
            raise GradingImageMissing(f"the grading image {self.image} is missing (removed during the batch?); "
                                      "rerun and it will be rebuilt") from None
        except (DockerException, requests.RequestException) as e:
            raise DockerUnavailable(f"the Docker daemon failed: {e}") from None
        if isinstance(res, RunResult) and res.exit_code in CANNOT_EXECUTE:
            raise self._broken(res.stderr.decode(errors="replace").strip()[:200])
        return res

    def _broken(self, detail: str) -> GradingImageMissing:
        return GradingImageMissing(f"the grading image {self.image} is broken ({detail}); "
                                   "rebuild it with `grade image build --force`")

    def _run_container(self, mount: Path, command: list[str]) -> RunResult:
        command = ["timeout", "-s", "KILL", str(self.limits.wall_seconds), *command]
        config = container_config(self.image, command, mount, self.limits)
        container = self._create(config)
        try:
            self._start(container)
            return self._collect(container)
        finally:
            _remove(self.client, container.id)
            with self._lock:
                self._active.discard(container.id)

    def _create(self, config: dict):
        config["labels"][RUNNER_LABEL] = self.token
        with self._lock:  # cancel() must never miss a container that exists
            container = self.client.containers.create(**config)
            self._active.add(container.id)
        return container

    def _start(self, container) -> None:
        try:
            container.start()
        except APIError:
            refused = _state(self.client, container.id).get("Error")
            if refused:   # the runtime could not start the command: the image cannot run the harness
                raise self._broken(refused) from None
            raise

    def _collect(self, container) -> RunResult:
        """Wait for the harness (at most the wall limit, plus a margin), then take its output."""
        client, limits = self.client, self.limits
        timed_out = False
        try:
            status = container.wait(timeout=limits.wall_seconds + 15)
            code = status.get("StatusCode")
        except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError):
            timed_out = True
            code = None
            _kill(container)
        oom = bool(_state(client, container.id).get("OOMKilled"))
        if code == 137 and not oom:
            timed_out = True  # the wall limit inside the container (`timeout -s KILL` or the harness's own) fired
        out = container.logs(stdout=True, stderr=False)[: limits.output_bytes]
        err = container.logs(stdout=False, stderr=True)[-20000:]
        return RunResult(code, out, err, timed_out, oom, container.id)


    def _collect_until_end(self, container) -> RunResult:
        """The harness's lines as they come, returned at its end line, without waiting for the container
        to exit (0.05 to 0.4 s more; its removal happens off the critical path). The harness exits 0 right
        after that line. Without one (a limit or a crash ended it, or it said too much) this falls back
        to `_collect`, which waits for the exit and reads both streams."""
        deadline = threading.Timer(self.limits.wall_seconds + 15, _kill, (container,))
        deadline.daemon = True
        deadline.start()
        out = bytearray()
        stream = container.logs(stdout=True, stderr=False, stream=True, follow=True)
        try:
            for chunk in stream:
                out += chunk
                if len(out) > self.limits.output_bytes:
                    break
                if out.endswith(b"\n") and _is_end(out[out.rfind(b"\n", 0, -1) + 1:]):
                    return RunResult(0, bytes(out), b"", container_id=container.id)
        finally:
            deadline.cancel()
            close = getattr(stream, "close", None)   # the daemon connection it holds goes back at once
            if close is not None:
                close()
        return self._collect(container)


def _is_end(line: bytes) -> bool:
    try:
        return json.loads(line).get("event") == "end"
    except (ValueError, AttributeError):
        return False


def _kill(container) -> None:
    try:
        container.kill()
    except (APIError, DockerException, requests.RequestException):
        pass


@dataclass
class _Warm:
    """A started container waiting for its submission: `slot` on the host holds submission/ and start/."""
    container: object
    slot: Path
    born: float


def _state(client, cid: str) -> dict:
    return client.api.inspect_container(cid).get("State", {})


def _remove(client, cid: str) -> None:
    try:
        client.api.remove_container(cid, force=True)
    except NotFound:
        pass
    except (APIError, DockerException, requests.RequestException):
        pass


def run_harness(client, image: str, submission: Path, assignment: str, limits: Limits = Limits(),
                visible_only: bool = False) -> RunResult:
    """One harness run in a runner of its own (for scripts; a batch keeps one runner open)."""
    with DockerRunner(limits, client=client, image=image) as box:
        return box.run_command(submission, harness_args(assignment, visible_only))


def run_in_container(client, image: str, mount: Path, command: list[str], limits: Limits = Limits()) -> RunResult:
    """Run `command` in a fresh container with `mount` at /submission, in a runner of its own."""
    with DockerRunner(limits, client=client, image=image) as box:
        return box.run_command(mount, command)


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
    containers that no open runner is using (left when the daemon died under them)."""
    host, me = socket.gethostname(), owner_label()
    n = 0
    for c in leftover_containers(client):
        owner = c.labels.get(f"{LABEL}.owner", "")
        h, _, pid = owner.rpartition(":")
        dead_owner = h == host and pid.isdigit() and not _pid_alive(int(pid))
        with _OPEN_LOCK:
            mine_but_unused = owner == me and c.labels.get(RUNNER_LABEL) not in _OPEN_RUNNERS
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
