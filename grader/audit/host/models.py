"""The audit's results, as the container reports them; validated so a broken answer is an error, not a crash."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Evidence(_Model):
    label: str
    text: str


class Finding(_Model):
    kind: str
    title: str
    message: str
    process: str = ""
    evidence: list[Evidence] = []
    hint: str = ""
    # "certain": kernel state or the trace proves it; "likely": it also fits a correct program
    certainty: str = "certain"
    origin: str = ""               # the trace line of the call that created the object or the end


class ProcessResult(_Model):
    name: str
    argv: list[str] = []
    pid: int | None = None
    exit: str = ""
    stdout: str = ""
    stderr: str = ""


class BuildStep(_Model):
    source: str
    ok: bool
    log: str = ""
    warnings: list[str] = []
    problem: str | None = None


class AuditReport(_Model):
    name: str
    time_limit: float | None = None
    end_reason: str = ""
    processes: list[ProcessResult] = []
    build: list[BuildStep] = []
    findings: list[Finding] = []
    notes: list[str] = []
    error: str | None = None
    seconds: float = 0.0

    @property
    def kinds(self) -> list[str]:
        return [f.kind for f in self.findings]


class AuditDocument(_Model):
    version: int
    reports: list[AuditReport]
