"""What a check gets: a way to start the submission's programs and to read kernel state.

One CheckContext per submission. It knows how to launch each program of the
assignment in the detected language, enforces cleanup between checks (every
student process killed, leftover IPC objects recorded and removed) and caches
expensive runs so several checks can judge one session.
"""
from __future__ import annotations

import os
import stat
import subprocess
import tempfile
import time
from collections.abc import Callable
from typing import Any

from . import build, deadlock, diagnose, limits, procaccess, procfs, waits
from .api import Fail
from .spawn import DEFAULT_TRACE, Identity, Run, kill_until_gone


class CheckContext:
    def __init__(self, *, workdir: str, language: str, programs: dict[str, list[str]],
                 identity: Identity, assignment_dir: str, data: dict | None = None,
                 reference_programs: dict[str, list[str]] | None = None,
                 cflags: str = build.DEFAULT_CFLAGS, reference_dir: str = "/work/ref"):
        self.workdir = workdir
        self.language = language
        self.programs = programs                    # name -> argv prefix for the student's build
        self.reference_programs = reference_programs or {}
        self.cflags = cflags
        self.reference_dir = reference_dir
        self.identity = identity
        self.assignment_dir = assignment_dir
        self.data = data or {}                      # the assignment's `harness:` settings
        self.runs: list[Run] = []
        self.kill_latencies: list[float] = []   # time-limit breach until every process is dead
        self._memo: dict[Any, Any] = {}

    # ------------------------------------------------------------ running programs
    def command(self, program: str, impl: str = "student") -> list[str]:
        if impl == "reference" and not self.reference_programs:
            self.reference_programs = build.build_reference(self.assignment_dir, list(self.programs),
                                                            self.cflags, self.reference_dir)
        table = self.programs if impl == "student" else self.reference_programs
        if program not in table:
            raise KeyError(f"unknown program {program!r} for {impl}")
        return list(table[program])

    def start(self, program: str | list[str], args: list[str] = (), *, stdin: bytes | str | None = None,
              keep_stdin: bool = False, trace: str | None = "default", impl: str = "student",
              label: str | None = None, cwd: str | None = None, inject: list[str] = ()) -> Run:
        """Start one of the assignment's programs (or any command, if `program` is a list).

        impl="reference" runs the assignment's C reference instead of the student's
        program (mix-and-match), so blame lands on the right side. `inject` takes
        strace --inject specs, e.g. ["fork:error=EAGAIN:when=1"].
        """
        command = list(program) if isinstance(program, (list, tuple)) else self.command(program, impl)
        argv = command + [str(a) for a in args]
        default_label = program if isinstance(program, str) else os.path.basename(argv[0])
        if impl == "reference" and isinstance(program, str):
            default_label = f"reference {program}"
        trace_set = DEFAULT_TRACE if trace == "default" else trace
        if trace_set is not None:
            trace_set = f"{trace_set},{deadlock.TIMER_TRACE}"     # a timer set means no hang is ever proven
        try:
            run = Run(label or default_label, argv,
                      cwd=cwd or self.workdir, identity=self.identity, stdin=stdin, keep_stdin=keep_stdin,
                      trace_set=trace_set, inject=list(inject))
        except RuntimeError as e:           # "can't start new thread": the sandbox's task limit is used up
            if "thread" not in str(e):
                raise
            self.kill_student_processes()
            raise Fail(f"the grader could not start {label or default_label}: the programs already running had "
                       "used up every process the sandbox allows, so not even the grader could start a thread",
                       hint="A fork() in a loop that never stops (or children that fork again) fills the process "
                            "table. Fork exactly the children the assignment asks for, and check fork()'s "
                            "return value: 0 in the child, the child's pid in the parent.") from None
        self.runs.append(run)
        return run

    def finish(self, run: Run, timeout: float, *, what: str | None = None, others: list[Run] = (),
               cpu_budget: float | None = None) -> int:
        """Wait for a run to end; on timeout, diagnose every student process, kill them and fail.

        `cpu_budget` (CPU seconds, calibrated far above what the reference uses)
        ends the wait early for a program that spins instead of finishing; a hang
        proven from kernel state (every process asleep for good, see deadlock)
        ends it at once.
        """
        cpu_start = run.cpu_seconds() if cpu_budget is not None else 0.0
        rc, proof = waits.wait_run(run, timeout, watch=waits.hang_watch(self, [run, *others]), cpu_budget=cpu_budget)
        if rc is not None:
            return rc
        used = run.cpu_seconds() - cpu_start if cpu_budget is not None else 0.0
        if proof is None and cpu_budget is not None and used >= cpu_budget:
            raise self.hang(f"{what or run.label} did not finish: it used {used:.1f} s of CPU time "
                            "without ending (a loop that never ends)", [run, *others])
        raise waits.add_proof(self.hang(waits.proven_hang_message(what or run.label, proof, timeout),
                                        [run, *others]), proof)

    def hang(self, message: str, runs: list[Run], hint: str | None = None) -> Fail:
        """Build a Fail carrying a hang diagnosis, then kill everything the student started."""
        breach = time.monotonic()
        labels = {r.pid: f"{r.label} (pid {r.pid})" for r in runs if r.pid}
        report = diagnose.hang_report(self.identity.uid, [r.pid for r in runs if r.pid], labels)
        self.kill_student_processes()
        for r in runs:
            r.kill()
        self.kill_latencies.append(round(time.monotonic() - breach, 4))
        fail = Fail(message, hint=hint)
        fail.evidence.append(("where each process was when the grader stopped waiting", report))
        for r in runs:
            excerpt = r.trace.excerpt(r.trace.events[-8:], 8) if r.trace.events else "(nothing traced)"
            fail.evidence.append((f"last system calls of {r.label}", excerpt))
        return fail

    def memo(self, key: Any, factory: Callable[[], Any]) -> Any:
        """Run `factory` once per submission; later checks reuse its result (or its failure)."""
        if key not in self._memo:
            try:
                self._memo[key] = ("ok", factory())
            except Fail as f:
                self._memo[key] = ("fail", f)
        kind, value = self._memo[key]
        if kind == "fail":
            raise value
        return value

    def grader_files(self, prefix: str, files: dict[str, bytes]) -> str:
        """Write files the programs under test read (data, probes) into a fresh directory; its path.

        The directory is new (mkdtemp), root-owned, mode 0755, next to the student's
        folder when only the grader can write there, and each file is created with
        O_EXCL|O_NOFOLLOW: nothing can be planted in it or swapped for a link.
        """
        parent = _safe_dir(os.path.dirname(os.path.abspath(self.workdir)))
        d = tempfile.mkdtemp(prefix=prefix, dir=parent)
        os.chmod(d, 0o755)
        for name, data in files.items():
            _write_new(os.path.join(d, name), data)
        return d

    # ------------------------------------------------------------ kernel state
    def ipc_objects(self) -> list[procfs.IpcObject]:
        return procfs.read_sysvipc()

    def kill_student_processes(self) -> None:
        """Everything running as the student uid dies, including daemonised escapees."""
        if self.identity.kill_scope == "namespace":
            protected = _ancestors(os.getpid())
            victims = lambda: [p for p in procfs.all_pids()  # noqa: E731
                               if p not in protected and not _exited_child_of_mine(p)]
        elif self.identity.uid is None:
            for r in self.runs:
                r.kill()
            return
        else:
            spared = {os.getpid(), *procaccess.agent_pids()}
            victims = lambda: [p for p in procfs.pids_of_uid(self.identity.uid) if p not in spared]  # noqa: E731
        kill_until_gone(victims)

    def remove_ipc_objects(self) -> None:
        """Remove what the student left so the next check starts clean (run as the owner)."""
        if not self.ipc_objects():
            return
        subprocess.run(["ipcrm", "--all"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=10,
                       close_fds=True, **limits.as_user(self.identity.uid))
        # Objects another uid created (a reference program, say), each removed as its owner: IPC_RMID
        # needs ownership or CAP_SYS_ADMIN, which neither our container nor a grading platform gives root.
        for uid in sorted({o.uid for o in self.ipc_objects()}):
            subprocess.run(["ipcrm", "--all"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=10,
                           close_fds=True, **limits.as_user(uid))

    def reset(self) -> None:
        self.kill_student_processes()
        for r in self.runs:
            if r.alive():
                r.kill()
            r.release_trace()
        self.runs.clear()
        self.remove_ipc_objects()


def _exited_child_of_mine(pid: int) -> bool:
    """A child of the harness that has exited (a tracer just killed): it stays in /proc until its
    Popen reaps it, so no kill can make it go, and a kill loop waiting for that would wait out its
    limit. The student's processes are never the harness's children (they are their tracer's)."""
    st = procfs.read_stat(pid)
    return st is not None and st.ppid == os.getpid() and st.state == "Z"


def _ancestors(pid: int) -> set[int]:
    """pid and every process above it (never to be killed by cleanup)."""
    out = {pid, 0}
    while pid > 1:
        st = procfs.read_stat(pid)
        if st is None:
            break
        pid = st.ppid
        out.add(pid)
    return out


def _safe_dir(path: str) -> str | None:
    """`path` if it is a directory only the grader can write to (so nothing can be planted in it)."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & 0o022:
        return None
    return path


def _write_new(path: str, data: bytes, mode: int = 0o644) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, mode)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)
    os.chmod(path, mode)
