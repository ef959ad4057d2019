"""Mutants as patches: converting a folder, applying a patch, and what selftest makes of them (no Docker)."""
import re
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from grader import mutants, selftest
from grader.locations import Locations
from grader.models import Gradebook
from grader.run import image
from grader.yamlfile import ConfigError

MAIN_C = "".join(f"int line{i} = {i};\n" for i in range(40)) + "int main(void) { return 0; }\n"
MAIN_PY = "import sys\n\nsys.exit(0)\n"


@pytest.fixture
def lab(tmp_path):
    """An assignment folder with C and Python references and one old-style C mutant folder."""
    a = tmp_path / "assignments" / "lab"
    (a / "reference" / "c").mkdir(parents=True)
    (a / "reference" / "python").mkdir()
    (a / "reference" / "c" / "main.c").write_text(MAIN_C)
    (a / "reference" / "c" / "helper.c").write_text("void helper(void) {}")       # no final newline
    (a / "reference" / "python" / "main.py").write_text(MAIN_PY)
    (a / "assignment.yaml").write_text("name: lab\n")
    (a / "harness").mkdir()
    (a / "harness" / "checks.py").write_text("# checks\n")
    folder = a / "mutants" / "c-bad-exit"
    folder.mkdir(parents=True)
    (folder / "main.c").write_text(MAIN_C.replace("return 0", "return 1").replace("line3 ", "line_3 "))
    (folder / "helper.c").write_text("void helper(void) { }")
    (folder / "manifest.yaml").write_text("# exits 1\ndescription: exits 1\nfails: [exit-status]\n")
    return a


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.name != "manifest.yaml"}


def _assignment(a: Path):
    return SimpleNamespace(name=a.name, dir=a, reference_dir=a / "reference", mutants_dir=a / "mutants")


def test_convert_writes_the_diff_and_gives_the_folder_back_byte_for_byte(lab, tmp_path):
    folder = lab / "mutants" / "c-bad-exit"
    before = _files(folder)
    m = mutants.convert(folder)
    assert not folder.exists()
    patch = m.patch.read_text()
    assert patch.startswith("--- a/helper.c\n+++ b/helper.c\n") and "--- a/main.c\n+++ b/main.c\n" in patch
    assert "\\ No newline at end of file" in patch
    assert "line10" not in patch                          # only context near the changes
    spec = m.spec()
    assert (spec.language, spec.fails) == ("c", ["exit-status"])
    assert m.manifest.read_text().startswith("# exits 1\n")   # the author's words kept as written
    back = mutants.apply(m.patch, lab / "reference" / "c", tmp_path / "back")
    assert _files(back) == before
    assert mutants.convert(folder) == m                   # idempotent: already converted


def test_convert_leaves_only_the_changed_files_in_the_patch(lab):
    folder = lab / "mutants" / "c-bad-exit"
    shutil.copy(lab / "reference" / "c" / "helper.c", folder / "helper.c")
    assert "helper.c" not in mutants.convert(folder).patch.read_text()


def test_convert_picks_the_python_reference_by_its_files(lab):
    folder = lab / "mutants" / "py-exit"
    folder.mkdir()
    (folder / "main.py").write_text(MAIN_PY.replace("exit(0)", "exit(3)"))
    (folder / "manifest.yaml").write_text("description: x\nfails: []\n")
    assert mutants.convert(folder).spec().language == "python"


@pytest.mark.parametrize("change, message", [
    (lambda f: (f / "extra.c").write_text("x\n"), "not those of exactly one reference"),
    (lambda f: shutil.copy(f.parent.parent / "reference" / "c" / "main.c", f / "main.c")
     and shutil.copy(f.parent.parent / "reference" / "c" / "helper.c", f / "helper.c"), "identical to"),
    (lambda f: (f / "manifest.yaml").write_text("description: x\nfails: [a]\nlanguage: python\n"),
     "not those of exactly one reference (language python)"),
])
def test_convert_refuses_and_keeps_the_folder(lab, change, message):
    folder = lab / "mutants" / "c-bad-exit"
    change(folder)
    with pytest.raises(mutants.MutantError, match=re.escape(message)):
        mutants.convert(folder)
    assert folder.is_dir() and not (lab / "mutants" / "c-bad-exit.patch").exists()


def test_a_patch_that_no_longer_applies_names_the_file_and_hunk(lab, tmp_path):
    m = mutants.convert(lab / "mutants" / "c-bad-exit")
    main = lab / "reference" / "c" / "main.c"
    main.write_text(main.read_text().replace("return 0", "return 0 "))
    with pytest.raises(mutants.MutantError) as e:
        mutants.apply(m.patch, lab / "reference" / "c", tmp_path / "out")
    assert str(e.value).startswith(f"{m.patch}: does not apply")
    assert "main.c hunk #2" in str(e.value) and "helper.c" not in str(e.value)


def test_a_patch_may_only_change_files_of_the_reference(lab, tmp_path):
    m = mutants.convert(lab / "mutants" / "c-bad-exit")
    m.patch.write_text(m.patch.read_text().replace("b/main.c", "b/../../evil.c"))
    with pytest.raises(mutants.MutantError, match="not a file of"):
        mutants.apply(m.patch, lab / "reference" / "c", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_unpack_then_convert_is_the_identity(lab):
    m = mutants.convert(lab / "mutants" / "c-bad-exit")
    patch, manifest = m.patch.read_bytes(), m.manifest.read_bytes()
    folder = mutants.unpack(m.patch)
    assert not m.patch.exists() and (folder / "manifest.yaml").is_file()
    mutants.convert(folder)
    assert (m.patch.read_bytes(), m.manifest.read_bytes()) == (patch, manifest)


def test_unpack_outside_an_assignment_is_a_clear_error(lab, tmp_path):
    m = mutants.convert(lab / "mutants" / "c-bad-exit")
    for f in (m.patch, m.manifest):
        shutil.copy(f, tmp_path / f.name)
    with pytest.raises(mutants.MutantError, match="no .*reference/c to apply it to"):
        mutants.unpack(tmp_path / m.patch.name)
    assert (tmp_path / m.patch.name).exists()


def test_selftest_cases_apply_patches_and_report_the_broken_one(lab):
    m = mutants.convert(lab / "mutants" / "c-bad-exit")
    shutil.copy(m.patch, lab / "mutants" / "c-stale.patch")
    (lab / "mutants" / "c-stale.yaml").write_text("description: y\nfails: [other]\nlanguage: c\n")
    (lab / "mutants" / "c-stale.patch").write_text(m.patch.read_text().replace("-int line3 = 3;", "-int line3 = 4;"))
    old = lab / "mutants" / "c-old"
    old.mkdir()
    cases = {c.name: c for c in selftest.cases(_assignment(lab))}
    assert sorted(cases) == ["mutant/c-bad-exit", "mutant/c-old", "mutant/c-stale", "reference/c", "reference/python"]
    good = cases["mutant/c-bad-exit"]
    assert good.problem is None and good.expected_failures == {"exit-status"} and good.manifest == m.manifest
    assert "return 1" in (good.path / "main.c").read_text()
    assert good.path.is_relative_to(selftest._scratch())
    assert "c-stale.patch: does not apply" in cases["mutant/c-stale"].problem
    assert "main.c hunk #1" in cases["mutant/c-stale"].problem
    assert "grade mutant convert" in cases["mutant/c-old"].problem
    subs = selftest.submissions(list(cases.values()))
    assert sorted(s.student for s in subs) == ["mutant/c-bad-exit", "reference/c", "reference/python"]
    book = Gradebook(assignment="lab", submissions=[])
    stale = [(c, r, why) for c, r, why in selftest.evaluate([cases["mutant/c-stale"]], book)]
    assert stale == [(cases["mutant/c-stale"], None, cases["mutant/c-stale"].problem)]


def test_selftest_names_a_bad_manifest(lab):
    m = mutants.convert(lab / "mutants" / "c-bad-exit")
    m.manifest.write_text("description: x\nfails: [a]\nlanguage: rust\n")
    with pytest.raises(ConfigError, match=r"c-bad-exit.yaml:3: language"):
        selftest.cases(_assignment(lab))
    (lab / "mutants" / "c-bad-exit.yaml").unlink()
    cases = selftest.cases(_assignment(lab))
    assert "no c-bad-exit.yaml beside it" in cases[-1].problem


def test_mutants_do_not_enter_the_image_or_its_hash(lab):
    (lab.parent.parent / "docker").mkdir()
    (lab.parent.parent / "docker" / "Dockerfile").write_text("FROM scratch\n")
    where = Locations.of_home(lab.parent.parent)
    m = mutants.convert(lab / "mutants" / "c-bad-exit")
    before = image.harness_hash("lab", where)
    assert not any("mutants" in rel for rel, _ in image._context_files(where))
    m.patch.write_text(m.patch.read_text() + "\n")
    m.manifest.write_text("description: changed\nfails: []\nlanguage: c\n")
    assert image.harness_hash("lab", where) == before
    (lab / "harness" / "checks.py").write_text("# changed checks\n")
    assert image.harness_hash("lab", where) != before
