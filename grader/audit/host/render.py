"""The audit report as text: terminal (rich), JSON and Markdown, each a pure function of the report.

Everything shown may come from the audited program (its output, its trace), so
the same defences as grader.report apply: rich Text cells (never markup
strings), control characters made visible, fences that cannot be closed early.
"""
from __future__ import annotations

import json
import textwrap

from rich.console import Console
from rich.table import Table
from rich.text import Text

from grader.audit.host.models import AuditReport, Finding
from grader.report._text import fence, md_inline, one_line, visible

_INDENT = "    "


def _count(n: int) -> str:
    return f"{n} finding" + ("" if n == 1 else "s")


def summary_line(report: AuditReport) -> str:
    if report.error:
        return f"the audit could not run: {one_line(report.error)}"
    if not report.findings:
        return ("no findings: no crash, hang, leak, stray pipe end or socket file, busy wait, zombie or ignored "
                "IPC error was observed")
    kinds: dict[str, int] = {}
    for f in report.findings:
        kinds[f.kind] = kinds.get(f.kind, 0) + 1
    listed = ", ".join(f"{k}" + (f" x{n}" if n > 1 else "") for k, n in kinds.items())
    return f"{_count(len(report.findings))}: {listed}"


def ordered(findings: list[Finding]) -> list[Finding]:
    """Certain findings first (kernel state or the trace proves them), then the likely ones; stable otherwise."""
    return sorted(findings, key=lambda f: f.certainty != "certain")


def finding_text(f: Finding) -> str:
    """Plain text of one finding: the message, its evidence and the fix, as in feedback.md."""
    lines = [visible(f.message)]
    for ev in f.evidence:
        lines.append(f"Evidence ({visible(ev.label)}):")
        lines.append(textwrap.indent(visible(ev.text).rstrip("\n") or "(nothing)", _INDENT))
    if f.hint:
        lines.append(f"How to fix: {visible(f.hint)}")
    return "\n".join(lines)


# ------------------------------------------------------------------ terminal

def render_terminal(report: AuditReport, console: Console) -> None:
    console.print(Text(f"grade audit: {one_line(report.name)}", style="bold"))
    if report.processes:
        table = Table(show_edge=False, pad_edge=False)
        for col in ("process", "command", "pid", "how it ended"):
            table.add_column(col)
        for p in report.processes:
            table.add_row(Text(one_line(p.name)), Text(one_line(" ".join(p.argv))), Text(str(p.pid or "-")),
                          Text(one_line(p.exit)))
        console.print(table)
    if report.end_reason:
        console.print(Text(f"Run: {one_line(report.end_reason)}", style="dim"), soft_wrap=True)
    for note in report.notes:
        console.print(Text(f"Note: {one_line(note)}", style="dim"), soft_wrap=True)
    for step in report.build:
        if not step.ok:
            console.print(Text(f"BUILD FAILED {one_line(step.source)}", style="bold red"))
            console.print(Text(textwrap.indent(visible(step.log), _INDENT)), soft_wrap=True)
        for w in step.warnings:
            console.print(Text(f"Build warning: {one_line(w)}", style="yellow"), soft_wrap=True)
    for f in ordered(report.findings):
        head = Text("FINDING ", style="bold red")
        head.append(f"[{f.kind}] ", style="red")
        head.append(f"({f.certainty}) ", style="bold" if f.certainty == "certain" else "dim")
        head.append(one_line(f.title), style="bold")
        console.print(head, soft_wrap=True)
        console.print(Text(textwrap.indent(finding_text(f), "      ")), soft_wrap=True)
    style = "red" if report.findings or report.error else "green"
    console.print(Text(summary_line(report), style=f"bold {style}"), soft_wrap=True)


# ------------------------------------------------------------------ JSON

def render_json(report: AuditReport) -> str:
    doc = report.model_dump()
    doc["clean"] = not report.findings and not report.error
    doc["summary"] = summary_line(report)
    return json.dumps(doc, indent=2) + "\n"


# ------------------------------------------------------------------ Markdown

def render_markdown(report: AuditReport) -> str:
    lines = [f"## grade audit: {md_inline(report.name)}", "", f"**{md_inline(summary_line(report))}**", ""]
    if report.processes:
        lines += ["| Process | Command | How it ended |", "| --- | --- | --- |"]
        lines += [f"| {md_inline(p.name)} | {md_inline(' '.join(p.argv))} | {md_inline(p.exit)} |"
                  for p in report.processes]
        lines.append("")
    if report.end_reason:
        lines += [f"Run: {md_inline(report.end_reason)}", ""]
    for note in report.notes:
        lines += [f"- Note: {md_inline(note)}"]
    if report.notes:
        lines.append("")
    for step in report.build:
        if not step.ok:
            lines += [f"**Build failed: {md_inline(step.source)}**", "", fence(visible(step.log)), ""]
    if report.findings:
        lines += ["| Kind | Certainty | Process | Finding |", "| --- | --- | --- | --- |"]
        lines += [f"| {md_inline(f.kind)} | {f.certainty} | {md_inline(f.process)} | {md_inline(f.title)} |"
                  for f in ordered(report.findings)]
        lines.append("")
        for f in ordered(report.findings):
            lines += [f"### {md_inline(f.kind)}: {md_inline(f.title)}", "", fence(finding_text(f)), ""]
    return "\n".join(lines).rstrip("\n") + "\n"


FORMATS = ("terminal", "json", "markdown", "sarif")
