"""`grade audit` on the host: scenario validation with line numbers, argument splitting, reports, exit codes.

Nothing here starts a container: every case fails (or renders) before the sandbox.
"""
import json

import pytest

from grader.audit import main
from grader.audit.host.cli import split_argv
from grader.audit.host.models import AuditReport
from grader.audit.host.render import render_json, render_markdown, summary_line
from grader.audit.host.sandbox import AuditError, parse_output, stage
from grader.audit.host.scenario import command_case, load_scenario
from grader.yamlfile import ConfigError

GOOD = """\
time_limit: 5
processes:
  - name: master
    source: master.c
    args: [10]
  - name: slave
    source: slave.py
    args: ["{master:1}"]
    stdin: "{master:2}\\n"
    after: {process: master, line: ready}
    delay: 0.5
signals:
  - to: master
    signal: term
    after: {process: slave}
"""


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "master.c").write_text("int main(void) { return 0; }\n")
    (tmp_path / "slave.py").write_text("print('hi')\n")
    return tmp_path


def test_a_valid_scenario_is_normalised_for_the_container(folder):
    (folder / "s.yaml").write_text(GOOD)
    case = load_scenario(folder / "s.yaml")
    assert set(case.files) == {"master.c", "slave.py"}
    master, slave = case.spec["processes"]
    assert master["args"] == ["10"] and slave["after"] == {"process": "master", "line": "ready"}
    assert case.spec["signals"] == [{"to": "master", "signal": "SIGTERM", "after": {"process": "slave", "line": None},
                                     "delay": 0.0}]
    assert case.spec["time_limit"] == 5


@pytest.mark.parametrize("change, line, text", [
    (("  - to: master", "  - to: nobody"), 13, "signals[0].to: no process named 'nobody'"),
    (("after: {process: master, line: ready}", "after: {process: mastr}"), 10, "no process named 'mastr'"),
    (("source: slave.py", "source: missing.py"), 7, "missing.py: file not found"),
    (("source: slave.py", "source: notes.txt"), 7, "not a C or Python source file"),
    (("    delay: 0.5", "    dealy: 0.5"), 11, "Extra inputs are not permitted"),
    (("    signal: term", "    signal: SIGNOPE"), 14, "unknown signal"),
    (('args: ["{master:1}"]', 'args: ["{other:1}"]'), 8, "placeholder {other:1}: no process named 'other'"),
    (("  - name: slave", "  - name: master"), 6, "a second process named 'master'"),
    (("args: [10]", "args: [yes]"), 5, "YAML read this argument as true: quote it"),
])
def test_scenario_mistakes_are_reported_with_their_line(folder, change, line, text):
    (folder / "s.yaml").write_text(GOOD.replace(*change))
    with pytest.raises(ConfigError) as e:
        load_scenario(folder / "s.yaml")
    assert any(p.startswith(f"{folder / 's.yaml'}:{line}:") and text in p for p in e.value.problems), e.value.problems


def test_command_mode_needs_an_existing_c_or_python_file(folder):
    case = command_case(str(folder / "master.c"), ["-n", "3"], 4.0)
    assert case.spec["processes"][0]["args"] == ["-n", "3"] and case.files == {"master.c": folder / "master.c"}
    with pytest.raises(ConfigError, match="file not found"):
        command_case(str(folder / "nope.c"), [])
    with pytest.raises(ConfigError, match="not a C or Python source"):
        command_case("/bin/true", [])
    with_module = command_case(str(folder / "slave.py"), [], extra=[str(folder / "master.c")])
    assert set(with_module.files) == {"slave.py", "master.c"}
    with pytest.raises(ConfigError, match="already staged"):
        command_case(str(folder / "slave.py"), [], extra=[str(folder / "slave.py")])


def test_split_argv_stops_at_the_program_or_at_double_dash():
    assert split_argv(["--format", "json", "prog.c", "-x", "--format"]) == (["--format", "json"], ["prog.c", "-x", "--format"])
    assert split_argv(["--", "--weird.c", "1"]) == ([], ["--weird.c", "1"])
    assert split_argv(["--scenario", "s.yaml"]) == (["--scenario", "s.yaml"], [])


def test_bad_input_exits_2_with_one_line_and_no_container(folder, capsys):
    assert main([str(folder / "absent.c")]) == 2
    assert "absent.c: file not found" in capsys.readouterr().err
    (folder / "s.yaml").write_text("processes: []\n")
    assert main(["--scenario", str(folder / "s.yaml")]) == 2
    assert "s.yaml:1: processes" in capsys.readouterr().err
    assert main([]) == 2
    assert main(["--scenario", str(folder / "s.yaml"), "x.c"]) == 2
    assert main(["--format", "html", "x.c"]) == 2


def test_staging_writes_the_spec_and_files_per_case(folder, tmp_path):
    (folder / "s.yaml").write_text(GOOD)
    root = tmp_path / "cases"
    dirs = stage([load_scenario(folder / "s.yaml"), command_case(str(folder / "master.c"), [])], root)
    assert dirs == ["/submission/00-s", "/submission/01-master"]
    assert json.loads((root / "00-s" / "audit.json").read_text())["processes"][1]["source"] == "slave.py"
    assert (root / "01-master" / "master.c").read_text().startswith("int main")


REPORT = {"name": "leak", "end_reason": "every process ended", "processes": [
    {"name": "leak", "argv": ["/work/leak"], "pid": 12, "exit": "exited with status 0", "stdout": "", "stderr": ""}],
    "findings": [{"kind": "shm-leak", "title": "shared-memory segment left in the kernel",
                  "message": "segment id 3 outlived every process", "process": "leak (pid 12)",
                  "evidence": [{"label": "the creating call", "text": "12 shmget(IPC_PRIVATE, 4096, 0600) = 3\n```"}],
                  "hint": "Remove it with shmctl(id, IPC_RMID, NULL)."}]}


def test_container_answer_is_validated_and_rendered():
    [report] = parse_output(json.dumps({"version": 1, "reports": [REPORT]}).encode(), 1)
    assert report.kinds == ["shm-leak"] and summary_line(report).startswith("1 finding: shm-leak")
    doc = json.loads(render_json(report))
    assert doc["clean"] is False and doc["findings"][0]["evidence"][0]["label"] == "the creating call"
    md = render_markdown(report)
    assert "| shm-leak | certain | leak (pid 12) | shared-memory segment left in the kernel |" in md
    assert "````text" in md      # the evidence holds ``` so the fence is longer
    with pytest.raises(AuditError):
        parse_output(b"not json\n", 1)
    with pytest.raises(AuditError):
        parse_output(json.dumps({"version": 1, "reports": []}).encode(), 1)


def test_a_clean_report_says_so():
    clean = AuditReport(name="ok", processes=[])
    assert json.loads(render_json(clean))["clean"] is True
    assert summary_line(clean).startswith("no findings")


def test_format_sarif_puts_the_finding_on_the_creating_line_of_the_audited_source(folder, monkeypatch, capsys):
    (folder / "master.c").write_text("#include <sys/shm.h>\nint main(void) {\n"
                                     "    return shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600) < 0;\n}\n")
    finding = {"kind": "shm-leak", "title": "t", "message": "leaked", "process": "master (pid 12)", "hint": "h",
               "evidence": [{"label": "call", "text": "x"}],
               "origin": "12    09:00:00.1 shmget(IPC_PRIVATE, 4096, IPC_CREAT|0600) = 3"}
    monkeypatch.setattr("grader.audit.host.cli.run_cases",
                        lambda cases: [AuditReport.model_validate({"name": "master", "findings": [finding]})])
    monkeypatch.chdir(folder)
    assert main(["--format", "sarif", "master.c"]) == 1
    [result] = json.loads(capsys.readouterr().out)["runs"][0]["results"]
    assert result["locations"][0]["physicalLocation"] == {"artifactLocation": {"uri": "master.c"},
                                                          "region": {"startLine": 3}}
