"""`backbone debug --format markdown`: a root-cause analysis document to paste in a ticket or postmortem."""

from __future__ import annotations

import html
import re

from backbone.logs.model import DebugReport, SpikeMetric
from backbone.logs.render_text import status_classes
from backbone.logs.wording import ms, percent, when

TOP_ROUTES = 20
TOP_ERRORS = 15
TOP_QUERIES = 15


# Characters with a meaning in Markdown prose wherever they stand (emphasis, links, code,
# strikethrough, tables, heading ends): escaped with a backslash.
_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_\[\]|~#])")


def _one_line(text: str) -> str:
    return " ".join(text.splitlines())


def _md(text: str) -> str:
    """Text from the logs, safe in Markdown prose and table cells: one line, HTML escaped
    (no tag, entity or autolink survives) and Markdown punctuation backslash-escaped."""
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", html.escape(_one_line(text), quote=False))


def _code(text: str) -> str:
    """A code span holding `text` as it is: fenced with more backticks than any run inside it."""
    body = _one_line(text)
    fence = "`" * (max((len(run) for run in re.findall(r"`+", body)), default=0) + 1)
    pad = " " if body[:1] in ("`", " ") or body[-1:] in ("`", " ") or not body else ""
    return f"{fence}{pad}{body}{pad}{fence}"


def _cell_code(text: str) -> str:
    """A code span in a table cell: GFM splits cells at a pipe even inside code, unless escaped."""
    return _code(text).replace("|", "\\|")


def render_markdown(report: DebugReport) -> str:
    out: list[str] = ["# Root-cause analysis", ""]
    files = [item for item in report.inputs if not item.skipped]
    out += [
        "## Summary",
        "",
        f"- Period: {when(report.first_seen)} to {when(report.last_seen)} (UTC where the logs gave a zone)",
        f"- Lines: {report.lines.total:,} read, {report.lines.parsed:,} parsed, {report.lines.malformed:,} malformed, "
        f"from {len(files)} file{'s' if len(files) != 1 else ''}",
        f"- Requests: {report.requests:,}",
    ]
    if report.statuses:
        total = sum(count for _, count in report.statuses) or 1
        out.append("- Statuses: " + ", ".join(f"{name} {count:,} ({percent(count / total)})"
                                              for name, count in status_classes(report.statuses)))
    out += [f"- Probable causes: {len(report.causes)}", ""]
    if report.warnings:
        out += ["## Warnings", ""]
        out += [f"- {_md(warning)}" for warning in report.warnings]
        out.append("")

    out += ["## Probable causes", ""]
    if not report.causes:
        out += ["No probable cause is stated: the logs hold no evidence that names one.", ""]
    for number, cause in enumerate(report.causes, start=1):
        out += [f"### {number}. {_md(cause.summary)}", "", f"Rule: {cause.kind.code} ({cause.kind.slug}), "
                f"look first at {_code(str(cause.location))}.", "", "Evidence:", ""]
        out += [f"- {_md(item)}" for item in cause.evidence]
        out += ["", f"**Fix:** {_md(cause.fix)}", ""]
    if report.unexplained:
        out += ["### Symptoms without an evidenced cause", ""]
        out += [f"- {_md(symptom)}" for symptom in report.unexplained]
        out.append("")

    if report.trace_findings:
        out += ["## In the traces", "", "What `backbone profile`'s detectors found in the OpenTelemetry traces:", ""]
        for finding in report.trace_findings:
            out.append(f"- {finding.code} ({finding.name}) at {_code(f'{finding.path}:{finding.line}')}: "
                       f"{_md(finding.message)}" + (f" **Fix:** {_md(finding.fix.message)}" if finding.fix else ""))
        out.append("")

    out += ["## Timeline", ""]
    if report.spikes:
        out += ["| start | end | metric | peak | usual | driven by |", "|---|---|---|---|---|---|"]
        for spike in report.spikes:
            show = ms if spike.metric is SpikeMetric.LATENCY else percent
            out.append(f"| {when(spike.start)} | {when(spike.end)} | {spike.metric.value} | {show(spike.peak)} | "
                       f"{show(spike.baseline)} | {_md(', '.join(spike.routes) or '-')} |")
    else:
        out.append(f"No latency or error-rate spike in {len(report.buckets)} buckets of {report.bucket_seconds} s.")
    out.append("")

    if report.errors:
        out += ["## Errors", "", "| count | exception | culprit | first seen | last seen |", "|---:|---|---|---|---|"]
        for group in report.errors[:TOP_ERRORS]:
            culprit = (_cell_code(f"{group.culprit.path}:{group.culprit.line}")
                       + f" in {_cell_code(group.culprit.function)}"
                       if group.culprit else "(no application frame)")
            message = group.message.splitlines()[0][:100] if group.message else ""
            out.append(f"| {group.count:,} | {_md(group.exception)}{': ' + _md(message) if message else ''} | "
                       f"{culprit} | {when(group.first_seen)} | {when(group.last_seen)} |")
        out.append("")

    if report.routes:
        out += ["## Slowest routes", "", "| route | count | 4xx | 5xx | p50 | p95 | p99 | max |",
                "|---|---:|---:|---:|---:|---:|---:|---:|"]
        routes = sorted(report.routes, key=lambda route: (route.p95_ms is None, -(route.p95_ms or 0), -route.count))
        for route in routes[:TOP_ROUTES]:
            out.append(f"| {_cell_code(route.label)} | {route.count:,} | {percent(route.client_error_rate)} | "
                       f"{percent(route.error_rate)} | {ms(route.p50_ms)} | {ms(route.p95_ms)} | {ms(route.p99_ms)} | "
                       f"{ms(route.max_ms)} |")
        out.append("")

    if report.slow_queries:
        out += ["## Slow queries", "", "| fingerprint | count | total | mean | max | statement |",
                "|---|---:|---:|---:|---:|---|"]
        for query in report.slow_queries[:TOP_QUERIES]:
            out.append(f"| {_md(query.fingerprint)} | {query.count:,} | {ms(query.total_ms)} | {ms(query.mean_ms)} | "
                       f"{ms(query.max_ms)} | {_cell_code(query.statement[:200])} |")
        out.append("")

    out += ["## Inputs", "", "| file | format | lines | parsed | malformed | time zone | problem |",
            "|---|---|---:|---:|---:|---|---|"]
    for item in report.inputs:
        out.append(f"| {_cell_code(item.path)} | {item.format.value if item.format else '-'} | {item.total:,} | "
                   f"{item.parsed:,} | {item.malformed:,} | {_md(item.zone or '-')} | {_md(item.problem or '')} |")
    out.append("")
    if report.malformed_samples:
        out += ["Malformed line samples:", ""]
        out += [f"- {_code(f'{s.path}:{s.line}')} ({_md(s.reason)}): {_code(s.text[:120])}"
                for s in report.malformed_samples]
        out.append("")
    out += [f"- {_md(note)}" for note in report.notes]
    return "\n".join(out).rstrip() + "\n"
