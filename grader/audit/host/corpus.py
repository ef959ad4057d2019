"""The audit's own measuring stick: a corpus of labelled programs, and how well the audit did on it.

tests/audit_corpus/NAME/manifest.yaml names a program (`command: [prog.c, ARG...]`, with
optional `stdin:` and `time_limit:`) or a scenario (`scenario: FILE.yaml`) and the findings
the audit must report (`expect:`, a multiset of kinds; `[]` for a correct program). A case's
score counts each expected kind found (recall) and each kind reported beyond the label (a
false finding). Used by tests/integration/test_audit.py and bench/audit_corpus.py.
"""
from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import yaml

from grader.audit.host.models import AuditReport
from grader.audit.host.sandbox import run_cases
from grader.audit.host.scenario import Case, command_case, load_scenario
from grader.run import dockerenv, image

DEFAULT_TIME_LIMIT = 5.0


def names(corpus: Path) -> list[str]:
    return sorted(p.name for p in corpus.iterdir() if (p / "manifest.yaml").is_file())


def manifest(corpus: Path, name: str) -> dict:
    return yaml.safe_load((corpus / name / "manifest.yaml").read_text())


def case_of(corpus: Path, name: str) -> Case:
    m = manifest(corpus, name)
    if "scenario" in m:
        case = load_scenario(corpus / name / m["scenario"])
    else:
        prog, *args = m["command"]
        case = command_case(str(corpus / name / prog), args, float(m.get("time_limit", DEFAULT_TIME_LIMIT)),
                            m.get("stdin"))
    case.name = name
    return case


def run_corpus(corpus: Path, selected: list[str], client=None, containers: int = 2) -> dict[str, AuditReport]:
    """Audit every selected case; the cases are dealt round-robin to `containers` containers run side by side."""
    client = client or dockerenv.client()
    tag = image.ensure_image(client)
    shares = [selected[i::containers] for i in range(containers) if selected[i::containers]]
    with ThreadPoolExecutor(len(shares)) as pool:
        results = pool.map(lambda share: run_cases([case_of(corpus, n) for n in share], client=client, tag=tag),
                           shares)
        return {n: r for share, reports in zip(shares, results) for n, r in zip(share, reports)}


@dataclass
class CaseScore:
    name: str
    expected: Counter
    got: Counter
    error: str | None = None     # the audit could not run this case

    @property
    def found(self) -> int:
        return sum((self.expected & self.got).values())

    @property
    def missed(self) -> list[str]:
        return sorted((self.expected - self.got).elements())

    @property
    def false(self) -> list[str]:
        return sorted((self.got - self.expected).elements())

    @property
    def correct_program(self) -> bool:
        return not self.expected


def score(corpus: Path, reports: dict[str, AuditReport]) -> list[CaseScore]:
    return [CaseScore(n, Counter(manifest(corpus, n)["expect"]), Counter(r.kinds), r.error)
            for n, r in sorted(reports.items())]


def summary(scores: list[CaseScore]) -> str:
    """One line per case and the totals, as the test and the bench print them."""
    lines = []
    for s in scores:
        mark = "ERR" if s.error else "ok " if not s.missed and not s.false else "BAD"
        lines.append(f"{mark} {s.name:28} found {s.found}/{sum(s.expected.values())}"
                     + (f"  missed {s.missed}" if s.missed else "") + (f"  false {s.false}" if s.false else "")
                     + (f"  error: {s.error}" if s.error else ""))
    labelled = sum(sum(s.expected.values()) for s in scores)
    found = sum(s.found for s in scores)
    false = sum(len(s.false) for s in scores)
    dirty = [s.name for s in scores if s.correct_program and s.got]
    lines.append(f"recall {found}/{labelled} = {found / labelled:.0%}; false findings {false}; "
                 f"correct programs with a finding: {len(dirty)} of {sum(1 for s in scores if s.correct_program)}")
    return "\n".join(lines)
