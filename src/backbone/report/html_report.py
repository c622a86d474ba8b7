"""The review as one self-contained HTML page (`backbone review --html FILE`).

Counts by severity and by rule on top, then every finding grouped by file: its line, rule,
severity, confidence, where the code runs, the message, the fix and the (masked) source
line. Plain HTML and CSS, no script: every string from the reviewed code is escaped, so a
file name or a line of source can never become markup.
"""

from __future__ import annotations

from collections import Counter
from html import escape
from itertools import groupby

from backbone.findings import Finding, Severity
from backbone.report import ReviewReport

_STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 72rem; color: #1f2328; padding: 0 1rem; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.05rem; margin: 1.6rem 0 .4rem; word-break: break-all; }
table.counts { border-collapse: collapse; margin: .5rem 0 1rem; }
table.counts td, table.counts th { padding: .2rem .8rem; border-bottom: 1px solid #d0d7de; text-align: left; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.finding { border-left: 4px solid #d0d7de; padding: .4rem .8rem; margin: .6rem 0; background: #f6f8fa; }
.finding.error { border-color: #cf222e; } .finding.warning { border-color: #bf8700; } .finding.info { border-color: #0969da; }
.head { font-weight: 600; } .muted { color: #57606a; font-size: 12px; }
pre { margin: .3rem 0; padding: .3rem .5rem; background: #fff; border: 1px solid #d0d7de; overflow-x: auto; }
.fix::before { content: "fix: "; font-weight: 600; }
"""
_ORDER = (Severity.ERROR, Severity.WARNING, Severity.INFO)


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _finding(finding: Finding) -> str:
    severity = finding.severity.value
    parts = [
        f'<div class="finding {severity}" id="{_e(finding.path)}:{finding.line}:{_e(finding.code)}">',
        f'<div class="head">line {finding.line}:{finding.location.column} &middot; {_e(finding.code)} '
        f"{_e(finding.name)} &middot; {severity}</div>",
        f"<div>{_e(finding.message)}</div>",
    ]
    if finding.fix is not None:
        parts.append(f'<div class="fix">{_e(finding.fix.message)}</div>')
    if finding.source_line:
        parts.append(f"<pre><code>{_e(finding.source_line)}</code></pre>")
    details = [f"confidence {finding.confidence.value}"]
    if finding.context_evidence:
        details.append(f"runs in {finding.context_evidence}")
    parts.append(f'<div class="muted">{_e(" · ".join(details))}</div></div>')
    return "".join(parts)


def render_html(report: ReviewReport) -> str:
    findings = sorted(report.findings, key=Finding.sort_key)
    by_severity = Counter(finding.severity for finding in findings)
    by_code = Counter((finding.code, finding.name) for finding in findings)
    summary = ", ".join(f"{by_severity[severity]} {severity.value}" for severity in _ORDER if by_severity[severity])
    parts = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>backbone review: {_e(report.root)}</title><style>{_STYLE}</style></head><body><main>",
        f"<h1>backbone review of <code>{_e(report.root)}</code></h1>",
        f"<p>{len(findings)} finding{'s' if len(findings) != 1 else ''} in {report.files_reviewed} "
        f"file{'s' if report.files_reviewed != 1 else ''}" + (f" ({_e(summary)})" if summary else "") + "; "
        f"{report.suppressed} suppressed, {report.baselined} baselined.</p>",
    ]
    if by_code:
        parts.append('<table class="counts"><tr><th>rule</th><th>name</th><th class=n>findings</th></tr>')
        parts += [f"<tr><td>{_e(code)}</td><td>{_e(name)}</td><td class=n>{count}</td></tr>"
                  for (code, name), count in sorted(by_code.items())]
        parts.append("</table>")
    for path, group in groupby(findings, key=lambda finding: finding.path):
        parts.append(f"<h2><code>{_e(path)}</code></h2>")
        parts += [_finding(finding) for finding in group]
    parts += [f'<p class="muted">{_e(note)}</p>' for note in report.notes]
    parts.append("</main></body></html>\n")
    return "".join(parts)
