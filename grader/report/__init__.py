"""Reports: each output format is one pure function from the models to text.

A whole-class format yields its text in pieces, a submission at a time, so a
large class is never held in memory; `text()` joins the pieces for small uses.
Only write_outputs touches the disk. It writes every file atomically so a
crashed or interrupted run never leaves a half-written gradebook that looks
complete, and it names student folders so that no name can escape out_dir.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Iterable
from pathlib import Path

from grader.atomicfile import write_atomic
from grader.models import Gradebook
from grader.report.feedback import check_feedback, feedback_markdown
from grader.report.gradebook import gradebook_csv, gradebook_json
from grader.report.gradescope import gradescope_gradebook, gradescope_results
from grader.report.junit import junit_xml
from grader.report.markdown import markdown_summary

__all__ = ["FORMATS", "text", "write_outputs", "safe_dir_names", "check_feedback", "feedback_markdown",
           "gradebook_json", "gradebook_csv", "gradescope_results", "junit_xml", "markdown_summary"]

FORMATS: dict[str, Callable[[Gradebook], Iterable[str]]] = {
    "json": gradebook_json,
    "junit": junit_xml,
    "markdown": markdown_summary,
    "gradescope": gradescope_gradebook,
    "csv": gradebook_csv,
}

def text(fmt: str, book: Gradebook) -> str:
    """One format of a gradebook as a single string (a test, a small class)."""
    return "".join(FORMATS[fmt](book))


# Top-level files write_outputs creates; a student called "grades.json" must not clash.
_TOP_LEVEL = ("grades.json", "grades.csv", "summary.md", "junit.xml", "index.html")


def _slug(name: str) -> str:
    """Readable core of a folder name: letters, digits, - _ . ; everything else becomes _."""
    text = unicodedata.normalize("NFKC", name)
    text = "".join(c if (c.isalnum() and c.isprintable()) or c in "-_." else "_" for c in text)
    return re.sub(r"_+", "_", text).strip("._-")[:60] or "student"


def safe_dir_names(students: list[str]) -> list[str]:
    """One folder name per student, unique even on case-insensitive filesystems.

    A name that had to be altered gets a short hash of the original, so two
    different names that clean up alike ("a/b", "a b") stay apart deterministically.
    """
    taken = {n.casefold() for n in _TOP_LEVEL}
    names = []
    for student in students:
        base = _slug(student)
        if base != student:
            digest = hashlib.sha256(student.encode("utf-8", "surrogatepass")).hexdigest()[:8]
            base = f"{base}-{digest}"
        name, n = base, 2
        while name.casefold() in taken:
            name, n = f"{base}-{n}", n + 1
        taken.add(name.casefold())
        names.append(name)
    return names


def _student_dir(root: Path, name: str) -> Path:
    """Refuse a folder that resolves elsewhere (e.g. a symlink planted in a reused out_dir)."""
    target = root / name
    target.mkdir(exist_ok=True)
    if target.resolve().parent != root:
        raise ValueError(f"refusing to write outside {root}: {target}")
    return target


def write_outputs(book: Gradebook, out_dir: Path, include_hidden: bool = True) -> None:
    """Write the gradebook (JSON, CSV), summary.md, junit.xml, the HTML class report (index.html),
    and per student results.json, feedback.md and report.html."""
    out_dir.mkdir(parents=True, exist_ok=True)
    root = out_dir.resolve()
    for filename, render in (("grades.json", gradebook_json), ("grades.csv", gradebook_csv),
                             ("summary.md", markdown_summary), ("junit.xml", junit_xml)):
        write_atomic(root / filename, render(book))
    for sub, name in zip(book.submissions, safe_dir_names([s.student for s in book.submissions])):
        folder = _student_dir(root, name)
        write_atomic(folder / "results.json", gradescope_results(sub))
        write_atomic(folder / "feedback.md", feedback_markdown(sub, book.assignment, include_hidden))
    from grader.report.html import write_html
    write_html(book, out_dir, include_hidden)
