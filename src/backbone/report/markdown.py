"""The Markdown report of every command: a document to paste in a ticket, a pull request or
a postmortem (`backbone debug --format markdown` is a root-cause analysis).

Every string that came from outside (code, logs, a profiled app, a contract) is escaped:
HTML-escaped so that no tag, entity or autolink survives, Markdown punctuation
backslash-escaped, code spans fenced with more backticks than they hold, and pipes escaped
in table cells so that no cell is split.
"""

from __future__ import annotations

import html
import re

from backbone.findings import Finding
from backbone.report.model import Block, Items, Report, Section, Table

# Characters with a meaning in Markdown prose wherever they stand (emphasis, links, code,
# strikethrough, tables, heading ends): escaped with a backslash.
_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_\[\]|~#])")


def _one_line(text: str) -> str:
    return " ".join(text.splitlines())


def md(text: str) -> str:
    """Text from outside, safe in Markdown prose and table cells: one line, HTML escaped and
    Markdown punctuation backslash-escaped."""
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", html.escape(_one_line(text), quote=False))


def code(text: str) -> str:
    """A code span holding `text` as it is: fenced with more backticks than any run inside it."""
    body = _one_line(text)
    fence = "`" * (max((len(run) for run in re.findall(r"`+", body)), default=0) + 1)
    pad = " " if body[:1] in ("`", " ") or body[-1:] in ("`", " ") or not body else ""
    return f"{fence}{pad}{body}{pad}{fence}"


def cell_code(text: str) -> str:
    """A code span in a table cell: GFM splits cells at a pipe even inside code, unless escaped."""
    return code(text).replace("|", "\\|")


def _finding(number: int, finding: Finding) -> list[str]:
    out = [f"### {number}. {md(finding.message)}", "",
           f"Rule: {finding.code} ({md(finding.name)}), {finding.severity.value}, look first at "
           f"{code(f'{finding.path}:{finding.line}')}.", ""]
    detail = finding.extra
    if detail is not None and detail.route:
        out += [f"Route: {code(detail.route)}", ""]
    if detail is not None and detail.statement:
        out += [f"Statement: {code(detail.statement)}", ""]
    if detail is not None and detail.stack:
        out += ["Stack:", ""] + [f"- {code(frame.label())}" for frame in detail.stack] + [""]
    if detail is not None and detail.evidence:
        out += ["Evidence:", ""] + [f"- {md(item)}" for item in detail.evidence] + [""]
    if finding.fix is not None:
        out += [f"**Fix:** {md(finding.fix.message)}", ""]
    return out


def _table(table: Table) -> list[str]:
    out = [f"## {md(table.title)}", ""]
    if not table.rows:
        return out + [md(table.empty), ""] if table.empty else []
    out.append("| " + " | ".join(md(column.title) for column in table.columns) + " |")
    out.append("|" + "|".join("---:" if column.numeric else "---" for column in table.columns) + "|")
    for row in table.rows:
        cells = (cell_code(cell) if column.code and cell else md(cell) for column, cell in zip(table.columns, row))
        out.append("| " + " | ".join(cells) + " |")
    return out + [""]


def _items(items: Items) -> list[str]:
    if not items.items and not items.empty:
        return []
    out = [f"## {md(items.title)}", ""] if items.title else []
    if not items.items:
        return out + [md(items.empty), ""]
    return out + [f"- {md(item)}" for item in items.items] + [""]


def _block(block: Block) -> list[str]:
    """A fenced block holding the lines as they are: its fence is longer than any run of backticks inside."""
    fence = "`" * max([3, *(len(run) + 1 for line in block.lines for run in re.findall(r"`+", line))])
    return [f"## {md(block.title)}", "", fence, *block.lines, fence, ""]


def _section(section: Section) -> list[str]:
    if isinstance(section, Table):
        return _table(section)
    if isinstance(section, Items):
        return _items(section)
    if isinstance(section, Block):
        return _block(section)
    return []  # charts are drawn in HTML only; their figures are in the tables


def render_markdown(report: Report) -> str:
    out: list[str] = [f"# {md(report.title or f'backbone {report.command}')}", "", "## Summary", ""]
    out += [f"- {md(line)}" for line in report.header]
    out += [f"- Findings: {len(report.findings)}", ""]
    if report.warnings:
        out += ["## Warnings", ""] + [f"- {md(warning)}" for warning in report.warnings] + [""]
    for section in report.overview:
        out += _section(section)
    out += [f"## {md(report.findings_title)}", ""]
    findings = report.ordered_findings()
    if not findings:
        out += [md(report.no_findings or "No findings."), ""]
    for number, finding in enumerate(findings, start=1):
        out += _finding(number, finding)
    for section in report.sections:
        out += _section(section)
    out += [f"- {md(note)}" for note in report.notes]
    return "\n".join(out).rstrip() + "\n"
