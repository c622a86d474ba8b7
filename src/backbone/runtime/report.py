"""The result of `backbone profile`: per-route statistics and runtime findings, and the report
the shared renderers (backbone.report) write from it.

JSON (`version` 1):

    {"version": 1,
     "app": "shop.main:app", "interface": "asgi", "scenario": "scenario.yaml",
     "requests": 120, "failed_requests": 0, "duration_s": 1.9, "partial": false, "partial_reason": null,
     "routes": [{"method", "route", "count", "p50_ms", "p95_ms", "p99_ms",
                 "queries_per_request", "max_queries", "n_plus_one_groups", "statuses", "errors", ...}],
     "findings": [{"code", "name", "severity", "confidence", "path", "line", "column",
                   "end_line", "end_column", "message", "fix", "context", "context_evidence",
                   "route", "query_id", "fingerprint", "sql", "evidence", "call_site", "stack",
                   ...code-specific figures: RT101 has "repeat_count", "total_ms", "layer"...}],
     "summary": {...}}
"""

from __future__ import annotations

from pathlib import Path

from backbone.findings import Finding
from backbone.records import Record
from backbone.redaction import mask_finding
from backbone.report.model import (
    Bin,
    Column,
    Histogram,
    Histograms,
    JsonValue,
    Report,
    Table,
)
from backbone.runtime.detectors import DetectionSettings, RouteSummary, RuntimeIssue
from backbone.runtime.events import AppInterface, QueryLayer


class ProfileReport(Record, frozen=True):
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


def _ms(value: float) -> str:
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


def route_json(route: RouteSummary) -> dict[str, JsonValue]:
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


def _routes_table(report: ProfileReport) -> Table:
    columns = (Column("route", code=True), Column("count", numeric=True), Column("p50 ms", numeric=True),
               Column("p95 ms", numeric=True), Column("p99 ms", numeric=True), Column("max ms", numeric=True),
               Column("queries/req", numeric=True), Column("max queries", numeric=True), Column("N+1", numeric=True),
               Column("errors", numeric=True), Column("statuses"))
    rows = tuple(
        (f"{route.method} {route.route}", str(route.count), _ms(route.p50_ms), _ms(route.p95_ms), _ms(route.p99_ms),
         _ms(route.max_ms), f"{route.queries_per_request:.1f}", str(route.max_queries),
         str(route.n_plus_one_groups) if route.n_plus_one_groups else "-", str(route.errors) if route.errors else "-",
         ", ".join(f"{status}×{times}" for status, times in route.statuses))
        for route in report.routes
    )
    return Table("Routes", columns, rows, empty="No request was sent.")


def _histogram(route: RouteSummary) -> Histogram:
    method = "exact" if route.exact else "from a histogram sketch (±1%)"
    return Histogram(
        title=f"{route.method} {route.route}",
        caption=f"{route.count} requests · p50 {_ms(route.p50_ms)} · p95 {_ms(route.p95_ms)} · "
                f"p99 {_ms(route.p99_ms)} ms ({method})",
        count=route.count,
        bins=tuple(Bin(item.low_s * 1000, item.high_s * 1000, item.count) for item in route.histogram),
        markers=(("p50", route.p50_ms), ("p95", route.p95_ms), ("p99", route.p99_ms)),
    )


def _notes(report: ProfileReport) -> tuple[str, ...]:
    notes = [
        f"{route.method} {route.route}: " + ", ".join(f"{label} x{times}" for label, times in cut) + "."
        for route in report.routes
        if (cut := [(label, times) for label, times in route.statuses if not label.isdigit()])
    ]
    notes += report.notes
    if report.instrumentation_errors:
        notes.append(f"backbone's instrumentation failed {report.instrumentation_errors} times and stepped aside; "
                     "the figures may be incomplete.")
    return tuple(notes)


def profile_document(report: ProfileReport) -> Report:
    """The profile as the shared renderers show it: the routes and their latency, then the findings."""
    by_code: dict[str, JsonValue] = {}
    for issue in report.issues:
        count = by_code.get(issue.code, 0)
        by_code[issue.code] = (count if isinstance(count, int) else 0) + 1
    settings = report.settings
    return Report(
        findings=report.findings,
        root=report.root,
        command="profile",
        review_summary=False,
        by_location=False,
        text_header=True,
        title=f"backbone profile {report.app} ({report.interface.value}): {report.requests} requests "
              f"in {report.duration_s:.1f} s, {len(report.routes)} routes",
        header=(
            *((f"PARTIAL REPORT: {report.partial_reason}; the figures cover the requests sent until then.",)
              if report.partial_reason is not None else ()),
            f"Requests from {report.scenario_source}; N+1 threshold {settings.n_plus_one_threshold}, slow query "
            f"{settings.slow_query_ms:.0f} ms, loop stall {settings.stall_ms:.0f} ms"
            + (f", budget {settings.max_queries} queries per request" if settings.max_queries is not None else "") + ".",
        ),
        overview=(_routes_table(report), Histograms("Latency per route", tuple(map(_histogram, report.routes)))),
        no_findings="No runtime findings.",
        notes=_notes(report),
        json_head={
            "app": report.app,
            "interface": report.interface.value,
            "scenario": report.scenario_source,
            "requests": report.requests,
            "failed_requests": report.failed_requests,
            "duration_s": _round(report.duration_s),
            "partial": report.partial,
            "partial_reason": report.partial_reason,
            "routes": [route_json(route) for route in report.routes],
        },
        json_tail={
            "summary": {
                "routes": len(report.routes),
                "findings": len(report.issues),
                "by_code": by_code,
                "instrumentation_errors": report.instrumentation_errors,
                "capture_layers": [layer.value for layer in report.layers],
                "settings": {
                    "n_plus_one_threshold": settings.n_plus_one_threshold,
                    "slow_query_ms": settings.slow_query_ms,
                    "stall_ms": settings.stall_ms,
                    "max_queries": settings.max_queries,
                    "request_timeout_s": settings.request_timeout_s,
                },
            },
            "notes": list(report.notes),
        },
    )
