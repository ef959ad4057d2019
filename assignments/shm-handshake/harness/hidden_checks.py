"""Hidden checks for shm-handshake: run at grading time, never shipped to students."""
from grader.harness.api import Fail, check

from .checks import run_session

MAX_N = 1000


@check("sum-max-n", depends=["handshake-completes"], hidden=True)
def sum_max_n(ctx):
    """The handshake works for the largest N the spec allows (N=1000)"""
    s = run_session(ctx, MAX_N)
    if s.id_failure or s.run_failure:
        raise s.id_failure or s.run_failure
    expected = f"sum={sum(i * i for i in range(1, MAX_N + 1))}"
    if s.master.lines()[1:2] != [expected]:
        raise Fail(f"wrong result for N={MAX_N}", expected=expected, observed=repr(s.sum_line()),
                   hint="Check the segment size and the sum's type for large N.")
