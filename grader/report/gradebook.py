"""The instructor's gradebook: JSON for tools, CSV for spreadsheets."""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

from grader.models import CheckStatus, Gradebook, ScoredCheck, SubmissionResult
from grader.report._text import number, points
from grader.report.feedback import check_feedback


def _check_doc(check: ScoredCheck) -> dict:
    """`seconds` is the harness's time for the check (0 when skipped): where a submission's time went."""
    return {"id": check.id, "name": check.name, "status": check.status.value,
            "score": number(check.score), "max_score": number(check.max_score),
            "seconds": round(check.outcome.seconds, 3), "feedback": check_feedback(check)}


def _submission_doc(sub: SubmissionResult) -> dict:
    doc = {"student": sub.student, "score": number(sub.score), "max_score": number(sub.max_score),
           "status": sub.status}
    if sub.status == "error":
        doc["error"] = sub.error or "unknown error"
    doc["language"] = sub.language
    doc["seconds"] = round(sub.seconds, 3)      # the whole grading run: container, build and every check
    doc["checks"] = [_check_doc(c) for c in sub.checks]
    return doc


def gradebook_json(book: Gradebook) -> Iterator[str]:
    """A stable, documented shape rather than model_dump(), so consumers survive model refactors.

    Yielded a submission at a time (indented as json.dumps(indent=2) would), so a
    large class is never one string in memory.
    """
    yield '{\n  "assignment": ' + json.dumps(book.assignment, ensure_ascii=False) + ',\n  "submissions": ['
    empty = True
    for sub in book.submissions:
        doc = json.dumps(_submission_doc(sub), indent=2, ensure_ascii=False)
        yield ("\n    " if empty else ",\n    ") + doc.replace("\n", "\n    ")
        empty = False
    yield ("]" if empty else "\n  ]") + "\n}\n"


def csv_cell(value: str) -> str:
    """Spreadsheets execute cells starting with = + - @ (and tab/CR); a leading quote makes them text."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _cell(check: ScoredCheck | None) -> str:
    """Empty means 'not run' (absent or skipped), distinct from 0 for 'ran and earned nothing'."""
    return "" if check is None or check.status is CheckStatus.skipped else points(check.score)


def _csv_line(row: list[str]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(row)
    return buf.getvalue()


def gradebook_csv(book: Gradebook) -> Iterator[str]:
    """One row per student, one column per check, in the order checks were first seen."""
    ids = list(dict.fromkeys(c.id for s in book.submissions for c in s.checks))
    yield _csv_line(["student", "status", "score", "max_score", *map(csv_cell, ids)])
    for sub in book.submissions:
        by_id = {c.id: c for c in sub.checks}
        yield _csv_line([csv_cell(sub.student), sub.status, points(sub.score), points(sub.max_score),
                         *(_cell(by_id.get(i)) for i in ids)])
