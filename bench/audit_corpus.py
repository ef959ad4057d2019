"""Audit the corpus several times in a row, with both cores kept busy, and compare the findings.

    python3 bench/audit_corpus.py [--runs 3] [--no-load] [NAME ...]

Prints each run's per-case table (recall, false findings) and then every case whose
findings differed between runs; exit status 1 if any did or the goal was missed. Too slow
for CI (each run audits the whole corpus); the test suite runs the corpus once.
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from grader.audit.host import corpus  # noqa: E402

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "audit_corpus"


def _burn(stop) -> None:
    while not stop.is_set():
        pass


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-load", action="store_true", help="do not start the two CPU burners")
    ap.add_argument("names", nargs="*")
    args = ap.parse_args()
    selected = args.names or corpus.names(CORPUS)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))   # run the finally below: stop the burners
    stop = multiprocessing.Event()
    burners = [] if args.no_load else [multiprocessing.Process(target=_burn, args=(stop,), daemon=True)
                                       for _ in range(os.cpu_count() or 2)]
    for b in burners:
        b.start()
    runs, bad = [], False
    try:
        for i in range(args.runs):
            t0 = time.monotonic()
            reports = corpus.run_corpus(CORPUS, selected)
            scores = corpus.score(CORPUS, reports)
            print(f"--- run {i + 1}: {time.monotonic() - t0:.0f} s")
            print(corpus.summary(scores))
            runs.append({s.name: sorted(s.got.elements()) for s in scores})
            labelled = sum(sum(s.expected.values()) for s in scores)
            bad |= (any(s.error for s in scores) or sum(s.found for s in scores) < 0.8 * labelled
                    or sum(len(s.false) for s in scores) > 1 or any(s.correct_program and s.got for s in scores))
    finally:
        stop.set()
        for b in burners:
            b.join()
    unstable = [n for n in selected if len({tuple(r[n]) for r in runs}) > 1]
    for n in unstable:
        print(f"UNSTABLE {n}: " + " | ".join(str(r[n]) for r in runs))
    print(f"{len(unstable)} case(s) changed between runs")
    return 1 if unstable or bad else 0


if __name__ == "__main__":
    sys.exit(main())
