"""`grade check` (student self-check, Docker or local namespaces) gives the instructor's verdicts."""
import json

import pytest
from junitparser import JUnitXml

from grader import assignments, cli
from grader.report.gradescope import gradescope_fields_ok
from grader.run import localrun
from grader.selfcheck import all_passed, visible_result

from conftest import REPO, RUN_MODES, failure_notes, visible_statuses

NAMES = assignments.available()


def _check(case, name, out):
    """`grade check FOLDER -a NAME -o OUT`: its exit status and its JSON gradebook entry."""
    code = cli.main(["check", str(case.path), "-a", name, "-o", str(out), "--format", "json"])
    return code, json.loads((out / "grades.json").read_text())["submissions"][0]


def _run(verdict_runs, name, mode):
    return verdict_runs["books"][name][RUN_MODES.index(mode)]


@pytest.mark.docker
@pytest.mark.parametrize("name", NAMES)
def test_grade_check_agrees_with_batch_grading(name, verdict_runs):
    """The visible-only run (what `grade check` runs) against the batch's visible checks, for every case."""
    batch, check = _run(verdict_runs, name, "full"), _run(verdict_runs, name, "visible")
    for full, mine in zip(batch.submissions, check.submissions):
        assert visible_statuses(mine) == visible_statuses(full), \
            f"{full.student}\nbatch: {failure_notes(full)}\ncheck: {failure_notes(mine)}"
        assert all_passed(visible_result(mine)) == all(s == "passed" for s in visible_statuses(full).values())


@pytest.mark.docker
def test_grade_check_command_in_a_submission_folder(verdict_runs, tmp_path):
    """The real command, exit status and all, on a reference and a mutant."""
    cases = {c.name: c for c in verdict_runs["cases"]["shm-handshake"]}
    batch = {s.student: s for s in _run(verdict_runs, "shm-handshake", "full").submissions}
    for i, name in enumerate(("reference/python", "mutant/c-no-rmid")):
        code, doc = _check(cases[name], "shm-handshake", tmp_path / str(i))
        assert {c["id"]: c["status"] for c in doc["checks"]} == visible_statuses(batch[name])
        assert code == (0 if name.startswith("reference") else 1)


@pytest.mark.docker
@pytest.mark.parametrize("name", NAMES)
def test_local_runner_agrees_with_docker(name, verdict_runs):
    docker_book, local = _run(verdict_runs, name, "full"), _run(verdict_runs, name, "local")
    if local is None:
        pytest.skip(f"{name} is not graded by the local runner in the shared runs (conftest.LOCAL_RUNNER_GAPS)")
    for docker_result, local_result in zip(docker_book.submissions, local.submissions):
        assert visible_statuses(local_result) == visible_statuses(docker_result), \
            f"{docker_result.student}\ndocker: {failure_notes(docker_result)}\nlocal: {failure_notes(local_result)}"


def test_local_runner_says_when_user_namespaces_are_missing(monkeypatch):
    monkeypatch.setattr(localrun, "UNSHARE", ["false"])
    with pytest.raises(localrun.LocalRunnerUnavailable, match="user namespaces are unavailable"):
        localrun.check_available()


@pytest.mark.parametrize("name", NAMES)
def test_kit_holds_no_hidden_checks_references_or_mutants(name, tmp_path):
    a = assignments.load(name)
    kit = tmp_path / "kit"
    assert cli.main(["kit", name, "-o", str(kit)]) == 0
    text = "\n".join(p.read_text(errors="replace") for p in kit.rglob("*") if p.is_file())
    names = {p.relative_to(kit).as_posix() for p in kit.rglob("*") if p.is_file()}
    assert not any("reference" in n or "mutant" in n or "hidden" in n for n in names)
    hidden = a.dir / "harness" / "hidden_checks.py"
    if hidden.exists():
        from grader.harness.runner import load_checks
        visible_ids = {c.id for c in load_checks(str(a.dir), include_hidden=False)}
        for spec in load_checks(str(a.dir), include_hidden=True):
            if spec.id not in visible_ids:
                assert spec.id not in text and spec.name not in text
    secret_files = [*a.reference_dir.rglob("*.*"), *a.mutants_dir.rglob("*.*")]
    for f in secret_files:
        body = f.read_text(errors="replace").strip()
        if len(body) > 200:  # any whole reference or mutant source
            assert body not in text, f
    assert (kit / ".grade.yaml").read_text().startswith(f"assignment: {name}")
    for must in ("README.md", ".github/workflows/grade.yml", ".gitlab-ci.yml", f".ipcgrade/rubrics/{name}.yaml"):
        assert (kit / must).is_file()


@pytest.mark.docker
def test_kit_self_check_runs_visible_checks_and_defers_the_rest(tmp_path, docker_client, capsys):
    kit = tmp_path / "kit"
    assert cli.main(["kit", "shm-handshake", "-o", str(kit)]) == 0
    for f in (REPO / "assignments/shm-handshake/reference/c").iterdir():
        (kit / f.name).write_bytes(f.read_bytes())
    capsys.readouterr()
    assert cli.main(["check", str(kit)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "3 more check(s) run at grading time" in out and "Score: 10 / 10" in out


@pytest.mark.docker
def test_report_formats_parse_in_real_consumers(tmp_path, docker_client, capsys):
    demo = REPO / "demo" / "shm-handshake"
    out = tmp_path / "out"
    assert cli.main([str(demo), "-a", "shm-handshake", "-o", str(out), "--format", "junit"]) == 0
    xml = JUnitXml.fromstring(capsys.readouterr().out)
    suites = {s.name: s for s in xml}
    assert suites["alice"].failures == 0 and suites["carol"].failures == 2
    assert JUnitXml.fromfile(str(out / "junit.xml"))
    for sub in json.loads((out / "grades.json").read_text())["submissions"]:
        assert gradescope_fields_ok(json.loads((out / sub["student"] / "results.json").read_text())) == []
    assert cli.main(["check", str(demo / "carol"), "-a", "shm-handshake", "--format", "markdown"]) == 1
    md = capsys.readouterr().out
    assert "| carol |" in md and "master-cleanup" in md
