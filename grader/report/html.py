"""HTML reports: one page per student and a class overview, each a single self-contained file.

The pages must open offline, from a zip, an LMS upload or file://, so they
carry their own CSS and reference nothing outside themselves: no fonts,
scripts, images or links beyond the sibling student pages.

Everything shown may come from a student (their name, their program's output),
so the templates are rendered with autoescaping on and nothing a student wrote
is ever marked safe. Control characters are made visible first, as in every
other format, so a page shows what the program really printed.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from jinja2 import DictLoader, Environment, StrictUndefined

from grader.atomicfile import write_atomic
from grader.models import CheckStatus, Gradebook, ScoredCheck, SubmissionResult
from grader.report._text import one_line, points, visible
from grader.report.stats import ClassStats, class_stats

# A status is always shown as a word; colour only reinforces it.
_LABEL = {CheckStatus.passed: "PASS", CheckStatus.failed: "FAIL",
          CheckStatus.skipped: "SKIP", CheckStatus.error: "ERROR"}

_BASE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{% block title %}{% endblock %}</title>
<style>
:root { --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg: #ffffff; --panel: #f6f8fa;
        --pass: #1a7f37; --pass-bg: #dafbe1; --fail: #cf222e; --fail-bg: #ffebe9;
        --skip: #7d4e00; --skip-bg: #fff8c5; --error: #8250df; --error-bg: #fbefff; --bar: #0969da; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg);
       font: 15px/1.55 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", "Liberation Sans", sans-serif; }
main { max-width: 1040px; margin: 0 auto; padding: 28px 32px 48px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 32px 0 10px; padding-bottom: 6px; border-bottom: 1px solid var(--line); }
h3 { font-size: 16px; margin: 0 0 8px; display: flex; gap: 10px; align-items: center; flex-wrap: wrap; }
a { color: var(--bar); }
.sub { color: var(--muted); margin: 0 0 18px; }
.nav { font-size: 14px; margin-bottom: 14px; }
code, pre, .id { font-family: ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", "Liberation Mono", monospace; }
.id { color: var(--muted); font-size: 12.5px; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { text-align: left; padding: 7px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--panel); font-weight: 600; white-space: nowrap; }
td.num, th.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
tbody tr:nth-child(even) { background: #fbfcfd; }
.badge { display: inline-block; min-width: 52px; text-align: center; padding: 1px 8px; border-radius: 10px;
         font-size: 12px; font-weight: 700; letter-spacing: .04em; border: 1px solid currentColor; }
.passed, .graded { color: var(--pass); background: var(--pass-bg); }
.failed { color: var(--fail); background: var(--fail-bg); }
.skipped { color: var(--skip); background: var(--skip-bg); }
.error { color: var(--error); background: var(--error-bg); }
.tag { font-size: 11.5px; color: var(--muted); border: 1px solid var(--line); border-radius: 4px;
       padding: 0 5px; margin-left: 6px; white-space: nowrap; }
.cards { display: flex; gap: 14px; flex-wrap: wrap; margin: 18px 0 6px; }
.card { flex: 1 1 130px; background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; }
.card .k { font-size: 12.5px; color: var(--muted); text-transform: uppercase; letter-spacing: .05em; }
.card .v { font-size: 24px; font-weight: 650; font-variant-numeric: tabular-nums; }
.meter { position: relative; height: 12px; min-width: 160px; background: #eaeef2; border-radius: 6px; overflow: hidden; }
.meter > span { position: absolute; inset: 0 auto 0 0; background: var(--bar); border-radius: 6px; }
.meter.low > span { background: var(--fail); }
.meter.mid > span { background: #bf8700; }
.meter.high > span { background: var(--pass); }
.detail { border: 1px solid var(--line); border-left: 4px solid var(--fail); border-radius: 6px;
          padding: 14px 16px; margin: 14px 0; }
.detail.skipped { border-left-color: #bf8700; background: none; color: inherit; }
.detail.error { border-left-color: var(--error); background: none; color: inherit; }
.detail.failed { background: none; color: inherit; }
.label { font-size: 12.5px; font-weight: 600; color: var(--muted); margin: 10px 0 3px; text-transform: uppercase;
         letter-spacing: .04em; }
pre { margin: 0; padding: 10px 12px; background: var(--panel); border: 1px solid var(--line); border-radius: 6px;
      font-size: 13px; line-height: 1.45; white-space: pre-wrap; overflow-wrap: anywhere; max-height: 28em; overflow: auto; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; }
.pair > div { min-width: 0; }
.hint { margin-top: 12px; padding: 8px 12px; background: #ddf4ff; border-radius: 6px; }
.message { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; }
.alert { padding: 12px 16px; border-radius: 6px; background: var(--fail-bg); border: 1px solid var(--fail); }
.score { font-size: 20px; font-weight: 650; }
.note { color: var(--muted); font-size: 14px; }
.hist { display: flex; align-items: flex-end; gap: 6px; height: 220px; padding: 8px 4px 0;
        border-bottom: 2px solid var(--fg); margin-top: 8px; }
.hist .col { flex: 1 1 0; display: flex; flex-direction: column; justify-content: flex-end; align-items: center;
             height: 100%; min-width: 0; }
.hist .n { font-size: 12.5px; font-weight: 600; font-variant-numeric: tabular-nums; }
.hist .b { width: 100%; max-width: 64px; background: var(--bar); border-radius: 3px 3px 0 0; }
.hist-labels { display: flex; gap: 6px; padding: 4px 4px 0; }
.hist-labels span { flex: 1 1 0; text-align: center; font-size: 12px; color: var(--muted); min-width: 0;
                    overflow-wrap: anywhere; }
.axis { text-align: center; color: var(--muted); font-size: 12.5px; margin-top: 2px; }
footer { margin-top: 40px; color: var(--muted); font-size: 12.5px; }
@media print { pre { max-height: none; } }
</style>
</head>
<body>
<main>
{% block body %}{% endblock %}
<footer>Generated by ipcgrade. This page is self-contained and works offline.</footer>
</main>
</body>
</html>
"""

_MACROS = """
{% macro badge(status) -%}
<span class="badge {{ status.value }}">{{ label[status] }}</span>
{%- endmacro %}
{% macro meter(rate) -%}
<div class="meter {{ 'high' if rate >= 0.8 else 'mid' if rate >= 0.5 else 'low' }}" role="img"
     aria-label="{{ pct(rate) }}"><span style="width: {{ '%.1f' % (rate * 100) }}%"></span></div>
{%- endmacro %}
"""

_STUDENT = """{% extends "base" %}{% import "macros" as m with context %}
{% block title %}{{ assignment | one_line }}: {{ result.student | one_line }}{% endblock %}
{% block body %}
{% if back_link %}<div class="nav"><a href="{{ back_link }}">&larr; Class overview</a></div>{% endif %}
<h1>{{ result.student | one_line }}</h1>
<p class="sub">Feedback for <strong>{{ assignment | one_line }}</strong>
{%- if result.language %} &middot; language: {{ result.language | one_line }}{% endif %}</p>
<p class="score" id="score">{{ score_label }}: {% if result.status == "error" and not of %}<span class="badge error">NOT GRADED</span>
  {%- else %}{{ got | points }} / {{ of | points }}{% endif %}</p>
{% if result.status == "error" %}
<div class="alert"><strong>Your submission could not be graded.</strong>
<pre>{{ (result.error or "unknown error") | visible }}</pre></div>
{% endif %}
{% if shown %}
<h2>Checks</h2>
<table id="checks">
<thead><tr><th>Check</th><th>Result</th><th class="num">Points</th></tr></thead>
<tbody>
{% for c in shown %}
<tr><td>{{ c.name | one_line }} <span class="id">{{ c.id | one_line }}</span>
  {%- if c.hidden %}<span class="tag">hidden</span>{% endif %}
  {%- if c.advisory %}<span class="tag">advisory, not scored</span>{% endif %}</td>
  <td>{{ m.badge(c.status) }}</td><td class="num">{{ c.score | points }} / {{ c.max_score | points }}</td></tr>
{% endfor %}
</tbody>
</table>
{% endif %}
{% if withheld %}<p class="note">{{ withheld }} hidden check{{ "s run" if withheld != 1 else " runs" }} at grading time.</p>{% endif %}
{% if details %}
<h2>What to fix</h2>
{% for c in details %}
{% set o = c.outcome %}
<section class="detail {{ c.status.value }}">
<h3>{{ m.badge(c.status) }} {{ c.name | one_line }} <span class="id">{{ c.id | one_line }}</span>
  {%- if c.hidden %}<span class="tag">hidden</span>{% endif %}</h3>
{% if c.status.value == "skipped" %}
<p class="message">Not run: {{ (o.message or "a check it depends on did not pass") | visible }}</p>
{% elif c.status.value == "error" %}
<p class="message">The grader could not finish this check: {{ (o.message or "unknown error") | visible }}</p>
{% elif o.message %}
<p class="message">{{ o.message | visible }}</p>
{% endif %}
{% if o.expected is not none or o.observed is not none %}
<div class="pair">
{% for title, text in (("Expected", o.expected), ("Observed", o.observed)) if text is not none %}
<div><div class="label">{{ title }}</div><pre>{{ text | visible if text.strip() else "(nothing)" }}</pre></div>
{% endfor %}
</div>
{% endif %}
{% for item in o.evidence %}
<div class="label">Evidence: {{ item.label | one_line }}</div>
<pre>{{ item.text | visible if item.text.strip() else "(nothing)" }}</pre>
{% endfor %}
{% if o.hint %}<div class="hint"><strong>How to fix:</strong> {{ o.hint | visible }}</div>{% endif %}
</section>
{% endfor %}
{% elif result.status == "graded" and shown %}
<p>Every check passed.</p>
{% endif %}
{% endblock %}
"""

_CLASS = """{% extends "base" %}{% import "macros" as m with context %}
{% block title %}Class report: {{ stats.assignment | one_line }}{% endblock %}
{% block body %}
<h1>Class report</h1>
<p class="sub">Assignment <strong>{{ stats.assignment | one_line }}</strong></p>
<div class="cards" id="summary">
<div class="card"><div class="k">Submissions</div><div class="v">{{ stats.total }}</div></div>
<div class="card"><div class="k">Graded</div><div class="v">{{ stats.graded }}</div></div>
<div class="card"><div class="k">Errors</div><div class="v">{{ stats.errors }}</div></div>
<div class="card"><div class="k">Mean</div><div class="v">{{ stat(stats.mean) }}</div></div>
<div class="card"><div class="k">Median</div><div class="v">{{ stat(stats.median) }}</div></div>
<div class="card"><div class="k">Max score</div><div class="v">{{ stats.max_score | points }}</div></div>
</div>

<h2>Pass rate per check</h2>
{% if stats.checks %}
<table id="check-stats">
<thead><tr><th>Check</th><th class="num">Passed</th><th class="num">Failed</th><th class="num">Error</th>
<th class="num">Skipped</th><th>Pass rate (of graded)</th><th class="num"></th></tr></thead>
<tbody>
{% for c in stats.checks %}
<tr><td>{{ c.name | one_line }} <span class="id">{{ c.id | one_line }}</span>
  {%- if c.hidden %}<span class="tag">hidden</span>{% endif %}
  {%- if c.advisory %}<span class="tag">advisory</span>{% endif %}</td>
  <td class="num">{{ c.passed }}</td><td class="num">{{ c.failed }}</td><td class="num">{{ c.errored }}</td>
  <td class="num">{{ c.skipped }}</td><td>{{ m.meter(c.pass_rate) }}</td>
  <td class="num"><strong>{{ pct(c.pass_rate) }}</strong></td></tr>
{% endfor %}
</tbody>
</table>
{% else %}<p class="note">No checks ran.</p>{% endif %}

<h2>Score distribution</h2>
{% if stats.graded %}
<figure id="histogram" style="margin: 0" aria-label="Histogram of scores of graded submissions">
<div class="hist">
{% for label, count in stats.histogram %}
<div class="col" title="{{ label }}: {{ count }}"><span class="n">{{ count }}</span>
<div class="b" style="height: {{ '%.1f' % (count / peak * 85) }}%"></div></div>
{% endfor %}
</div>
<div class="hist-labels">{% for label, count in stats.histogram %}<span>{{ label }}</span>{% endfor %}</div>
<figcaption class="axis">score (out of {{ stats.max_score | points }}) &middot; bar height = number of students</figcaption>
</figure>
{% else %}<p class="note">Nothing was graded.</p>{% endif %}

<h2>Students</h2>
<table id="students">
<thead><tr><th>Student</th><th>Status</th><th class="num">Score</th><th>Not passed</th></tr></thead>
<tbody>
{% for sub, link in rows %}
<tr><td><a href="{{ link | urlencode }}/report.html">{{ sub.student | one_line }}</a></td>
  <td><span class="badge {{ sub.status }}">{{ sub.status | upper }}</span></td>
  <td class="num">{{ "–" if sub.status == "error" and not sub.max_score
                     else (sub.score | points) ~ " / " ~ (sub.max_score | points) }}</td>
  <td>{% if sub.status == "error" %}<span class="note">{{ (sub.error or "unknown error") | one_line | truncate(120) }}</span>
  {%- else %}{% for c in sub.checks if c.status.value != "passed" %}<code class="id">{{ c.id | one_line }}</code>
  <span class="badge {{ c.status.value }}" style="min-width: 0">{{ label[c.status] }}</span>{{ ", " if not loop.last }}
  {% else %}<span class="note">all passed</span>{% endfor %}{% endif %}</td></tr>
{% endfor %}
</tbody>
</table>
{% endblock %}
"""


def _pct(rate: float) -> str:
    return f"{rate * 100:.0f}%"


def _stat(value: float | None) -> str:
    return "-" if value is None else points(round(value, 2))


def _environment() -> Environment:
    """Autoescape everything: the templates are HTML only, and student text must never be markup."""
    env = Environment(loader=DictLoader({"base": _BASE, "macros": _MACROS, "student": _STUDENT, "class": _CLASS}),
                      autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(visible=visible, one_line=one_line, points=points)
    env.globals.update(label=_LABEL, pct=_pct, stat=_stat)
    return env


_ENV = _environment()


def student_page(result: SubmissionResult, assignment: str, include_hidden: bool = True,
                 back_link: str | None = None) -> str:
    """One student's feedback as HTML: score, a table of checks, then what went wrong and how to fix it.

    include_hidden=False is the pre-release student view, as in feedback.md: hidden checks
    vanish and the score covers visible checks only, since the total would leak them.
    """
    shown: list[ScoredCheck] = [c for c in result.checks if include_hidden or not c.hidden]
    withheld = len(result.checks) - len(shown)
    if withheld:
        label, got, of = "Score on visible checks", sum(c.score for c in shown), sum(c.max_score for c in shown)
    else:
        label, got, of = "Score", result.score, result.max_score
    return _ENV.get_template("student").render(
        result=result, assignment=assignment, shown=shown, withheld=withheld, score_label=label, got=got, of=of,
        details=[c for c in shown if c.status is not CheckStatus.passed], back_link=back_link)


def class_page(book: Gradebook, stats: ClassStats, dir_names: list[str] | None = None) -> Iterator[str]:
    """The instructor's overview: summary, pass rate per check, score histogram, and every student.

    dir_names are the student folders (from safe_dir_names) the rows link to;
    computed here when not given so the page works on its own.
    """
    if dir_names is None:
        from grader.report import safe_dir_names  # deferred: grader.report imports this module
        dir_names = safe_dir_names([s.student for s in book.submissions])
    peak = max((count for _, count in stats.histogram), default=0) or 1
    # generate(), not render(): the rows stream from the gradebook instead of one page-sized string.
    return _ENV.get_template("class").generate(stats=stats, rows=zip(book.submissions, dir_names), peak=peak)


def write_html(book: Gradebook, out_dir: Path, include_hidden: bool = True) -> None:
    """Write out_dir/index.html and out_dir/<student folder>/report.html.

    Folder names come from safe_dir_names, the same ones write_outputs uses, so
    report.html sits next to that student's feedback.md and results.json.
    """
    # Imported here, not at module top, because grader.report's __init__ imports this module.
    from grader.report import _student_dir, safe_dir_names
    out_dir.mkdir(parents=True, exist_ok=True)
    root = out_dir.resolve()
    names = safe_dir_names([s.student for s in book.submissions])
    for sub, name in zip(book.submissions, names):
        page = student_page(sub, book.assignment, include_hidden, back_link="../index.html")
        write_atomic(_student_dir(root, name) / "report.html", page)
    write_atomic(root / "index.html", class_page(book, class_stats(book), names))
