"""The grading image: built on first use, tagged by a hash of everything that goes into it.

A changed harness, check or Dockerfile gives a new tag, so a stale image can
never grade. When the base image cannot be pulled (no registry reachable), an
equivalent minimal Debian is built locally with mmdebstrap and imported under
the same tag, so the ordinary Dockerfile works unchanged.
"""
from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
from pathlib import Path

from docker.errors import APIError, BuildError, ImageNotFound

from grader.locations import Locations

BASE_IMAGE = os.environ.get("IPCGRADE_BASE_IMAGE", "debian:bookworm-slim")
REPO = "ipcgrade"
# What of an assignment goes into the image: mutants and starter code do not.
_IMAGE_EXCLUDES = {"mutants", "starter", "__pycache__"}


class ImageError(RuntimeError):
    pass


# One build at a time in this process: batches started side by side (a course graded assignment by
# assignment in threads, the test suite's shared runs) all find the image missing at once, and each
# would otherwise build the same image in parallel, on the same cores, for the same tag.
_BUILDING = threading.Lock()


def _context_files(where: Locations | None) -> list[tuple[str, Path]]:
    """(path in build context, file on disk), sorted, for hashing and building.

    Every assignment `where` can see goes in under assignments/NAME, wherever it lives
    (bundled or a course's), so the names and the hash do not depend on the install kind.
    The audit's container half goes in beside the harness.
    """
    where = where or Locations.bundled()
    grader = where.harness_package.parent
    files = [("Dockerfile", where.dockerfile), ("grader/__init__.py", grader / "__init__.py"),
             ("grader/audit/__init__.py", grader / "audit" / "__init__.py")]
    trees = [(where.harness_package, "grader/harness"), (grader / "audit" / "container", "grader/audit/container")]
    trees += [(folder, f"assignments/{name}") for name, folder in where.assignment_dirs().items()]
    for root, name in trees:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d not in _IMAGE_EXCLUDES and not d.startswith("."))
            for f in sorted(filenames):
                if f.endswith((".pyc", ".pyo")) or f.startswith("."):
                    continue
                full = Path(dirpath) / f
                files.append((f"{name}/{full.relative_to(root)}", full))
    return sorted(files)


def _inputs_hash(files: list[tuple[str, Path]]) -> str:
    h = hashlib.sha256(f"base={BASE_IMAGE}\n".encode())
    for rel, full in files:
        h.update(rel.encode() + b"\0")
        h.update(full.read_bytes())
        h.update(b"\0%d\0" % (full.stat().st_mode & 0o111))
    return h.hexdigest()[:16]


def image_tag(where: Locations | None = None) -> str:
    """The tag of the image holding every assignment of `where` (None: the bundled set)."""
    return f"{REPO}:{_inputs_hash(_context_files(where))}"


def harness_hash(assignment: str, where: Locations | None = None) -> str:
    """What one assignment's verdicts depend on: the Dockerfile, the harness runtime and that
    assignment's folder. Editing another assignment does not invalidate cached results."""
    return _inputs_hash([(rel, full) for rel, full in _context_files(where)
                         if not rel.startswith("assignments/") or rel.startswith(f"assignments/{assignment}/")])


def _say(msg: str) -> None:
    print(f"ipcgrade: {msg}", file=sys.stderr, flush=True)


def ensure_base(client) -> None:
    try:
        client.images.get(BASE_IMAGE)
        return
    except ImageNotFound:
        pass
    repo, _, tag = BASE_IMAGE.partition(":")
    try:
        client.images.pull(repo, tag=tag or "latest")
        return
    except APIError:
        pass
    suite = (tag or "bookworm").split("-")[0]
    _say(f"cannot pull {BASE_IMAGE} (no registry reachable); building it locally with mmdebstrap ({suite})")
    if shutil.which("mmdebstrap") is None:
        if os.geteuid() == 0 and shutil.which("apt-get"):
            subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "mmdebstrap"],
                           check=False, stdout=subprocess.DEVNULL)
        if shutil.which("mmdebstrap") is None:
            raise ImageError(f"cannot pull {BASE_IMAGE} and mmdebstrap is not installed; "
                             "install mmdebstrap or make the registry reachable")
    with tempfile.TemporaryDirectory() as tmp:
        rootfs = Path(tmp) / "rootfs.tar"
        r = subprocess.run(["mmdebstrap", "--quiet", "--variant=minbase", suite, str(rootfs)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if r.returncode != 0:
            raise ImageError(f"mmdebstrap failed: {r.stderr.decode(errors='replace')[-500:]}")
        client.api.import_image_from_file(str(rootfs), repository=repo, tag=tag or "latest")
    _say(f"built {BASE_IMAGE} locally")


def remove_stale_images(client, where: Locations | None = None) -> int:
    """Remove grading images built from older inputs; the current one stays."""
    current, n = image_tag(where), 0
    for img in client.images.list(filters={"label": "ipcgrade=image"}):
        if current in img.tags:
            continue
        try:
            client.images.remove(img.id, force=True)
            n += 1
        except APIError:
            pass  # in use by a running grader: leave it
    return n


def _context_tar(where: Locations | None) -> io.BytesIO:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for rel, full in _context_files(where):
            info = tar.gettarinfo(str(full), arcname=rel)
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            with open(full, "rb") as f:
                tar.addfile(info, f)
    buf.seek(0)
    return buf


def ensure_image(client, where: Locations | None = None, force: bool = False) -> str:
    """The tag of an up-to-date grading image for `where`'s assignments, building it if needed."""
    tag = image_tag(where)
    if not force and _have(client, tag):
        return tag
    with _BUILDING:
        if not force and _have(client, tag):        # another thread built it while this one waited
            return tag
        ensure_base(client)
        _say(f"building the grading image {tag} (first use after a change; about a minute)")
        try:
            client.images.build(fileobj=_context_tar(where), custom_context=True, tag=tag, rm=True, forcerm=True,
                                buildargs={"BASE": BASE_IMAGE}, labels={"ipcgrade": "image"})
        except BuildError as e:
            log = "".join(str(x.get("stream", "") or x.get("error", "")) for x in e.build_log)[-2000:]
            raise ImageError(f"building the grading image failed:\n{log}") from None
    return tag


def _have(client, tag: str) -> bool:
    try:
        client.images.get(tag)
        return True
    except ImageNotFound:
        return False
