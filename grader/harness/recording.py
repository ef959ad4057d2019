"""Opt-in log of every program run the harness starts, for the benchmark's bare replay.

bench/bench.py compares one submission's grading time with the *bare run* of the
same program invocations (no container, no tracer). Rather than restating each
assignment's sessions, it asks the harness what it ran: with
IPCGRADE_RECORD_RUNS=FILE in the harness's environment, every program start, every
write to and close of its stdin, and every signal or kill aimed at its processes is
appended to FILE as one JSON line. Each event carries what the harness had seen by
then (stdout lines of each run, which runs had ended), so a replay can keep the same
order and concurrency without the harness's own waits, and names the earlier output
lines a write to stdin passes on (a master's shmid handed to its slave) so a replay
can pass the bare run's lines instead (not done for argv, where a short number such
as a count would match too much). Files the harness made for a run (data, helper tools) are
embedded once. So are the harness's own changes to IPC state that a run depends on (ACTIONS:
bounded-buffer's test buffers, made with posix_ipc, and the values the harness puts in them): a
replay makes the same calls at the same point. Without the variable nothing is wrapped: zero cost.
"""
from __future__ import annotations

import base64
import functools
import importlib
import inspect
import json
import os
import signal
import threading

from . import procfs

ENV = "IPCGRADE_RECORD_RUNS"
EMBED_CAP = 4 << 20      # bytes of one embedded file
# Harness functions that change IPC state the programs see, by module: recorded with their arguments.
# A wait for a program's own progress (semtrace.settled) is one too: a replay waits for the same.
ACTIONS = {"grader.harness.posix": ("make_buffer", "remove", "act"), "grader.harness.semtrace": ("settled",)}


class _Recorder:
    def __init__(self, path: str):
        self.path = path
        self.runs: list = []            # every Run started, in order; index = run id
        self.embedded: set[str] = set()
        self.lock = threading.RLock()

    def write(self, event: dict) -> None:
        with open(self.path, "a") as f:
            f.write(json.dumps(event) + "\n")

    def seen(self) -> list[list]:
        """[stdout lines seen, ended] for every run so far."""
        out = []
        for run in self.runs:
            proc = getattr(run, "proc", None)
            ended = getattr(run, "_rc", None) is not None or (proc is not None and proc.poll() is not None)
            data = bytes(run._out.data) if hasattr(run, "_out") else b""
            out.append([data.count(b"\n"), ended])
        return out

    def sockets(self, cwd: str) -> list[str]:
        """Unix sockets in the run's folder held open by the runs' processes (a server listening):
        what the harness may have waited for before this event, so a replay waits for the same.
        Sockets the harness made itself (a stale file, a silent server) are not the programs' work."""
        inodes = set()
        for run in self.runs:
            if not hasattr(run, "proc") or run.proc.poll() is not None:
                continue
            for pid in run.tree():
                try:
                    links = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
                except OSError:
                    continue
                inodes |= {link[8:-1] for link in links if link.startswith("socket:[")}
        try:
            with open("/proc/net/unix") as f:
                rows = [line.split() for line in f.read().splitlines()[1:]]
        except OSError:
            return []
        return sorted({r[7] for r in rows if len(r) >= 8 and r[6] in inodes and r[7].startswith(cwd + "/")})

    def refs(self, items: list[str]) -> list[list]:
        """[run id, line index] of earlier stdout lines that appear verbatim among `items`."""
        wanted = {i for i in items if i.strip()}
        found = []
        for rid, run in enumerate(self.runs):
            if not hasattr(run, "_out"):
                continue
            for n, line in enumerate(bytes(run._out.data).decode(errors="replace").splitlines()):
                if line in wanted:
                    found.append([rid, n, line])
        return found

    def embed(self, argv: list[str], root: str) -> None:
        """Files under the harness's work folder named on the command line (grader-made data, tools)."""
        for arg in argv:
            path = os.path.abspath(arg) if arg.startswith("/") else None
            if not path or path in self.embedded or not path.startswith(root + "/") or not os.path.isfile(path):
                continue
            if os.path.getsize(path) > EMBED_CAP:
                continue
            self.embedded.add(path)
            with open(path, "rb") as f:
                data = f.read()
            self.write({"event": "file", "path": path, "mode": os.stat(path).st_mode & 0o777,
                        "data": base64.b64encode(data).decode()})

    def run_of(self, pid: int):
        for rid, run in enumerate(self.runs):
            if getattr(run, "pid", None) == pid:
                return rid, True
        for rid, run in enumerate(self.runs):
            if hasattr(run, "proc") and run.proc.poll() is None and pid in run.tree():
                return rid, False
        return None, False


def install(run_class) -> None:
    """Wrap Run's start, stdin and os.kill when IPCGRADE_RECORD_RUNS is set; otherwise do nothing."""
    path = os.environ.get(ENV)
    if not path:
        return
    rec = _Recorder(path)
    init, send, close, kill = run_class.__init__, run_class.send, run_class.close_stdin, os.kill
    sig = inspect.signature(init)

    def recorded_init(self, *args, **kwargs):
        a = sig.bind(self, *args, **kwargs)
        a.apply_defaults()
        argv, cwd = [str(x) for x in a.arguments["argv"]], a.arguments["cwd"]
        with rec.lock:
            rec.embed(argv, os.path.dirname(os.path.abspath(cwd)))
            rid = len(rec.runs)
            rec.write({"event": "start", "run": rid, "label": a.arguments["label"], "argv": argv, "cwd": cwd,
                       "env": a.arguments.get("extra_env") or {}, "inject": list(a.arguments.get("inject") or ()),
                       "traced": a.arguments.get("trace_set") is not None, "seen": rec.seen(),
                       "sockets": rec.sockets(cwd)})
            rec.runs.append(self)
            self._record_id, self._record_cwd = rid, cwd
        init(self, *args, **kwargs)

    def recorded_send(self, data):
        raw = data.encode() if isinstance(data, str) else bytes(data)
        with rec.lock:
            rec.write({"event": "send", "run": self._record_id, "data": base64.b64encode(raw).decode(),
                       "seen": rec.seen(), "refs": rec.refs(raw.decode(errors="replace").splitlines())})
        return send(self, data)

    def recorded_close(self):
        with rec.lock:
            rec.write({"event": "close", "run": self._record_id, "seen": rec.seen()})
        return close(self)

    def recorded_kill(pid, signum):
        if signum:
            with rec.lock:
                rid, main = rec.run_of(pid)
                run = rec.runs[rid] if rid is not None else None
                if run is not None and signum == signal.SIGKILL:
                    if not getattr(run, "_record_killed", False):
                        run._record_killed = True
                        rec.write({"event": "kill", "run": rid, "seen": rec.seen(),
                                   "sockets": rec.sockets(run._record_cwd)})
                elif run is not None:
                    cmdline = [] if main else procfs.read_cmdline(pid)
                    rec.write({"event": "signal", "run": rid, "signum": int(signum), "main": main,
                               "cmdline": cmdline, "seen": rec.seen(),
                               "sockets": rec.sockets(run._record_cwd)})
        return kill(pid, signum)

    run_class.__init__, run_class.send, run_class.close_stdin = recorded_init, recorded_send, recorded_close
    os.kill = recorded_kill
    for module_name, names in ACTIONS.items():
        module = importlib.import_module(module_name)
        for name in names:
            setattr(module, name, _recorded_action(rec, module_name, name, getattr(module, name)))


def _jsonable(value):
    """JSON for recorded arguments: tuples as lists, dicts (whose keys may be ints: offsets) as
    {"items": [[key, value], ...]} and a Run as {"run": its id}, which bench/bare.py turns back."""
    if hasattr(value, "_record_id"):
        return {"run": value._record_id}
    if isinstance(value, dict):
        return {"items": [[_jsonable(k), _jsonable(v)] for k, v in value.items()]}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _recorded_action(rec: _Recorder, module: str, name: str, func):
    """`func` logging an "action" event (its module, name and JSON arguments) before each call."""
    @functools.wraps(func)
    def recorded(*args, **kwargs):
        bound = inspect.signature(func).bind(*args, **kwargs)
        with rec.lock:
            rec.write({"event": "action", "module": module, "function": name,
                       "args": _jsonable(bound.arguments), "seen": rec.seen()})
        return func(*args, **kwargs)
    return recorded
