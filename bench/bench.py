#!/usr/bin/env python3
"""Benchmark ipcgrade on this machine; every figure is measured in the same run.

    python3 bench/bench.py [--class-size 100] [--jobs N] [--stub-sizes 100,1000]

Prints:
  - submissions per minute for a generated shm-handshake class (first run, image already built);
  - the overhead ratio: grading one reference submission against the bare time of the
    same program runs (compile, then the same master/slave sessions) with no container or tracing;
  - container start cost as a share of the per-submission time;
  - the grader's peak memory (RSS) during the real batch;
  - cached-rerun time against first-run time;
  - the grader's peak memory with a stub harness at two class sizes, for the whole of `grade`:
    grading, every output file and the terminal tables (flat means nothing kept per submission).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from grader import assignments, dockerenv, image, sandbox, selftest  # noqa: E402
from grader.batch import grade_batch  # noqa: E402
from grader.discover import discover  # noqa: E402
from grader.store import ResultStore  # noqa: E402

ASSIGNMENT = "shm-handshake"


def make_class(root: Path, size: int) -> dict[str, int]:
    """size submissions drawn round-robin from the references and mutants (hanging mutants included)."""
    a = assignments.load(ASSIGNMENT)
    cases = selftest.cases(a)
    mix: dict[str, int] = {}
    for i in range(size):
        case = cases[i % len(cases)]
        shutil.copytree(case.path, root / f"student{i:04d}", ignore=shutil.ignore_patterns("manifest.yaml"))
        mix[case.name] = mix.get(case.name, 0) + 1
    return mix


def bare_seconds(workdir: Path, repeats: int = 5) -> float:
    """The same work without container or tracer: build both programs, run the harness's sessions."""
    src = REPO / "assignments" / ASSIGNMENT / "reference" / "c"
    sessions = [10, 1, 100, 10, 10, 1000]  # what the checks run: main session, sum-correct extras, mixes, hidden
    best = float("inf")
    for _ in range(repeats):
        t0 = time.monotonic()
        for prog in ("master", "slave"):
            subprocess.run(["gcc", "-Wall", "-Wextra", "-std=gnu11", "-O2", "-o", workdir / prog, src / f"{prog}.c"],
                           check=True)
        for n in sessions:
            m = subprocess.Popen([workdir / "master", str(n)], stdout=subprocess.PIPE, text=True)
            line = m.stdout.readline()
            subprocess.run([workdir / "slave", str(n)], input=line, text=True, check=True)
            m.communicate()
        best = min(best, time.monotonic() - t0)
    return best


def container_start_seconds(client, tag: str, repeats: int = 5) -> float:
    """A no-op container with the grading configuration: create, start, wait, remove."""
    with tempfile.TemporaryDirectory() as empty:
        times = []
        for _ in range(repeats):
            t0 = time.monotonic()
            sandbox.run_in_container(client, tag, Path(empty), ["true"])
            times.append(time.monotonic() - t0)
    return sorted(times)[len(times) // 2]


def one_submission_seconds(client, tag: str, repeats: int = 3) -> float:
    a = assignments.load(ASSIGNMENT)
    ref = a.reference_dir / "c"
    times = []
    for _ in range(repeats):
        t0 = time.monotonic()
        res = sandbox.run_harness(client, tag, ref, ASSIGNMENT)
        assert res.exit_code == 0
        times.append(time.monotonic() - t0)
    return sorted(times)[len(times) // 2]


STUB_REPORT = Path(tempfile.gettempdir()) / "ipcgrade-bench-report.json"


def stub_peak_rss(size: int) -> int:
    """Peak RSS (KiB) of a fresh grader process doing what `grade` does for `size` submissions
    (grade with the result store, write every output, print the tables), with a stub harness
    that answers each with the same real report."""
    code = f"""
import io, resource, sys, tempfile
from pathlib import Path
sys.path.insert(0, {str(REPO)!r})
from rich.console import Console
from grader import assignments, cli
from grader.batch import grade_batch
from grader.models import Submission
from grader.runners import Limits, RunResult, SharedOpen
from grader.store import ResultStore
a = assignments.load({ASSIGNMENT!r})
doc = open({str(STUB_REPORT)!r}, 'rb').read()
class Stub(SharedOpen):
    limits = Limits()
    def run(self, path, name, visible_only=False):
        return RunResult(0, doc, b'')
stub = Stub()
with tempfile.TemporaryDirectory() as d:
    sub = Path(d) / 's'; sub.mkdir(); (sub / 'master.c').write_text('x')
    subs = [Submission(student=f's{{i:05d}}', path=sub) for i in range({size})]
    run = grade_batch(a, subs, runner=stub, jobs=2, store=ResultStore(Path(d) / 'out'))
    assert cli.report_batch(run, Path(d) / 'out', None, console=Console(file=io.StringIO())) == 0
    assert len(run.book.submissions) == {size}
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    return int(out.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--class-size", type=int, default=100)
    ap.add_argument("--jobs", type=int, default=os.cpu_count())
    ap.add_argument("--stub-sizes", default="100,1000")
    args = ap.parse_args()
    client = dockerenv.client()
    tag = image.ensure_image(client)
    a = assignments.load(ASSIGNMENT)
    with tempfile.TemporaryDirectory(prefix="ipcgrade-bench-") as tmp:
        tmp = Path(tmp)
        (tmp / "class").mkdir()
        mix = make_class(tmp / "class", args.class_size)
        subs = discover(tmp / "class", tmp / "staging")
        store = ResultStore(tmp / "out")
        t0 = time.monotonic()
        first = grade_batch(a, subs, jobs=args.jobs, store=store)
        first_s = time.monotonic() - t0
        peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        t0 = time.monotonic()
        again = grade_batch(a, subs, jobs=args.jobs, store=store)
        cached_s = time.monotonic() - t0
        assert again.ran == 0 and again.reused == len(subs)
        errors = sum(s.status == "error" for s in first.book.submissions)
        per_sub = one_submission_seconds(client, tag)
        start = container_start_seconds(client, tag)
        (tmp / "bare").mkdir()
        bare = bare_seconds(tmp / "bare")
        # A real report for the stub harness: the largest of the reference's and a failing mutant's
        # (failures carry traces and /proc snapshots as evidence).
        reports = [sandbox.run_harness(client, tag, path, ASSIGNMENT).stdout
                   for path in (a.reference_dir / "c", selftest.cases(a)[2].path)]
        STUB_REPORT.write_bytes(max(reports, key=len))
    sizes = [int(x) for x in args.stub_sizes.split(",")]
    stub = {n: stub_peak_rss(n) for n in sizes}
    figures = {
        "class": {"size": args.class_size, "jobs": args.jobs, "mix": mix, "errors": errors},
        "submissions_per_minute": round(args.class_size / first_s * 60, 1),
        "first_run_seconds": round(first_s, 2),
        "cached_rerun_seconds": round(cached_s, 3),
        "cached_speedup": round(first_s / cached_s, 1),
        "one_submission_seconds": round(per_sub, 3),
        "bare_program_seconds": round(bare, 4),
        "overhead_ratio": round(per_sub / bare, 1),
        "container_start_seconds": round(start, 3),
        "container_start_share": round(start / per_sub, 3),
        "grader_peak_rss_mib": round(peak_kib / 1024, 1),
        "stub_peak_rss_mib": {str(n): round(kib / 1024, 1) for n, kib in stub.items()},
    }
    print(json.dumps(figures, indent=2))
    print(f"\n{figures['submissions_per_minute']} submissions/min ({args.class_size} in {first_s:.1f} s, "
          f"{args.jobs} jobs); cached rerun {figures['cached_speedup']}x faster; one submission "
          f"{per_sub:.2f} s vs {bare:.3f} s bare ({figures['overhead_ratio']}x), of which container start "
          f"{start:.2f} s ({figures['container_start_share']:.0%}); grader peak RSS "
          f"{figures['grader_peak_rss_mib']} MiB; stub harness peak RSS "
          + ", ".join(f"{n}: {mib} MiB" for n, mib in figures["stub_peak_rss_mib"].items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
