"""Start a student program under strace, as the student uid, and watch it from outside.

The tracer runs as root (the harness's uid) and drops only the tracee to the
student uid (`strace -u`), so the student can neither signal nor detach it.
Output is drained by threads into capped buffers: a program that prints
gigabytes is truncated, never allowed to block the harness or fill memory.
"""
from __future__ import annotations

import fcntl
import os
import re
import select
import signal
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from . import limits, procaccess, procfs
from . import trace as tracemod
from .deadline import Deadline

OUTPUT_CAP = 1 << 20  # bytes kept of each of stdout and stderr
_READ_SYSCALL = {"x86_64": "0", "aarch64": "63"}.get(os.uname().machine, "0")
DEFAULT_TRACE = ("%ipc,%process,%signal,write,pipe,pipe2,dup,dup2,dup3,close,"
                 "socket,bind,listen,accept,accept4,connect,unlink")
STRACE = "/usr/bin/strace"
# After a program's end, how long a nap lasts while the tracer writes its exit line.
EXIT_LINE_WAIT = 0.002


def uid_switch(uid: int) -> list[str]:
    """The command prefix a traced program starts with when the tracee itself drops to `uid`."""
    return ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--"]


def without_uid_switch(text: str) -> str:
    """A trace as if strace had switched the uid: drop the uid_switch program's own calls, i.e. every
    line of the first traced process before its second successful execve (the student's program)."""
    lines = text.splitlines(keepends=True)
    if not lines:
        return text
    first = lines[0].split(None, 1)[0]
    execs = 0
    for i, line in enumerate(lines):
        if line.split(None, 1)[0] != first:
            return text   # another process appeared first: not the shape we know, keep everything
        if " execve(" in line and line.rstrip().endswith(") = 0"):
            execs += 1
            if execs == 2:
                return "".join(lines[i:])
    return ""   # the switch never reached the program: nothing of the student's was traced


def kill_until_gone(victims: Callable[[], Iterable[int]], limit: float = 0.5) -> None:
    """SIGKILL every process `victims()` lists, again until it lists none (a fork can race the kill) or
    `limit` s have passed. It looks again after 2 ms, not 10: a killed process is usually gone
    (reaped by its tracer) by then, and every check's clean-up pays this wait."""
    deadline = time.monotonic() + limit
    while True:
        pids = list(victims())
        if not pids or time.monotonic() >= deadline:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        time.sleep(0.002)


@dataclass
class Identity:
    """Who student programs run as, and where traces go (root-only)."""
    user: str | None = "student"
    uid: int | None = 2000
    trace_dir: str = "/run/ipcgrade/traces"
    env: dict | None = None
    # "uid": student processes are those of the student uid (the container);
    # "namespace": everything in this PID namespace but the harness (the local runner).
    kill_scope: str = "uid"

    def student_env(self) -> dict:
        return dict(self.env or {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/work", "LANG": "C.UTF-8",
                                 "PYTHONDONTWRITEBYTECODE": "1"})


def _still_strace(pid: int) -> bool:
    """True while `pid` runs the strace binary (a probe child, or the tracee before its execve)."""
    try:
        return os.path.realpath(os.readlink(f"/proc/{pid}/exe")) == os.path.realpath(STRACE)
    except OSError:
        return True   # gone already (a probe child), or not readable yet: keep looking


class _Drain(threading.Thread):
    """Reads one pipe to EOF, keeping the first OUTPUT_CAP bytes."""

    def __init__(self, fd: int, cond: threading.Condition):
        super().__init__(daemon=True)
        self.fd, self.cond = fd, cond
        self.data = bytearray()
        self.total = 0
        self.eof = False

    def run(self):
        self.tid = threading.get_native_id()
        try:
            while True:
                chunk = os.read(self.fd, 65536)
                if not chunk:
                    break
                with self.cond:
                    self.total += len(chunk)
                    room = OUTPUT_CAP - len(self.data)
                    if room > 0:
                        self.data += chunk[:room]
                    self.cond.notify_all()
        except OSError:
            pass
        finally:
            with self.cond:
                self.eof = True
                self.cond.notify_all()
            os.close(self.fd)

    @property
    def truncated(self) -> bool:
        return self.total > len(self.data)

    def pending(self) -> bool:
        """True while written bytes may not be in `data` yet: some are still in the pipe, or
        this thread has read them and not appended them (it is not back inside read())."""
        if self.eof:
            return False
        try:
            buf = fcntl.ioctl(self.fd, termios.FIONREAD, b"\0\0\0\0")
            if int.from_bytes(buf, sys.byteorder):
                return True
            with open(f"/proc/self/task/{self.tid}/syscall") as f:
                return f.read().split()[0] != _READ_SYSCALL
        except (OSError, AttributeError, IndexError):
            return False


class Run:
    """One traced program run. Create with CheckContext.start()."""

    _seq = 0

    def __init__(self, label: str, argv: list[str], *, cwd: str, identity: Identity,
                 stdin: bytes | str | None = None, keep_stdin: bool = False,
                 trace_set: str | None = DEFAULT_TRACE, extra_env: dict | None = None,
                 inject: list[str] = ()):
        Run._seq += 1
        self.label, self.argv = label, argv
        self._oom_before = procfs.oom_kills()
        self.identity = identity
        self.trace_path = None
        self._uid_switch = False
        cmd = list(argv)
        if trace_set is not None:
            os.makedirs(identity.trace_dir, mode=0o700, exist_ok=True)
            self.trace_path = f"{identity.trace_dir}/{Run._seq:03d}-{label}.trace"
            user = ["-u", identity.user] if identity.user else []
            if identity.user and identity.uid is not None and procaccess.NEEDS_AGENT:
                # Without CAP_SYS_PTRACE strace cannot attach to a child that is already the student
                # (-u switches uid before the attach), so the tracee switches after it (procaccess).
                user, argv = [], [*uid_switch(identity.uid), *argv]
                self._uid_switch = True
            # An injected syscall must be traced for strace to tamper with it.
            injected = [spec.split(":", 1)[0] for spec in inject]
            trace_set = ",".join([trace_set, *injected])
            faults = [f"--inject={spec}" for spec in inject]
            cmd = [STRACE, "-f", "-q", "--seccomp-bpf", "-tt", "-s", "200", "-e", f"trace={trace_set}",
                   *faults, "-o", self.trace_path, *user, "--", *argv]
        env = identity.student_env()
        env.update(extra_env or {})
        self._cond = threading.Condition()
        # Traced runs drop to the student uid inside strace (-u); untraced ones drop here.
        # Either way no student code ever runs with the harness's privileges.
        as_student = limits.as_user(identity.uid) if trace_set is None else {}
        # The readers start before the program does: a thread is a task of the container's pid limit,
        # and a fork bomb fills that limit within milliseconds of its start.
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        self._out = _Drain(out_r, self._cond)
        self._err = _Drain(err_r, self._cond)
        self._out.start()
        self._err.start()
        try:
            self.proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.PIPE, stdout=out_w, stderr=err_w,
                                         close_fds=True, start_new_session=True,
                                         preexec_fn=lambda: limits.apply(limits.STUDENT_LIMITS), **as_student)
        finally:
            os.close(out_w)                # the program holds the write ends now (or nobody: EOF ends the readers)
            os.close(err_w)
        self._line_cursor = 0
        self._trace: tracemod.Trace | None = None
        self._released_text: str | None = None     # a finished trace's text, its file deleted
        self.pid = self._find_tracee() if trace_set is not None else self.proc.pid
        self._rc: int | None = None
        self._pidfd = None
        if self.pid is not None:
            try:
                self._pidfd = os.pidfd_open(self.pid)
            except OSError:
                pass
        if stdin is not None:
            self.send(stdin)
            if not keep_stdin:
                self.close_stdin()
        elif not keep_stdin:
            self.close_stdin()

    # ------------------------------------------------------------ process identity
    def _find_tracee(self, timeout: float = 5.0) -> int | None:
        """strace forks the tracee; wait until that child runs as the student."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with open(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children") as f:
                    kids = [int(k) for k in f.read().split()]
            except OSError:
                kids = []
            for kid in kids:
                if self.identity.uid is None:
                    # One uid for all (local runner): strace's own short-lived probe children look
                    # like the tracee; the tracee is the child that has exec'd the program.
                    if not _still_strace(kid):
                        return kid
                elif procfs.read_uid(kid) == self.identity.uid:
                    return kid
            if self.proc.poll() is not None:
                return None
            time.sleep(0.002)
        return None

    def deadline(self, timeout: float) -> Deadline:
        """`timeout` s from now, stretched by the time this run's processes (the tracer's too)
        waited for a CPU: a limit calibrated on an idle machine holds on a busy one."""
        return Deadline(timeout, lambda: [self.proc.pid, *self.tree()])

    def tree(self) -> list[int]:
        """The tracee and all its descendants that are still in /proc."""
        if self.pid is None:
            return []
        children: dict[int, list[int]] = {}
        for pid in procfs.all_pids():
            st = procfs.read_stat(pid)
            if st:
                children.setdefault(st.ppid, []).append(pid)
        out, todo = [], [self.pid]
        while todo:
            pid = todo.pop(0)
            if procfs.read_stat(pid) is None:
                continue
            out.append(pid)
            todo.extend(children.get(pid, []))
        return out

    # ------------------------------------------------------------ stdin / stdout
    def send(self, data: bytes | str) -> bool:
        if isinstance(data, str):
            data = data.encode()
        try:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()
            return True
        except (BrokenPipeError, ValueError, OSError):
            return False

    def close_stdin(self) -> None:
        try:
            self.proc.stdin.close()
        except OSError:
            pass

    @property
    def stdout(self) -> str:
        return self._out.data.decode(errors="replace")

    @property
    def stderr(self) -> str:
        return self._err.data.decode(errors="replace")

    @property
    def stdout_bytes(self) -> bytes:
        return bytes(self._out.data)

    @property
    def stdout_truncated(self) -> bool:
        return self._out.truncated

    def lines(self) -> list[str]:
        return self.stdout.splitlines()

    def read_line(self, timeout: float) -> str | None:
        """The next complete stdout line, or None on EOF or timeout."""
        return self._read_line(self.deadline(timeout))

    def _read_line(self, deadline: Deadline) -> str | None:
        with self._cond:
            while True:
                buf = self._out.data
                nl = buf.find(b"\n", self._line_cursor)
                if nl >= 0:
                    line = buf[self._line_cursor:nl].decode(errors="replace")
                    self._line_cursor = nl + 1
                    return line
                if self._out.eof:
                    return None
                left = deadline.left()
                if left <= 0:
                    return None
                self._cond.wait(left)

    def read_until(self, want: str | re.Pattern | Callable[[str], bool],
                   timeout: float) -> tuple[str | None, list[str]]:
        """Read stdout lines until one matches `want` (a prefix, a regex matched at the start, or a
        predicate): (that line, the lines before it). (None, the lines read) on EOF or after `timeout` s."""
        if isinstance(want, str):
            match = lambda line, p=want: line.startswith(p)  # noqa: E731
        elif isinstance(want, re.Pattern):
            match = lambda line, p=want: p.match(line) is not None  # noqa: E731
        else:
            match = want
        deadline = self.deadline(timeout)
        before: list[str] = []
        while True:
            line = self._read_line(deadline) if deadline.left() > 0 else None
            if line is None or match(line):
                return line, before
            before.append(line)

    def write_index(self, pattern: re.Pattern, fd: str = "1") -> int | None:
        """Index in the trace's events of the program's own first write to `fd` whose data
        (as strace prints it, escaped) matches `pattern`: when it announced something."""
        return next((i for i, ev in enumerate(self.trace.events)
                     if isinstance(ev, tracemod.Syscall) and ev.name == "write" and ev.pid == self.pid
                     and ev.arg(0) == fd and pattern.search(ev.arg(1))), None)

    def wrote_stdout(self) -> bool:
        """The trace shows a successful write to fd 1: output left the program (flushed), whatever
        has arrived yet. Tells "still in its stdio buffer" from "slow to arrive"."""
        return any(c.arg(0) == "1" and not c.failed for c in self.trace.calls("write"))

    def stdout_in_flight(self) -> bool:
        """The trace shows the program wrote more bytes to its stdout than the grader has taken in.
        The reader's pending() sees bytes in the pipe or in its own hands; this also covers what it
        cannot see, whatever delays them, so a proof that a line will never come waits for them.
        Counts the program's own write(1, ...) calls up to its first dup2/dup3 onto, or close of,
        fd 1 (after that its fd 1 may be another file); none when writes are not traced."""
        if not self.trace_path or self.pid is None:
            return False
        sent = 0
        for ev in self.trace.calls(pid=self.pid):
            if (ev.name in ("dup2", "dup3") and ev.arg(1) == "1") or (ev.name == "close" and ev.arg(0) == "1"):
                break
            if ev.name == "write" and ev.arg(0) == "1" and ev.ret:
                sent += max(ev.ret, 0)
        with self._cond:
            return sent > self._out.total

    def stdout_closed(self) -> bool:
        """True once every writer of the program's stdout is gone (end of file)."""
        return self._out.eof

    def wait_for_output(self, text: str, timeout: float) -> bool:
        """Block until `text` appears anywhere in stdout."""
        deadline = self.deadline(timeout)
        with self._cond:
            while text.encode() not in self._out.data:
                left = deadline.left()
                if left <= 0 or self._out.eof:
                    return text.encode() in self._out.data
                self._cond.wait(left)
            return True

    # ------------------------------------------------------------ lifetime
    def poll(self) -> int | None:
        """The main process's exit status once it has ended, else None.

        Judged by the main process itself, not by the tracer: a child that
        daemonises keeps strace alive, yet the program has finished. Its status
        then comes from strace's "+++ exited with N +++" line, written at once.
        """
        if self._rc is not None:
            return self._rc
        if self.proc.poll() is not None:
            self._rc = self.proc.returncode
        elif self._pidfd is not None and select.select([self._pidfd], [], [], 0)[0]:
            ended = self._exit_from_trace()
            if ended is not None:
                self._rc = ended
        if self._rc is not None and self._pidfd is not None:
            os.close(self._pidfd)
            self._pidfd = None
        if self._rc is not None and self.pid is None and self.trace_path:
            # The program ended before its pid was seen: the first traced pid is the tracee's.
            pids = self.trace.pids()
            self.pid = pids[0] if pids else None
        return self._rc

    def _exit_from_trace(self) -> int | None:
        if not self.trace_path:
            return None
        text = self._trace_text()
        if text is None:
            return None
        ex = tracemod.exit_of(text, self.pid)
        if ex is None:
            return None
        if ex.code is not None:
            return ex.code
        try:
            return -signal.Signals[ex.signal].value
        except KeyError:
            return -signal.SIGKILL.value

    def nap(self, seconds: float) -> None:
        """Sleep up to `seconds`, waking as soon as the program has ended (its pidfd turns readable;
        without one, its tracer or process). Its exit line may still be on its way from the tracer:
        then a short sleep, never a spin."""
        if self._pidfd is not None:
            if select.select([self._pidfd], [], [], seconds)[0]:
                time.sleep(min(seconds, EXIT_LINE_WAIT))
        elif self.proc.poll() is None:
            try:
                self.proc.wait(timeout=seconds)
            except subprocess.TimeoutExpired:
                pass
        else:
            time.sleep(seconds)

    @property
    def returncode(self) -> int | None:
        return self.poll()

    def alive(self) -> bool:
        return self.poll() is None

    def cpu_seconds(self) -> float:
        """CPU time used so far by the program and its live descendants."""
        return sum(st.cpu_seconds for st in map(procfs.read_stat, self.tree()) if st)

    def wait(self, timeout: float, cpu_budget: float | None = None) -> int | None:
        """Exit status (negative: killed by that signal), or None if still running.

        With `cpu_budget`, also gives up once the program has used that much CPU
        time during the wait: a program spinning in a loop that never ends is
        known to hang as soon as it has burnt far more CPU than a correct one
        needs, however busy the machine is (CPU time, unlike wall time, does not
        stretch under load).
        """
        deadline = self.deadline(timeout)
        cpu_start = self.cpu_seconds() if cpu_budget is not None else 0.0
        while self.poll() is None:
            left = deadline.left()
            if left <= 0:
                return None
            if cpu_budget is not None and self.cpu_seconds() - cpu_start >= cpu_budget:
                return None
            self.nap(min(left, 0.05))
        self._settle()
        return self._rc

    def _settle(self, limit: float = 5.0) -> None:
        """Let the drain threads take in everything already written before the caller reads it.

        Once the tracer has exited every writer is gone, so the pipes reach EOF. When only
        the main process has ended (a child may still hold the pipe), wait until no
        written byte is left unread in the pipes.
        """
        deadline = time.monotonic() + limit
        if self.proc.poll() is not None:
            self._out.join(limit)
            self._err.join(max(0.0, deadline - time.monotonic()))
            return
        while time.monotonic() < deadline and (self._out.pending() or self._err.pending()):
            time.sleep(0.005)

    def signal(self, signum: int) -> None:
        if self.pid is not None and self.alive():
            try:
                os.kill(self.pid, signum)
            except ProcessLookupError:
                pass

    def release_trace(self) -> None:
        """Take the finished trace's text into memory and delete the file: a busy-waiting program
        can write megabytes of trace a second into the harness's small tmpfs. It is parsed only if
        a check still asks for it (most runs are never looked at again after their check)."""
        if self.trace_path and self.proc.poll() is not None:
            if self._trace is None:
                self._released_text = self._trace_text() or ""
            try:
                os.unlink(self.trace_path)
            except OSError:
                pass
            self.trace_path = None

    def traced_pids(self) -> list[int]:
        """Every process this run's tracer follows, daemonised escapees included (TracerPid)."""
        out = []
        for pid in procfs.all_pids():
            st = procfs.read_status(pid)
            if st and st.get("TracerPid") == str(self.proc.pid):
                out.append(pid)
        return out

    def kill(self) -> None:
        """Kill the tracee's whole tree and everything else the tracer follows, then the tracer."""
        kill_until_gone(lambda: set(self.tree()) | set(self.traced_pids() if self.proc.poll() is None else ()))
        try:
            self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.poll()
        self._settle(2.0)

    def _trace_text(self) -> str | None:
        try:
            with open(self.trace_path, errors="replace") as f:
                text = f.read()
        except OSError:
            return None
        return without_uid_switch(text) if self._uid_switch else text

    @property
    def trace(self) -> tracemod.Trace:
        """The parsed trace; final (and cached) once the tracer has exited."""
        if self._trace is None:
            if self._released_text is not None:
                text, self._released_text = self._released_text, None
            else:
                text = (self._trace_text() or "") if self.trace_path else ""
            parsed = tracemod.parse(text)
            tracer_done = self.proc.poll() is not None
            parsed.complete = tracer_done and bool(text)
            if not tracer_done:
                return parsed
            self._trace = parsed
        return self._trace

    def injected(self) -> list[tracemod.Syscall]:
        """The calls strace's --inject made fail. They must all be the program's own (`root_pid`):
        a fault that hit another process is a grader bug, raised as RuntimeError."""
        hits = [c for c in self.trace.calls() if "(INJECTED)" in c.raw]
        strays = [c for c in hits if c.pid != self.root_pid]
        if strays:
            raise RuntimeError(f"injected fault hit a process other than {self.label}: {strays[0].raw}")
        return hits

    @property
    def root_pid(self) -> int | None:
        """The program's pid. `pid` is None when it exited before the grader saw it start;
        the trace still knows it (its first event is the program's execve)."""
        if self.pid is not None:
            return self.pid
        events = self.trace.events
        return events[0].pid if events else None

    def describe_exit(self) -> str:
        rc = self.returncode
        if rc is None:
            return "still running"
        if rc < 0:
            try:
                name = signal.Signals(-rc).name
            except ValueError:
                name = f"signal {-rc}"
            if -rc == signal.SIGKILL and procfs.oom_kills() > self._oom_before:
                return (f"killed by {name}: the kernel's out-of-memory killer stopped it because the "
                        "programs used more memory than the limit")
            if -rc == signal.SIGXCPU:
                return f"killed by {name}: it used more CPU time than the limit"
            if -rc == signal.SIGXFSZ:
                return f"killed by {name}: it wrote a file larger than the limit"
            return f"killed by {name}"
        return f"exited with status {rc}"


# Benchmark hook, inert unless IPCGRADE_RECORD_RUNS is set: logs each Run for bench/bench.py's bare replay.
from . import recording  # noqa: E402

recording.install(Run)
