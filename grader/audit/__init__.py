"""`grade audit`: an IPC hygiene audit of any C or Python program, or a scenario of several.

Two halves, named for where they run:

- `host/`: on the teacher's machine. scenario (parse and validate) -> sandbox (stage the
  cases, start the grading container) -> models (validate its JSON answer) -> render
  (terminal, JSON, Markdown) and sarif; corpus measures the audit on tests/audit_corpus.
- `container/`: inside the grading image, as root next to the student's processes
  (`python3 -m grader.audit.container CASE...`). run (start the scenario and observe it:
  probe windows, /proc, what is left at the end) -> observation (the data model) ->
  findings (every rule, pure, in report order: lifecycle, waits, pipe_rules, objects,
  ignored; fds gives the pipe ends held and used, from the trace model's one replay in
  grader.harness.fdreplay). It needs only the standard library and grader.harness, and is
  copied into the image with it (grader/run/image.py, docker/Dockerfile).

This file imports nothing from either half, so the container can import its own half
without the host's dependencies.
"""


def main(argv: list[str] | None = None) -> int:
    from grader.audit.host.cli import main as cli_main
    return cli_main(argv)


__all__ = ["main"]
