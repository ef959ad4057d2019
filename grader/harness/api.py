"""How an assignment declares checks: plain functions with metadata, and typed failures.

A check's docstring is the sentence the student sees. Points live in the rubric,
not here. There is no global registry: the runner collects the decorated
functions of an assignment's check modules in the order they are written.

Each check has its own time limit (`timeout`, wall seconds): the runner stops a
check that overruns it, gives it an error verdict and goes on with the next one.
The default sits far above what any check of the shipped assignments needs; a
check that legitimately waits longer (several sessions, long hang budgets)
raises its own.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class CheckSpec:
    id: str
    name: str                      # first line of the docstring
    func: Callable
    depends: tuple[str, ...] = ()
    hidden: bool = False
    advisory: bool = False         # reported, but worth no points unless the rubric says so
    timeout: float = 90.0          # wall seconds before the runner stops the check


DEFAULT_TIMEOUT = CheckSpec.timeout


def check(id: str, *, depends: tuple[str, ...] | list[str] = (), hidden: bool = False, advisory: bool = False,
          timeout: float = DEFAULT_TIMEOUT):
    """Declare a check. Every check implicitly depends on the build."""
    if not timeout > 0:
        raise ValueError(f"check {id!r}: timeout must be a positive number of seconds")

    def wrap(func: Callable) -> Callable:
        doc = (func.__doc__ or id).strip().splitlines()[0].strip()
        func.__check__ = CheckSpec(id=id, name=doc, func=func, depends=tuple(depends),
                                   hidden=hidden, advisory=advisory, timeout=float(timeout))
        return func
    return wrap


@dataclass
class Fail(Exception):
    """A check did not pass. Carries what a student needs to fix it."""
    message: str
    expected: str | None = None
    observed: str | None = None
    evidence: list[tuple[str, str]] = field(default_factory=list)
    hint: str | None = None

    def __post_init__(self):
        super().__init__(self.message)

    def with_evidence(self, label: str, text: str) -> Fail:
        self.evidence.append((label, text))
        return self


class ReferenceUnavailable(Exception):
    """A mix-and-match check needs the reference solution, which this copy (a student kit) lacks."""


def compare_lines(expected: list[str], observed: list[str]) -> tuple[bool, str]:
    """Line-by-line comparison, marking each line as matching, differing or missing."""
    out, ok = [], True
    for i in range(max(len(expected), len(observed))):
        e = expected[i] if i < len(expected) else None
        o = observed[i] if i < len(observed) else None
        if e == o:
            out.append(f"  ok       {o}")
        elif o is None:
            ok = False
            out.append(f"  missing  {e}")
        elif e is None:
            ok = False
            out.append(f"  extra    {o}")
        else:
            ok = False
            out.append(f"  differs  {o!r}, expected {e!r}")
    return ok, "\n".join(out) if out else "  (no lines)"
