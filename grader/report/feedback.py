"""What a student reads about their submission: one check as plain text, and feedback.md.

The plain-text form of a check is the single source of student-facing wording;
JSON, JUnit, Gradescope and markdown all embed it, so a student sees the same
explanation wherever the grade shows up.
"""
from __future__ import annotations

import textwrap

from grader.models import CheckStatus, ScoredCheck, SubmissionResult
from grader.report._text import fence, md_inline, points, visible

_INDENT = "    "


def _block(title: str, text: str) -> list[str]:
    """Indent multi-line text under a title so its start and end are obvious."""
    body = visible(text) if text.strip() else "(nothing)"
    return [f"{title}:", textwrap.indent(body.rstrip("\n"), _INDENT)]


def check_heading(check: ScoredCheck) -> str:
    """One line: which check, how it went, what it was worth."""
    extra = " (advisory: does not count towards your score)" if check.advisory else ""
    return (f"{visible(check.name)} [{visible(check.id)}]: {check.status.value.upper()}, "
            f"{points(check.score)} of {points(check.max_score)} points{extra}")


def feedback_body(check: ScoredCheck) -> str:
    """The explanation under the heading: why, what was expected and seen, how to fix."""
    out = check.outcome
    lines: list[str] = []
    if check.status is CheckStatus.skipped:
        lines.append(f"Not run: {visible(out.message or 'a check it depends on did not pass')}")
    elif check.status is CheckStatus.error:
        lines.append(f"The grader could not finish this check: {visible(out.message or 'unknown error')}")
    elif out.message:
        lines.append(visible(out.message))
    if out.expected is not None:
        lines += _block("Expected", out.expected)
    if out.observed is not None:
        lines += _block("Observed", out.observed)
    for item in out.evidence:
        lines += _block(f"Evidence ({visible(item.label)})", item.text)
    if out.hint and check.status is not CheckStatus.passed:
        lines.append(f"How to fix: {visible(out.hint)}")
    return "\n".join(lines)


def check_feedback(check: ScoredCheck) -> str:
    """Plain text for one check, written for the student who has to fix it."""
    body = feedback_body(check)
    return check_heading(check) + ("\n" + body if body else "")


def _score_line(result: SubmissionResult, shown: list[ScoredCheck], include_hidden: bool) -> str:
    """With hidden checks withheld, the total would leak their outcome, so show the visible part only."""
    if include_hidden or len(shown) == len(result.checks):
        return f"**Score:** {points(result.score)} / {points(result.max_score)}"
    got, of = sum(c.score for c in shown), sum(c.max_score for c in shown)
    return f"**Score on visible checks:** {points(got)} / {points(of)}"


def _table(checks: list[ScoredCheck]) -> list[str]:
    rows = ["| Check | Result | Points |", "| --- | --- | --- |"]
    for c in checks:
        name = md_inline(c.name) + (" (hidden)" if c.hidden else "")
        rows.append(f"| {name} | {c.status.value} | {points(c.score)} / {points(c.max_score)} |")
    return rows


def feedback_markdown(result: SubmissionResult, assignment: str, include_hidden: bool = True) -> str:
    """The per-student feedback.md.

    include_hidden=True is the instructor/Gradescope view; False is what a student may
    see before grades are published: hidden checks vanish, leaving only their count.
    """
    shown = [c for c in result.checks if include_hidden or not c.hidden]
    hidden = len(result.checks) - len(shown)
    parts = [f"# Feedback: {md_inline(assignment)}", "", f"**Student:** {md_inline(result.student)}", "",
             _score_line(result, shown, include_hidden)]
    if result.status == "error":
        parts += ["", "**Your submission could not be graded.**", "", fence(visible(result.error or "unknown error"))]
    if shown:
        parts += ["", *_table(shown)]
    if hidden:
        parts += ["", f"{hidden} hidden checks run at grading time." if hidden != 1
                  else "1 hidden check runs at grading time."]
    details = [c for c in shown if c.status is not CheckStatus.passed]
    if details:
        parts += ["", "## Details"]
    for c in details:
        parts += ["", f"### {md_inline(c.name)} ({c.status.value})", "", fence(check_feedback(c))]
    return "\n".join(parts) + "\n"
