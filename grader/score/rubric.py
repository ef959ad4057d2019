"""The rubric: how many points each check of an assignment is worth.

Points live in YAML next to the assignment rather than in the harness code so
an instructor can reweight a course without touching Python, and so the exact
rubric used for a batch can be identified by its hash in the gradebook.

    assignment: shm-handshake
    checks:
      build: 1                          # shorthand for {points: 1}
      segment-private: {points: 2}
      handler-async-safe: {points: 0}   # advisory: reported, worth nothing
"""
from __future__ import annotations

import difflib
import hashlib
import re
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from grader.yamlfile import ConfigError, read_bytes, validate

# ConfigError is re-exported so callers of load_rubric need only this module.
__all__ = ["CHECK_ID_PATTERN", "ConfigError", "Rubric", "RubricEntry", "cross_check", "load_rubric", "rubric_hash"]

CHECK_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def _check_id(value: str) -> str:
    # A plain-language message: the instructor reads this, not a regex dump.
    if not CHECK_ID_PATTERN.match(value):
        raise PydanticCustomError(
            "check_id",
            "check id '{id}' must use lowercase letters, digits and '-', not starting with '-'",
            {"id": value},
        )
    return value


CheckId = Annotated[str, AfterValidator(_check_id)]


class RubricEntry(BaseModel):
    """The points one check is worth; 0 makes it advisory (reported, never scored)."""

    model_config = ConfigDict(extra="forbid")

    # strict: `true` or "2" in YAML is almost certainly a mistake, not a number.
    points: float = Field(ge=0, strict=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        """Accept `build: 1` as `build: {points: 1}`; the common case should be one token."""
        if isinstance(data, (int, float)) and not isinstance(data, bool):
            return {"points": data}
        if isinstance(data, (dict, RubricEntry)):
            return data
        raise PydanticCustomError(
            "rubric_entry", "expected a number of points or a mapping such as {points: 2}"
        )


class Rubric(BaseModel):
    """A whole rubric file. Unknown keys are errors so a typo cannot silently cost points."""

    model_config = ConfigDict(extra="forbid")

    assignment: str = Field(min_length=1)
    checks: dict[CheckId, RubricEntry]
    # Set only in a student kit's rubric, whose hidden checks are left out: how many there are.
    hidden_checks: int | None = Field(default=None, ge=0)

    def points(self, check_id: str) -> float:
        """Points for `check_id`; a check the rubric does not mention is worth nothing."""
        entry = self.checks.get(check_id)
        return entry.points if entry is not None else 0.0

    @property
    def total(self) -> float:
        """The most a submission can score."""
        return round(sum(entry.points for entry in self.checks.values()), 2)


def load_rubric(path: Path) -> Rubric:
    """Read and validate a rubric; raises ConfigError with `path:line:` messages."""
    return validate(Path(path), Rubric)


def rubric_hash(path: Path) -> str:
    """sha256 (hex) of the file's bytes, recorded with results so regrades are traceable.

    Hashes bytes rather than the parsed model: a changed comment is still a
    different file an auditor may need to find.
    """
    return hashlib.sha256(read_bytes(Path(path))).hexdigest()


def cross_check(rubric: Rubric, check_ids: list[str]) -> list[str]:
    """Problems between the rubric and the checks an assignment defines, for `grade lint`.

    Either direction is a silent grading bug: a rubric entry without a check
    makes the maximum unreachable, and a check without an entry is never scored.
    """
    problems: list[str] = []
    known = list(dict.fromkeys(check_ids))
    for rubric_id in rubric.checks:
        if rubric_id not in known:
            guess = difflib.get_close_matches(rubric_id, known, n=1)
            hint = f" (did you mean {guess[0]!r}?)" if guess else ""
            problems.append(
                f"rubric gives points to {rubric_id!r}, but the assignment has no such check{hint}"
            )
    for check_id in known:
        if check_id not in rubric.checks:
            problems.append(
                f"check {check_id!r} is not in the rubric, so it is worth no points"
                " (list it with points: 0 to make it advisory on purpose)"
            )
    return problems

