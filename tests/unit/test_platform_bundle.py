"""Platform exports and the harness's adaptations to Docker's default capabilities (no Docker here)."""
import json
import shutil
import stat
import zipfile
from pathlib import Path

import pytest

from grader import assignments
from grader.harness import procaccess
from grader.harness.spawn import uid_switch, without_uid_switch
from grader.models import HarnessReport
from grader.platforms import gradescope, prairielearn, simulate
from grader.report.gradescope import gradescope_fields_ok
from grader.score.scoring import score

REPO = Path(__file__).resolve().parents[2]


def test_capability_bits_from_status():
    # Docker's default set (0xa80425fb) lacks SYS_PTRACE (19); our grading container's set has it.
    assert not procaccess.has_capability(procaccess.CAP_SYS_PTRACE, "CapEff:\t00000000a80425fb\n")
    assert procaccess.has_capability(procaccess.CAP_SYS_PTRACE, "CapEff:\t00000000000800c0\n")
    assert not procaccess.has_capability(procaccess.CAP_SYS_PTRACE, "Name:\tx\n")


TRACE_WITH_SWITCH = """\
12    15:12:24.564921 execve("/usr/bin/setpriv", ["setpriv", "--reuid=2000"], 0x7ffd /* 9 vars */) = 0
12    15:12:24.565765 close(3)          = 0
12    15:12:24.576308 execve(0x7ffffaec5210, 0x7ffffaec5540, 0x7ffffaec5560) = -1 ENOENT (No such file or directory)
12    15:12:24.576534 execve(0x7ffffaec5210, 0x7ffffaec5540, 0x7ffffaec5560) = 0
12    15:12:24.655124 write(1, "hello\\n", 6) = 6
13    15:12:24.700000 +++ exited with 0 +++
"""


def test_trace_loses_exactly_the_uid_switch_preamble():
    kept = without_uid_switch(TRACE_WITH_SWITCH).splitlines()
    assert kept[0].endswith("execve(0x7ffffaec5210, 0x7ffffaec5540, 0x7ffffaec5560) = 0")
    assert [line.split()[2].split("(")[0] for line in kept[1:]] == ["write", "+++"]
    assert uid_switch(2000)[-1] == "--"


def test_trace_of_another_shape_is_kept_whole():
    other = "7    10:00:00.000000 execve(\"/bin/x\", [\"x\"], 0x1) = 0\n8    10:00:00.100000 close(3) = 0\n"
    assert without_uid_switch(other) == other
    assert without_uid_switch("") == ""


def _result(name="shm-handshake", failing=()):
    a = assignments.load(name)
    checks = [{"id": cid, "name": f"check {cid}", "status": "failed" if cid in failing else "passed",
               "hidden": cid == "sum-max-n"} for cid in a.rubric.checks]
    return score(HarnessReport(assignment=name, checks=checks), a.rubric, "submission")


def test_gradescope_results_have_every_field_and_hide_hidden_checks_until_published():
    doc = gradescope.results_doc(_result(failing=("sum-correct",)), 12.4, ["memory limits are the platform's"])
    assert gradescope_fields_ok(doc) == []
    assert doc["execution_time"] == 12 and doc["score"] == 11
    vis = {t["name"].split(":")[0]: t["visibility"] for t in doc["tests"]}
    assert vis["sum-max-n"] == "after_published" and vis["sum-correct"] == "visible"
    assert "memory limits are the platform's" in doc["output"]
    assert simulate.statuses(doc)["sum-correct"] == ("failed", 0.0)


def test_gradescope_results_when_grading_itself_failed():
    doc = gradescope.results_doc(None, 3, [], problem="RuntimeError: boom")
    assert gradescope_fields_ok(doc) == [] and doc["score"] == 0 and "boom" in doc["output"]


def test_prairielearn_results_score_is_a_fraction_and_hidden_checks_stay_out():
    doc = prairielearn.results_doc(_result(failing=("sum-correct",)), 5.0, [])
    assert doc["gradable"] is True and doc["score"] == pytest.approx(11 / 13)
    assert all(set(t) >= {"name", "points", "max_points", "output"} for t in doc["tests"])
    assert not any(t["name"].startswith("sum-max-n") for t in doc["tests"])
    assert "1 hidden check(s)" in doc["message"]


def test_differences_name_real_changes_but_not_named_degradations():
    result = _result()
    doc = gradescope.results_doc(result, 1, [])
    assert simulate.differences(result, doc) == []
    test = next(t for t in doc["tests"] if t["name"].startswith("no-leaks"))
    test["output"] = test["output"].replace("PASSED", "FAILED")
    test["score"] = 0
    assert simulate.differences(result, doc) == ["no-leaks: docker passed 1, platform failed 0"]
    test["output"] = test["output"].replace("FAILED", "ERROR") + "\n" + simulate.DEGRADED
    assert simulate.differences(result, doc) == []


def test_gradescope_zip_layout(tmp_path):
    out = gradescope.export("shm-handshake", tmp_path / "autograder.zip")
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        modes = {i.filename: i.external_attr >> 16 for i in zf.infolist()}
    assert {"setup.sh", "run_autograder"} <= set(names)
    assert modes["run_autograder"] & stat.S_IXUSR and modes["setup.sh"] & stat.S_IXUSR
    assert "ipcgrade/assignments/shm-handshake/harness/hidden_checks.py" in names
    assert "ipcgrade/rubrics/shm-handshake.yaml" in names
    assert not any("/mutants/" in n or "/starter/" in n or "__pycache__" in n for n in names)


def test_prairielearn_export_layout(tmp_path):
    out = prairielearn.export("pipe-pipeline", tmp_path / "pl")
    snippet = json.loads((out / "info-snippet.json").read_text())["externalGradingOptions"]
    assert snippet["entrypoint"] == "/grade/entrypoint.sh" and snippet["enabled"] is True
    assert (out / "tests" / "ipcgrade" / "assignments" / "pipe-pipeline" / "assignment.yaml").is_file()
    assert "FROM debian:bookworm-slim" in (out / "Dockerfile").read_text()
    assert "/grade/student" in (out / "entrypoint.sh").read_text()
    with pytest.raises(FileExistsError):
        prairielearn.export("pipe-pipeline", out)


def test_grader_runs_on_python_3_10():
    """Gradescope's default base has Python 3.10; the shipped source must run there (pyproject asks 3.11
    for the installed tool, the platform bundle is shipped as source)."""
    vermin = shutil.which("vermin")
    if vermin is None:
        pytest.skip("vermin is not installed (pip install vermin)")
    import subprocess
    p = subprocess.run([vermin, "--no-tips", "--violations", "-t=3.10-", str(REPO / "grader")],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
    assert p.returncode == 0, p.stdout[-2000:]
