"""`grade audit`: parse the command line, audit in the sandbox, print the report.

    grade audit [--format terminal|json|markdown|sarif] [--time-limit S] [--stdin TEXT] [--file F]...
                [--] PROGRAM.c|PROGRAM.py [ARG...]
    grade audit [--format F] --scenario FILE.yaml

Exit status: 0 when the audit found nothing, 1 when it found something, 2 for
bad input (a missing file, an invalid scenario, a source that does not build)
or when the audit could not run, with one line on stderr saying why.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from grader.audit.host import render, sarif
from grader.audit.host.sandbox import AuditError, run_cases
from grader.audit.host.scenario import DEFAULT_TIME_LIMIT, command_case, load_scenario
from grader.report._text import one_line
from grader.run.dockerenv import DockerUnavailable
from grader.run.image import ImageError
from grader.yamlfile import ConfigError

_VALUED = {"--format", "--time-limit", "--scenario", "--stdin", "--file"}


class _Usage(Exception):
    pass


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="grade audit", exit_on_error=False,
        usage="grade audit [--format F] [--time-limit S] [--stdin TEXT] [--file F]... [--] PROGRAM [ARG...]\n"
              "       grade audit [--format F] --scenario FILE.yaml",
        description="Run a C or Python program (or a scenario of several) in the grading sandbox and report "
                    "IPC hygiene problems: leaked SysV/POSIX objects, missing shmdt, unused pipe ends and pipe "
                    "hangs, busy waiting, zombies, SIGTERM leaks and ignored IPC errors. No assignment needed.")
    ap.add_argument("--format", choices=render.FORMATS, default="terminal")
    ap.add_argument("--time-limit", type=float, default=DEFAULT_TIME_LIMIT,
                    help=f"seconds the program may run (default {DEFAULT_TIME_LIMIT:g}); a scenario sets its own")
    ap.add_argument("--stdin", default=None, help="text to feed the program on stdin (default: none, stdin at EOF)")
    ap.add_argument("--file", action="append", default=[], metavar="FILE",
                    help="another file the program needs (a module it imports, an input file); repeatable")
    ap.add_argument("--scenario", type=Path, help="a YAML scenario of several cooperating processes")
    return ap


def split_argv(argv: list[str]) -> tuple[list[str], list[str]]:
    """Options before the command; everything from the first non-option (or after `--`) is the command."""
    opts, i = [], 0
    while i < len(argv):
        a = argv[i]
        if a == "--":
            return opts, argv[i + 1:]
        if a in _VALUED:
            opts += argv[i:i + 2]
            i += 2
            continue
        if a.startswith("-") and a != "-":
            opts.append(a)
            i += 1
            continue
        return opts, argv[i:]
    return opts, []


def _err(console: Console, message: str) -> int:
    console.print(f"[bold red]grade audit:[/bold red] {escape(one_line(message))}", highlight=False, soft_wrap=True)
    return 2


def sources_of(case) -> dict[str, Path]:
    """Process name -> the local source file it was built from (for SARIF locations)."""
    return {p["name"]: case.files[p["source"]] for p in case.spec["processes"] if p["source"] in case.files}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    err, out = Console(stderr=True), Console()
    opts, command = split_argv(argv)
    ap = _parser()
    try:
        args = ap.parse_args(opts)
    except argparse.ArgumentError as e:
        return _err(err, str(e))
    except SystemExit as e:           # --help, or argparse's own usage errors
        return 0 if e.code == 0 else 2
    try:
        if args.scenario and command:
            return _err(err, "give either --scenario FILE or a program, not both")
        if args.scenario:
            case = load_scenario(args.scenario)
        elif command:
            case = command_case(command[0], command[1:], args.time_limit, args.stdin, args.file)
        else:
            return _err(err, "nothing to audit: name a .c or .py program, or --scenario FILE.yaml (see --help)")
        report = run_cases([case])[0]
    except ConfigError as e:
        for problem in e.problems[1:]:
            err.print(problem, highlight=False, markup=False, soft_wrap=True)
        return _err(err, e.problems[0] if e.problems else str(e))
    except (AuditError, DockerUnavailable, ImageError) as e:
        return _err(err, str(e))
    except KeyboardInterrupt:
        err.print("interrupted; the audit container was removed")
        return 130
    if args.format == "json":
        sys.stdout.write(render.render_json(report))
    elif args.format == "markdown":
        sys.stdout.write(render.render_markdown(report))
    elif args.format == "sarif":
        sys.stdout.write(sarif.render_sarif(report, sources_of(case)))
    else:
        render.render_terminal(report, out)
    if report.error:
        return _err(err, report.error)
    return 1 if report.findings else 0
