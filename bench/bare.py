"""The bare run of one submission: its programs compiled on the host, then the very program
invocations the harness made (recorded by grader/harness/recording.py), with no container
and no tracer.

The replay keeps the harness's order and concurrency, not its waits: before each event it
waits only until every run has printed as many stdout lines (and has ended, if it had) as
the harness had seen at that moment, and the Unix sockets it had seen bound exist. A line
the harness passed from one run's stdout to another's stdin (a master's shmid) is replaced
by the bare run's own line. Reference programs in mix-and-match sessions run the same host
build (a correct submission is the reference). The harness's own changes to IPC
state (recorded "action" events: bounded-buffer's test buffers) are made again by calling the
same harness functions, so a program that needed them behaves as it did under the harness.

Stall guard: a wait that the bare programs cannot satisfy (output caused by the harness's own
socket or pipe traffic, which is not replayed) gives up after STALL_SECONDS and the run it
waited for is not waited for again; that time is left out of the figure and the number of such
stalls is reported. After MAX_STALLS stalls the replay is abandoned (`abandoned` in the result):
it no longer follows the harness, so its time means nothing, and it must never hang the bench.

Run as a script under `unshare --ipc` (bench.py does), so the replay's SysV and POSIX
message-queue objects live in a namespace of their own and vanish with it. As root it also
mounts a private tmpfs on /dev/shm (POSIX shm and named semaphores, which the IPC namespace
does not separate), so objects left on the host by someone else cannot make a producer refuse
to start, and the replay's own cannot outlive it.

    unshare --ipc python3 bench/bare.py RECORDING SRC PROGRAM,... CFLAGS [--repeats 3]
"""
from __future__ import annotations

import base64
import ctypes
import importlib
import inspect
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # run as a script: this tree's grader

from grader.harness.procfs import read_cmdline  # noqa: E402

CONTAINER_WORKDIR = "/work"          # the harness's --workdir: /work/sub (submission), /work/ref (reference)
STALL_SECONDS = 2.0
MAX_STALLS = 5
END_SECONDS = 10.0


RECORDED = {"file", "start", "send", "close", "signal", "kill", "action"}


def parse_recording(stdout: bytes) -> list[dict]:
    """The recorded events of a recording run: its stdout is the harness's own JSON lines, then the log."""
    lines = (json.loads(line) for line in stdout.decode(errors="replace").splitlines() if line.strip())
    return [e for e in lines if e.get("event") in RECORDED]


class _BareRun:
    def __init__(self, argv: list[str], cwd: str, env: dict):
        self.proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        self.lines: list[str] = []
        self.cond = threading.Condition()
        self.eof = False
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self):
        for raw in self.proc.stdout:
            with self.cond:
                self.lines.append(raw.decode(errors="replace").rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.eof = True
            self.cond.notify_all()

    def reached(self, lines: int, ended: bool) -> bool:
        return len(self.lines) >= lines and (not ended or (self.proc.poll() is not None and self.eof))

    def kill(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


@dataclass
class Replay:
    seconds: float = 0.0
    stalls: int = 0
    stalled_seconds: float = 0.0
    runs: int = 0
    abandoned: bool = False
    notes: list[str] = field(default_factory=list)


def _descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/task/{p}/children") as f:
                kids = [int(k) for k in f.read().split()]
        except OSError:
            kids = []
        out += kids
        todo += kids
    return out


def private_dev_shm() -> bool:
    """A mount namespace of this process's own with a fresh tmpfs on /dev/shm (root only)."""
    if os.geteuid() != 0:
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    clone_newns, ms_rec, ms_private = 0x00020000, 0x4000, 0x40000
    return (libc.unshare(clone_newns) == 0
            and libc.mount(b"none", b"/", None, ms_rec | ms_private, None) == 0
            and libc.mount(b"tmpfs", b"/dev/shm", b"tmpfs", 0, b"mode=1777,size=64m") == 0)


class _RunView:
    """A bare run as the harness's helpers see a Run (pid, alive, wait, label)."""

    def __init__(self, run: _BareRun):
        self.run, self.pid, self.label = run, run.proc.pid, " ".join(run.proc.args)

    def alive(self) -> bool:
        return self.run.proc.poll() is None

    def wait(self, timeout: float):
        try:
            return self.run.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None


def _decoded(value, runs: dict):
    """Recorded arguments back to Python (grader.harness.recording._jsonable: dicts, runs)."""
    if isinstance(value, dict):
        if "run" in value:
            return _RunView(runs[value["run"]])
        return {_decoded(k, runs): _decoded(v, runs) for k, v in value["items"]}
    if isinstance(value, list):
        return [_decoded(v, runs) for v in value]
    return value


def harness_action(e: dict, runs: dict, out: Replay) -> None:
    """The harness's own IPC-state change (or wait for a program's progress), made again. Everything
    in the replay runs as one uid; what the harness knew had happened, the replay waits for (at most
    STALL_SECONDS: a wait in vain is a stall)."""
    func = getattr(importlib.import_module(e["module"]), e["function"])
    args = _decoded(e["args"], runs)
    if args.get("uid") is not None:
        args["uid"] = os.geteuid()
    args.update({name: STALL_SECONDS for name in ("wait", "timeout") if name in inspect.signature(func).parameters})
    t0 = time.monotonic()
    try:
        done = func(**args) is not False
    except Exception as exc:        # the bare world is not where the harness's was: a stall, not a crash
        done, args = False, f"{type(exc).__name__}: {exc}"
    if not done:
        out.stalls += 1
        out.stalled_seconds += time.monotonic() - t0
        out.notes.append(f"{e['function']} waited in vain" + (f" ({args})" if isinstance(args, str) else ""))


def _posix_shm() -> set[str]:
    """POSIX shm and named semaphores: /dev/shm is the host's, not the IPC namespace's."""
    return set(os.listdir("/dev/shm")) if os.path.isdir("/dev/shm") else set()


def _remove_posix_shm(names: set[str]) -> None:
    for name in names:
        try:
            os.unlink(os.path.join("/dev/shm", name))
        except OSError:
            pass


def build(src: Path, programs: list[str], cflags: str, dest: Path) -> None:
    for p in programs:
        subprocess.run(["gcc", *cflags.split(), "-o", str(dest / p), str(src / f"{p}.c")], check=True)


def _wait_for(e: dict, runs: dict, host, out: Replay, lost: set) -> None:
    """Wait, at most STALL_SECONDS, until the runs are where the harness saw them before event `e`."""
    t_wait = time.monotonic()
    deadline = t_wait + STALL_SECONDS
    what = f"{e['event']}" + (f" of run {e['run']}" if "run" in e else f" {e.get('function')}")

    def stalled(why: str) -> None:
        out.stalls += 1
        out.stalled_seconds += time.monotonic() - t_wait
        out.notes.append(f"{what} waited in vain for {why}")

    for path in map(host, e.get("sockets", [])):
        while not os.path.exists(path) and time.monotonic() < deadline:
            time.sleep(0.002)
        if not os.path.exists(path):
            return stalled(path)
    for rid, (lines, ended) in enumerate(e.get("seen", [])):
        run = runs.get(rid)
        if run is None or rid in lost:
            continue
        with run.cond:
            while not run.reached(lines, ended) and time.monotonic() < deadline:
                run.cond.wait(0.01)
            if not run.reached(lines, ended):
                lost.add(rid)
                return stalled(f"run {rid}")


def replay_once(events: list[dict], src: Path, programs: list[str], cflags: str) -> Replay:
    """Compile, then replay; the clock runs from the first gcc to the last program's end."""
    out = Replay()
    root = Path(tempfile.mkdtemp(prefix="ib", dir="/tmp"))     # short: socket paths live under it
    shm_before = _posix_shm()
    runs: dict[int, _BareRun] = {}
    lost: set = set()                 # runs a wait gave up on: not waited for again
    try:
        for e in events:                                          # grader-made files: not timed
            if e["event"] == "file" and not e["path"].startswith((f"{CONTAINER_WORKDIR}/sub/",
                                                                   f"{CONTAINER_WORKDIR}/ref/")):
                target = root / os.path.relpath(e["path"], CONTAINER_WORKDIR)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(base64.b64decode(e["data"]))
                target.chmod(e["mode"])
        (root / "sub").mkdir()
        (root / "ref").mkdir()

        def host(s: str) -> str:
            if s == CONTAINER_WORKDIR or s.startswith(CONTAINER_WORKDIR + "/"):
                s = str(root) + s[len(CONTAINER_WORKDIR):]
            return s.replace(f"{root}/ref/", f"{root}/sub/")

        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(root), "LANG": "C.UTF-8",
               "PYTHONDONTWRITEBYTECODE": "1"}
        t0 = time.monotonic()
        build(src, programs, cflags, root / "sub")
        for e in events:
            if e["event"] == "file":
                continue
            _wait_for(e, runs, host, out, lost)
            if out.stalls >= MAX_STALLS:
                out.abandoned = True
                out.notes.append(f"abandoned after {out.stalls} stalls: the replay no longer follows the harness")
                break
            kind = e["event"]
            if kind == "action":
                harness_action(e, runs, out)
                continue
            if kind == "start":
                runs[e["run"]] = _BareRun([host(a) for a in e["argv"]], host(e["cwd"]), {**env, **e["env"]})
                out.runs += 1
                continue
            run = runs[e["run"]]
            if kind == "send":
                data = base64.b64decode(e["data"]).decode(errors="surrogateescape")
                if e["refs"]:
                    lines = data.split("\n")
                    for rid, n, text in e["refs"]:
                        bare = runs[rid].lines[n] if n < len(runs[rid].lines) else text
                        lines = [bare if line == text else line for line in lines]
                    data = "\n".join(lines)
                try:
                    run.proc.stdin.write(data.encode(errors="surrogateescape"))
                    run.proc.stdin.flush()
                except (BrokenPipeError, OSError):
                    pass
            elif kind == "close":
                try:
                    run.proc.stdin.close()
                except OSError:
                    pass
            elif kind == "signal":
                target = run.proc.pid if e["main"] else next(
                    (p for p in _descendants(run.proc.pid) if read_cmdline(p) == [host(a) for a in e["cmdline"]]), None)
                if target is None:
                    out.notes.append(f"signal {e['signum']} for run {e['run']}: no process {e['cmdline']}")
                else:
                    os.kill(target, e["signum"])
            elif kind == "kill":
                run.kill()
        end = time.monotonic() + (0 if out.abandoned else END_SECONDS)
        for run in runs.values():
            try:
                run.proc.wait(timeout=max(0.0, end - time.monotonic()))
            except subprocess.TimeoutExpired:
                out.notes.append(f"run {run.proc.args} did not end on its own")
        out.seconds = time.monotonic() - t0 - out.stalled_seconds
        return out
    finally:
        for run in runs.values():
            run.kill()
            run.proc.wait()
        _remove_posix_shm(_posix_shm() - shm_before)
        shutil.rmtree(root, ignore_errors=True)


def replay(events: list[dict], src: Path, programs: list[str], cflags: str, repeats: int = 3) -> Replay:
    """The fastest of `repeats` replays (the bare run's own best case, as the harness's is its median);
    one that stalled (or was abandoned) only if every one did."""
    return min((replay_once(events, src, programs, cflags) for _ in range(repeats)),
               key=lambda r: (r.abandoned, r.stalls > 0, r.seconds))


def main() -> int:
    import argparse
    from dataclasses import asdict
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("recording", type=Path, help="stdout of a recording harness run")
    ap.add_argument("src", type=Path, help="the C sources to compile")
    ap.add_argument("programs", help="comma-separated program names")
    ap.add_argument("cflags")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    if not private_dev_shm():
        print("bare.py: no private /dev/shm (not root?): POSIX objects on the host may disturb the replay",
              file=sys.stderr)
    events = parse_recording(args.recording.read_bytes())
    best = replay(events, args.src, args.programs.split(","), args.cflags, args.repeats)
    print(json.dumps(asdict(best)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
