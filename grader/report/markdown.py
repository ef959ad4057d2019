"""A gradebook overview for CI step summaries (GitHub's $GITHUB_STEP_SUMMARY renders markdown).

Details sit in collapsed <details> blocks so a class of fifty stays scannable.
"""
from __future__ import annotations

import html
from collections.abc import Iterator

from grader.models import CheckStatus, Gradebook, SubmissionResult
from grader.report._text import fence, md_inline, one_line, points, visible
from grader.report.feedback import check_feedback

_NOT_OK = (CheckStatus.failed, CheckStatus.error)


def _row(sub: SubmissionResult) -> str:
    failed = ", ".join(md_inline(c.id) for c in sub.checks if c.status in _NOT_OK) or "none"
    return f"| {md_inline(sub.student)} | {sub.status} | {points(sub.score)} / {points(sub.max_score)} | {failed} |"


def _details(sub: SubmissionResult) -> list[str]:
    """Blank lines around the content let GitHub render markdown inside the HTML block."""
    failing = [c for c in sub.checks if c.status in _NOT_OK]
    if not failing and sub.status != "error":
        return []
    summary = html.escape(f"{one_line(sub.student)}: {points(sub.score)} / {points(sub.max_score)}")
    out = ["", f"<details><summary>{summary}</summary>", ""]
    if sub.status == "error":
        out += ["**Grading error**", "", fence(visible(sub.error or "unknown error")), ""]
    for c in failing:
        out += [f"**{md_inline(c.name)}** ({c.status.value})", "", fence(check_feedback(c)), ""]
    return out + ["</details>"]


def markdown_summary(book: Gradebook) -> Iterator[str]:
    """Table of every student, then the failing checks' feedback per student (two passes, line by line)."""
    yield f"## {md_inline(book.assignment)}: grading summary\n\n"
    yield "| Student | Status | Score | Failed checks |\n| --- | --- | --- | --- |\n"
    for sub in book.submissions:
        yield _row(sub) + "\n"
    for sub in book.submissions:
        for line in _details(sub):
            yield line + "\n"
