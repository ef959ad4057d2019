"""Run an assignment's checks in order, skipping those whose dependencies did not pass.

Each check runs against a clean slate: after it (and once before the first),
every student process is killed and leftover IPC objects are removed. A check that raises
anything but Fail is an internal error of the harness, reported as such; the
student is never blamed for a grader bug.

Each check runs in a worker thread with its own time limit, enforced from
outside the check (no SIGALRM inside code that waits on student programs): when
the limit passes, the runner takes the context away from the check, kills every
student process so that whatever the check waits on returns, records an error
verdict for that check alone and goes on. Every verdict is handed to `emit` as
soon as it exists, so a run killed from outside keeps all of them.
"""
from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import os
import queue
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from .api import CheckSpec, Fail, ReferenceUnavailable
from .procaccess import Unreadable

BUILD_CHECK_ID = "build"
BUILD_CHECK_NAME = "The programs build (compiler warnings are reported)"
CHECK_MODULES = ("checks", "hidden_checks")
# After a check's time limit, how long it gets to notice that its programs were killed.
ABANDON_GRACE = 10.0


# ------------------------------------------------------------------ loading
def harness_package(assignment_dir: str) -> str:
    """The import name of an assignment's harness folder (a package: hidden checks import
    `from .checks import ...`). One name per assignment, so two assignments never mix."""
    name = os.path.basename(os.path.normpath(assignment_dir))
    return "ipcgrade_assignment_" + "".join(c if c.isalnum() else "_" for c in name)


def _import_harness(assignment_dir: str) -> str:
    """Import the harness folder afresh as a package (its files may have changed since the last load)."""
    package = harness_package(assignment_dir)
    for loaded in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
        del sys.modules[loaded]
    importlib.invalidate_caches()
    harness_dir = os.path.join(assignment_dir, "harness")
    init = os.path.join(harness_dir, "__init__.py")
    if os.path.exists(init):
        spec = importlib.util.spec_from_file_location(package, init, submodule_search_locations=[harness_dir])
    else:  # a folder without __init__.py (a student kit's copy) is a package all the same
        spec = importlib.machinery.ModuleSpec(package, None, is_package=True)
        spec.submodule_search_locations = [harness_dir]
    module = importlib.util.module_from_spec(spec)
    sys.modules[package] = module
    if spec.loader is not None:
        spec.loader.exec_module(module)
    return package


def load_checks(assignment_dir: str, include_hidden: bool) -> list[CheckSpec]:
    """Collect decorated check functions: visible module first, then hidden, each in source order."""
    specs: list[CheckSpec] = []
    harness_dir = os.path.join(assignment_dir, "harness")
    package = _import_harness(assignment_dir)
    for name in CHECK_MODULES[: 2 if include_hidden else 1]:
        if not os.path.exists(os.path.join(harness_dir, f"{name}.py")):
            continue
        module = importlib.import_module(f"{package}.{name}")
        found = [v.__check__ for v in vars(module).values()
                 if callable(v) and hasattr(v, "__check__") and v.__module__ == module.__name__]
        found.sort(key=lambda c: c.func.__code__.co_firstlineno)
        for c in found:
            if c.hidden != (name == "hidden_checks"):
                raise ValueError(f"check {c.id!r}: hidden checks belong in hidden_checks.py and only there")
        specs.extend(found)
    ids = [BUILD_CHECK_ID] + [c.id for c in specs]
    dupes = {i for i in ids if ids.count(i) > 1}
    if dupes:
        raise ValueError(f"duplicate check ids: {', '.join(sorted(dupes))}")
    for c in specs:
        unknown = [d for d in c.depends if d not in ids[: ids.index(c.id)]]
        if unknown:
            raise ValueError(f"check {c.id!r} depends on {unknown}, which must be declared before it")
    return specs


# ------------------------------------------------------------------ running
def outcome(spec_id: str, name: str, status: str, *, hidden=False, advisory=False, seconds=0.0,
            message="", expected=None, observed=None, evidence=(), hint=None, deferred=False) -> dict:
    return {"deferred": deferred, "id": spec_id, "name": name, "status": status, "message": message,
            "expected": expected, "observed": observed,
            "evidence": [{"label": label, "text": text} for label, text in evidence],
            "hint": hint, "hidden": hidden, "advisory": advisory, "seconds": round(seconds, 3)}


class CheckAbandoned(Exception):
    """Raised in a check that ran past its time limit when it touches the context again."""


class CheckScope:
    """The context as one check sees it, until the runner takes it away (the check overran).

    A check left running after its limit must not start programs for the next
    check, nor leave a session result (taken from programs the runner killed)
    in the memo for later checks: once revoked, every use of the context raises
    CheckAbandoned, and a memo computed across the revocation is not kept.
    """

    def __init__(self, ctx):
        object.__setattr__(self, "_ctx", ctx)
        object.__setattr__(self, "_revoked", threading.Event())

    def revoke(self) -> None:
        self._revoked.set()

    def _live(self):
        if self._revoked.is_set():
            raise CheckAbandoned("this check ran past its time limit and no longer owns the context")
        return self._ctx

    def __getattr__(self, name: str) -> Any:
        return getattr(self._live(), name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._live(), name, value)

    def memo(self, key: Any, factory: Callable[[], Any]) -> Any:
        def guarded():
            try:
                value = factory()
            except Fail:
                self._live()          # a failure seen after the revocation is not the student's
                raise
            self._live()
            return value
        return self._live().memo(key, guarded)


class CheckThread:
    """Runs checks one after another in one thread, so a whole run spends a single thread id (student
    pids, which feedback quotes, stay as they were); a thread stuck in an overrunning check is left
    behind and the next check gets a new one."""

    def __init__(self):
        self.thread: threading.Thread | None = None
        self._jobs: queue.SimpleQueue | None = None

    def run(self, job: Callable[[], None], timeout: float) -> bool:
        """Run `job` in the thread; False if it is still running after `timeout` seconds."""
        if self.thread is None:
            self._jobs = queue.SimpleQueue()
            self.thread = threading.Thread(target=self._serve, args=(self._jobs,), name="checks", daemon=True)
            self.thread.start()
        done = threading.Event()
        self._jobs.put((job, done))
        return done.wait(timeout)

    def abandon(self, grace: float) -> None:
        """Leave the current thread to finish its job alone (it then exits), waiting `grace` seconds for it."""
        thread, jobs = self.thread, self._jobs
        self.thread = self._jobs = None
        jobs.put(None)
        thread.join(grace)

    def stop(self) -> None:
        if self._jobs is not None:
            self._jobs.put(None)
            self.thread.join()
            self.thread = self._jobs = None

    @staticmethod
    def _serve(jobs: queue.SimpleQueue) -> None:
        while (item := jobs.get()) is not None:
            job, done = item
            job()
            done.set()


def run_checks(ctx, specs: list[CheckSpec], build_outcome: dict,
               emit: Callable[[dict], None] = lambda result: None) -> list[dict]:
    """Every check's verdict, in order; each one is passed to `emit` the moment it is known."""
    worker = CheckThread()
    try:
        return _run_checks(ctx, specs, build_outcome, emit, worker)
    finally:
        worker.stop()


def _run_checks(ctx, specs: list[CheckSpec], build_outcome: dict, emit: Callable[[dict], None],
                worker: CheckThread) -> list[dict]:
    results = {BUILD_CHECK_ID: build_outcome}
    names = {BUILD_CHECK_ID: build_outcome["name"]}
    ctx.reset()          # then each check cleans up after itself (run_one), so the next starts clean
    roots: dict[str, str] = {}
    out = [build_outcome]
    emit(build_outcome)
    for spec in specs:
        names[spec.id] = spec.name
        deps = (BUILD_CHECK_ID, *spec.depends)
        blocker = next((d for d in deps if results[d]["status"] != "passed"), None)
        if blocker is not None:
            root = roots.get(blocker, blocker)   # name the check that failed, not one skipped because of it
            shown = names[root] if not results[root]["hidden"] or spec.hidden else "a hidden check"
            roots[spec.id] = root
            res = outcome(spec.id, spec.name, "skipped", hidden=spec.hidden, advisory=spec.advisory,
                          message=f"Skipped because an earlier check did not pass: {shown}")
        else:
            res = run_one(ctx, spec, worker)
        results[spec.id] = res
        out.append(res)
        emit(res)
    return out


def run_one(ctx, spec: CheckSpec, worker: CheckThread) -> dict:
    """One check in the check thread, within its time limit; a clean slate after it, whatever happened."""
    common = {"hidden": spec.hidden, "advisory": spec.advisory}
    scope = CheckScope(ctx)
    ended: dict[str, Any] = {}

    def body() -> None:
        try:
            spec.func(scope)
        except BaseException as e:  # noqa: B036 -- whatever the check raised is its verdict
            ended["error"] = e
            ended["traceback"] = traceback.format_exc()[-4000:]
        ended["seconds"] = time.monotonic() - t0

    t0 = time.monotonic()
    try:
        if not worker.run(body, spec.timeout):
            return _overran(ctx, spec, scope, worker, common)
        seconds, error = ended["seconds"], ended.get("error")
        if error is None:
            return outcome(spec.id, spec.name, "passed", seconds=seconds, **common)
        if isinstance(error, ReferenceUnavailable):
            return outcome(spec.id, spec.name, "skipped", deferred=True, **common,
                           message="This check runs your program together with the reference solution; "
                                   "it runs at grading time.")
        if isinstance(error, Unreadable):
            return outcome(spec.id, spec.name, "error", seconds=seconds, **common,
                           message="This check cannot run on this grading platform, which withholds a "
                                   f"kernel permission it needs; it is not your fault. ({error})")
        if isinstance(error, Fail):
            return outcome(spec.id, spec.name, "failed", seconds=seconds, message=error.message,
                           expected=error.expected, observed=error.observed, evidence=error.evidence,
                           hint=error.hint, **common)
        return outcome(spec.id, spec.name, "error", seconds=seconds, **common,
                       message="The grader itself failed while running this check; this is not your fault. "
                               "Please report it to your instructor.",
                       evidence=[("internal error", ended["traceback"])])
    finally:
        ctx.reset()


def _overran(ctx, spec: CheckSpec, scope: CheckScope, worker: CheckThread, common: dict) -> dict:
    where = _where(worker.thread)
    scope.revoke()
    ctx.reset()                      # its programs die, so whatever it waits on returns
    worker.abandon(ABANDON_GRACE)
    return outcome(spec.id, spec.name, "error", seconds=spec.timeout, **common,
                   message=f"This check took longer than {spec.timeout:g} s, its time limit, so the grader "
                           "stopped it and killed your programs; it has no verdict, and every other check "
                           "kept its own. A program that waits for something that never comes (a line, a "
                           "child, a message, a signal) can cause this; if yours does not, tell your instructor.",
                   evidence=[("where the check was when it was stopped", where)] if where else [])


def _where(worker: threading.Thread) -> str:
    """The stopped check's call stack as file:line of each frame (no source text: hidden checks stay hidden)."""
    frame = sys._current_frames().get(worker.ident)
    if frame is None:
        return ""
    stack = traceback.extract_stack(frame)
    ours = [i for i, f in enumerate(stack) if f.filename == __file__]   # the thread's start, then the check's frames
    stack = stack[ours[-1] + 1:] if ours else stack
    return "\n".join(f"{os.path.basename(f.filename)}:{f.lineno} in {f.name}" for f in stack[-8:])


def build_outcome(result) -> dict:
    name = BUILD_CHECK_NAME
    if result.ok:
        evidence = [("compiler warnings", "\n".join(result.warnings[:40]))] if result.warnings else []
        msg = (f"Built with {len(result.warnings)} warning(s); fix them, they often point at real bugs."
               if result.warnings else "")
        return outcome(BUILD_CHECK_ID, name, "passed", message=msg, evidence=evidence)
    evidence = [("build output", result.log)] if result.log else []
    hint = None
    if result.problem and "both C and Python" in result.problem:
        hint = "Submit one language only."
    elif result.problem and ("missing" in result.problem or "no program files" in result.problem):
        hint = "Check the file names: they must match the assignment exactly (case matters)."
    else:
        hint = "Read the first error in the build output; later errors often follow from it."
    return outcome(BUILD_CHECK_ID, name, "failed", message=result.problem or "the build failed",
                   evidence=evidence, hint=hint)


def plan(specs: list[CheckSpec]) -> list[dict]:
    """The checks a run will report, in order (the build first), so the host can account for each."""
    return [{"id": BUILD_CHECK_ID, "name": BUILD_CHECK_NAME, "hidden": False, "advisory": False}] + [
        {"id": s.id, "name": s.name, "hidden": s.hidden, "advisory": s.advisory} for s in specs]
