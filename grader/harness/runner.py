"""Run an assignment's checks in order, skipping those whose dependencies did not pass.

Each check runs against a clean slate: before and after it, every student
process is killed and leftover IPC objects are removed. A check that raises
anything but Fail is an internal error of the harness, reported as such; the
student is never blamed for a grader bug.
"""
from __future__ import annotations

import importlib.util
import os
import sys
import time
import traceback

from .api import CheckSpec, Fail, ReferenceUnavailable
from .procaccess import Unreadable

BUILD_CHECK_ID = "build"


def load_checks(assignment_dir: str, include_hidden: bool) -> list[CheckSpec]:
    """Collect decorated check functions: visible module first, then hidden, each in source order.

    The modules are importable as `checks` and `hidden_checks`, so hidden checks
    can reuse the visible module's session helpers.
    """
    specs: list[CheckSpec] = []
    harness_dir = os.path.join(assignment_dir, "harness")
    modules = ["checks"] + (["hidden_checks"] if include_hidden else [])
    for stale in ("checks", "hidden_checks"):
        sys.modules.pop(stale, None)
    sys.path.insert(0, harness_dir)
    try:
        for name in modules:
            path = os.path.join(harness_dir, f"{name}.py")
            if not os.path.exists(path):
                continue
            spec = importlib.util.spec_from_file_location(name, path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
            found = [v.__check__ for v in vars(module).values()
                     if callable(v) and hasattr(v, "__check__") and v.__module__ == name]
            found.sort(key=lambda c: c.func.__code__.co_firstlineno)
            for c in found:
                if c.hidden != (name == "hidden_checks"):
                    raise ValueError(f"check {c.id!r}: hidden checks belong in hidden_checks.py and only there")
            specs.extend(found)
    finally:
        sys.path.remove(harness_dir)
    ids = [BUILD_CHECK_ID] + [c.id for c in specs]
    dupes = {i for i in ids if ids.count(i) > 1}
    if dupes:
        raise ValueError(f"duplicate check ids: {', '.join(sorted(dupes))}")
    for c in specs:
        unknown = [d for d in c.depends if d not in ids[: ids.index(c.id)]]
        if unknown:
            raise ValueError(f"check {c.id!r} depends on {unknown}, which must be declared before it")
    return specs


def outcome(spec_id: str, name: str, status: str, *, hidden=False, advisory=False, seconds=0.0,
            message="", expected=None, observed=None, evidence=(), hint=None, deferred=False) -> dict:
    return {"deferred": deferred, "id": spec_id, "name": name, "status": status, "message": message, "expected": expected,
            "observed": observed, "evidence": [{"label": l, "text": t} for l, t in evidence],
            "hint": hint, "hidden": hidden, "advisory": advisory, "seconds": round(seconds, 3)}


def run_checks(ctx, specs: list[CheckSpec], build_outcome: dict) -> list[dict]:
    results = {BUILD_CHECK_ID: build_outcome}
    names = {BUILD_CHECK_ID: build_outcome["name"]}
    roots: dict[str, str] = {}
    out = [build_outcome]
    for spec in specs:
        names[spec.id] = spec.name
        deps = (BUILD_CHECK_ID, *spec.depends)
        blocker = next((d for d in deps if results[d]["status"] != "passed"), None)
        common = {"hidden": spec.hidden, "advisory": spec.advisory}
        if blocker is not None:
            root = roots.get(blocker, blocker)   # name the check that failed, not one skipped because of it
            shown = names[root] if not results[root]["hidden"] or spec.hidden else "a hidden check"
            roots[spec.id] = root
            res = outcome(spec.id, spec.name, "skipped", **common,
                          message=f"Skipped because an earlier check did not pass: {shown}")
        else:
            t0 = time.monotonic()
            try:
                ctx.reset()
                spec.func(ctx)
                res = outcome(spec.id, spec.name, "passed", seconds=time.monotonic() - t0, **common)
            except ReferenceUnavailable:
                res = outcome(spec.id, spec.name, "skipped", deferred=True, **common,
                              message="This check runs your program together with the reference solution; "
                                      "it runs at grading time.")
            except Unreadable as u:
                res = outcome(spec.id, spec.name, "error", seconds=time.monotonic() - t0, **common,
                              message="This check cannot run on this grading platform, which withholds a "
                                      f"kernel permission it needs; it is not your fault. ({u})")
            except Fail as f:
                res = outcome(spec.id, spec.name, "failed", seconds=time.monotonic() - t0, message=f.message,
                              expected=f.expected, observed=f.observed, evidence=f.evidence, hint=f.hint, **common)
            except Exception:
                res = outcome(spec.id, spec.name, "error", seconds=time.monotonic() - t0, **common,
                              message="The grader itself failed while running this check; this is not your fault. "
                                      "Please report it to your instructor.",
                              evidence=[("internal error", traceback.format_exc()[-4000:])])
            finally:
                ctx.reset()
        results[spec.id] = res
        out.append(res)
    return out


def build_outcome(result) -> dict:
    name = "The programs build (compiler warnings are reported)"
    if result.ok:
        evidence = [("compiler warnings", "\n".join(result.warnings[:40]))] if result.warnings else []
        msg = f"Built with {len(result.warnings)} warning(s); fix them, they often point at real bugs." if result.warnings else ""
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
