"""Authoring: `grade new` scaffolds an assignment that passes its own selftest; `grade validate` finds mistakes."""
import pytest

from grader import cli


@pytest.fixture
def home(tmp_path, monkeypatch):
    """An empty course folder as the working folder, so the real assignments stay untouched."""
    (tmp_path / "course.yaml").write_text("")
    monkeypatch.delenv("IPCGRADE_COURSE", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_new_assignment_is_valid(home, capsys):
    assert cli.main(["new", "ping-lab"]) == 0
    for f in ("assignment.yaml", "README.md", "harness/checks.py", "reference/c/pingpong.c",
              "reference/python/pingpong.py", "starter/c/pingpong.c", "mutants/c-no-wait.patch", "mutants/c-no-wait.yaml"):
        assert (home / "assignments" / "ping-lab" / f).is_file(), f
    assert (home / "rubrics" / "ping-lab.yaml").is_file()
    assert cli.main(["validate"]) == 0
    assert cli.main(["new", "ping-lab"]) == 2
    assert "already exists" in capsys.readouterr().err


@pytest.mark.docker
def test_new_assignment_passes_its_selftest(home, docker_client):
    assert cli.main(["new", "ping-lab"]) == 0
    assert cli.main(["selftest", "ping-lab"]) == 0


def test_validate_reports_mistakes_with_files_and_lines(home, capsys):
    assert cli.main(["new", "lab"]) == 0
    a = home / "assignments" / "lab"
    rubric = home / "rubrics" / "lab.yaml"
    rubric.write_text(rubric.read_text().replace("child-reaped: 1", "child-reaped: 1\n  no-such-check: 2")
                      .replace("output: 2", "output: two"))
    assert cli.main(["validate", "lab"]) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert "lab.yaml:5: checks.output" in err
    rubric.write_text(rubric.read_text().replace("output: two", "output: 2"))
    (a / "mutants" / "c-no-wait.yaml").write_text("description: x\nfails: [child-reaped, typo-check]\nlanguage: c\n")
    reference = a / "reference" / "c" / "pingpong.c"
    reference.write_text(reference.read_text().replace("waitpid(pid, &status, 0);", "wait(&status);"))
    assert cli.main(["validate", "lab"]) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert "no-such-check" in err and "typo-check" in err
    assert "c-no-wait.patch: does not apply" in err and "pingpong.c hunk #1" in err
    (a / "harness" / "checks.py").write_text((a / "harness" / "checks.py").read_text()
                                             .replace('@check("output")', '@check("output2")')
                                             .replace('depends=["output"]', 'depends=["output2"]'))
    assert cli.main(["validate", "lab"]) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert "'output2' is not in the rubric" in err
    (a / "assignment.yaml").write_text("name: lab\ntitle: x\nprograms: pingpong\nbuild: {cflag: -O2}\n")
    assert cli.main(["validate", "lab"]) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert "assignment.yaml:3: programs" in err and "assignment.yaml:4: build.cflag" in err
