"""grader/harness/runner.py without Docker: loading checks as a package, dependencies, per-check
time limits, and verdicts handed out one by one. The context is a fake: nothing here starts a
process or touches the host's IPC objects."""
from __future__ import annotations

import threading
import time
from textwrap import dedent

import pytest

from grader.harness import runner
from grader.harness.api import Fail, ReferenceUnavailable, check

BUILD_OK = runner.outcome(runner.BUILD_CHECK_ID, runner.BUILD_CHECK_NAME, "passed")


class FakeContext:
    """What run_checks needs of a CheckContext: reset() (kill everything) and memo()."""

    def __init__(self):
        self.resets = 0
        self.running: list[threading.Event] = []
        self._memo = {}

    def start(self) -> threading.Event:
        """A fake program: waiting on it blocks until reset() kills it."""
        program = threading.Event()
        self.running.append(program)
        return program

    def reset(self):
        self.resets += 1
        for program in self.running:
            program.set()
        self.running.clear()

    def memo(self, key, factory):
        if key not in self._memo:
            try:
                self._memo[key] = ("ok", factory())
            except Fail as f:
                self._memo[key] = ("fail", f)
        kind, value = self._memo[key]
        if kind == "fail":
            raise value
        return value


def spec_of(func):
    return func.__check__


def statuses(results):
    return {r["id"]: r["status"] for r in results}


# ------------------------------------------------------------------ loading
def write_assignment(root, checks: str, hidden: str | None = None):
    harness = root / "demo-assignment" / "harness"
    harness.mkdir(parents=True)
    (harness / "checks.py").write_text(dedent(checks))
    if hidden is not None:
        (harness / "hidden_checks.py").write_text(dedent(hidden))
    return str(root / "demo-assignment")


VISIBLE = '''
    from grader.harness.api import Fail, check

    SHARED = "from the visible module"

    @check("second-in-file")
    def zeta(ctx):
        """Declared first in the file"""

    @check("then-this", depends=["second-in-file"], timeout=5)
    def alpha(ctx):
        """Declared second"""
'''

HIDDEN = '''
    from grader.harness.api import check

    from .checks import SHARED

    @check("secret", hidden=True)
    def secret(ctx):
        """Hidden"""
        assert SHARED == "from the visible module"
'''


def test_checks_load_in_source_order_and_hidden_ones_import_through_the_package(tmp_path):
    adir = write_assignment(tmp_path, VISIBLE, HIDDEN)
    specs = runner.load_checks(adir, include_hidden=True)
    assert [s.id for s in specs] == ["second-in-file", "then-this", "secret"]
    assert [s.hidden for s in specs] == [False, False, True]
    assert specs[1].timeout == 5 and specs[0].timeout == runner.CheckSpec.timeout
    assert [s.id for s in runner.load_checks(adir, include_hidden=False)] == ["second-in-file", "then-this"]
    results = runner.run_checks(FakeContext(), specs, BUILD_OK)
    assert statuses(results)["secret"] == "passed"


def test_a_reload_sees_edited_files(tmp_path):
    adir = write_assignment(tmp_path, VISIBLE)
    runner.load_checks(adir, include_hidden=False)
    (tmp_path / "demo-assignment" / "harness" / "checks.py").write_text(dedent('''
        from grader.harness.api import check

        @check("renamed")
        def renamed(ctx):
            """Renamed"""
    '''))
    assert [s.id for s in runner.load_checks(adir, include_hidden=False)] == ["renamed"]


@pytest.mark.parametrize("checks, hidden, message", [
    ('''
        from grader.harness.api import check

        @check("a")
        def a(ctx):
            """A"""

        @check("a")
        def b(ctx):
            """B"""
    ''', None, "duplicate check ids: a"),
    ('''
        from grader.harness.api import check

        @check("a", depends=["later"])
        def a(ctx):
            """A"""

        @check("later")
        def later(ctx):
            """Later"""
    ''', None, "must be declared before it"),
    ('''
        from grader.harness.api import check

        @check("a", hidden=True)
        def a(ctx):
            """A"""
    ''', None, "hidden checks belong in hidden_checks.py"),
    (VISIBLE, '''
        from grader.harness.api import check

        @check("not-hidden")
        def a(ctx):
            """A"""
    ''', "hidden checks belong in hidden_checks.py"),
])
def test_load_refuses_malformed_check_modules(tmp_path, checks, hidden, message):
    adir = write_assignment(tmp_path, checks, hidden)
    with pytest.raises(ValueError, match=message):
        runner.load_checks(adir, include_hidden=True)


def test_a_timeout_must_be_positive():
    with pytest.raises(ValueError, match="timeout must be a positive"):
        check("x", timeout=0)


# ------------------------------------------------------------------ running
@check("fails")
def fails(ctx):
    """Fails"""
    raise Fail("wrong", expected="1", observed="2", evidence=[("trace", "write(1, ...)")], hint="fix it")


@check("after-fail", depends=["fails"])
def after_fail(ctx):
    """Skipped"""


@check("after-skip", depends=["after-fail"])
def after_skip(ctx):
    """Skipped too"""


@check("crashes")
def crashes(ctx):
    """A grader bug"""
    raise KeyError("oops")


@check("needs-reference")
def needs_reference(ctx):
    """Mix and match"""
    raise ReferenceUnavailable()


@check("passes")
def passes(ctx):
    """Passes"""


def test_verdicts_skips_name_the_root_failure_and_crashes_are_internal_errors():
    ctx = FakeContext()
    specs = [spec_of(f) for f in (fails, after_fail, after_skip, crashes, needs_reference, passes)]
    results = runner.run_checks(ctx, specs, BUILD_OK)
    assert statuses(results) == {"build": "passed", "fails": "failed", "after-fail": "skipped",
                                 "after-skip": "skipped", "crashes": "error", "needs-reference": "skipped",
                                 "passes": "passed"}
    by_id = {r["id"]: r for r in results}
    assert by_id["fails"]["expected"] == "1" and by_id["fails"]["evidence"] == [{"label": "trace",
                                                                                  "text": "write(1, ...)"}]
    assert by_id["after-skip"]["message"].endswith(": Fails")      # the root cause, not the skipped check
    assert "not your fault" in by_id["crashes"]["message"]
    assert "KeyError" in by_id["crashes"]["evidence"][0]["text"]
    assert by_id["needs-reference"]["deferred"]
    assert ctx.resets == 1 + 4                                     # a clean slate first, then after each run


def test_a_failed_build_skips_everything():
    build_failed = runner.outcome(runner.BUILD_CHECK_ID, runner.BUILD_CHECK_NAME, "failed")
    results = runner.run_checks(FakeContext(), [spec_of(passes)], build_failed)
    assert statuses(results) == {"build": "failed", "passes": "skipped"}


def test_a_hidden_root_cause_stays_hidden_from_visible_checks():
    @check("secret", hidden=True)
    def secret(ctx):
        """The hidden one"""
        raise Fail("no")

    @check("visible", depends=["secret"])
    def visible(ctx):
        """Visible"""

    results = runner.run_checks(FakeContext(), [spec_of(secret), spec_of(visible)], BUILD_OK)
    assert results[-1]["message"].endswith("a hidden check")


def test_each_verdict_is_emitted_as_soon_as_it_exists():
    seen = []

    @check("first")
    def first(ctx):
        """First"""

    @check("second")
    def second(ctx):
        """Second"""
        seen.append(("second runs after", [r["id"] for r in emitted]))

    emitted = []
    runner.run_checks(FakeContext(), [spec_of(first), spec_of(second)], BUILD_OK, emit=emitted.append)
    assert seen == [("second runs after", ["build", "first"])]
    assert [r["id"] for r in emitted] == ["build", "first", "second"]


# ------------------------------------------------------------------ time limits
def test_a_check_past_its_limit_gets_its_own_error_and_the_others_keep_theirs():
    @check("stuck", timeout=0.2)
    def stuck(ctx):
        """Waits on a program that never answers"""
        ctx.start().wait()            # returns once the runner kills every student process
        ctx.start()                   # an abandoned check may not touch the context again

    specs = [spec_of(fails), spec_of(stuck), spec_of(passes)]
    results = runner.run_checks(FakeContext(), specs, BUILD_OK)
    assert statuses(results) == {"build": "passed", "fails": "failed", "stuck": "error", "passes": "passed"}
    stopped = results[2]
    assert "took longer than 0.2 s" in stopped["message"] and "every other check kept its own" in stopped["message"]
    assert "not your fault" not in stopped["message"]
    where = stopped["evidence"][0]
    assert where["label"] == "where the check was when it was stopped"
    assert where["text"].splitlines()[0].endswith("in stuck")          # the check first, no runner internals


def test_a_check_that_ignores_the_kill_is_abandoned(monkeypatch):
    monkeypatch.setattr(runner, "ABANDON_GRACE", 0.05)
    release = threading.Event()

    @check("spins", timeout=0.1)
    def spins(ctx):
        """Never returns on its own"""
        release.wait()

    try:
        results = runner.run_checks(FakeContext(), [spec_of(spins), spec_of(passes)], BUILD_OK)
    finally:
        release.set()
    assert statuses(results) == {"build": "passed", "spins": "error", "passes": "passed"}


def test_an_abandoned_check_leaves_nothing_in_the_memo():
    ctx = FakeContext()
    finished = threading.Event()

    @check("slow-session", timeout=0.1)
    def slow_session(ctx):
        """Computes a session too slowly"""
        def session():
            ctx.start().wait()       # the program was killed under it: what it saw is not evidence
            raise Fail("program killed by SIGKILL")
        try:
            ctx.memo("session", session)
        finally:
            finished.set()

    results = runner.run_checks(ctx, [spec_of(slow_session)], BUILD_OK)
    assert finished.wait(5)
    assert statuses(results)["slow-session"] == "error"
    assert "session" not in ctx._memo


def test_scope_forwards_until_revoked():
    ctx = FakeContext()
    scope = runner.CheckScope(ctx)
    scope.note = "set through the scope"
    assert ctx.note == "set through the scope" and scope.memo("k", lambda: 7) == 7
    scope.revoke()
    with pytest.raises(runner.CheckAbandoned):
        scope.reset()
    with pytest.raises(runner.CheckAbandoned):
        scope.memo("k", lambda: 8)


def test_check_threads_do_not_outlive_a_normal_run():
    before = threading.active_count()
    runner.run_checks(FakeContext(), [spec_of(passes), spec_of(fails)], BUILD_OK)
    deadline = time.monotonic() + 5
    while threading.active_count() > before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert threading.active_count() == before


def test_checks_share_one_thread_until_one_overruns():
    seen = []

    @check("first")
    def first(ctx):
        """First"""
        seen.append(threading.current_thread())

    @check("second")
    def second(ctx):
        """Second"""
        seen.append(threading.current_thread())

    @check("stuck", timeout=0.1)
    def stuck(ctx):
        """Stuck"""
        seen.append(threading.current_thread())
        ctx.start().wait()

    specs = [spec_of(first), spec_of(second), spec_of(stuck), spec_of(first)]
    runner.run_checks(FakeContext(), specs, BUILD_OK)
    assert seen[0] is seen[1] is seen[2] and seen[3] is not seen[2] and threading.main_thread() not in seen
