"""Hidden checks for pipe-pipeline: run at grading time, never shipped to students."""
from grader.harness.api import Fail, check, compare_lines

from .checks import show, wait_or_hang


@check("arguments-intact", hidden=True)
def arguments_intact(ctx):
    """Arguments reach each command unchanged: spaces, empty strings, and a later `--` that belongs to CMD2"""
    # The readers stop after one line, so a stray pipe end (another check's business) cannot hang them.
    cases = [(["sh", "-c", 'printf "%s|" "$#" "$@"; echo', "sh", "a", "b c", "", "--", "head", "-n", "1"],
              "3|a|b c||\n"),
             (["printf", "x\\n", "--", "sh", "-c", 'read l; echo "$l|$#|$1"', "sh", "p q", "--"], "x|2|p q\n")]
    expected, observed = [], []
    for args, want in cases:
        run = ctx.start("pipeline", args)
        wait_or_hang(ctx, run, args)
        expected.append(f"{show(args)}: {want!r}")
        observed.append(f"{show(args)}: {run.stdout[:80]!r}")
        ctx.reset()
    ok, diff = compare_lines(expected, observed)
    if not ok:
        raise Fail("a command did not get exactly its own arguments", expected="\n".join(expected),
                   observed=diff,
                   hint="Split at the FIRST \"--\" and pass the words around it unchanged: CMD1 is "
                        "argv[1..sep-1] (set argv[sep] = NULL to end it), CMD2 is argv[sep+1..]. Never "
                        "join and re-split the arguments on spaces.")
