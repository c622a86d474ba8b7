"""The HTML report of a profile run: one self-contained file (inline CSS and SVG, no script, no fetch).

Per route: the percentiles and a latency histogram. Then the N+1 groups with
their SQL, fingerprint and call site, and the other findings.
"""

from __future__ import annotations

import html
import linecache
from pathlib import Path

from backbone.findings import Finding
from backbone.redaction import mask, mask_values
from backbone.runtime.detectors import EventLoopStall, NPlusOne, QueryBudgetExceeded, RouteSummary, SlowQuery, relative_path
from backbone.runtime.events import CallSite
from backbone.runtime.report import ProfileReport
from backbone.runtime.stats import HistogramBin

_CSS = """
:root { --ink: #1d2330; --muted: #5b6475; --line: #dde1e8; --accent: #2f6fde; --warn: #b76e00; --bad: #c0392b;
        --bg: #f7f8fa; --card: #ffffff; --code: #f1f3f6; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); background: var(--bg); }
header { padding: 28px 40px 20px; background: var(--card); border-bottom: 1px solid var(--line); }
header h1 { margin: 0 0 4px; font-size: 22px; }
header p { margin: 0; color: var(--muted); }
main { padding: 24px 40px 48px; max-width: 1200px; }
h2 { font-size: 18px; margin: 32px 0 12px; }
.stats { display: flex; gap: 12px; flex-wrap: wrap; margin-top: 16px; }
.stat { background: var(--bg); border: 1px solid var(--line); border-radius: 8px; padding: 8px 14px; }
.stat b { display: block; font-size: 20px; }
.stat span { color: var(--muted); font-size: 13px; }
table { border-collapse: collapse; width: 100%; background: var(--card); border: 1px solid var(--line); border-radius: 8px; }
th, td { padding: 8px 12px; text-align: right; border-bottom: 1px solid var(--line); white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
th { font-size: 13px; color: var(--muted); font-weight: 600; background: var(--bg); }
tr:last-child td { border-bottom: none; }
td.flag { color: var(--warn); font-weight: 600; }
.routes { display: grid; grid-template-columns: repeat(auto-fill, minmax(340px, 1fr)); gap: 16px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; }
.card h3 { margin: 0 0 2px; font-size: 15px; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
.card .meta { color: var(--muted); font-size: 13px; margin-bottom: 8px; }
.card svg { width: 100%; height: auto; display: block; }
.finding { background: var(--card); border: 1px solid var(--line); border-left: 4px solid var(--warn);
           border-radius: 8px; padding: 12px 16px; margin-bottom: 12px; }
.finding.error { border-left-color: var(--bad); }
.finding .code { font-weight: 700; margin-right: 8px; }
.finding .where { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 13px; color: var(--muted); }
pre { background: var(--code); border-radius: 6px; padding: 10px 12px; overflow-x: auto; margin: 8px 0;
      font: 13px/1.45 ui-monospace, SFMono-Regular, Menlo, monospace; white-space: pre-wrap; word-break: break-word; }
.fix { color: var(--ink); }
.fix::before { content: "Fix: "; font-weight: 600; }
.empty { color: var(--muted); }
.notes li { color: var(--muted); }
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _ms(value: float) -> str:
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


# Below this many requests a histogram shows noise, not a distribution.
MIN_HISTOGRAM_REQUESTS = 20


def _histogram_svg(bins: tuple[HistogramBin, ...], route: RouteSummary) -> str:
    width, height, left, bottom, top = 320, 130, 4, 22, 8
    if route.count < MIN_HISTOGRAM_REQUESTS:
        return (f'<p class="empty">{route.count} request{"s" if route.count != 1 else ""}: too few for a histogram '
                f"(it takes {MIN_HISTOGRAM_REQUESTS}).</p>")
    if not bins:
        return ""
    tallest = max(item.count for item in bins) or 1
    plot_height = height - bottom - top
    bar_width = (width - 2 * left) / len(bins)
    parts = [
        f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="latency histogram of {_e(route.method)} {_e(route.route)}">'
    ]
    for index, item in enumerate(bins):
        bar_height = plot_height * item.count / tallest
        x = left + index * bar_width
        y = top + plot_height - bar_height
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(bar_width - 1.5, 1):.1f}" height="{bar_height:.1f}" '
            f'fill="#2f6fde" opacity="0.85"><title>{_ms(item.low_s * 1000)}–{_ms(item.high_s * 1000)} ms: '
            f"{item.count} requests</title></rect>"
        )
    low, high = bins[0].low_s * 1000, bins[-1].high_s * 1000
    span = (high - low) or 1.0
    markers = (("p50", route.p50_ms, "#1d2330"), ("p95", route.p95_ms, "#b76e00"), ("p99", route.p99_ms, "#c0392b"))
    placed: list[tuple[float, list[str], str]] = []  # x, labels, colour of the first
    for label, value, color in markers:
        x = left + (width - 2 * left) * min(max((value - low) / span, 0.0), 1.0)
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{top + plot_height}" stroke="{color}" stroke-dasharray="3 2"/>')
        # Markers closer than a label's width share one label ("p95/p99") instead of overlapping.
        if placed and abs(placed[-1][0] - x) < 18:
            placed[-1][1].append(label)
        else:
            placed.append((x, [label], color))
    for row, (x, labels, color) in enumerate(placed):
        # Left of the line near the right edge, so that the label stays inside the chart.
        anchor, label_x = ("end", x - 2) if x > width * 0.8 else ("start", x + 2)
        parts.append(
            f'<text x="{label_x:.1f}" y="{top + 9 + 10 * row}" font-size="9" fill="{color}" '
            f'text-anchor="{anchor}">{"/".join(labels)}</text>'
        )
    axis_y = top + plot_height
    parts.append(f'<line x1="{left}" x2="{width - left}" y1="{axis_y}" y2="{axis_y}" stroke="#dde1e8"/>')
    parts.append(f'<text x="{left}" y="{height - 6}" font-size="10" fill="#5b6475">{_ms(low)} ms</text>')
    parts.append(f'<text x="{width - left}" y="{height - 6}" font-size="10" fill="#5b6475" text-anchor="end">{_ms(high)} ms</text>')
    parts.append("</svg>")
    return "".join(parts)


def _collapsed(sql: str) -> str:
    return " ".join(sql.split())


def _site(site: CallSite | None, root: Path) -> str:
    if site is None:
        return "call site unknown"
    source = mask(linecache.getline(site.path, site.line).strip(), code=True)
    where = f"{relative_path(site.path, root)}:{site.line} in {site.function}"
    return _e(where) + (f"<pre>{_e(source)}</pre>" if source else "")


def render_html(report: ProfileReport) -> str:
    report = mask_values(report)  # statements, routes and notes come from the profiled app
    root = Path(report.root)
    findings = report.findings
    n_plus_one: list[tuple[NPlusOne, Finding]] = [(issue, finding) for issue, finding in zip(report.issues, findings) if isinstance(issue, NPlusOne)]
    others = [(issue, finding) for issue, finding in zip(report.issues, findings) if not isinstance(issue, NPlusOne)]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>backbone profile: {_e(report.app)}</title>",
        f"<style>{_CSS}</style></head><body>",
        "<header>",
        f"<h1>backbone profile <code>{_e(report.app)}</code></h1>",
        (f'<p class="flag"><b>Partial report:</b> {_e(report.partial_reason)}.</p>' if report.partial_reason else ""),
        f"<p>{_e(report.interface.value.upper())} app, requests from {_e(report.scenario_source)}; "
        f"N+1 threshold {report.settings.n_plus_one_threshold}, slow query {report.settings.slow_query_ms:.0f} ms, "
        f"loop stall {report.settings.stall_ms:.0f} ms"
        + (f", budget {report.settings.max_queries} queries per request" if report.settings.max_queries is not None else "")
        + "</p>",
        '<div class="stats">',
        f'<div class="stat"><b>{report.requests}</b><span>requests</span></div>',
        f'<div class="stat"><b>{len(report.routes)}</b><span>routes</span></div>',
        f'<div class="stat"><b>{report.duration_s:.1f} s</b><span>run time</span></div>',
        f'<div class="stat"><b>{len(n_plus_one)}</b><span>N+1 groups</span></div>',
        f'<div class="stat"><b>{len(findings)}</b><span>findings</span></div>',
        "</div></header><main>",
        "<h2>Routes</h2>",
        "<table><thead><tr><th>route</th><th>count</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th>"
        "<th>max ms</th><th>queries/request</th><th>max queries</th><th>N+1 groups</th><th>statuses</th></tr></thead><tbody>",
    ]
    for route in report.routes:
        statuses = ", ".join(f"{status}×{times}" for status, times in route.statuses)
        flag = ' class="flag"' if route.n_plus_one_groups else ""
        parts.append(
            f"<tr><td><code>{_e(route.method)} {_e(route.route)}</code></td><td>{route.count}</td>"
            f"<td>{_ms(route.p50_ms)}</td><td>{_ms(route.p95_ms)}</td><td>{_ms(route.p99_ms)}</td>"
            f"<td>{_ms(route.max_ms)}</td><td>{route.queries_per_request:.1f}</td><td>{route.max_queries}</td>"
            f"<td{flag}>{route.n_plus_one_groups or '–'}</td><td>{_e(statuses)}</td></tr>"
        )
    parts.append("</tbody></table>")

    parts.append("<h2>Latency per route</h2><div class=\"routes\">")
    for route in report.routes:
        method = "exact" if route.exact else "from a histogram sketch (±1%)"
        parts.append(
            f'<div class="card"><h3>{_e(route.method)} {_e(route.route)}</h3>'
            f'<div class="meta">{route.count} requests · p50 {_ms(route.p50_ms)} · p95 {_ms(route.p95_ms)} · '
            f"p99 {_ms(route.p99_ms)} ms ({method})</div>{_histogram_svg(route.histogram, route)}</div>"
        )
    parts.append("</div>")

    parts.append("<h2>N+1 query groups</h2>")
    if not n_plus_one:
        parts.append('<p class="empty">No N+1 queries: no request repeated a query from one call site '
                     f"{report.settings.n_plus_one_threshold} times or more.</p>")
    for group, finding in n_plus_one:
        parts.append(
            f'<div class="finding"><span class="code">RT101</span><b>{_e(group.method)} {_e(group.route)}</b> ran this query '
            f"<b>{group.repeat_count}×</b> in one request (in {group.requests_affected} of {group.requests_total} requests, "
            f"{group.total_ms:.1f} ms in all)."
            f"<pre>{_e(group.sql)}</pre>"
            # The fingerprint only when it says more than the statement (literals replaced).
            + (f'<div class="where">fingerprint</div><pre>{_e(group.fingerprint)}</pre>'
               if _collapsed(group.fingerprint) != _collapsed(group.sql) else "")
            + f'<div class="where">{_site(group.call_site, root)}</div>'
            + (f'<p class="fix">{_e(finding.fix.message)}</p>' if finding.fix else "")
            + "</div>"
        )

    parts.append("<h2>Other findings</h2>")
    if not others:
        parts.append('<p class="empty">No slow queries, event-loop stalls or exceeded query budgets.</p>')
    for issue, finding in others:
        css = "finding error" if isinstance(issue, QueryBudgetExceeded) else "finding"
        detail = ""
        if isinstance(issue, SlowQuery):
            detail = f"<pre>{_e(issue.sql)}</pre>"
        where = _site(issue.call_site, root)
        if isinstance(issue, EventLoopStall) and issue.stack:
            frames = [f"{relative_path(s.path, root)}:{s.line} in {s.function}" for s in issue.stack]
            detail = "<pre>" + "\n".join(_e(frame) for frame in frames) + "</pre>"
            site = issue.call_site
            # The call site is a frame of the stack already: show its source line, not its name again.
            if site is not None and f"{relative_path(site.path, root)}:{site.line} in {site.function}" in frames:
                source = mask(linecache.getline(site.path, site.line).strip(), code=True)
                where = f"<pre>{_e(source)}</pre>" if source else ""
        parts.append(
            f'<div class="{css}"><span class="code">{_e(finding.code)}</span>{_e(finding.message)}{detail}'
            f'<div class="where">{where}</div>'
            + (f'<p class="fix">{_e(finding.fix.message)}</p>' if finding.fix else "")
            + "</div>"
        )
    if report.notes or report.instrumentation_errors:
        parts.append('<h2>Notes</h2><ul class="notes">')
        parts.extend(f"<li>{_e(note)}</li>" for note in report.notes)
        if report.instrumentation_errors:
            parts.append(f"<li>backbone's instrumentation failed {report.instrumentation_errors} times and stepped aside.</li>")
        parts.append("</ul>")
    parts.append("</main></body></html>")
    return "\n".join(parts) + "\n"
