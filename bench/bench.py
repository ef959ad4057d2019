#!/usr/bin/env python3
"""Benchmark ipcgrade on every assignment; every figure is measured in the same run.

    python3 bench/bench.py [--assignment NAME ...] [--class-size 60] [--jobs 2] [--json FILE]

For each assignment (all of them unless --assignment is given), with the image already built:
  - correct class: `class-size` submissions alternating between the references, each copy made
    distinct in content (a trailing comment) so the result cache cannot collapse them;
    graded submissions per minute;
  - mixed class: `class-size` submissions drawn round-robin from the references and every mutant
    (hanging mutants included), also made distinct; submissions per minute;
  - the cached rerun of the mixed class against its first run;
  - the grader's peak memory (RSS) while grading both classes (a fresh process per assignment);
  - one correct submission (the C reference, median of 3) against its bare run: the same program
    invocations, recorded by the harness (IPCGRADE_RECORD_RUNS) and replayed on the host with the
    programs compiled with the assignment's cflags, no container, no tracer (bench/bare.py).
    It is measured as a batch grades it: in a warm container (started while the previous
    submission ran, its harness loaded), from handing over the files to the verdicts, while the
    next submission's container starts beside it. The cold figure (one fresh container: create,
    start, harness start-up, grading, removal) is reported beside it, labelled so;
  - container start (a no-op container with the grading configuration) as a share of the cold figure;
  - each check's seconds for that submission, and its median over the correct class (where the
    time goes);
  - flat memory: the peak RSS of all of `grade` with a stub harness answering with that
    submission's real report, at two class sizes (--stub-sizes);
  - each class's CPU budget (bench/cpu_budget.py): host CPU per submission, Docker's part of it and
    the harness's own Python, how busy the cores were, and the ceiling per minute if the harness's
    Python cost nothing;
and marks issue 14's targets: >= 150/min correct, >= 100/min mixed, <= 3x bare.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import cpu_budget  # noqa: E402  (bench/, next to this file)

from grader import assignments, selftest  # noqa: E402
from grader.batch import grade_batch  # noqa: E402
from grader.discover.submissions import discover  # noqa: E402
from grader.run import dockerenv, image, sandbox
from grader.store import ResultStore  # noqa: E402

TARGETS = {"correct_per_minute": 150, "mixed_per_minute": 100, "bare_ratio": 3.0}
COMMENT = {".c": "/* copy {n} */\n", ".h": "/* copy {n} */\n", ".py": "# copy {n}\n"}
RECORD_FILE = "/run/ipcgrade/runs.jsonl"


def distinct_copy(src: Path, dest: Path, n: int) -> None:
    """A copy of a submission whose sources end with a comment naming the copy: new content, same program."""
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns("manifest.yaml"))
    for path in dest.rglob("*"):
        if path.suffix in COMMENT and path.is_file():
            with path.open("a") as f:
                f.write(COMMENT[path.suffix].format(n=n))


def make_class(root: Path, pool: list, size: int) -> dict[str, int]:
    """`size` distinct submissions drawn round-robin from the cases in `pool`; how many of each."""
    mix: dict[str, int] = {}
    for i in range(size):
        case = pool[i % len(pool)]
        distinct_copy(case.path, root / f"student{i:04d}", i)
        mix[case.name] = mix.get(case.name, 0) + 1
    return mix


def check_medians(book) -> dict[str, float]:
    """Each check's median seconds over a class (both languages), slowest first."""
    seconds: dict[str, list[float]] = {}
    for sub in book:
        for c in sub.checks:
            seconds.setdefault(c.id, []).append(c.outcome.seconds)
    medians = {k: round(statistics.median(v), 3) for k, v in seconds.items()}
    return dict(sorted(medians.items(), key=lambda kv: -kv[1]))


def grade_classes(name: str, size: int, jobs: int, warm: bool = True) -> dict:
    """Both classes and the cached rerun, in a fresh process so its peak RSS is this assignment's."""
    a = assignments.load(name)
    cases = [c for c in selftest.cases(a) if c.problem is None]
    references = [c for c in cases if c.expected_failures is None]
    out: dict = {}
    with tempfile.TemporaryDirectory(prefix=f"ipcgrade-bench-{name}-") as tmp:
        tmp = Path(tmp)
        for label, pool in (("correct", references), ("mixed", cases)):
            (tmp / label).mkdir()
            mix = make_class(tmp / label, pool, size)
            subs = discover(tmp / label, tmp / f"staging-{label}")
            store = ResultStore(tmp / f"out-{label}")
            t0, cpu0 = time.monotonic(), cpu_budget.Sample.now()
            run = grade_batch(a, subs, jobs=jobs, store=store, runner=sandbox.DockerRunner(where=a.where, warm=warm))
            seconds, cpu1 = time.monotonic() - t0, cpu_budget.Sample.now()
            book = list(run.book.submissions)
            harness_cpu = [r.report.stats["harness_cpu_seconds"] for r in store.all()
                           if "harness_cpu_seconds" in r.report.stats]
            out[label] = {"size": size, "seconds": round(seconds, 2), "per_minute": round(size / seconds * 60, 1),
                          "errors": sum(s.status == "error" for s in book), "mix": mix,
                          "cpu": cpu_budget.budget(cpu0, cpu1, seconds, size, harness_cpu)}
            if label == "correct":
                out[label]["not_full_marks"] = sum(s.score != s.max_score for s in book)
                out["class_check_seconds"] = check_medians(book)
            else:
                t0 = time.monotonic()
                again = grade_batch(a, subs, jobs=jobs, store=store)
                cached = time.monotonic() - t0
                assert again.ran == 0 and again.reused == len(subs), "the rerun was not served from the cache"
                out["cached_rerun_seconds"] = round(cached, 3)
                out["cached_speedup"] = round(seconds / cached, 1)
    out["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return out


def harness_command(name: str, record: bool) -> list[str]:
    command = ["python3", "-m", "grader.harness", "--assignment", name]
    if not record:
        return command
    return ["sh", "-c", f"IPCGRADE_RECORD_RUNS={RECORD_FILE} {' '.join(command)} && cat {RECORD_FILE}"]


def one_submission(client, tag: str, name: str, repeats: int = 3) -> dict:
    """The C reference graded `repeats` times as a batch grades it (a warm container; median) and in a
    cold container of its own (median), each check's median seconds (warm runs), and a recording run."""
    a = assignments.load(name)
    ref = a.reference_dir / "c"
    warm, cold, checks = [], [], {}
    with sandbox.DockerRunner(client=client, image=tag) as runner:
        for _ in range(repeats):
            runner.prepare(name)            # the state a batch's next submission finds
            t0 = time.monotonic()
            res = runner.run(ref, name)
            warm.append(time.monotonic() - t0)
            for line in res.stdout.decode().splitlines():      # the harness's stream: plan, each check, end
                event = json.loads(line)
                if event.get("event") == "check":
                    checks.setdefault(event["outcome"]["id"], []).append(event["outcome"]["seconds"])
    for _ in range(repeats):
        t0 = time.monotonic()
        sandbox.run_in_container(client, tag, ref, harness_command(name, record=False))
        cold.append(time.monotonic() - t0)
    recording = sandbox.run_in_container(client, tag, ref, harness_command(name, record=True)).stdout
    return {"seconds": statistics.median(warm), "cold_seconds": statistics.median(cold),
            "checks": {k: statistics.median(v) for k, v in checks.items()}, "recording": recording,
            "report": res.stdout}


STUB = """
import io, resource, sys, tempfile
from pathlib import Path
sys.path.insert(0, {repo!r})
from rich.console import Console
from grader import assignments, cli
from grader.batch import grade_batch
from grader.models import Submission
from grader.run.runners import Limits, RunResult, SharedOpen
from grader.store import ResultStore
a = assignments.load({name!r})
doc = open({report!r}, 'rb').read()
class Stub(SharedOpen):
    limits = Limits()
    def run(self, path, name, visible_only=False):
        return RunResult(0, doc, b'')
stub = Stub()
with tempfile.TemporaryDirectory() as d:
    sub = Path(d) / 's'; sub.mkdir(); (sub / 'x.c').write_text('x')
    subs = [Submission(student=f's{{i:05d}}', path=sub) for i in range({size})]
    run = grade_batch(a, subs, runner=stub, jobs=2, store=ResultStore(Path(d) / 'out'))
    assert cli.report_batch(run, Path(d) / 'out', None, console=Console(file=io.StringIO())) == 0
    assert len(run.book.submissions) == {size}
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def stub_peak_rss_mib(name: str, report: bytes, size: int) -> float:
    """Peak RSS of a fresh grader process doing all of `grade` for `size` submissions (grading with
    the result store, every output file, the terminal tables) with a stub harness that answers each
    with the same real report: flat in `size` means nothing is kept per submission."""
    with tempfile.NamedTemporaryFile(prefix="ipcgrade-bench-report-") as f:
        f.write(report)
        f.flush()
        code = STUB.format(repo=str(REPO), name=name, report=f.name, size=size)
        out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    return round(int(out.strip().splitlines()[-1]) / 1024, 1)


def bare_run(name: str, recording: bytes, repeats: int = 3) -> dict:
    """bench/bare.py in an IPC namespace of its own (its SysV and mqueue objects vanish with it)."""
    a = assignments.load(name)
    with tempfile.NamedTemporaryFile(prefix=f"ipcgrade-rec-{name}-") as f:
        f.write(recording)
        f.flush()
        out = subprocess.run(["unshare", "--ipc", "--", sys.executable, str(REPO / "bench" / "bare.py"), f.name,
                              str(a.reference_dir / "c"), ",".join(a.meta.programs), a.meta.build.cflags,
                              "--repeats", str(repeats)], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def container_start_seconds(client, tag: str, repeats: int = 5) -> float:
    """A no-op container with the grading configuration: create, start, wait, remove (median)."""
    with tempfile.TemporaryDirectory() as empty:
        times = []
        for _ in range(repeats):
            t0 = time.monotonic()
            sandbox.run_in_container(client, tag, Path(empty), ["true"])
            times.append(time.monotonic() - t0)
    return statistics.median(times)


def phases(client, tag: str, name: str, repeats: int = 5) -> dict[str, float]:
    """Where a cold single-container run of the C reference spends its time (medians, seconds):
    each Docker call, and inside `wait` the interpreter with the harness's imports (from a container
    that only imports them, less one running `true`), the build and the checks."""
    ref = assignments.load(name).reference_dir / "c"
    limits = sandbox.Limits()

    def timed(command: list[str]) -> tuple[dict[str, float], bytes]:
        t, t0 = {}, time.monotonic()
        container = client.containers.create(**sandbox.container_config(tag, command, ref, limits))
        for step, call in (("create", lambda: None), ("start", container.start), ("wait", container.wait),
                           ("logs", lambda: container.logs(stdout=True, stderr=False))):
            out = call()
            t[step] = time.monotonic() - t0
            t0 = time.monotonic()
        client.api.remove_container(container.id, force=True)
        t["remove"] = time.monotonic() - t0
        return t, out

    rows: dict[str, list[float]] = {}
    for _ in range(repeats):
        noop, _ = timed(["true"])
        imports, _ = timed(["python3", "-c", "import grader.harness.__main__"])
        run, out = timed(harness_command(name, record=False))
        checks = {}
        for line in out.decode().splitlines():
            event = json.loads(line)
            if event.get("event") == "check":
                checks[event["outcome"]["id"]] = event["outcome"]["seconds"]
        build = checks.pop("build", 0.0)
        for k, v in {**{f"container {k}": run[k] for k in ("create", "start", "logs", "remove")},
                     "interpreter and harness imports": imports["wait"] - noop["wait"],
                     "build (copy in, compile)": build, "checks": sum(checks.values()),
                     "rest of the harness (loading checks, its end, container exit)":
                         run["wait"] - (imports["wait"] - noop["wait"]) - build - sum(checks.values()),
                     "total": sum(run.values())}.items():
            rows.setdefault(k, []).append(v)
    return {k: round(statistics.median(v), 3) for k, v in rows.items()}


def measure(client, tag: str, name: str, size: int, jobs: int, start: float, stub_sizes: list[int],
            warm: bool = True) -> dict:
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        row = pool.submit(grade_classes, name, size, jobs, warm).result()
    one = one_submission(client, tag, name)
    bare = bare_run(name, one.pop("recording"))
    stub = {str(n): stub_peak_rss_mib(name, one["report"], n) for n in stub_sizes}
    checks = sum(v for k, v in one["checks"].items() if k != "build")
    row.update({
        "one_submission_seconds": round(one["seconds"], 3),         # warm: as a batch grades it
        "one_submission_cold_seconds": round(one["cold_seconds"], 3),
        "bare_seconds": round(bare["seconds"], 4),
        "bare_ratio": round(one["seconds"] / bare["seconds"], 1),
        "cold_bare_ratio": round(one["cold_seconds"] / bare["seconds"], 1),
        "bare_replay": {k: bare[k] for k in ("runs", "stalls", "stalled_seconds", "notes")},
        "container_start_share": round(start / one["cold_seconds"], 3),
        "check_seconds": dict(sorted(one["checks"].items(), key=lambda kv: -kv[1])),
        # Everything but the checks proper, the build included (its own seconds are in check_seconds):
        # warm: the copy in, the build, the harness's end, the logs; cold: also container start and
        # removal and the harness's start-up.
        "outside_checks_seconds": round(one["seconds"] - checks, 3),
        "cold_outside_checks_seconds": round(one["cold_seconds"] - checks, 3),
        "stub_peak_rss_mib": stub,
    })
    row["targets"] = {
        "correct_per_minute": row["correct"]["per_minute"] >= TARGETS["correct_per_minute"],
        "mixed_per_minute": row["mixed"]["per_minute"] >= TARGETS["mixed_per_minute"],
        "bare_ratio": row["bare_ratio"] <= TARGETS["bare_ratio"],
    }
    return row


def mark(value, met: bool) -> str:
    return f"{value} ({'met' if met else 'not met'})"


def table(rows: dict[str, dict], start: float) -> str:
    header = ("| assignment | correct per minute (>= 150) | mixed per minute (>= 100) "
              "| one correct (warm, as in a batch) vs bare (<= 3x) | one correct in a cold container "
              "| container start share (of cold) | cached rerun | grader peak RSS (stub harness: class sizes) "
              "| CPU per correct submission: host (Docker, harness Python); ceiling per minute |")
    lines = [header, "|---|---|---|---|---|---|---|---|---|"]
    for name, r in rows.items():
        t = r["targets"]
        ratio = f"{r['one_submission_seconds']:.2f} s vs {r['bare_seconds']:.2f} s = {r['bare_ratio']}x"
        lines.append(
            f"| {name} | {mark(r['correct']['per_minute'], t['correct_per_minute'])} "
            f"| {mark(r['mixed']['per_minute'], t['mixed_per_minute'])} "
            f"| {mark(ratio, t['bare_ratio'])} "
            f"| {r['one_submission_cold_seconds']:.2f} s = {r['cold_bare_ratio']}x "
            f"| {start:.2f} s ({r['container_start_share']:.0%}) | {r['cached_speedup']}x faster "
            f"| {r['peak_rss_mib']} MiB{stub_cell(r['stub_peak_rss_mib'])} "
            f"| {cpu_cell(r['correct']['cpu'])} |")
    return "\n".join(lines)


def stub_cell(sizes: dict) -> str:
    return f" ({' vs '.join(f'{n}: {m}' for n, m in sizes.items())})" if sizes else ""


def cpu_cell(cpu: dict) -> str:
    """The correct class's CPU budget (bench/cpu_budget.py) in one cell."""
    parts = [f"Docker {cpu['docker_per_submission']:.2f}"] if "docker_per_submission" in cpu else []
    if "harness_python_per_submission" in cpu:
        parts.append(f"harness Python {cpu['harness_python_per_submission']:.2f}")
    cell = f"{cpu['host_cpu_per_submission']:.2f} s ({', '.join(parts)}), cores {cpu['cores_busy']:.0%} busy"
    return cell + (f"; {cpu['ceiling_per_minute']}" if cpu.get("ceiling_per_minute") else "")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--assignment", action="append", help="measure only this one (repeatable); default: all")
    ap.add_argument("--class-size", type=int, default=60)
    ap.add_argument("--jobs", type=int, default=os.cpu_count())
    ap.add_argument("--json", type=Path, help="also write every figure to this file")
    ap.add_argument("--cold-batches", action="store_true",
                    help="grade the classes with one cold container per submission (to compare with warm ones)")
    ap.add_argument("--phases", action="store_true",
                    help="only print where one cold container run of the C reference spends its time")
    ap.add_argument("--stub-sizes", default="100,1000",
                    help="class sizes for the stub-harness memory figure (flat memory); empty to skip")
    args = ap.parse_args()
    stub_sizes = [int(x) for x in args.stub_sizes.split(",") if x]
    names = args.assignment or assignments.available()
    unknown = sorted(set(names) - set(assignments.available()))
    if unknown:
        ap.error(f"unknown assignment(s): {', '.join(unknown)}")
    client = dockerenv.client()
    tag = image.ensure_image(client)
    load = os.getloadavg()
    if args.phases:
        for name in names:
            print(f"{name} (load average {load[0]:.2f}): {json.dumps(phases(client, tag, name), indent=1)}")
        return 0
    start = container_start_seconds(client, tag)
    rows = {}
    for name in names:
        rows[name] = measure(client, tag, name, args.class_size, args.jobs, start, stub_sizes, not args.cold_batches)
        print(f"{name}: {json.dumps(rows[name])}", file=sys.stderr, flush=True)
    figures = {"class_size": args.class_size, "jobs": args.jobs, "cores": os.cpu_count(),
               "batches": "cold containers" if args.cold_batches else "warm containers",
               "load_average_at_start": [round(x, 2) for x in load],
               "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
               "container_start_seconds": round(start, 3), "targets": TARGETS, "assignments": rows}
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    print(table(rows, start))
    print(f"\nclass size {args.class_size}, --jobs {args.jobs}, {figures['batches']}, {os.cpu_count()} cores, "
          f"load average "
          f"{figures['load_average_at_start']} at start, {figures['load_average_at_end']} at end")
    for name, r in rows.items():
        slow = ", ".join(f"{k} {v:.2f} s" for k, v in list(r["check_seconds"].items())[:4])
        print(f"{name}: slowest checks of one correct submission: {slow}; outside the checks "
              f"(the build included) {r['outside_checks_seconds']:.2f} s warm, "
              f"{r['cold_outside_checks_seconds']:.2f} s cold")
    return 0


if __name__ == "__main__":
    sys.exit(main())
