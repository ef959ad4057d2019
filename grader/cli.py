"""The `grade` command.

    grade SUBMISSIONS_DIR -a ASSIGNMENT [-o OUT] [-j JOBS]   grade a class
    grade selftest ASSIGNMENT... | --all                       references pass, mutants fail as named
    grade image build [--force]                               build the grading image now
    grade clean                                               remove leftover grading containers
    grade validate                                            check every assignment and rubric
    grade mutant convert MUTANT_FOLDER... | unpack NAME.patch  mutants as patches against the reference

Bad input gets one clear line on stderr and a non-zero exit, never a traceback.
"""
from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import threading
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from grader import assignments, selftest
from grader.assignments import AssignmentError
from grader.course import add_course_option, locations
from grader.detect import DetectionError
from grader.discover.archive import ArchiveError
from grader.discover.staging import SubmissionTooLarge
from grader.discover.submissions import DiscoveryError, discover
from grader.kit import KitError
from grader.locations import Locations
from grader.models import Gradebook
from grader.report import FORMATS, write_outputs
from grader.report.stats import class_stats, histogram_text, stats_table
from grader.report.terminal import summary_tables
from grader.run import dockerenv, image, sandbox
from grader.run.dockerenv import DockerUnavailable
from grader.run.image import ImageError
from grader.run.localrun import LocalRunnerUnavailable
from grader.scaffold import ScaffoldError
from grader.score import regrade
from grader.score.rubric import cross_check
from grader.selfcheck import CheckUsageError
from grader.yamlfile import ConfigError

EXPECTED_ERRORS = (AssignmentError, ConfigError, DiscoveryError, DockerUnavailable, ImageError, ArchiveError,
                   CheckUsageError, LocalRunnerUnavailable, KitError,
                   regrade.NoGradebook, SubmissionTooLarge, ScaffoldError, DetectionError)

# soft_wrap: messages naming a file and line must survive copy and paste unbroken.
err = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)


def fail(message: str, code: int = 2) -> int:
    err.print(f"[bold red]grade:[/bold red] {message}", highlight=False)
    return code


# ------------------------------------------------------------------ grade a class
def cmd_grade(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="grade", description="Grade a folder of submissions "
                                                          "(one sub-folder or archive per student).")
    ap.add_argument("submissions", type=Path)
    ap.add_argument("-a", "--assignment", help="default: named by a .grade.yaml or course.yaml here or above, "
                                               "else recognised from the submissions' program names")
    ap.add_argument("-o", "--out", type=Path, help="output folder (default: SUBMISSIONS-results, next to it)")
    ap.add_argument("-j", "--jobs", type=int, default=None, help="submissions graded in parallel (default: cores)")
    ap.add_argument("--format", choices=sorted(FORMATS), help="also print the gradebook in this format on stdout")
    ap.add_argument("--force", action="store_true", help="regrade every submission, ignoring stored results")
    ap.add_argument("--shard", help="grade only slice I of N (I/N), for spreading a class over CI runners")
    add_limit_options(ap)
    add_course_option(ap)
    args = ap.parse_args(argv)
    args.out = args.out or default_out(args.submissions)
    where = locations(args.course, start=args.submissions)   # a course.yaml beside or above the submissions
    assignment = assignments.load(args.assignment, where) if args.assignment else None
    try:
        shard = regrade.parse_shard(args.shard) if args.shard else None
    except ValueError as e:
        return fail(str(e))
    previous = _previous(args.out)
    with tempfile.TemporaryDirectory(prefix="ipcgrade-staging-") as staging:
        subs = discover(args.submissions, Path(staging))
        if assignment is None:
            assignment = assignments.load(detected_assignment(args.submissions, subs, where), where)
        if shard:
            subs = [s for s in subs if regrade.in_shard(s.student, *shard)]
        from grader.batch import grade_batch
        from grader.store import ResultStore
        run = grade_batch(assignment, subs, jobs=args.jobs, console=err, store=ResultStore(args.out), force=args.force,
                          runner=sandbox.DockerRunner(limits_from(args), where=assignment.where))
    return report_batch(run, args.out, previous, args.format)


def default_out(submissions: Path) -> Path:
    """`grade submit/` writes to submit-results/ beside it, wherever the command is typed."""
    folder = submissions.resolve()
    return folder.parent / f"{folder.name}-results"


def detected_assignment(root: Path, subs, where: Locations) -> str:
    """The assignment a bare `grade submit/` grades; says which and why on the terminal."""
    from grader import detect
    programs = {}
    for name in assignments.available(where):
        try:
            programs[name] = assignments.load(name, where).meta.programs
        except (AssignmentError, ConfigError):
            pass   # `grade validate` reports a broken assignment; here it just cannot be the one
    choice = detect.choose(root, [s.path for s in subs if not s.problem], programs)
    err.print(choice.announce(), highlight=False)
    return choice.name


def report_batch(run, out_dir: Path, previous: Gradebook | None, fmt: str | None = None,
                 console: Console = out) -> int:
    """The end of `grade`: write every output, then say how the class did and what changed since last time."""
    book = run.book
    _write(book, out_dir)
    if fmt:
        sys.stdout.writelines(FORMATS[fmt](book))
        return 1 if run.runner_down else 0
    for table in summary_tables(book):
        console.print(table)
    stats = class_stats(book)
    console.print(stats_table(stats))
    console.print(Text(histogram_text(stats)))
    console.print(f"{stats.graded} of {stats.total} submissions graded ({run.ran} run, {run.reused} unchanged "
                  f"and reused); gradebook in {out_dir}/ "
                  "(grades.csv, grades.json, index.html; per student feedback.md, report.html, results.json)",
                  highlight=False)
    if previous is not None:
        console.print(regrade.render(regrade.diff(previous, book)), highlight=False)
    return 1 if run.runner_down else 0


def add_limit_options(ap: argparse.ArgumentParser) -> None:
    d = sandbox.Limits()
    g = ap.add_argument_group("sandbox limits (per submission)")
    g.add_argument("--memory", default=d.memory, help=f"memory limit, swap included (default {d.memory})")
    g.add_argument("--pids", type=int, default=d.pids, help=f"processes and threads (default {d.pids})")
    g.add_argument("--cpus", type=float, default=d.cpus, help=f"CPUs (default {d.cpus:g})")
    g.add_argument("--timeout", type=int, default=d.wall_seconds,
                   help=f"seconds for the whole harness run (default {d.wall_seconds})")
    g.add_argument("--runtime", default=None, help="container runtime, e.g. runsc for gVisor (default: Docker's)")


def limits_from(args) -> sandbox.Limits:
    return sandbox.Limits(wall_seconds=args.timeout, memory=args.memory, pids=args.pids, cpus=args.cpus,
                          runtime=args.runtime)


def _previous(out_dir: Path):
    try:
        return regrade.load_full(out_dir)
    except (regrade.NoGradebook, ValueError):
        return None


def _write(book: Gradebook, out_dir: Path) -> None:
    write_outputs(book, out_dir)
    regrade.save_full(book, out_dir)


def cmd_diff(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="grade diff", description="What changed between two result folders, and why.")
    ap.add_argument("old", type=Path)
    ap.add_argument("new", type=Path)
    args = ap.parse_args(argv)
    out.print(regrade.render(regrade.diff(regrade.load_full(args.old), regrade.load_full(args.new))), highlight=False)
    return 0


def cmd_merge(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="grade merge", description="Combine the results of shards into one gradebook.")
    ap.add_argument("parts", type=Path, nargs="+")
    ap.add_argument("-o", "--out", type=Path, required=True)
    args = ap.parse_args(argv)
    book = regrade.merge([regrade.load_full(p) for p in args.parts])
    _write(book, args.out)
    for table in summary_tables(book):
        out.print(table)
    out.print(f"merged {len(args.parts)} result folder(s), {len(book.submissions)} submissions, into {args.out}/")
    return 0


def _grade(assignment, subs, jobs) -> Gradebook:
    from grader.batch import grade_all
    return grade_all(assignment, subs, jobs=jobs, console=err)


# ------------------------------------------------------------------ selftest
def cmd_selftest(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="grade selftest", description="Grade the references and mutants of assignments.")
    ap.add_argument("names", nargs="*")
    ap.add_argument("--all", action="store_true")
    ap.add_argument("-j", "--jobs", type=int, default=None)
    add_course_option(ap)
    args = ap.parse_args(argv)
    where = locations(args.course)
    names = assignments.available(where) if args.all else args.names
    if not names:
        return fail("name an assignment, or use --all")
    bad = 0
    for name in names:
        a = assignments.load(name, where)
        case_list = selftest.cases(a)
        book = _grade(a, selftest.submissions(case_list), args.jobs)
        table = Table(title=f"selftest {name}")
        table.add_column("case", no_wrap=True)
        for col in ("score", "failed checks", "verdict"):
            table.add_column(col)
        for case, result, problem in selftest.evaluate(case_list, book):
            failed = ", ".join(c.id for c in result.checks if c.status.value == "failed") if result else ""
            score = f"{result.score:g}/{result.max_score:g}" if result else "not graded"
            table.add_row(case.name, score, failed or "-",
                          "[green]ok[/green]" if problem is None else Text(problem, style="red"))
            bad += problem is not None
        out.print(table)
    if bad:
        return fail(f"{bad} selftest case(s) did not behave as their manifests say", 1)
    out.print("selftest passed: every reference scores full marks and every mutant fails exactly its named checks")
    return 0


# ------------------------------------------------------------------ maintenance
def cmd_image(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="grade image")
    ap.add_argument("action", choices=["build", "tag"])
    ap.add_argument("--force", action="store_true")
    add_course_option(ap)
    args = ap.parse_args(argv)
    where = locations(args.course)
    if args.action == "tag":
        out.print(image.image_tag(where))
        return 0
    tag = image.ensure_image(dockerenv.client(), where, force=args.force)
    out.print(f"grading image ready: {tag}")
    return 0


def cmd_clean(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="grade clean", description="Remove leftover ipcgrade containers and grading "
                                 "images built from older versions of the harness.")
    add_course_option(ap)
    args = ap.parse_args(argv)
    client = dockerenv.client()
    n = sandbox.clean(client)
    m = image.remove_stale_images(client, locations(args.course))
    out.print(f"removed {n} leftover container(s) and {m} outdated grading image(s)")
    return 0


def cmd_validate(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="grade validate",
                                 description="Check assignments, rubrics and mutant manifests (with line numbers).")
    ap.add_argument("names", nargs="*")
    add_course_option(ap)
    args = ap.parse_args(argv)
    where = locations(args.course)
    names = args.names or assignments.available(where)
    problems = []
    for name in names:
        problems += validate_assignment(name, where)
    for p in problems:
        err.print(p, highlight=False)
    if problems:
        return fail(f"{len(problems)} problem(s) found", 1)
    homes = " and ".join(str(h.assignments) for h in where.homes)
    out.print(f"all assignments, rubrics and mutant manifests are valid ({len(names)} checked, from {homes})",
              highlight=False)
    return 0


def validate_assignment(name: str, where: Locations | None = None) -> list[str]:
    """Every problem with one assignment, as lines naming the file (and line) to fix."""
    from grader.harness.runner import load_checks
    try:
        a = assignments.load(name, where)
        ids = ["build"] + [c.id for c in load_checks(str(a.dir), include_hidden=True)]
        problems = [f"{a.rubric_path}: {p}" for p in cross_check(a.rubric, ids)]
        for case in selftest.cases(a):
            unknown = sorted((case.expected_failures or set()) - set(ids))
            if unknown:
                problems.append(f"{case.manifest}: names checks that do not exist: {', '.join(unknown)}")
            if case.problem:
                problems.append(case.problem)
        for lang in ("c", "python"):
            if not (a.reference_dir / lang).is_dir():
                problems.append(f"{a.reference_dir / lang}: missing reference solution")
        return problems
    except EXPECTED_ERRORS + (ValueError, SyntaxError, ImportError) as e:
        return [str(e)]


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    from grader import audit, kit, mutants, scaffold, selfcheck
    from grader.platforms import export as platforms_export
    handlers = {"selftest": cmd_selftest, "image": cmd_image, "clean": cmd_clean, "validate": cmd_validate,
                "check": selfcheck.main, "kit": kit.main, "diff": cmd_diff, "merge": cmd_merge,
                "new": scaffold.main, "audit": audit.main, "mutant": mutants.main, "export": platforms_export.main}
    terminated = []
    previous = _stop_on_sigterm(terminated)
    try:
        if argv and argv[0] in handlers:
            return handlers[argv[0]](argv[1:])
        return cmd_grade(argv)
    except EXPECTED_ERRORS as e:
        return fail(str(e))
    except KeyboardInterrupt:
        err.print(f"{'terminated' if terminated else 'interrupted'}; running grading containers were removed")
        return 143 if terminated else 130
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _stop_on_sigterm(terminated: list) -> object:
    """SIGTERM stops `grade` as Ctrl-C does (finished results kept, every grading container removed):
    a cancelled CI job or a `kill` gets it, and by default it would end the process at once, leaving
    the containers it started to run out their own limits. The previous handler, to put back (None
    off the main thread, where no handler can be set)."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def stop(signum, frame):
        terminated.append(signum)
        raise KeyboardInterrupt
    return signal.signal(signal.SIGTERM, stop)


if __name__ == "__main__":
    sys.exit(main())
