"""The hostile corpus: building the batch folder and judging each verdict against its manifest.

The cases at the top level are shm-handshake submissions (tests/integration/test_hostile.py and
bench/hostile.py); a folder named after another assignment holds that assignment's cases
(tests/hostile/test_hostile_bounded_buffer.py). A case holds only its hostile program(s), or a
`reference.patch` (a hostile change to the reference, as mutants are stored): the assignment's
reference completes it.
"""
from __future__ import annotations

import io
import os
import shutil
import tarfile
import zipfile
from pathlib import Path

import yaml

from grader import mutants

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "tests" / "hostile"
REF = REPO / "assignments" / "shm-handshake" / "reference"


def _copy_case(src: Path, dst: Path) -> None:
    """A case holds the hostile program(s); the reference slave completes it where it has none."""
    shutil.copytree(src, dst, symlinks=True, ignore=shutil.ignore_patterns("manifest.yaml"))
    has = {f.name for f in dst.iterdir()}
    if any(m in has for m in ("master.c", "master.py")) and not {"slave.c", "slave.py"} & has:
        lang = "python" if (dst / "master.py").exists() else "c"
        shutil.copy(REF / lang / ("slave.py" if lang == "python" else "slave.c"), dst)


def _tar(path: Path, members: list[tuple[tarfile.TarInfo, bytes | None]]) -> None:
    with tarfile.open(path, "w:gz") as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)


def _file(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def generated_cases(root: Path) -> dict[str, dict]:
    """Archives and file names that cannot live in git as such; built for each run."""
    master, slave = (REF / "c" / "master.c").read_bytes(), (REF / "c" / "slave.c").read_bytes()
    _tar(root / "traversal.tar.gz", [_file("master.c", master), _file("../../escaped.c", slave)])
    _tar(root / "absolute.tar.gz", [_file("master.c", master), _file("/tmp/ipcgrade-escaped.c", slave)])
    link = tarfile.TarInfo("slave.c")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    _tar(root / "symlink-out.tar.gz", [_file("master.c", master), (link, None)])
    with zipfile.ZipFile(root / "zip-symlink.zip", "w") as z:
        z.writestr("master.c", master)
        info = zipfile.ZipInfo("slave.c")
        info.external_attr = (0o120777 << 16)
        z.writestr(info, "/etc/passwd")
    with zipfile.ZipFile(root / "zip-bomb.zip", "w", zipfile.ZIP_DEFLATED) as z:
        with z.open("master.c", "w") as f:
            chunk = b"\0" * (1 << 20)
            for _ in range(200):
                f.write(chunk)
    for name in ("name with spaces", "new\nline", "caf\udce9-latin1"):
        shutil.copytree(REF / "c", root / name)
    unsafe = {"status": "error", "error": "unsafe archive"}
    return {"traversal": unsafe, "absolute": unsafe, "symlink-out": unsafe, "zip-symlink": unsafe,
            "zip-bomb": {"status": "error", "error": "archive expands to more than"},
            "name with spaces": {"status": "graded", "score": "full"},
            "new\ufffdline": {"status": "graded", "score": "full"},
            "caf\ufffd-latin1": {"status": "graded", "score": "full"}}


def host_state() -> dict:
    def sysv():
        rows = []
        for kind in ("shm", "msg", "sem"):
            rows += [f"{kind}:{l.split()[1]}" for l in Path(f"/proc/sysvipc/{kind}").read_text().splitlines()[1:]]
        return sorted(rows)
    student_procs = sorted(p for p in os.listdir("/proc") if p.isdigit() and _uid(p) in (2000, 2001)
                           and not _in_foreign_container(p))
    return {"sysv": sysv(), "student_processes": student_procs, "dev_shm": sorted(os.listdir("/dev/shm")),
            "tmp": sorted(p.name for p in Path("/tmp").iterdir() if not p.name.startswith("pytest-")),
            "repo": sorted(str(p.relative_to(REPO)) for p in REPO.rglob("*") if ".git" not in p.parts
                           and "__pycache__" not in p.parts and ".pytest_cache" not in p.parts)}


def _in_foreign_container(pid: str) -> bool:
    """A process inside a running container that another grader on this machine owns (not ours to judge)."""
    try:
        cgroup = Path(f"/proc/{pid}/cgroup").read_text()
    except OSError:
        return False
    from grader.run import dockerenv, sandbox
    running = {r["Id"]: (r.get("Labels") or {}).get("ipcgrade.owner") for r in dockerenv.client().api.containers()}
    mine = sandbox.owner_label()
    return any(cid in cgroup and owner != mine for cid, owner in running.items())


def _uid(pid: str) -> int | None:
    try:
        return os.stat(f"/proc/{pid}").st_uid
    except OSError:
        return None


def cases(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and (p / "manifest.yaml").is_file())


def build_assignment_batch(subs: Path, assignment: str, programs: list[str]) -> dict[str, dict]:
    """Fill `subs` with the cases under tests/hostile/ASSIGNMENT, each completed with the reference
    programs of its language that it lacks, and both references; return expectations."""
    ref, expected = REPO / "assignments" / assignment / "reference", {}
    for case in cases(CORPUS / assignment):
        dst = subs / case.name
        patch = case / "reference.patch"
        if patch.exists():       # a hostile change to a reference program, kept as a patch (as mutants are)
            lang = "python" if all(f.endswith(".py") for f in mutants.patched_files(patch)) else "c"
            mutants.apply(patch, ref / lang, dst)
        shutil.copytree(case, dst, ignore=shutil.ignore_patterns("manifest.yaml", "reference.patch"),
                        dirs_exist_ok=True)
        lang, ext = ("python", ".py") if any(dst.glob("*.py")) else ("c", ".c")
        for program in programs:
            if not (dst / f"{program}{ext}").exists():
                shutil.copy(ref / lang / f"{program}{ext}", dst)
        expected[case.name] = yaml.safe_load((case / "manifest.yaml").read_text())["expect"]
    for lang in ("c", "python"):
        shutil.copytree(ref / lang, subs / f"reference-{lang}")
        expected[f"reference-{lang}"] = {"status": "graded", "score": "full"}
    return expected


def build_batch(subs: Path) -> dict[str, dict]:
    """Fill `subs` with every hostile case, the generated ones and both references; return expectations."""
    expected = {}
    for case in cases(CORPUS):
        _copy_case(case, subs / case.name)
        expected[case.name] = yaml.safe_load((case / "manifest.yaml").read_text())["expect"]
    expected.update(generated_cases(subs))
    for lang in ("c", "python"):
        shutil.copytree(REF / lang, subs / f"reference-{lang}")
        expected[f"reference-{lang}"] = {"status": "graded", "score": "full"}
    return expected


def wrong_verdicts(book: dict[str, dict], expected: dict[str, dict]) -> list[str]:
    """"student: what is wrong" for each case whose gradebook row breaks its manifest's expectation."""
    return [f"{student}: {'; '.join(p)}" for student, want in expected.items() if (p := problems(want, book[student]))]


def problems(want: dict, got: dict) -> list[str]:
    """How a graded submission (a grades.json entry) differs from its expected verdict."""
    failed = {c["id"] for c in got["checks"] if c["status"] == "failed"}
    errors = [c["id"] for c in got["checks"] if c["status"] == "error"]
    feedback = "\n".join(c["feedback"] for c in got["checks"]) + (got.get("error") or "")
    out = []
    if got["status"] != want["status"]:
        out.append(f"status {got['status']} ({got.get('error')})")
    if errors:
        out.append(f"internal errors in {errors}")
    if want.get("score") == "full" and got["score"] != got["max_score"]:
        out.append(f"score {got['score']}/{got['max_score']}, failed {sorted(failed)}")
    if not set(want.get("fails", [])) <= failed:
        out.append(f"should fail {want['fails']}, failed {sorted(failed)}")
    if "error" in want and want["error"] not in (got.get("error") or ""):
        out.append(f"error {got.get('error')!r}")
    if "evidence" in want and want["evidence"] not in feedback:
        out.append(f"no {want['evidence']!r} in the feedback")
    return out
