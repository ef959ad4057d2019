"""Rich renderings for people at a terminal: the batch summary and one student's self-check.

Every cell is a rich Text, never a markup string, so a student called
"[bold red]x" is printed literally; control characters are made visible so a
program's output cannot move the cursor or recolour the instructor's terminal.
"""
from __future__ import annotations

from collections.abc import Iterator

from rich.console import Console
from rich.table import Table
from rich.text import Text

from grader.models import CheckStatus, Gradebook, SubmissionResult
from grader.report._text import one_line, points
from grader.report.feedback import check_heading, feedback_body

_STYLE = {CheckStatus.passed: "green", CheckStatus.failed: "red",
          CheckStatus.skipped: "yellow", CheckStatus.error: "magenta"}
_LABEL = {CheckStatus.passed: "PASS ", CheckStatus.failed: "FAIL ",
          CheckStatus.skipped: "SKIP ", CheckStatus.error: "ERROR"}


ROWS_PER_TABLE = 100


def summary_tables(book: Gradebook, rows_per_table: int = ROWS_PER_TABLE) -> Iterator[Table]:
    """One row per student: who, which language, score, status, failing check ids.

    A large class comes as several tables of `rows_per_table` rows, each printed
    and dropped in turn, so a thousand rows never sit in memory at once; the
    header repeats, which also helps when scrolling back.
    """
    total = len(book.submissions)
    table = None
    for n, sub in enumerate(book.submissions):
        if n % rows_per_table == 0:
            if table is not None:
                yield table
            title = one_line(book.assignment)
            if total > rows_per_table:
                title += f" (students {n + 1}-{min(n + rows_per_table, total)} of {total})"
            table = _summary_table(title)
        failed = [c.id for c in sub.checks if c.status in (CheckStatus.failed, CheckStatus.error)]
        table.add_row(Text(one_line(sub.student)), Text(one_line(sub.language or "-")),
                      Text(f"{points(sub.score)} / {points(sub.max_score)}"),
                      Text(sub.status, style="green" if sub.status == "graded" else "red"),
                      Text(one_line(", ".join(failed)), style="red"))
    yield table if table is not None else _summary_table(one_line(book.assignment))


def _summary_table(title: str) -> Table:
    table = Table(title=Text(title))
    for column in ("Student", "Language", "Score", "Status", "Failed checks"):
        table.add_column(column)
    return table


def render_check_report(result: SubmissionResult, console: Console, include_hidden: bool = True) -> None:
    """Print each check with its outcome; failures get their evidence and hint underneath."""
    console.print(Text(f"{one_line(result.student)}: {points(result.score)} / {points(result.max_score)}",
                       style="bold"))
    if result.status == "error":
        console.print(Text(f"Could not be graded: {one_line(result.error or 'unknown error')}", style="red"))
    for check in result.checks:
        if check.hidden and not include_hidden:
            continue
        line = Text(_LABEL[check.status], style=f"bold {_STYLE[check.status]}")
        line.append(" " + check_heading(check))
        console.print(line)
        body = feedback_body(check)
        if body and check.status is not CheckStatus.passed:
            console.print(Text("      " + body.replace("\n", "\n      ")))
    hidden = sum(c.hidden for c in result.checks)
    if hidden and not include_hidden:
        console.print(Text(f"{hidden} hidden check(s) run at grading time.", style="dim"))
