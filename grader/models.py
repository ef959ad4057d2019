"""Typed records that flow through the pipeline: discover -> build -> run -> score -> report.

The harness (inside the container) emits plain JSON; these models validate it on
the host so a malformed or forged document is rejected instead of half-trusted.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, Field, TypeAdapter


class CheckStatus(str, Enum):
    passed = "passed"
    failed = "failed"
    skipped = "skipped"
    error = "error"


class Evidence(BaseModel):
    """One piece of what the harness observed: a trace excerpt, a /proc snapshot, a diff."""
    label: str
    text: str


class CheckOutcome(BaseModel):
    """What the harness concluded about one check, before any points are attached."""
    id: str
    name: str
    status: CheckStatus
    message: str = ""
    expected: str | None = None
    observed: str | None = None
    evidence: list[Evidence] = Field(default_factory=list)
    hint: str | None = None
    hidden: bool = False
    advisory: bool = False
    deferred: bool = False      # needs what only the instructor's copy has (the reference); runs at grading time
    seconds: float = 0.0


class HarnessReport(BaseModel):
    """The harness's whole answer for one submission."""
    assignment: str
    language: str | None = None
    checks: list[CheckOutcome] = Field(default_factory=list)
    error: str | None = None
    stats: dict = Field(default_factory=dict)   # measurements for benchmarks, e.g. kill latencies


class PlannedCheck(BaseModel):
    id: str
    name: str
    hidden: bool = False
    advisory: bool = False


class PlanEvent(BaseModel):
    """The harness's first line: the checks it will report, in order (the build first)."""
    event: Literal["plan"]
    assignment: str
    language: str | None = None
    checks: list[PlannedCheck]


class CheckEvent(BaseModel):
    """One check's verdict, written the moment it is known."""
    event: Literal["check"]
    outcome: CheckOutcome


class EndEvent(BaseModel):
    """The harness's last line: it finished (or failed, and says why)."""
    event: Literal["end"]
    assignment: str
    error: str | None = None
    stats: dict = Field(default_factory=dict)


# One line of the harness's output (see grader/harness/__main__.py).
HARNESS_EVENT = TypeAdapter(Annotated[PlanEvent | CheckEvent | EndEvent, Field(discriminator="event")])


class Submission(BaseModel):
    """A student's files, already extracted into a folder of their own."""
    student: str
    path: Path
    problem: str | None = None  # set when discovery could not prepare it (corrupt archive, ...)


class ScoredCheck(BaseModel):
    id: str
    name: str
    status: CheckStatus
    score: float
    max_score: float
    hidden: bool = False
    advisory: bool = False
    outcome: CheckOutcome


class SubmissionResult(BaseModel):
    """One row of the gradebook."""
    student: str
    status: Literal["graded", "error"]
    score: float = 0.0
    max_score: float = 0.0
    language: str | None = None
    error: str | None = None
    checks: list[ScoredCheck] = Field(default_factory=list)
    seconds: float = 0.0
    # Hashes of what this verdict depends on (content, harness, rubric), so a regrade can say why it changed.
    provenance: dict[str, str] = Field(default_factory=dict)


@dataclass
class Gradebook:
    """A class's results. `submissions` may be a list or a ResultSpool (on disk, read one at a time),
    so code reading a gradebook iterates it and never assumes it is all in memory."""
    assignment: str
    submissions: Sequence[SubmissionResult] = field(default_factory=list)
