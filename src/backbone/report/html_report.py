"""The HTML report of every command (`--html FILE`): one self-contained page (inline CSS and
SVG; a script only for the timeline charts, with its data embedded; nothing fetched).

The command's header and overview sections on top, then the findings: counts by code, and
each finding's place, code, severity, message, fix, masked source line, statement, stack and
evidence (the review's grouped by file), then the command's sections and notes. Every
string from outside (code, logs, a profiled app) is escaped, so a file name or a line of
source can never become markup.
"""

from __future__ import annotations

from collections import Counter
from html import escape
from itertools import groupby

from backbone.findings import Finding, Severity
from backbone.report.charts import histogram_svg, timeline_html, timeline_scripts
from backbone.report.model import (
    Block,
    Histograms,
    Items,
    Report,
    Section,
    Table,
    Timeline,
)

_STYLE = """
:root { --ink: #1d2330; --muted: #5b6475; --line: #dde1e8; --bg: #f7f8fa; --card: #ffffff; --code: #f1f3f6; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); background: var(--bg); }
header { padding: 24px 40px 16px; background: var(--card); border-bottom: 1px solid var(--line); }
header h1 { margin: 0 0 4px; font-size: 22px; word-break: break-all; } header p { margin: 0; color: var(--muted); }
main { padding: 16px 40px 48px; max-width: 1200px; }
h2 { font-size: 17px; margin: 28px 0 10px; } h3 { font-size: 14px; margin: 18px 0 6px; word-break: break-all; }
table { border-collapse: collapse; width: 100%; background: var(--card); border: 1px solid var(--line); }
th, td { padding: 5px 10px; text-align: left; vertical-align: top; border-bottom: 1px solid var(--line); }
th { font-size: 13px; color: var(--muted); font-weight: 600; background: var(--bg); }
td.n, th.n { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
code, pre { font: 12px/1.45 ui-monospace, SFMono-Regular, Menlo, monospace; }
pre { background: var(--code); border-radius: 6px; padding: 8px 10px; overflow-x: auto; margin: 6px 0;
      white-space: pre-wrap; word-break: break-word; }
.finding { background: var(--card); border: 1px solid var(--line); border-left: 4px solid var(--line);
           border-radius: 8px; padding: 10px 14px; margin: 10px 0; }
.finding.error { border-left-color: #c0392b; } .finding.warning { border-left-color: #b76e00; }
.finding.info { border-left-color: #2f6fde; }
.hot { background: #fde2df; font-weight: 600; } .head { font-weight: 600; } .muted, .where { color: var(--muted); font-size: 12px; } .empty { color: var(--muted); }
.fix::before { content: "fix: "; font-weight: 600; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; margin: 10px 0; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(340px, 1fr)); gap: 16px; }
.card h3 { margin: 0 0 2px; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
svg { width: 100%; height: auto; display: block; background: #fff; }
.legend span { display: inline-block; margin-right: 14px; } .sw { display: inline-block; width: 10px; height: 10px; margin-right: 4px; }
"""
_ORDER = (Severity.ERROR, Severity.WARNING, Severity.INFO)


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _collapsed(sql: str) -> str:
    return " ".join(sql.split())


def _finding(finding: Finding, *, with_path: bool) -> str:
    severity = finding.severity.value
    where = f"{_e(finding.path)}:" if with_path else "line "
    parts = [
        f'<div class="finding {severity}" id="{_e(finding.path)}:{finding.line}:{_e(finding.code)}">',
        f'<div class="head">{where}{finding.line}:{finding.location.column} &middot; {_e(finding.code)} '
        f"{_e(finding.name)} &middot; {severity}</div>",
        f"<div>{_e(finding.message)}</div>",
    ]
    if finding.fix is not None:
        parts.append(f'<div class="fix">{_e(finding.fix.message)}</div>')
    if finding.source_line:
        parts.append(f"<pre><code>{_e(finding.source_line.strip())}</code></pre>")
    detail = finding.extra
    if detail is not None:
        if detail.statement:
            parts.append(f"<pre>{_e(detail.statement)}</pre>")
        # The fingerprint only when it says more than the statement (literals replaced).
        if detail.query is not None and _collapsed(detail.query.fingerprint) != _collapsed(detail.statement):
            parts.append(f'<div class="where">query {_e(detail.query.id)}</div><pre>{_e(detail.query.fingerprint)}</pre>')
        # The call site once: on its own, or as a frame of the stack.
        if detail.call_site is not None and detail.call_site not in detail.stack:
            parts.append(f'<div class="where">{_e(detail.call_site.label())}</div>')
        if detail.stack:
            parts.append("<pre>" + "\n".join(_e(frame.label()) for frame in detail.stack) + "</pre>")
        if detail.evidence:
            parts.append("<ul>" + "".join(f"<li>{_e(item)}</li>" for item in detail.evidence) + "</ul>")
    details = [f"confidence {finding.confidence.value}"]
    if finding.context_evidence:
        details.append(f"runs in {finding.context_evidence}")
    if detail is not None and detail.route:
        details.append(detail.route)
    parts.append(f'<div class="muted">{_e(" · ".join(details))}</div></div>')
    return "".join(parts)


def _table(table: Table) -> str:
    if not table.rows:
        return f'<h2>{_e(table.title)}</h2><p class="empty">{_e(table.empty)}</p>' if table.empty else ""
    numeric = ' class="n"'
    parts = [f"<h2>{_e(table.title)}</h2><table><thead><tr>"]
    parts += [f"<th{numeric if column.numeric else ''}>{_e(column.title)}</th>" for column in table.columns]
    parts.append("</tr></thead><tbody>")
    for row in table.rows:
        cells = []
        for column, cell in zip(table.columns, row):
            shown = f"<code>{_e(cell)}</code>" if column.code and cell else _e(cell)
            cells.append(f"<td{numeric if column.numeric else ''}>{shown}</td>")
        parts.append("<tr>" + "".join(cells) + "</tr>")
    parts.append("</tbody></table>")
    return "".join(parts)


def _items(items: Items) -> str:
    if not items.items and not items.empty:
        return ""
    title = f"<h2>{_e(items.title)}</h2>" if items.title else ""
    if not items.items:
        return f'{title}<p class="empty">{_e(items.empty)}</p>'
    return f"{title}<ul>" + "".join(f"<li>{_e(item)}</li>" for item in items.items) + "</ul>"


def _histograms(section: Histograms) -> str:
    cards = [
        f'<div class="card"><h3>{_e(histogram.title)}</h3><div class="muted">{_e(histogram.caption)}</div>'
        f"{histogram_svg(histogram)}</div>"
        for histogram in section.histograms
    ]
    return f'<h2>{_e(section.title)}</h2><div class="cards">' + "".join(cards) + "</div>"


def _block(block: Block) -> str:
    lines = (f'<span class="hot">{_e(line)}</span>' if index in block.marked else _e(line)
             for index, line in enumerate(block.lines))
    return f"<h2>{_e(block.title)}</h2><pre>" + "\n".join(lines) + "</pre>"


def _section(section: Section) -> str:
    if isinstance(section, Table):
        return _table(section)
    if isinstance(section, Items):
        return _items(section)
    if isinstance(section, Block):
        return _block(section)
    if isinstance(section, Histograms):
        return _histograms(section)
    return timeline_html(section)


def _findings(report: Report) -> list[str]:
    findings = report.ordered_findings()
    parts = [f"<h2>{_e(report.findings_title)}</h2>"]
    if not findings:
        return parts + [f'<p class="empty">{_e(report.no_findings or "No findings.")}</p>']
    by_code = Counter((finding.code, finding.name) for finding in findings)
    parts.append('<table class="counts"><tr><th>code</th><th>name</th><th class=n>findings</th></tr>')
    parts += [f"<tr><td>{_e(code)}</td><td>{_e(name)}</td><td class=n>{count}</td></tr>"
              for (code, name), count in sorted(by_code.items())]
    parts.append("</table>")
    if not report.by_location:
        return parts + [_finding(finding, with_path=True) for finding in findings]
    for path, group in groupby(findings, key=lambda finding: finding.path):
        parts.append(f"<h3><code>{_e(path)}</code></h3>")
        parts += [_finding(finding, with_path=False) for finding in group]
    return parts


def render_html(report: Report) -> str:
    title = report.title or f"backbone {report.command}"
    timeline = next((section for section in (*report.overview, *report.sections) if isinstance(section, Timeline)),
                    None)
    by_severity = Counter(finding.severity for finding in report.findings)
    summary = ", ".join(f"{by_severity[severity]} {severity.value}" for severity in _ORDER if by_severity[severity])
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head>",
        '<body data-charts-drawn="0">' if timeline is not None else "<body>",
        f"<header><h1>{_e(title)}</h1>",
    ]
    parts += [f"<p>{_e(line)}</p>" for line in report.header]
    if summary:
        parts.append(f'<p class="muted">{_e(summary)}</p>')
    parts.append("</header><main>")
    if report.warnings:
        parts.append('<div class="card warnings"><strong>Warnings</strong><ul>'
                     + "".join(f"<li>{_e(warning)}</li>" for warning in report.warnings) + "</ul></div>")
    parts += [_section(section) for section in report.overview]
    parts += _findings(report)
    parts += [_section(section) for section in report.sections]
    if report.notes:
        parts.append('<h2>Notes</h2><ul class="notes">' + "".join(f"<li>{_e(note)}</li>" for note in report.notes)
                     + "</ul>")
    parts.append("</main>")
    if timeline is not None:
        parts.append(timeline_scripts(timeline))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
