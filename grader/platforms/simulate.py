"""Try an export before uploading it: each platform's contract, played with Docker on this machine.

Gradescope: an image is made from a Debian base by running setup.sh with the zip's contents in
/autograder/source; each submission then runs in a fresh container with Docker's *default*
capabilities and seccomp profile and no network, its files in /autograder/submission, and
/autograder/run_autograder writes /autograder/results/results.json. PrairieLearn: the same setup
(the export's Dockerfile's RUN), then /grade/entrypoint.sh with the files in /grade/student.

`debian:bookworm-slim` stands in for Gradescope's Ubuntu 22.04 base, which no registry here can
provide. The image is made with `docker run` + `docker commit` rather than `docker build`, so
that setup.sh's pip trusts this machine's CA bundle (mounted read-only for the setup run only),
as it must where the package index is reached through a TLS-inspecting proxy.
"""
from __future__ import annotations

import hashlib
import json
import re
import subprocess
import tempfile
import zipfile
from pathlib import Path

from grader.platforms import bundle

BASE = "debian:bookworm-slim"
HOST_CA = "/etc/ssl/certs/ca-certificates.crt"
RUN_LIMITS = ["--memory", "1g", "--pids-limit", "512"]   # the platform's own container limits


class SimulationError(RuntimeError):
    pass


def _docker(*args: str, timeout: int = 2400) -> subprocess.CompletedProcess:
    p = subprocess.run(["docker", *args], capture_output=True, check=False, timeout=timeout)
    if p.returncode != 0:
        raise SimulationError(f"docker {args[0]} failed: {p.stderr.decode(errors='replace')[-2000:]}")
    return p


def _pip_mounts() -> list[str]:
    if not Path(HOST_CA).is_file():
        return []
    return ["-v", f"{HOST_CA}:/opt/host-ca.crt:ro", "-e", "PIP_CERT=/opt/host-ca.crt"]


def _image_exists(tag: str) -> bool:
    return subprocess.run(["docker", "image", "inspect", tag], check=False, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode == 0


def _digest(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            h.update(p.relative_to(folder).as_posix().encode() + b"\0" + p.read_bytes())
    return h.hexdigest()[:16]


def _commit_setup(source: Path, copy_script: str, tag: str) -> str:
    """Run setup in a container with `source` at /in, then commit it as `tag`.

    The first setup with a given list of packages (apt and pip: minutes, far more on a busy
    machine) is kept as a base image; later setups rerun setup.sh on that base, where it finds
    everything installed.
    """
    if _image_exists(tag):
        return tag
    installs = "\n".join([*bundle.APT_PACKAGES, *bundle.REQUIREMENTS]).encode()
    base = f"ipcgrade-sim-base:{hashlib.sha256(installs).hexdigest()[:16]}"
    if not _image_exists(base):
        _commit(BASE, source, copy_script, base)
    fresh = "rm -rf /autograder /opt/ipcgrade-setup /opt/ipcgrade/refbin /grade && "
    return _commit(base, source, fresh + copy_script, tag)


def _commit(image: str, source: Path, script: str, tag: str) -> str:
    name = f"ipcgrade-sim-setup-{tag.rsplit(':', 1)[-1]}"
    subprocess.run(["docker", "rm", "-f", name], check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _docker("run", "--name", name, *_pip_mounts(), "-v", f"{source}:/in:ro", image, "bash", "-c", script)
        _docker("commit", name, tag)
    finally:
        subprocess.run(["docker", "rm", "-f", name], check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return tag


def gradescope_image(zip_path: Path) -> str:
    """The autograder image Gradescope would build from this zip (cached by the zip's contents)."""
    with tempfile.TemporaryDirectory(prefix="ipcgrade-sim-") as tmp:
        src = Path(tmp) / "source"
        with zipfile.ZipFile(zip_path) as zf:
            zf.extractall(src)
        tag = f"ipcgrade-sim-gradescope:{_digest(src)}"
        script = ("mkdir -p /autograder && cp -r /in /autograder/source && "
                  "cp /autograder/source/run_autograder /autograder/run_autograder && "
                  "chmod 755 /autograder/run_autograder && bash /autograder/source/setup.sh")
        return _commit_setup(src, script, tag)


def prairielearn_image(export_dir: Path) -> str:
    """The grading image the export's Dockerfile describes (its RUN made with docker run + commit)."""
    tag = f"ipcgrade-sim-prairielearn:{_digest(export_dir)}"
    script = ("cp -r /in/ipcgrade-setup /opt/ipcgrade-setup && bash /opt/ipcgrade-setup/setup.sh "
              "/opt/ipcgrade-setup && mkdir -p /grade && cp /in/entrypoint.sh /grade/entrypoint.sh")
    return _commit_setup(export_dir, script, tag)


def _run(image: str, mounts: list[str], script: str, results: Path, timeout: int) -> dict:
    p = subprocess.run(["docker", "run", "--rm", "--network", "none", *RUN_LIMITS, *mounts, image,
                        "bash", "-c", script], capture_output=True, check=False, timeout=timeout)
    if not results.is_file():
        raise SimulationError(f"no results file (exit {p.returncode}): {p.stderr.decode(errors='replace')[-2000:]}")
    return json.loads(results.read_text())


def run_gradescope(image: str, submission: Path, timeout: int = 600) -> dict:
    """Grade one submission as Gradescope would; returns results.json."""
    with tempfile.TemporaryDirectory(prefix="ipcgrade-sim-results-") as tmp:
        results = Path(tmp)
        script = ("mkdir -p /autograder/submission && cp -r /mnt/submission/. /autograder/submission/ && "
                  "/autograder/run_autograder")
        return _run(image, ["-v", f"{submission.resolve()}:/mnt/submission:ro",
                            "-v", f"{results}:/autograder/results"], script, results / "results.json", timeout)


def run_prairielearn(image: str, export_dir: Path, submission: Path, timeout: int = 600) -> dict:
    """Grade one submission as PrairieLearn's external grader would; returns results.json."""
    with tempfile.TemporaryDirectory(prefix="ipcgrade-sim-results-") as tmp:
        results = Path(tmp)
        script = "mkdir -p /grade/student && cp -r /mnt/student/. /grade/student/ && /grade/entrypoint.sh"
        return _run(image, ["-v", f"{submission.resolve()}:/mnt/student:ro",
                            "-v", f"{(export_dir / 'tests').resolve()}:/grade/tests:ro",
                            "-v", f"{results}:/grade/results"], script, results / "results.json", timeout)


def remove_image(tag: str) -> None:
    subprocess.run(["docker", "rmi", "-f", tag], check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)



_HEADING = re.compile(r"\[(?P<id>[a-z0-9_-]+)\]: (?P<status>PASSED|FAILED|SKIPPED|ERROR), ")
DEGRADED = "cannot run on this grading platform"


def statuses(doc: dict) -> dict[str, tuple[str, float]]:
    """check id -> (status, score) from a platform results.json (each test's output starts with the
    check's heading, which names its real status: Gradescope itself knows only passed and failed)."""
    out = {}
    for test in doc.get("tests", []):
        m = _HEADING.search(test.get("output", ""))
        if m:
            out[m["id"]] = (m["status"].lower(), float(test.get("score", test.get("points", 0))))
    return out


def differences(result, doc: dict, *, visible_only: bool = False) -> list[str]:
    """How a platform's results differ from the Docker batch run's SubmissionResult, except where the
    platform named a degradation (a check that reports it cannot run there). Empty: the same verdicts."""
    got = statuses(doc)
    out = []
    for c in result.checks:
        if visible_only and c.hidden:
            continue
        status, score = got.get(c.id, ("missing", 0.0))
        if status == "error" and DEGRADED in _output(doc, c.id):
            continue
        if (status, score) != (c.status.value, c.score):
            out.append(f"{c.id}: docker {c.status.value} {c.score:g}, platform {status} {score:g}")
    if not out and not any(s == "error" for s, _ in got.values()):
        # PrairieLearn scores 0..1, Gradescope in points.
        expected = result.score / result.max_score if "gradable" in doc and result.max_score else result.score
        if abs(float(doc.get("score", -1)) - expected) > 1e-6:
            out.append(f"total score: docker {expected:g}, platform {doc.get('score')}")
    return out


def _output(doc: dict, check_id: str) -> str:
    return next((t["output"] for t in doc.get("tests", []) if f"[{check_id}]:" in t.get("output", "")), "")
