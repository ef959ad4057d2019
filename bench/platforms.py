#!/usr/bin/env python3
"""Every assignment's references and mutants graded as Gradescope (and PrairieLearn) would, compared
with the Docker batch run: each check's status and score must be equal, or the platform must name
the difference as a degradation.

    python3 bench/platforms.py [NAME...] [--prairielearn] [-j 2]

Uses the local simulation of each platform's contract (grader/platforms/simulate.py): default
capabilities and seccomp, no network, debian:bookworm-slim standing in for Ubuntu 22.04.
Exits 1 if any verdict differs.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from grader import assignments, selftest
from grader.batch import grade_all
from grader.platforms import gradescope, prairielearn, simulate


def compare(name: str, jobs: int, with_pl: bool) -> int:
    a = assignments.load(name)
    cases = selftest.cases(a)
    t0 = time.monotonic()
    book = grade_all(a, selftest.submissions(cases), jobs=jobs)
    docker_s = time.monotonic() - t0
    by_case = {r.student: r for r in book.submissions}
    bad = 0
    with tempfile.TemporaryDirectory(prefix="ipcgrade-bench-") as tmp:
        platforms = [("gradescope", simulate.gradescope_image(gradescope.export(name, Path(tmp) / "a.zip")), None)]
        if with_pl:
            out = prairielearn.export(name, Path(tmp) / "pl")
            platforms.append(("prairielearn", simulate.prairielearn_image(out), out))
        for platform, image, export_dir in platforms:
            def one(case, image=image, export_dir=export_dir):
                if export_dir is None:
                    return simulate.run_gradescope(image, case.path)
                return simulate.run_prairielearn(image, export_dir, case.path)
            t0 = time.monotonic()
            with ThreadPoolExecutor(jobs) as pool:
                docs = list(pool.map(one, cases))
            seconds = time.monotonic() - t0
            degraded = differing = 0
            for case, doc in zip(cases, docs):
                # PrairieLearn's results leave hidden checks out (see prairielearn.results_doc).
                diff = simulate.differences(by_case[case.name], doc, visible_only=platform == "prairielearn")
                degraded += sum(s == "error" for s, _ in simulate.statuses(doc).values())
                if diff:
                    differing += 1
                    # Which side is off: the Docker run against the mutant's manifest (a busy machine
                    # can flip a verdict there too).
                    off = selftest.verdict(case, by_case[case.name])
                    note = f" [docker run off its manifest: {off}]" if off else ""
                    print(f"  {name} {platform} {case.name}: " + "; ".join(diff) + note)
            bad += differing
            print(f"{name} {platform}: {len(cases)} cases, {differing} differing, {degraded} degraded check(s); "
                  f"platform {seconds:.0f} s, docker batch {docker_s:.0f} s", flush=True)
    return bad


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("names", nargs="*")
    ap.add_argument("--prairielearn", action="store_true", help="also PrairieLearn")
    ap.add_argument("-j", "--jobs", type=int, default=2)
    args = ap.parse_args()
    bad = sum(compare(n, args.jobs, args.prairielearn) for n in args.names or assignments.available())
    print("all verdicts equal the Docker batch run" if not bad else f"{bad} case(s) differ")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
