"""`grade audit --format sarif`: valid SARIF 2.1.0 (checked against the published schema, shipped in
tests/data), each finding on the source line of the call that created its object."""
import json
from pathlib import Path

import jsonschema

from grader.audit.host.models import AuditReport
from grader.audit.host.sarif import render_sarif

SCHEMA = json.loads((Path(__file__).resolve().parents[1] / "data" / "sarif-schema-2.1.0.json").read_text())
LEAK_C = """#include <sys/shm.h>
int main(void) {
    int id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
    return id < 0;
}
"""


def _report(findings) -> AuditReport:
    return AuditReport.model_validate({"name": "leak", "findings": findings})


def _validate(text: str) -> dict:
    doc = json.loads(text)
    jsonschema.Draft4Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(doc)
    return doc


def test_a_leak_lands_on_its_shmget_line_and_the_log_is_valid_sarif(tmp_path):
    src = tmp_path / "leak.c"
    src.write_text(LEAK_C)
    finding = {"kind": "shm-leak", "title": "t", "message": "segment id 3 outlived every process",
               "process": "leak (pid 12)", "evidence": [{"label": "call", "text": "12 shmget(...) = 3"}],
               "hint": "remove it", "certainty": "certain",
               "origin": "12    09:00:00.000001 shmget(IPC_PRIVATE, 4096, IPC_CREAT|0600) = 3"}
    doc = _validate(render_sarif(_report([finding]), {"leak": src}, base=tmp_path))
    [result] = doc["runs"][0]["results"]
    loc = result["locations"][0]["physicalLocation"]
    assert result["ruleId"] == "shm-leak" and result["level"] == "error"
    assert loc["artifactLocation"]["uri"] == "leak.c" and loc["region"]["startLine"] == 3


def test_a_python_traceback_names_the_line_and_likely_findings_are_warnings(tmp_path):
    src = tmp_path / "reader.py"
    src.write_text("import sysv_ipc\n\nmq = sysv_ipc.MessageQueue(1)\n")
    crash = {"kind": "crash", "title": "t", "message": "died", "process": "reader (pid 5)", "hint": "h",
             "evidence": [{"label": "tb", "text": 'Traceback (most recent call last):\n  File "/work/sub/reader.py", '
                                                  'line 3, in <module>\nsysv_ipc.ExistentialError: no queue'}],
             "origin": "5    09:00:00.1 +++ exited with 1 +++"}
    spin = {"kind": "busy-wait", "title": "t", "message": "spun", "process": "reader (pid 5)", "hint": "h",
            "evidence": [{"label": "e", "text": "x"}], "certainty": "likely"}
    doc = _validate(render_sarif(_report([crash, spin]), {"reader": src}, base=tmp_path))
    first, second = doc["runs"][0]["results"]
    assert first["locations"][0]["physicalLocation"]["region"]["startLine"] == 3
    assert second["level"] == "warning" and "region" not in second["locations"][0]["physicalLocation"]


def test_a_clean_run_is_a_valid_log_with_no_results():
    doc = _validate(render_sarif(_report([]), {}))
    assert doc["runs"][0]["results"] == [] and doc["version"] == "2.1.0"
