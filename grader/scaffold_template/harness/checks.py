"""Checks for __NAME__ (scaffolded by `grade new`; see docs/authoring.md).

Hidden checks go in hidden_checks.py beside this file and import what they
share with it through the package: `from .checks import session`.
"""
from grader.harness import processes
from grader.harness.api import Fail, check

SECONDS = 5.0


def session(ctx):
    def run():
        p = ctx.start("pingpong")
        rc = ctx.finish(p, SECONDS, what="pingpong")
        return p, rc
    return ctx.memo("session", run)


@check("output")
def output(ctx):
    """pingpong prints `got ping` and exits 0"""
    p, rc = session(ctx)
    if p.lines() != ["got ping"] or rc != 0:
        raise Fail("wrong output or exit status", expected="got ping (exit status 0)",
                   observed=f"{p.stdout!r} ({p.describe_exit()})",
                   hint="The child writes ping into the pipe; the parent reads it and prints it.")


@check("child-reaped", depends=["output"])
def child_reaped(ctx):
    """The parent waits for its child (no zombie)"""
    p, _ = session(ctx)
    processes.expect_reaped(p.trace, p.pid,
                            hint="Call waitpid(pid, &status, 0) (Python: os.waitpid(pid, 0)) before exiting.")
