"""`grade audit` on its test corpus, in real containers.

tests/audit_corpus/NAME/manifest.yaml names a program (`command: [prog.c, ARG...]`)
or a scenario (`scenario: scenario.yaml`) and the findings the audit must report
(`expect:`, a multiset of kinds; [] for the clean programs). All corpus cases
run in one container, one after another, so the whole file stays well under
two minutes.
"""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
import yaml

from grader.audit import main
from grader.audit.sandbox import run_cases
from grader.audit.scenario import Case, command_case, load_scenario
from grader.harness.audit_findings import KINDS

CORPUS = Path(__file__).resolve().parents[1] / "audit_corpus"
NAMES = sorted(p.name for p in CORPUS.iterdir() if (p / "manifest.yaml").is_file())


def manifest(name: str) -> dict:
    return yaml.safe_load((CORPUS / name / "manifest.yaml").read_text())


def case_of(name: str) -> Case:
    m = manifest(name)
    if "scenario" in m:
        case = load_scenario(CORPUS / name / m["scenario"])
    else:
        prog, *args = m["command"]
        case = command_case(str(CORPUS / name / prog), args, float(m.get("time_limit", 5)))
    case.name = name
    return case


def test_corpus_is_big_enough_and_covers_every_finding_and_its_absence():
    assert len(NAMES) >= 12
    expected = Counter(k for n in NAMES for k in manifest(n)["expect"])
    assert set(KINDS) <= set(expected), set(KINDS) - set(expected)
    assert sum(1 for n in NAMES if not manifest(n)["expect"]) >= 5


@pytest.fixture(scope="module")
def reports(docker_client):
    return dict(zip(NAMES, run_cases([case_of(n) for n in NAMES], client=docker_client)))


@pytest.mark.docker
@pytest.mark.parametrize("name", NAMES)
def test_audit_reports_exactly_the_expected_findings(reports, name):
    report = reports[name]
    assert report.error is None, report.error
    got = Counter(report.kinds)
    want = Counter(manifest(name)["expect"])
    details = "\n".join(f"{f.kind}: {f.message}" for f in report.findings)
    assert got == want, f"{name}: expected {sorted(want.elements())}, got {sorted(got.elements())}\n{details}"
    for f in report.findings:
        assert f.message and f.hint and f.evidence and all(e.text.strip() for e in f.evidence), f


@pytest.mark.docker
def test_cli_json_on_a_leak_exits_1(docker_client, capsys):
    assert main(["--format", "json", "--time-limit", "5", str(CORPUS / "shm-leak" / "leak.c")]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert [f["kind"] for f in doc["findings"]] == ["shm-leak"] and doc["clean"] is False
    assert "shmget(IPC_PRIVATE, 4096, IPC_CREAT|0600)" in json.dumps(doc["findings"][0]["evidence"])


@pytest.mark.docker
def test_cli_scenario_markdown_on_a_clean_pair_exits_0(docker_client, capsys):
    assert main(["--format", "markdown", "--scenario", str(CORPUS / "clean-handshake" / "scenario.yaml")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("## grade audit: scenario") and "no findings" in out and "| slave |" in out


@pytest.mark.docker
def test_cli_source_that_does_not_build_exits_2(docker_client, tmp_path, capsys):
    bad = tmp_path / "broken.c"
    bad.write_text("int main(void) { return missing; }\n")
    assert main(["--", str(bad)]) == 2
    captured = capsys.readouterr()
    assert "broken.c does not build" in captured.err and "missing" in captured.out
