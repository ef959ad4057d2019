"""The instructor's gradebook: JSON for tools, CSV for spreadsheets."""
from __future__ import annotations

import csv
import io
import json

from grader.models import CheckStatus, Gradebook, ScoredCheck, SubmissionResult
from grader.report._text import number, points
from grader.report.feedback import check_feedback


def _check_doc(check: ScoredCheck) -> dict:
    return {"id": check.id, "name": check.name, "status": check.status.value,
            "score": number(check.score), "max_score": number(check.max_score),
            "feedback": check_feedback(check)}


def _submission_doc(sub: SubmissionResult) -> dict:
    doc = {"student": sub.student, "score": number(sub.score), "max_score": number(sub.max_score),
           "status": sub.status}
    if sub.status == "error":
        doc["error"] = sub.error or "unknown error"
    doc["language"] = sub.language
    doc["checks"] = [_check_doc(c) for c in sub.checks]
    return doc


def gradebook_json(book: Gradebook) -> str:
    """A stable, documented shape rather than model_dump(), so consumers survive model refactors."""
    doc = {"assignment": book.assignment, "submissions": [_submission_doc(s) for s in book.submissions]}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def csv_cell(value: str) -> str:
    """Spreadsheets execute cells starting with = + - @ (and tab/CR); a leading quote makes them text."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _cell(check: ScoredCheck | None) -> str:
    """Empty means 'not run' (absent or skipped), distinct from 0 for 'ran and earned nothing'."""
    return "" if check is None or check.status is CheckStatus.skipped else points(check.score)


def gradebook_csv(book: Gradebook) -> str:
    """One row per student, one column per check, in the order checks were first seen."""
    ids = list(dict.fromkeys(c.id for s in book.submissions for c in s.checks))
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["student", "status", "score", "max_score", *map(csv_cell, ids)])
    for sub in book.submissions:
        by_id = {c.id: c for c in sub.checks}
        writer.writerow([csv_cell(sub.student), sub.status, points(sub.score), points(sub.max_score),
                         *(_cell(by_id.get(i)) for i in ids)])
    return buf.getvalue()
