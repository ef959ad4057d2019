#!/usr/bin/env python3
"""Figures for hostile submissions, measured in one run:

    python3 bench/hostile.py [--rounds 3]

Grades the hostile corpus (tests/hostile/, plus generated archives and odd file
names, plus both references) `rounds` times and reports:
  - the hostile suite's pass rate (submissions that got their expected verdict);
  - leftovers per 1,000 runs: containers, host processes of the student uids,
    host SysV IPC objects, and bytes in new /tmp entries;
  - kill latency (time-limit breach until every student process is dead), p50 and p99;
  - the internal-error rate (checks the grader could not finish, and harness crashes).
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "hostile"))

from grader.run import dockerenv, sandbox  # noqa: E402
from grader.store import ResultStore  # noqa: E402

import corpus  # noqa: E402


def tmp_entries(exclude: Path) -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).iterdir() if p != exclude}


def new_tmp_bytes(before: set[str], exclude: Path) -> int:
    """Bytes in temp-folder entries that appeared during the run (not this benchmark's own folder)."""
    total = 0
    for name in tmp_entries(exclude) - before:
        out = subprocess.run(["du", "-sb", str(Path(tempfile.gettempdir()) / name)], capture_output=True,
                             text=True).stdout.split()
        total += int(out[0]) if out else 0
    return total


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    client = dockerenv.client()
    runs = passed = internal_checks = checks = crashed = 0
    leftovers = {"containers": 0, "processes": 0, "ipc_objects": 0, "tmp_bytes": 0}
    kills: list[float] = []
    misses: list[str] = []          # every case that did not get its expected verdict, and why
    for _ in range(args.rounds):
        with tempfile.TemporaryDirectory(prefix="ipcgrade-hostile-") as tmp:
            subs = Path(tmp) / "submissions"
            subs.mkdir()
            expected = corpus.build_batch(subs)
            before, before_tmp = corpus.host_state(), tmp_entries(Path(tmp))
            out = Path(tmp) / "out"
            rc = subprocess.run([sys.executable, "-m", "grader.cli", str(subs), "-a", "shm-handshake",
                                 "-o", str(out), "--force"], capture_output=True).returncode
            after = corpus.host_state()
            leftovers["containers"] += len(sandbox.leftover_containers(client))
            leftovers["processes"] += len(after["student_processes"])
            leftovers["ipc_objects"] += len(set(after["sysv"]) - set(before["sysv"]))
            leftovers["tmp_bytes"] += new_tmp_bytes(before_tmp, Path(tmp))
            book = {s["student"]: s for s in json.loads((out / "grades.json").read_text())["submissions"]}
            for student, want in expected.items():
                runs += 1
                problems = corpus.problems(want, book[student])
                passed += not problems
                misses += [f"{student}: {problem}" for problem in problems]
                checks += len(book[student]["checks"])
                internal_checks += sum(c["status"] == "error" for c in book[student]["checks"])
                crashed += "internal" in (book[student].get("error") or "")
            for stored in ResultStore(out).all():
                kills += stored.report.stats.get("kill_latencies", [])
            crashed += rc != 0
            shutil.rmtree(out, ignore_errors=True)
    per_1000 = {k: round(v * 1000 / runs, 2) for k, v in leftovers.items()}
    figures = {
        "rounds": args.rounds, "submission_runs": runs,
        "pass_rate": round(passed / runs, 4),
        "misses": misses,
        "leftovers_per_1000_runs": per_1000,
        "kill_latency_seconds": {"n": len(kills), "p50": round(percentile(kills, 50), 3),
                                 "p99": round(percentile(kills, 99), 3),
                                 "mean": round(statistics.mean(kills), 3) if kills else 0.0},
        "internal_error_rate": {"checks": round(internal_checks / max(checks, 1), 4),
                                "submissions": round(crashed / runs, 4)},
    }
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
