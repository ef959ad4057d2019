"""The HTML reports render in a real browser: headless Chromium, offline, from file://.

A unit test can only say the markup looks right; this one has Chromium parse
and paint the pages, proving they open with no network and no server. Set
IPCGRADE_SCREENSHOT_DIR=docs/img to refresh the screenshots in the docs.
"""
from __future__ import annotations

import os
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from grader.models import CheckOutcome, CheckStatus, Evidence, Gradebook, ScoredCheck, SubmissionResult
from grader.report import safe_dir_names
from grader.report.html import write_html

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed "
                                                          "(Debian: apt-get install -y chromium)")
WIDTH, HEIGHT = 1200, 1600

# (id, name, points): a plausible shared-memory ring-buffer assignment.
CHECKS = [("shm_create", "Creates the shared-memory segment", 2),
          ("ring_order", "Messages arrive in order", 3),
          ("pipe_eof", "Reader sees EOF when writers close", 1),
          ("sig_race", "No lost signals under load", 2),
          ("cleanup", "Removes IPC objects at exit", 2)]

# Per student, the status of each check in CHECKS order: P passed, F failed, S skipped, E error.
CLASS = {"alice": "PPPPP", "bob": "PPFPP", "carol": "EPFPP", "dave": "PPPSF", "erin": "FSPPP",
         "frank": "PSPFS", "grace": "FSPFP", "<script>alert(1)</script>": "PPPSS", "ivan": "PPPEP",
         "judy": "PPPPS", "mallory": "FSSEF", "niaj": "PPPPP", "olivia": "PFPPP"}

FAILURES = {
    "shm_create": dict(message="shm_open was never called with O_CREAT, so the consumer found no segment.",
                       expected="/dev/shm/ring exists before the first message",
                       observed="shm_open(\"/ring\", O_RDWR) = -1 ENOENT",
                       hint="Create the segment in the producer with O_CREAT | O_EXCL and size it with ftruncate."),
    "ring_order": dict(message="The consumer read messages out of order.",
                       expected="msg 1\nmsg 2\nmsg 3\nmsg 4", observed="msg 1\nmsg 3\nmsg 2\nmsg 4",
                       hint="Post the 'full' semaphore only after the slot is written."),
    "pipe_eof": dict(message="The reader blocked forever: a write end of the pipe was still open in the child.",
                     evidence=[Evidence(label="open file descriptors of the reader (/proc/412/fd)",
                                        text="0 -> /dev/null\n1 -> pipe:[53311]\n3 -> pipe:[53310]\n"
                                             "4 -> pipe:[53310]   <- write end, should be closed")],
                     hint="Close the unused write end in every process right after fork()."),
    "sig_race": dict(message="12 of 1000 SIGUSR1 deliveries were lost.",
                     evidence=[Evidence(label="strace excerpt",
                                        text="[pid 413] rt_sigaction(SIGUSR1, {sa_handler=0x401136, sa_flags=0}, "
                                             "NULL, 8) = 0\n[pid 413] --- SIGUSR1 {si_signo=SIGUSR1, si_pid=412} ---\n"
                                             "[pid 413] rt_sigreturn({mask=[]}) = 0\n</pre><b>not markup</b>")],
                     hint="Block the signal with sigprocmask and wait for it with sigwaitinfo."),
    "cleanup": dict(message="The segment /dev/shm/ring was still there after the program exited.",
                    expected="no /dev/shm/ring", observed="/dev/shm/ring (4096 bytes)",
                    hint="Call shm_unlink once both sides are done."),
}


def _check(cid: str, name: str, worth: int, code: str) -> ScoredCheck:
    status = {"P": CheckStatus.passed, "F": CheckStatus.failed, "S": CheckStatus.skipped, "E": CheckStatus.error}[code]
    extra = {"F": FAILURES[cid], "S": dict(message="skipped because shm_create failed"),
             "E": dict(message="harness timed out after 10 s")}.get(code, {})
    return ScoredCheck(id=cid, name=name, status=status, score=worth if code == "P" else 0, max_score=worth,
                       hidden=cid == "cleanup",
                       outcome=CheckOutcome(id=cid, name=name, status=status, hidden=cid == "cleanup", **extra))


def demo_gradebook() -> Gradebook:
    subs = []
    for student, codes in CLASS.items():
        checks = [_check(cid, name, worth, code) for (cid, name, worth), code in zip(CHECKS, codes)]
        subs.append(SubmissionResult(student=student, status="graded", language="c", checks=checks,
                                     score=sum(c.score for c in checks), max_score=10))
    subs.insert(7, SubmissionResult(student="heidi", status="error",
                                    error="build failed: make: *** No rule to make target 'ring'.  Stop."))
    return Gradebook(assignment="ipc-ring", submissions=subs)


def _chromium(page: Path, profile: Path, *args: str) -> subprocess.CompletedProcess:
    """One isolated, offline-minded Chromium run; a fresh profile so no state leaks between calls."""
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={profile}", *args, page.resolve().as_uri()]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "HOME": str(profile)})


def _png_size(path: Path) -> tuple[int, int]:
    """Width and height from the PNG header, so a garbage file cannot pass for a screenshot."""
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", head[16:24])


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("html")
    write_html(demo_gradebook(), out)
    return out


@pytest.mark.parametrize("which", ["class", "student"])
def test_pages_render_in_chromium(rendered, tmp_path, which):
    book = demo_gradebook()
    names = [s.student for s in book.submissions]
    folder = safe_dir_names(names)[names.index("grace")]        # a failure, a skip, evidence and a hint
    page = rendered / "index.html" if which == "class" else rendered / folder / "report.html"

    png = tmp_path / f"{which}.png"
    shot = _chromium(page, tmp_path / "profile-shot", f"--screenshot={png}", f"--window-size={WIDTH},{HEIGHT}")
    assert shot.returncode == 0, shot.stderr[-2000:]
    assert png.is_file() and _png_size(png) == (WIDTH, HEIGHT)
    # A blank page compresses to a few KB; text, tables and bars make it far larger.
    assert png.stat().st_size > 20_000, "screenshot looks blank"

    dom = _chromium(page, tmp_path / "profile-dom", "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    if which == "class":
        assert 'id="students"' in dom.stdout and 'id="histogram"' in dom.stdout and 'id="check-stats"' in dom.stdout
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom.stdout and "<script>alert" not in dom.stdout
    else:
        assert 'id="checks"' in dom.stdout and "What to fix" in dom.stdout
        assert "&lt;/pre&gt;&lt;b&gt;not markup&lt;/b&gt;" in dom.stdout

    if os.environ.get("IPCGRADE_SCREENSHOT_DIR"):
        target = Path(os.environ["IPCGRADE_SCREENSHOT_DIR"])
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(png, target / f"{which}-report.png")
