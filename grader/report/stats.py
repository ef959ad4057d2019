"""Class statistics: how each check went across the class, and how scores spread.

An instructor reads these to spot a check that nobody passes (a broken test or
an unclear spec) and to see whether the grades bunch up. The numbers are
computed once here, from the gradebook alone, so the terminal table, the text
histogram and the HTML class page can never disagree.

Only graded submissions count: a submission that could not be graded says
nothing about a check's difficulty, and its score of 0 would distort the spread.
"""
from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

from rich.table import Table
from rich.text import Text

from grader.models import CheckStatus, Gradebook, ScoredCheck
from grader.report._text import one_line, points

# Up to this maximum score, one bin per integer point is both fine-grained and short.
_MAX_INTEGER_BINS = 20
_BINS = 10
_BAR_WIDTH = 40


@dataclass(frozen=True)
class CheckStats:
    """One check across the class. `graded` is the denominator of pass_rate."""
    id: str
    name: str
    graded: int       # graded submissions in the class
    attempted: int    # graded submissions where the check ran (passed, failed or error; not skipped)
    passed: int
    failed: int
    errored: int
    skipped: int
    hidden: bool = False
    advisory: bool = False

    @property
    def pass_rate(self) -> float:
        """Passed over all graded submissions, so a check skipped by most students reads as rarely passed."""
        return self.passed / self.graded if self.graded else 0.0


@dataclass(frozen=True)
class ClassStats:
    assignment: str
    total: int
    graded: int
    errors: int
    max_score: float
    mean: float | None      # None when nothing was graded, rather than a misleading 0
    median: float | None
    checks: list[CheckStats]
    histogram: list[tuple[str, int]]   # (bin label, count), lowest scores first


class _CheckTally:
    """Counts for one check, accumulated a submission at a time."""

    def __init__(self, first: ScoredCheck):
        self.id, self.name, self.hidden, self.advisory = first.id, first.name, first.hidden, first.advisory
        self.counts = dict.fromkeys(CheckStatus, 0)

    def stats(self, graded: int) -> CheckStats:
        c = self.counts
        return CheckStats(
            id=self.id, name=self.name, graded=graded,
            attempted=c[CheckStatus.passed] + c[CheckStatus.failed] + c[CheckStatus.error],
            passed=c[CheckStatus.passed], failed=c[CheckStatus.failed],
            errored=c[CheckStatus.error], skipped=c[CheckStatus.skipped],
            hidden=self.hidden, advisory=self.advisory)


def _edges(max_score: float) -> list[float]:
    """Bin edges: one per integer point for small scales, else ten equal-width bins."""
    if max_score <= _MAX_INTEGER_BINS:
        return [float(i) for i in range(math.floor(max_score) + 2)]
    width = max_score / _BINS
    return [round(i * width, 6) for i in range(_BINS + 1)]


def _histogram(scores: list[float], max_score: float) -> list[tuple[str, int]]:
    """Half-open bins [low, high); the top bin is closed so a perfect score has a home.

    Scores are rounded first so 9.999999 from summing floats lands with the 10s,
    and anything outside 0..max_score is clamped into the end bins, never dropped.
    """
    edges = _edges(max_score)
    integer = max_score <= _MAX_INTEGER_BINS
    n_bins = len(edges) - 1
    counts = [0] * n_bins
    for raw in scores:
        score = round(raw, 6)
        index = next((i for i in range(n_bins) if score < edges[i + 1]), n_bins - 1)
        counts[index] += 1
    if integer:
        labels = [points(low) for low in edges[:-1]]
    else:
        labels = [f"{points(round(lo, 1))}-{points(round(hi, 1))}" for lo, hi in zip(edges, edges[1:])]
    return list(zip(labels, counts))


def class_stats(book: Gradebook) -> ClassStats:
    """Pass rate per check, score spread, and how many submissions were graded or errored.

    One pass that keeps counts and scores only, not the results themselves.
    """
    tallies: dict[str, _CheckTally] = {}       # in the order first seen, so the table follows the rubric
    scores: list[float] = []
    total = 0
    max_score = 0.0
    for sub in book.submissions:
        total += 1
        if sub.status != "graded":
            continue
        scores.append(sub.score)
        max_score = max(max_score, sub.max_score)
        for check in sub.checks:
            tally = tallies.get(check.id) or tallies.setdefault(check.id, _CheckTally(check))
            tally.counts[check.status] += 1
    return ClassStats(
        assignment=book.assignment, total=total, graded=len(scores), errors=total - len(scores),
        max_score=max_score,
        mean=statistics.fmean(scores) if scores else None,
        median=statistics.median(scores) if scores else None,
        checks=[t.stats(len(scores)) for t in tallies.values()], histogram=_histogram(scores, max_score))


def _summary(stats: ClassStats) -> str:
    def fmt(value: float | None) -> str:
        return "-" if value is None else points(round(value, 2))
    return (f"{stats.graded} graded, {stats.errors} error(s); mean {fmt(stats.mean)}, "
            f"median {fmt(stats.median)} of {points(stats.max_score)}")


def stats_table(stats: ClassStats) -> Table:
    """Per-check pass rates for the terminal; cells are Text so check names print literally."""
    table = Table(title=Text(f"Checks: {one_line(stats.assignment)}"), caption=Text(_summary(stats)))
    for column, justify in (("Check", "left"), ("Name", "left"), ("Passed", "right"), ("Ran", "right"),
                            ("Pass rate", "right")):
        table.add_column(column, justify=justify)
    for c in stats.checks:
        tags = "".join(f" ({t})" for t, on in (("hidden", c.hidden), ("advisory", c.advisory)) if on)
        style = "green" if c.pass_rate >= 0.8 else "yellow" if c.pass_rate >= 0.5 else "red"
        table.add_row(Text(one_line(c.id)), Text(one_line(c.name) + tags),
                      Text(f"{c.passed} / {c.graded}"), Text(str(c.attempted)),
                      Text(f"{c.pass_rate:.0%}", style=style))
    return table


def histogram_text(stats: ClassStats) -> str:
    """A plain '#' bar chart: no colour or box-drawing, so it reads the same in a CI log."""
    lines = [f"Score histogram: {_summary(stats)}"]
    if not stats.graded:
        return lines[0] + "\n"
    peak = max(count for _, count in stats.histogram)
    width = max(len(label) for label, _ in stats.histogram)
    for label, count in stats.histogram:
        # Any non-empty bin shows at least one '#', so a lone student is never invisible.
        bar = "#" * max(1 if count else 0, round(count / peak * _BAR_WIDTH))
        lines.append(f"{label.rjust(width)} | {bar}{' ' if bar else ''}{count}")
    return "\n".join(lines) + "\n"
