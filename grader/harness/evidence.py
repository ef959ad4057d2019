"""Evidence and feedback: what a failure shows the student, and checks that read as one line of spec.

A `Fail` carries (label, text) pairs of evidence. The same few pieces come back
in every assignment: the end of a program's stderr, some calls from its trace,
its first lines of output. They are made here, so they look the same everywhere.

The `expect_*` helpers raise a `Fail` with expected and observed filled in, so a
check reads like its spec, in the style of check50's `run().stdout().exit()`:

    expect_stdout(run, "abc", "`pipeline printf abc -- cat`", hint="...")
    expect_lines("the exit status does not follow CMD2", expected, observed, hint="...")
"""
from __future__ import annotations

from .api import Fail, compare_lines
from .trace import Trace

STDERR_TAIL = 1500       # characters of stderr shown: its end, where the error message is
LINE_WIDTH = 160         # a trace line longer than this is cut


def stderr(run, label: str | None = None, tail: int = STDERR_TAIL) -> tuple[str, str]:
    """("pipeline's stderr", its last `tail` characters), or "(empty)"."""
    return (label or f"{run.label}'s stderr", run.stderr[-tail:] or "(empty)")


def output(run, limit: int = 10, none: str = "(nothing)") -> str:
    """The first `limit` lines a run printed on stdout."""
    return "\n".join(run.lines()[:limit]) or none


def short(line: str, width: int = LINE_WIDTH) -> str:
    """One trace line, cut to `width` characters (a 200-byte write argument fills a screen)."""
    return line if len(line) <= width else line[:width - 5] + " ...)"


def calls(trace: Trace, pid: int | None = None, names: tuple[str, ...] = (), limit: int = 14) -> str:
    """Some system calls of a trace (of one pid, of some names), one short line each, in order."""
    evs = [e for e in trace.calls() if (pid is None or e.pid == pid) and (not names or e.name in names)]
    if not evs:
        return "(no such calls traced)"
    return "\n".join(short(line) for line in trace.excerpt(evs, limit).splitlines())


# ---------------------------------------------------------------- asserting helpers

def expect(ok: bool, message: str, **fail) -> None:
    """Raise Fail(message, **fail) unless `ok`: one line per requirement."""
    if not ok:
        raise Fail(message, **fail)


def expect_lines(message: str, expected: list[str], observed: list[str], **fail) -> None:
    """Fail unless the lines match one by one; observed shows each line as ok, differs or missing."""
    ok, table = compare_lines(expected, observed)
    if not ok:
        raise Fail(message, expected="\n".join(expected), observed=table, **fail)


def expect_stdout(run, want: str, what: str, *, shown: str | None = None, **fail) -> None:
    """Fail unless the run printed exactly `want`; `what` names the command in the message,
    `shown` is how the expected output is written for the student (default: `want`)."""
    if run.stdout != want:
        raise Fail(f"{what} printed the wrong output", expected=want if shown is None else shown,
                   observed=repr(run.stdout[:200]), **fail)


# ---------------------------------------------------------------- injected failures (strace --inject)

def expect_injected(run, what: str, hint: str | None = None) -> list:
    """The calls the grader made fail; Fail if the program never made the call (nothing to hit)."""
    hits = run.injected()
    expect(bool(hits), f"{run.label} never called {what}, so the injected failure had nothing to hit",
           observed=calls(run.trace, run.root_pid), hint=hint)
    return hits


def expect_failure_reported(run, rc: int, what: str, **fail) -> None:
    """After the grader made `what` fail: an error message on stderr and a non-zero exit status."""
    expect(rc > 0 and bool(run.stderr.strip()),
           f"when {what} fails, {run.label} must print an error and exit with a non-zero status",
           expected="an error message on stderr and a non-zero exit status",
           observed=run.describe_exit() + ("" if run.stderr.strip() else ", nothing on stderr"), **fail)


def command_line(argv: list[str]) -> str:
    """A command as a student would type it in a shell, quoting only what needs it."""
    def q(a: str) -> str:
        return a if a and all(c.isalnum() or c in "-_./=%" for c in a) else "'" + a.replace("'", "'\\''") + "'"
    return " ".join(q(a) for a in argv)


def failure_of(step) -> Fail | None:
    """Run `step()` and return the Fail it raised (None if it passed): for a session that several
    checks judge, where one failure must not stop the others from seeing what happened."""
    try:
        step()
    except Fail as f:
        return f
    return None
