"""The result of `backbone profile`: per-route statistics and runtime findings, and its renderings.

JSON (`version` 1):

    {"version": 1,
     "app": "shop.main:app", "interface": "asgi", "scenario": "scenario.yaml",
     "requests": 120, "failed_requests": 0, "duration_s": 1.9, "partial": false, "partial_reason": null,
     "routes": [{"method", "route", "count", "p50_ms", "p95_ms", "p99_ms",
                 "queries_per_request", "max_queries", "n_plus_one_groups", "statuses", "errors", ...}],
     "findings": [{"code", "name", "severity", "confidence", "path", "line", "column",
                   "end_line", "end_column", "message", "fix", "route",
                   ...code-specific fields: RT101 has "fingerprint", "repeat_count", "sql"...}],
     "summary": {...}}
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path

from rich.text import Text

from backbone.findings import Finding
from backbone.redaction import mask_finding, mask_values
from backbone.report import terminal
from backbone.runtime.detectors import DetectionSettings, RouteSummary, RuntimeIssue
from backbone.runtime.events import AppInterface, JSONValue, QueryLayer

JSON_VERSION = 1
_TEXT_WIDTH = 200


@dataclass(frozen=True, slots=True)
class ProfileReport:
    app: str
    interface: AppInterface
    # The scenario file, or "openapi" for generated requests.
    scenario_source: str
    routes: tuple[RouteSummary, ...]
    issues: tuple[RuntimeIssue, ...]
    requests: int
    failed_requests: int
    duration_s: float
    # How often backbone's own instrumentation failed (and stepped aside) during the run.
    instrumentation_errors: int
    layers: tuple[QueryLayer, ...]
    settings: DetectionSettings
    # Findings paths are relative to this directory.
    root: str
    notes: tuple[str, ...] = ()
    # Why the run stopped before its last request (Ctrl-C); None for a complete run.
    partial_reason: str | None = None
    # Timed-out requests whose code was still running (on a thread) when the run ended.
    left_running: int = 0

    @property
    def partial(self) -> bool:
        return self.partial_reason is not None

    @property
    def findings(self) -> tuple[Finding, ...]:
        root = Path(self.root)
        # Source lines are read from the app's files: masked for secrets like every string shown.
        return tuple(mask_finding(issue.finding(root)) for issue in self.issues)


def _round(value: float) -> float:
    return round(value, 3)


def route_json(route: RouteSummary) -> dict[str, JSONValue]:
    return {
        "method": route.method,
        "route": route.route,
        "count": route.count,
        "p50_ms": _round(route.p50_ms),
        "p95_ms": _round(route.p95_ms),
        "p99_ms": _round(route.p99_ms),
        "mean_ms": _round(route.mean_ms),
        "max_ms": _round(route.max_ms),
        "queries_per_request": round(route.queries_per_request, 2),
        "max_queries": route.max_queries,
        "n_plus_one_groups": route.n_plus_one_groups,
        "statuses": dict(route.statuses),
        "errors": route.errors,
        "failed_queries": route.failed_queries,
        "exact_percentiles": route.exact,
    }


def issue_json(issue: RuntimeIssue, root: Path) -> dict[str, JSONValue]:
    finding = issue.finding(root)
    location = finding.location
    document: dict[str, JSONValue] = {
        "code": finding.code,
        "name": finding.name,
        "severity": finding.severity.value,
        "confidence": finding.confidence.value,
        "path": location.path,
        "line": location.line,
        "column": location.column,
        "end_line": location.end_line,
        "end_column": location.end_column,
        "message": finding.message,
        "fix": finding.fix.message if finding.fix else None,
        "route": f"{issue.method} {issue.route}",
    }
    document.update(issue.json_fields(root))
    return document


def report_json(report: ProfileReport) -> dict[str, JSONValue]:
    root = Path(report.root)
    by_code: dict[str, JSONValue] = {}
    for issue in report.issues:
        count = by_code.get(issue.code, 0)
        by_code[issue.code] = (count if isinstance(count, int) else 0) + 1
    # Statements, messages, routes and notes come from the profiled app: masked for secrets.
    return mask_values({
        "version": JSON_VERSION,
        "app": report.app,
        "interface": report.interface.value,
        "scenario": report.scenario_source,
        "requests": report.requests,
        "failed_requests": report.failed_requests,
        "duration_s": _round(report.duration_s),
        "partial": report.partial,
        "partial_reason": report.partial_reason,
        "routes": [route_json(route) for route in report.routes],
        "findings": [issue_json(issue, root) for issue in report.issues],
        "summary": {
            "routes": len(report.routes),
            "findings": len(report.issues),
            "by_code": by_code,
            "instrumentation_errors": report.instrumentation_errors,
            "capture_layers": [layer.value for layer in report.layers],
            "settings": {
                "n_plus_one_threshold": report.settings.n_plus_one_threshold,
                "slow_query_ms": report.settings.slow_query_ms,
                "stall_ms": report.settings.stall_ms,
                "max_queries": report.settings.max_queries,
                "request_timeout_s": report.settings.request_timeout_s,
            },
        },
        "notes": list(report.notes),
    })


def render_json(report: ProfileReport) -> str:
    return json.dumps(report_json(report), indent=2) + "\n"


def _ms(value: float) -> str:
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


def render_text(report: ProfileReport, *, color: bool = False) -> str:
    """The terminal report: a table per route, then the findings with their call sites."""
    report = mask_values(report)
    styled: dict[int, Finding] = {}
    headers = ("route", "count", "p50 ms", "p95 ms", "p99 ms", "queries/req", "N+1", "errors")
    rows = [
        (
            f"{route.method} {route.route}",
            str(route.count),
            _ms(route.p50_ms),
            _ms(route.p95_ms),
            _ms(route.p99_ms),
            f"{route.queries_per_request:.1f}",
            str(route.n_plus_one_groups) if route.n_plus_one_groups else "-",
            str(route.errors) if route.errors else "-",
        )
        for route in report.routes
    ]
    widths = [max(len(header), *(len(row[index]) for row in rows)) if rows else len(header) for index, header in enumerate(headers)]
    lines = [
        f"backbone profile {report.app} ({report.interface.value}): {report.requests} requests "
        f"in {report.duration_s:.1f} s, {len(report.routes)} routes",
    ]
    if report.partial_reason is not None:
        lines.append(f"PARTIAL REPORT: {report.partial_reason}; the figures cover the requests sent until then.")
    lines.append("")

    def format_row(cells: tuple[str, ...]) -> str:
        first = cells[0].ljust(widths[0])
        rest = "  ".join(cell.rjust(width) for cell, width in zip(cells[1:], widths[1:]))
        return f"{first}  {rest}"

    lines.append(format_row(headers))
    lines.append(format_row(tuple("-" * width for width in widths)))
    lines.extend(format_row(row) for row in rows)
    findings = report.findings
    lines.append("")
    if not findings:
        lines.append("No runtime findings.")
    for finding in findings:
        styled[len(lines)] = finding
        lines.append(f"{finding.path}:{finding.line}: {finding.code} [{finding.name}] {finding.message}")
        if finding.source_line:
            lines.append(f"    {finding.source_line}")
        if finding.fix is not None:
            lines.append(f"    fix: {finding.fix.message}")
    for route in report.routes:
        cut = [f"{label} x{times}" for label, times in route.statuses if not label.isdigit()]
        if cut:
            lines.append(f"note: {route.method} {route.route}: " + ", ".join(cut) + ".")
    for note in report.notes:
        lines.append(f"note: {note}")
    if report.instrumentation_errors:
        lines.append(
            f"note: backbone's instrumentation failed {report.instrumentation_errors} times and stepped aside; "
            "the figures may be incomplete."
        )
    if findings:
        counts: dict[str, int] = {}
        for finding in findings:
            counts[finding.code] = counts.get(finding.code, 0) + 1
        lines.append("")
        lines.append("Found " + ", ".join(f"{count} {code}" for code, count in sorted(counts.items())) + ".")
    if not color:
        return "\n".join(lines) + "\n"
    # The same lines, each finding's code coloured by its severity as in the review and debug reports.
    buffer = io.StringIO()
    console = terminal.console(buffer, color=True, width=_TEXT_WIDTH)
    for number, line in enumerate(lines):
        shown = styled.get(number)
        text = Text(line)
        if shown is not None:
            start = len(f"{shown.path}:{shown.line}: ")
            text.stylize(terminal.SEVERITY_STYLE[shown.severity], start, start + len(shown.code))
        console.print(text)
    return buffer.getvalue()
