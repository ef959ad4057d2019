"""Run one `grade audit` scenario and observe it: the live half of the audit.

Processes start as the scenario says (at once, after a line on another's
stdout, after a delay), signals are sent, and a monitor thread measures every
student process in short windows with the blocking probe (CPU-to-wall ratio
and wake-ups) while sampling /proc for zombies. The run ends when every
process has ended, when everything left is blocked with nothing scheduled
(stuck), or at the time limit. Then, before anything is killed, processes
sleeping on a pipe are examined (who holds the other end, and is it idle?);
processes still running get SIGTERM, then SIGKILL; and what is left in the
IPC namespace, /dev/shm and /dev/mqueue is recorded. The verdicts are made
afterwards, from this Observation, by the rules in grader.audit.container.findings.
"""
from __future__ import annotations

import os
import re
import signal
import stat
import threading
import time
from dataclasses import dataclass, field

from grader.audit.container.observation import (
    Observation,
    PeerEnd,
    PipeWait,
    PosixObject,
    ProcessRun,
    StuckProcess,
    Window,
)
from grader.harness import diagnose, pipes, procfs, waits
from grader.harness import trace as tracemod
from grader.harness.context import CheckContext
from grader.harness.spawn import DEFAULT_TRACE, Run
from grader.harness.trace import Trace

# The default set, plus what the audit judges: pipe reads, fd bookkeeping,
# POSIX objects, naps and yields (busy-wait evidence).
AUDIT_TRACE = DEFAULT_TRACE + (",read,readv,writev,splice,tee,sendfile,fcntl,ioctl,close_range,openat,link,linkat,"
                               "rename,renameat,renameat2,mq_open,mq_unlink,mq_timedsend,mq_timedreceive,mq_notify,"
                               "mq_getsetattr,nanosleep,clock_nanosleep,sched_yield")
WINDOW = 0.5                   # seconds per blocking-probe window (docs/audit.md)
STUCK_ROUNDS = 2               # consecutive windows (1 s) with every process asleep untimed and no traced call
TERM_GRACE = 1.5               # seconds between SIGTERM and SIGKILL at the end
TICK = 0.03
POSIX_DIRS = ("/dev/shm", "/dev/mqueue")
PIPE_SYSCALLS_X86_64 = {0: "read", 1: "write", 19: "read", 20: "write"}
_PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_.-]+):(\d+)\}")
_SUN_PATH = re.compile(r'sun_path="([^"]+)"')


THIN_BUCKET = 0.01            # keep one failed poll per (pid, call, errno) per 10 ms
_THIN = re.compile(r"^(\d+)\s+(\d\d):(\d\d):(\d\d(?:\.\d+)?) ([a-z_0-9]+)\(.*\)\s+= "
                   r"(?:-1 (EAGAIN|ENOMSG|EWOULDBLOCK|ETIMEDOUT) |0$)")


def read_trace(path: str | None) -> tuple[Trace, dict[tuple[int, str, str], int]]:
    """Parse a trace file, thinning out floods of failed polls (a busy poller makes ~100k a second).

    Returns the trace and how many polls were dropped per (pid, call, errno), so
    evidence can still say how hard a process polled without holding every line.
    """
    kept, dropped, last = [], {}, {}
    try:
        with open(path or "", errors="replace") as f:
            for line in f:
                m = _THIN.match(line)
                if m and (m.group(6) or m.group(5) in ("sched_yield", "wait4")):
                    key = (int(m.group(1)), m.group(5), m.group(6) or "0")
                    bucket = int((int(m.group(2)) * 3600 + int(m.group(3)) * 60 + float(m.group(4))) / THIN_BUCKET)
                    if last.get(key) == bucket:
                        dropped[key] = dropped.get(key, 0) + 1
                        continue
                    last[key] = bucket
                kept.append(line)
    except OSError:
        pass
    return tracemod.parse("".join(kept)), dropped


def now() -> float:
    """Seconds since midnight, the clock strace -tt prints (the container runs in UTC)."""
    return time.time() % 86400


@dataclass
class _Pending:
    kind: str                  # "start" or "signal"
    spec: dict
    index: int
    triggered: float | None = None   # monotonic time the `after` condition came true


@dataclass
class _Monitor:
    uid: int | None
    windows: list[Window] = field(default_factory=list)
    latest: dict[int, Window] = field(default_factory=dict)
    zombies: dict[int, str] = field(default_factory=dict)
    rounds: int = 0
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def student_pids(self) -> list[int]:
        return [p for p in procfs.pids_of_uid(self.uid) if p != os.getpid()] if self.uid is not None else []

    def run(self) -> None:
        while not self.stop.is_set():
            pids = []
            for pid in self.student_pids():
                st = procfs.read_stat(pid)
                if st is None:
                    continue
                if st.state == "Z":
                    self.zombies.setdefault(pid, f"pid {pid} ({st.comm}): state Z, {procfs.STATE_NAMES['Z']}; "
                                                 f"parent pid {st.ppid}")
                else:
                    pids.append(pid)
            if not pids:
                time.sleep(TICK)
                continue
            results: dict[int, tuple[float, float, waits.BlockingSample]] = {}

            def probe(pid: int, into: dict = results) -> None:
                t0 = now()
                sample = waits.measure(pid, WINDOW, fast=False)
                into[pid] = (t0, now(), sample)

            threads = [threading.Thread(target=probe, args=(p,), daemon=True) for p in pids]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            with self.lock:
                for pid, (t0, t1, s) in results.items():
                    w = Window(pid, t0, t1, s.cpu_ratio, s.wakeups_per_second, s.blocked, s.exited,
                               s.describe() if not s.exited else "",
                               s.states.get("R", 0) / s.samples if s.samples else 0.0)
                    self.windows.append(w)
                    self.latest[pid] = w
                self.rounds += 1


class ScenarioRunner:
    def __init__(self, ctx: CheckContext, spec: dict, commands: dict[str, list[str]], languages: dict[str, str]):
        self.ctx, self.spec = ctx, spec
        self.commands, self.languages = commands, languages
        self.runs: dict[str, Run] = {}
        self.notes: list[str] = []
        self.sigterm: dict[str, str] = {}
        self.monitor = _Monitor(ctx.identity.uid)

    # ------------------------------------------------------------ scenario events
    def _after_ok(self, after: dict | None) -> bool:
        if not after:
            return True
        run = self.runs.get(after["process"])
        if run is None:
            return False
        text = after.get("line")
        lines = run.stdout.split("\n")[:-1]     # complete lines only
        return any(text in line for line in lines) if text else bool(lines)

    def _fill(self, text: str) -> str | None:
        """Replace {NAME:N} with line N of NAME's stdout; None while a line is not there yet."""
        missing = False

        def sub(m: re.Match) -> str:
            nonlocal missing
            run = self.runs.get(m.group(1))
            lines = run.stdout.split("\n")[:-1] if run else []
            n = int(m.group(2))
            if run is None or n < 1 or len(lines) < n:
                missing = True
                return m.group(0)
            return lines[n - 1]

        out = _PLACEHOLDER.sub(sub, text)
        return None if missing else out

    def _start(self, p: dict) -> bool:
        args = [self._fill(a) for a in p.get("args", [])]
        stdin = self._fill(p["stdin"]) if p.get("stdin") is not None else None
        if any(a is None for a in args) or (p.get("stdin") is not None and stdin is None):
            return False
        argv = self.commands[p["source"]] + args
        self.runs[p["name"]] = self.ctx.start(argv, label=p["name"], stdin=stdin, trace=AUDIT_TRACE)
        return True

    def _signal(self, s: dict) -> None:
        run = self.runs.get(s["to"])
        signum = signal.Signals[s["signal"]]
        if run is None or not run.alive():
            self.notes.append(f"{s['signal']} was not sent to {s['to']}: it was not running")
            return
        run.signal(signum)
        why = f"the scenario sends {s['signal']} to {s['to']}"
        if s.get("after"):
            why += f" once {s['after']['process']} printed " + (repr(s["after"]["line"]) if s["after"].get("line")
                                                               else "a line")
        if s.get("delay"):
            why += f", {s['delay']:g} s later"
        if signum == signal.SIGTERM:
            self.sigterm.setdefault(s["to"], why)
        self.notes.append(why)

    def _can_still_fire(self, item: _Pending) -> bool:
        """Only time can make it fire: its condition holds already (or it has none), and no {NAME:N}
        placeholder waits for a line from a process that has ended without printing it."""
        if item.triggered is None and item.spec.get("after"):
            return False
        texts = list(item.spec.get("args", [])) + [item.spec.get("stdin") or ""] if item.kind == "start" else []
        for text in texts:
            for m in _PLACEHOLDER.finditer(text):
                run = self.runs.get(m.group(1))
                if run is not None and not run.alive() and len(run.stdout.split("\n")) - 1 < int(m.group(2)):
                    return False
        return True

    # ------------------------------------------------------------ main loop
    def run(self) -> Observation:
        limit = float(self.spec.get("time_limit", 10))
        baseline = {d: set(_listdir(d)) for d in POSIX_DIRS}
        pending = [_Pending("start", p, i) for i, p in enumerate(self.spec["processes"])]
        pending += [_Pending("signal", s, i) for i, s in enumerate(self.spec.get("signals", []))]
        thread = threading.Thread(target=self.monitor.run, daemon=True)
        thread.start()
        t_start = time.monotonic()
        quiet_rounds, seen_round, end_reason, last_size = 0, 0, "every process ended", -1
        try:
            while True:
                t = time.monotonic()
                for item in list(pending):
                    after = item.spec.get("after")
                    if item.triggered is None and self._after_ok(after):
                        item.triggered = t
                    if item.triggered is None or t - item.triggered < float(item.spec.get("delay") or 0):
                        continue
                    if item.kind == "start":
                        if self._start(item.spec):
                            pending.remove(item)
                    else:
                        self._signal(item.spec)
                        pending.remove(item)
                if t - t_start >= limit:
                    end_reason = f"the time limit of {limit:g} s was reached"
                    break
                alive = [r for r in self.runs.values() if r.alive()]
                if not alive and not any(self._can_still_fire(i) for i in pending):
                    break
                with self.monitor.lock:
                    rounds, latest = self.monitor.rounds, dict(self.monitor.latest)
                if rounds != seen_round:
                    seen_round = rounds
                    size = self._trace_size()
                    quiet_rounds = quiet_rounds + 1 if size == last_size and self._quiet(latest) else 0
                    last_size = size
                    if quiet_rounds >= STUCK_ROUNDS and alive and not any(self._can_still_fire(i) for i in pending):
                        end_reason = ("stopped early: every remaining process was blocked, with nothing left "
                                      "in the scenario to wake it")
                        break
                time.sleep(TICK)
            for item in pending:
                what = item.spec["name"] if item.kind == "start" else f"{item.spec['signal']} to {item.spec['to']}"
                after = item.spec.get("after")
                why = (f"{after['process']} never printed " + (repr(after["line"]) if after.get("line") else "a line")
                       if after and item.triggered is None else "a {NAME:N} placeholder's line never appeared"
                       if item.kind == "start" else "the run ended first")
                self.notes.append(f"{'never started' if item.kind == 'start' else 'never sent'}: {what} ({why})")
            return self._finish(end_reason, baseline)
        finally:
            self.monitor.stop.set()
            thread.join(WINDOW * 4)

    def _trace_size(self) -> int:
        """Bytes traced so far: unchanged means no traced process finished or started a system call."""
        total = 0
        for r in self.runs.values():
            try:
                total += os.path.getsize(r.trace_path) if r.trace_path else 0
            except OSError:
                pass
        return total

    def _quiet(self, latest: dict[int, Window]) -> bool:
        """Every live process asleep (no CPU) in a wait without a timeout: only an outside event can wake it."""
        pids = [p for p in self.monitor.student_pids() if (procfs.read_stat(p) or _Z).state != "Z"]
        return bool(pids) and all(self._stuck(p, latest.get(p)).asleep_untimed for p in pids)

    def _stuck(self, pid: int, window: Window | None, traces: list[Trace] = ()) -> StuckProcess:
        st = procfs.read_stat(pid)
        nr, args = _syscall_args(pid)
        status = procfs.read_status(pid) or {}
        unfinished = [c for t in traces for c in t.calls(pid=pid) if c.ret is None]
        return StuckProcess(pid, self._label(pid), st.state if st else "?",
                            procfs.SYSCALL_NAMES_X86_64.get(nr, f"syscall {nr}") if nr is not None else "", args,
                            procfs.read_wchan(pid), window is not None and window.cpu_ratio <= waits.MAX_CPU_RATIO,
                            int(status.get("Threads", "1") or 1), unfinished[-1].raw if unfinished else "",
                            _mapping(pid, args[0]) if nr == 202 and args else "")

    # ------------------------------------------------------------ the end
    def _label(self, pid: int) -> str:
        roots = {r.pid: name for name, r in self.runs.items() if r.pid}
        if pid in roots:
            return f"{roots[pid]} (pid {pid})"
        p = pid
        for _ in range(64):
            st = procfs.read_stat(p)
            if st is None:
                break
            if st.ppid in roots:
                return f"pid {pid} (forked by {roots[st.ppid]})"
            p = st.ppid
        return f"pid {pid}"

    def _pipe_waits(self, pids: list[int]) -> list[PipeWait]:
        labels = {p: self._label(p) for p in pids}
        pmap = pipes.pipe_map(pids, labels)
        latest = dict(self.monitor.latest)
        traces = [read_trace(r.trace_path)[0] for r in self.runs.values()]   # partial: the runs are still alive
        out = []
        for pid in pids:
            st = procfs.read_stat(pid)
            if st is None or st.state not in ("S", "D"):
                continue
            nr, fd = procfs.read_syscall_and_fd(pid)
            op = PIPE_SYSCALLS_X86_64.get(nr)
            if op is None or fd is None:
                continue
            info = next((f for f in procfs.read_fds(pid) if f.fd == fd), None)
            if info is None or info.pipe_inode is None:
                continue
            other = "write" if op == "read" else "read"
            ends = []
            for e in pipes.holders(pmap, info.pipe_inode, other):
                if e.pid == pid:
                    ends.append(PeerEnd(pid, labels[pid], e.fd, True, "itself"))
                    continue
                if e.pid not in labels:        # the grader or another uid: not a student process
                    ends.append(PeerEnd(e.pid, e.who, e.fd, False, "not a student process"))
                    continue
                ends.append(self._peer(e, latest.get(e.pid), labels[e.pid]))
            unfinished = [c for t in traces for c in t.calls(pid=pid) if c.ret is None and c.name.startswith(op)]
            call = unfinished[-1].raw if unfinished else ""
            out.append(PipeWait(pid, labels[pid], op, fd, info.pipe_inode, ends, call))
        return out

    def _peer(self, end: pipes.PipeEnd, window: Window | None, who: str) -> PeerEnd:
        if procfs.read_stat(end.pid) is None:
            return PeerEnd(end.pid, who, end.fd, True, "gone")
        if window is None:
            s = waits.measure(end.pid, WINDOW, fast=False)
            window = Window(end.pid, 0, s.wall, s.cpu_ratio, s.wakeups_per_second, s.blocked, s.exited)
        p = self._stuck(end.pid, window)
        where = f" at {p.wchan}" if p.wchan else ""
        doing = (f"idle, waiting in {p.call}(){where}" if p.asleep_untimed
                 else f"{procfs.STATE_NAMES.get(p.state, p.state)} in {p.call or 'user space'}"
                      + (" (a wait with a timeout: it will wake up by itself)" if p.timed else ""))
        return PeerEnd(end.pid, who, end.fd, p.asleep_untimed, doing)

    def _finish(self, end_reason: str, baseline: dict[str, set[str]]) -> Observation:
        self.monitor.stop.set()
        pipe_waits, report, stuck = [], None, []
        live = [p for p in self.monitor.student_pids() if (procfs.read_stat(p) or _Z).state != "Z"]
        if live:
            pipe_waits = self._pipe_waits(live)
            partial = [read_trace(r.trace_path)[0] for r in self.runs.values()]
            latest = dict(self.monitor.latest)
            stuck = [self._stuck(p, latest.get(p), partial) for p in live]
            roots = [r.pid for r in self.runs.values() if r.pid]
            report = diagnose.hang_report(self.ctx.identity.uid, roots,
                                          {p: self._label(p) for p in self.monitor.student_pids()})
        for pid in self.monitor.student_pids():
            st = procfs.read_stat(pid)
            if st and st.state == "Z":
                self.monitor.zombies.setdefault(pid, f"pid {pid} ({st.comm}): state Z, zombie; parent pid {st.ppid}")
        terminated = [(name, r) for name, r in self.runs.items() if r.alive()]
        for name, r in terminated:
            self.sigterm.setdefault(name, f"{name} was still running when the run ended ({end_reason}); "
                                          "the audit sends SIGTERM, as `kill PID` would, then SIGKILL "
                                          f"{TERM_GRACE:g} s later")
            r.signal(signal.SIGTERM)
        deadline = time.monotonic() + TERM_GRACE
        for _name, r in terminated:
            r.wait(max(0.0, deadline - time.monotonic()))
        self.ctx.kill_student_processes()
        for r in self.runs.values():
            if r.wait(5) is None:
                r.kill()
        leftovers = procfs.read_sysvipc()
        posix = []
        for d in POSIX_DIRS:
            for name in sorted(set(_listdir(d)) - baseline[d]):
                path = os.path.join(d, name)
                posix.append(PosixObject(path, _describe_file(path)))
        runs = []
        for p in self.spec["processes"]:
            r = self.runs.get(p["name"])
            lang = self.languages[p["source"]]
            if r is None:
                runs.append(ProcessRun(p["name"], self.commands[p["source"]] + list(p.get("args", [])), lang, None,
                                       Trace(), "never started"))
                continue
            trace, thinned = read_trace(r.trace_path)
            if r.trace_path:
                try:
                    os.unlink(r.trace_path)
                except OSError:
                    pass
            runs.append(ProcessRun(p["name"], r.argv, lang, r.pid or _root_pid(trace), trace, r.describe_exit(),
                                   r.stdout, r.stderr, thinned))
        if "SIGTERM" not in end_reason and terminated:
            self.notes.append(f"{', '.join(n for n, _ in terminated)} still running at the end: sent SIGTERM")
        with self.monitor.lock:
            windows = list(self.monitor.windows)
        return Observation(runs=runs, leftovers=leftovers, posix_left=posix, windows=windows, pipe_waits=pipe_waits,
                           zombies_seen=dict(self.monitor.zombies), hang_report=report, sigterm=dict(self.sigterm),
                           end_reason=end_reason, stuck=stuck, sockets_left=self._sockets_left(runs))

    def _sockets_left(self, runs: list[ProcessRun]) -> dict[str, str]:
        """Unix socket files some process bound (by the path it gave) that are still there."""
        out = {}
        for r in runs:
            for c in r.trace.calls("bind"):
                m = _SUN_PATH.search(c.arg(1))
                if c.failed or not m:
                    continue
                path = os.path.join(self.ctx.workdir, m.group(1))
                try:
                    st = os.lstat(path)
                except OSError:
                    continue
                if stat.S_ISSOCK(st.st_mode):
                    out[m.group(1)] = _describe_file(path)
        return out


class _ZStat:
    state = "Z"


_Z = _ZStat()


def _syscall_args(pid: int) -> tuple[int | None, list[int]]:
    """The system call a sleeping process is in and its six arguments, from /proc/PID/syscall."""
    try:
        with open(f"{procfs.PROC}/{pid}/syscall") as f:
            parts = f.read().split()
    except OSError:
        return None, []
    if not parts or not parts[0].lstrip("-").isdigit() or int(parts[0]) < 0:
        return None, []
    try:
        return int(parts[0]), [int(a, 16) for a in parts[1:7]]
    except ValueError:
        return int(parts[0]), []


def _mapping(pid: int, address: int) -> str:
    """The /proc/PID/maps line of the mapping that holds `address` ('' if none)."""
    try:
        with open(f"{procfs.PROC}/{pid}/maps") as f:
            for line in f:
                lo, _, hi = line.split(" ", 1)[0].partition("-")
                if int(lo, 16) <= address < int(hi, 16):
                    return line.strip()
    except (OSError, ValueError):
        pass
    return ""


def _root_pid(trace: Trace) -> int | None:
    """The started process itself: the one pid of the trace no traced fork created (for runs too
    short-lived for spawn to catch their pid)."""
    forked = {c.ret for c in trace.calls() if c.name in ("clone", "clone3", "fork", "vfork") and c.ret}
    roots = [p for p in trace.pids() if p not in forked]
    return roots[0] if roots else None


def _listdir(d: str) -> list[str]:
    try:
        return os.listdir(d)
    except OSError:
        return []


def _describe_file(path: str) -> str:
    try:
        st = os.lstat(path)
    except OSError:
        return ""
    return f"(owner uid {st.st_uid}, mode {st.st_mode & 0o777:04o}, {st.st_size} bytes)"


def remove_posix_objects(baseline: dict[str, set[str]] | None = None) -> None:
    for d in POSIX_DIRS:
        for name in _listdir(d):
            if baseline and name in baseline.get(d, set()):
                continue
            try:
                os.unlink(os.path.join(d, name))
            except OSError:
                pass
