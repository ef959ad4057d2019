"""ipcgrade as users install it: the sdist, a wheel built from it, installed into a fresh venv
outside the checkout, grading bundled assignments and a course's own from there."""
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest

from grader import assignments
from grader.run import image

from conftest import REPO


def _shipped(folder: str) -> set[str]:
    """The files of a top-level folder of the checkout that the package must carry."""
    root = REPO / folder
    return {p.relative_to(REPO).as_posix() for p in root.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and not p.name.endswith(".pyc")}


@pytest.fixture(scope="module")
def venv(tmp_path_factory):
    """(the venv's bin folder, a working folder outside the checkout).

    `python -m build` makes the sdist and then the wheel from the unpacked sdist, so both
    must carry everything. The venv holds the wheel alone; its dependencies come from this
    interpreter's site-packages through a .pth line (which runs none of that folder's own
    .pth files, so an editable ipcgrade installed there stays invisible)."""
    work = tmp_path_factory.mktemp("wheel")
    dist = work / "dist"
    # --no-isolation: the build backend comes from the test extras, not from an index (an isolated
    # build makes pip fetch setuptools, and tests send no traffic beyond loopback).
    subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), str(REPO)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wanted = _shipped("assignments") | _shipped("rubrics") | _shipped("docker")
    sdist = next(dist.glob("ipcgrade-*.tar.gz"))
    with tarfile.open(sdist) as tar:
        in_sdist = {m.name.split("/", 1)[1] for m in tar.getmembers() if m.isfile()}
    assert wanted <= in_sdist, sorted(wanted - in_sdist)
    wheel = next(dist.glob("ipcgrade-*.whl"))
    in_wheel = {n.removeprefix("grader/bundled/") for n in zipfile.ZipFile(wheel).namelist()}
    assert wanted <= in_wheel, sorted(wanted - in_wheel)

    env_dir = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)], check=True)
    python = env_dir / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    Path(site, "host-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index",
                    "--quiet", str(wheel)], check=True)
    where = subprocess.run([str(python), "-c", "import grader; print(grader.__file__)"], cwd=work,
                           check=True, capture_output=True, text=True).stdout.strip()
    assert where.startswith(site), f"the venv imports grader from {where}, not from the wheel"
    outside = work / "home"
    outside.mkdir()
    return env_dir / "bin", outside


def grade(venv, *args, cwd=None):
    bin_dir, home = venv
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "IPCGRADE_COURSE")}
    return subprocess.run([str(bin_dir / "grade"), *map(str, args)], cwd=cwd or home, env=env,
                          capture_output=True, text=True, timeout=900)


def _grade_references(venv, assignment: str, references: Path, cwd: Path) -> dict:
    subs = cwd / f"subs-{assignment}"
    for lang in ("c", "python"):
        shutil.copytree(references / lang, subs / lang)
    p = grade(venv, subs, "-a", assignment, "-o", cwd / f"out-{assignment}", "-j", "2", cwd=cwd)
    assert p.returncode == 0, p.stderr
    book = json.loads((cwd / f"out-{assignment}" / "grades.json").read_text())
    return {s["student"]: (s["score"], s["max_score"]) for s in book["submissions"]}


def test_installed_wheel_lists_validates_and_writes_kits(venv):
    _, home = venv
    p = grade(venv, "--help")
    assert p.returncode == 0 and "--course" in p.stdout
    p = grade(venv, "validate")
    assert p.returncode == 0, p.stderr
    assert f"({len(assignments.available())} checked, from " in " ".join(p.stdout.split())
    p = grade(venv, "image", "tag")
    assert p.stdout.strip() == image.image_tag(), "the wheel's grading image differs from the checkout's"
    p = grade(venv, "kit", "shm-handshake", "-o", "k")
    assert p.returncode == 0, p.stderr
    for f in (".grade.yaml", ".ipcgrade/docker/Dockerfile", ".ipcgrade/assignments/shm-handshake/harness/checks.py",
              "starter/c/master.c"):
        assert (home / "k" / f).is_file(), f
    p = grade(venv, "new", "ping-lab")
    assert p.returncode == 2 and "--course DIR" in p.stderr, "an installed grade must not write into the package"


def test_installed_wheel_grades_references_of_both_languages(venv, docker_client):
    _, home = venv
    scores = _grade_references(venv, "shm-handshake", REPO / "assignments" / "shm-handshake" / "reference", home)
    assert scores == {"c": (13, 13), "python": (13, 13)}


def test_course_assignment_made_by_grade_new_is_graded(venv, docker_client):
    _, home = venv
    p = grade(venv, "new", "ping-lab", "--course", "course")
    assert p.returncode == 0, p.stderr
    course = home / "course"
    assert "in course folder" in p.stdout and (course / "course.yaml").is_file()
    assert (course / "assignments" / "ping-lab" / "assignment.yaml").is_file()
    p = grade(venv, "validate", cwd=course)       # found through course.yaml, beside the bundled ones
    assert p.returncode == 0, p.stderr
    assert f"({len(assignments.available()) + 1} checked" in " ".join(p.stdout.split())
    scores = _grade_references(venv, "ping-lab", course / "assignments" / "ping-lab" / "reference", course)
    assert all(score == full > 0 for score, full in scores.values()) and set(scores) == {"c", "python"}, scores
