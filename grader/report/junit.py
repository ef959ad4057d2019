"""JUnit XML so CI systems (GitLab, Jenkins, GitHub test reporters) show each check as a test.

ElementTree does the escaping; we only remove characters XML 1.0 cannot
represent at all, which student output (a stray bell, a NUL) often contains.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator

from grader.models import CheckStatus, Gradebook, ScoredCheck, SubmissionResult
from grader.report._text import one_line, xml_safe
from grader.report.feedback import check_feedback

_COUNTS = ("tests", "failures", "errors", "skipped")
_TAG = {CheckStatus.failed: "failure", CheckStatus.error: "error", CheckStatus.skipped: "skipped"}
_COUNTER = {CheckStatus.failed: "failures", CheckStatus.error: "errors", CheckStatus.skipped: "skipped"}


def _attr(text: str) -> str:
    return xml_safe(one_line(text))


def _testcase(parent: ET.Element, classname: str, check: ScoredCheck) -> None:
    case = ET.SubElement(parent, "testcase", classname=classname,
                         name=_attr(f"{check.id}: {check.name}"), time=f"{check.outcome.seconds:.3f}")
    if check.status in _TAG:
        detail = ET.SubElement(case, _TAG[check.status],
                               message=_attr(check.outcome.message or check.status.value))
        detail.text = xml_safe(check_feedback(check))


def _suite(assignment: str, sub: SubmissionResult) -> tuple[ET.Element, Counter]:
    """A grading error becomes an <error> testcase so CI shows it instead of an empty, green suite."""
    suite = ET.Element("testsuite", name=_attr(sub.student))
    classname = _attr(f"{assignment}.{sub.student}")
    for check in sub.checks:
        _testcase(suite, classname, check)
    counts = Counter(_COUNTER[c.status] for c in sub.checks if c.status in _COUNTER)
    counts["tests"] = len(sub.checks)
    if sub.status == "error":
        case = ET.SubElement(suite, "testcase", classname=classname, name="grading", time=f"{sub.seconds:.3f}")
        ET.SubElement(case, "error", message=_attr(sub.error or "grading failed")).text = xml_safe(sub.error or "")
        counts.update(tests=1, errors=1)
    for key in _COUNTS:
        suite.set(key, str(counts[key]))
    suite.set("time", f"{sub.seconds:.3f}")
    return suite, counts


def junit_xml(book: Gradebook) -> Iterator[str]:
    """One <testsuite> per student, one <testcase> per check, totals on <testsuites>.

    Two passes over the gradebook, the totals first, then one suite at a time,
    so a large class is never one XML tree in memory.
    """
    totals: Counter = Counter()
    seconds = 0.0
    for sub in book.submissions:
        totals.update(_suite(book.assignment, sub)[1])
        seconds += sub.seconds
    root = ET.Element("testsuites", name=_attr(book.assignment))
    for key in _COUNTS:
        root.set(key, str(totals[key]))
    root.set("time", f"{seconds:.3f}")
    root.text = ""
    opening = ET.tostring(root, encoding="unicode", short_empty_elements=False).removesuffix("</testsuites>")
    yield '<?xml version="1.0" encoding="UTF-8"?>\n' + opening
    for sub in book.submissions:
        suite = _suite(book.assignment, sub)[0]
        ET.indent(suite, level=1)
        yield "\n  " + ET.tostring(suite, encoding="unicode")
    yield "\n</testsuites>\n"
