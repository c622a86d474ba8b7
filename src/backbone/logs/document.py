"""The report of `backbone debug` as the shared renderers (backbone.report) show it: the
probable causes (LG) and what the profile's detectors found in traces (RT) as findings, then
the timeline, errors, routes, slow queries, signals and inputs as typed sections.

The JSON keys are the schema of docs/debug.md ("JSON output"): `version`, `lines`, `routes`,
`spikes`, `errors`, `slow_queries`, `causes`, `warnings`, `findings`, `inputs`.
"""

from __future__ import annotations

from datetime import datetime

from backbone.logs.model import DebugReport, SpikeMetric
from backbone.logs.wording import between, iso, ms, percent, when
from backbone.report.model import (
    ChartBucket,
    ChartRoute,
    ChartSpike,
    Column,
    Items,
    JsonValue,
    Report,
    Table,
    Timeline,
)

TOP_ROUTES = 20
TOP_ERRORS = 15
TOP_QUERIES = 15
CHART_ROUTES = 12


def status_classes(statuses: tuple[tuple[int, int], ...]) -> list[tuple[str, int]]:
    classes: dict[str, int] = {}
    for status, count in statuses:
        key = f"{status // 100}xx"
        classes[key] = classes.get(key, 0) + count
    return sorted(classes.items())


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _epoch(moment: datetime) -> int:
    return int((moment - datetime(1970, 1, 1)).total_seconds())


def timeline(report: DebugReport) -> Timeline:
    """What the HTML report's charts draw: latency and 5xx rate per bucket, spikes, route percentiles."""
    routes = sorted((route for route in report.routes if route.p95_ms is not None),
                    key=lambda route: -(route.p95_ms or 0))[:CHART_ROUTES]
    return Timeline(
        bucket_seconds=report.bucket_seconds,
        buckets=tuple(ChartBucket(_epoch(bucket.start), bucket.p50_ms, bucket.p95_ms, bucket.requests,
                                  bucket.error_rate if bucket.requests else None) for bucket in report.buckets),
        spikes=tuple(ChartSpike(_epoch(spike.start), _epoch(spike.end), spike.metric.value) for spike in report.spikes),
        routes=tuple(ChartRoute(route.label, route.p50_ms, route.p95_ms, route.p99_ms) for route in routes),
    )


def _header(report: DebugReport) -> tuple[str, ...]:
    files = sum(1 for item in report.inputs if not item.skipped)
    lines = [f"{report.lines.parsed:,} of {report.lines.total:,} lines parsed from {files} "
             f"file{'s' if files != 1 else ''}, {report.requests:,} requests, "
             f"{when(report.first_seen)} to {when(report.last_seen)} (UTC where the logs gave a zone)"]
    if report.statuses:
        total = sum(count for _, count in report.statuses) or 1
        lines.append("Statuses: " + ", ".join(f"{name} {count:,} ({percent(count / total)})"
                                              for name, count in status_classes(report.statuses)))
    zoned = [item for item in report.inputs if item.zone and not item.zone.endswith("(from the log)")]
    if zoned:
        lines.append("Time: " + "; ".join(f"{item.path} read in {item.zone}" for item in zoned))
    lines.append(f"Probable causes: {len(report.causes)}")
    return tuple(lines)


def _spikes(report: DebugReport) -> Table:
    rows = []
    for spike in report.spikes:
        show = ms if spike.metric is SpikeMetric.LATENCY else percent
        rows.append((spike.metric.value, between(spike.start, spike.end), show(spike.peak), show(spike.baseline),
                     ", ".join(spike.routes) or "-"))
    columns = (Column("metric"), Column("window"), Column("peak", numeric=True), Column("usual", numeric=True),
               Column("driven by"))
    return Table("Timeline", columns, tuple(rows),
                 empty=f"No latency or error-rate spike in {len(report.buckets)} buckets of {report.bucket_seconds} s.")


def _errors(report: DebugReport) -> Table:
    rows = []
    for group in report.errors[:TOP_ERRORS]:
        culprit = (f"{group.culprit.path}:{group.culprit.line} in {group.culprit.function}"
                   if group.culprit else "(no application frame)")
        message = group.message.splitlines()[0][:100] if group.message else ""
        rows.append((f"{group.count:,}", f"{group.exception}: {message}" if message else group.exception, culprit,
                     when(group.first_seen), when(group.last_seen)))
    columns = (Column("count", numeric=True), Column("exception"), Column("culprit", code=True), Column("first seen"),
               Column("last seen"))
    return Table("Errors", columns, tuple(rows))


def _routes(report: DebugReport) -> Table:
    routes = sorted(report.routes, key=lambda route: (route.p95_ms is None, -(route.p95_ms or 0), -route.count))
    columns = (Column("route", code=True), *(Column(name, numeric=True)
                                            for name in ("count", "4xx", "5xx", "p50", "p95", "p99", "max")))
    rows = tuple((route.label, f"{route.count:,}", percent(route.client_error_rate), percent(route.error_rate),
                  ms(route.p50_ms), ms(route.p95_ms), ms(route.p99_ms), ms(route.max_ms)) for route in routes[:TOP_ROUTES])
    return Table("Slowest routes", columns, rows)


def _queries(report: DebugReport) -> Table:
    columns = (Column("fingerprint"), *(Column(name, numeric=True) for name in ("count", "total", "mean", "max")),
               Column("statement", code=True))
    rows = tuple((query.fingerprint, f"{query.count:,}", ms(query.total_ms), ms(query.mean_ms), ms(query.max_ms),
                  query.statement[:200]) for query in report.slow_queries[:TOP_QUERIES])
    return Table("Slow queries", columns, rows)


def _inputs(report: DebugReport) -> Table:
    columns = (Column("file", code=True), Column("format"), Column("lines", numeric=True),
               Column("parsed", numeric=True), Column("malformed", numeric=True), Column("time zone"), Column("problem"))
    rows = tuple((item.path, item.format.value if item.format else "-", f"{item.total:,}", f"{item.parsed:,}",
                  f"{item.malformed:,}", item.zone or "-", item.problem or "") for item in report.inputs)
    return Table("Inputs", columns, rows)


def _json_head(report: DebugReport) -> dict[str, JsonValue]:
    return {
        "lines": {"total": report.lines.total, "parsed": report.lines.parsed, "malformed": report.lines.malformed},
        "routes": [
            {
                "method": route.method,
                "route": route.route,
                "count": route.count,
                "error_rate": round(route.error_rate, 6),
                "p50_ms": _round(route.p50_ms),
                "p95_ms": _round(route.p95_ms),
                "p99_ms": _round(route.p99_ms),
                "statuses": {str(status): count for status, count in route.statuses},
            }
            for route in report.routes
        ],
        "spikes": [
            {"start": iso(spike.start), "end": iso(spike.end), "metric": spike.metric.value, "routes": list(spike.routes)}
            for spike in report.spikes
        ],
        "errors": [
            {
                "fingerprint": group.fingerprint,
                "exception": group.exception,
                "message": group.message,
                "count": group.count,
                "culprit": (
                    {"path": group.culprit.path, "line": group.culprit.line, "function": group.culprit.function}
                    if group.culprit is not None else None
                ),
                "first_seen": iso(group.first_seen),
                "last_seen": iso(group.last_seen),
            }
            for group in report.errors
        ],
        "slow_queries": [
            {
                "fingerprint": query.fingerprint,
                "statement": query.statement,
                "count": query.count,
                "total_ms": _round(query.total_ms),
                "mean_ms": _round(query.mean_ms),
                "max_ms": _round(query.max_ms),
                "first_seen": iso(query.first_seen),
                "last_seen": iso(query.last_seen),
            }
            for query in report.slow_queries
        ],
        "causes": [{"cause": cause.summary, "evidence": list(cause.evidence), "fix": cause.fix} for cause in report.causes],
        "warnings": list(report.warnings),
    }


def _json_tail(report: DebugReport) -> dict[str, JsonValue]:
    return {
        "inputs": [
            {
                "path": item.path,
                "format": item.format.value if item.format else None,
                "lines": item.total,
                "parsed": item.parsed,
                "malformed": item.malformed,
                "time_zone": item.zone,
                "problem": item.problem,
            }
            for item in report.inputs
        ],
    }


def debug_document(report: DebugReport) -> Report:
    """The debug report for the shared renderers: causes first, then the evidence behind them."""
    causes = tuple(finding for finding in report.findings() if finding.code.startswith("LG"))
    samples = tuple(f"{sample.path}:{sample.line} ({sample.reason}): {sample.text[:120]!r}"
                    for sample in report.malformed_samples)
    return Report(
        findings=causes + report.trace_findings,
        command="debug",
        review_summary=False,
        by_location=False,
        text_header=True,
        title="Root-cause analysis",
        header=_header(report),
        warnings=report.warnings,
        findings_title="Probable causes",
        no_findings="No probable cause found in the evidence: the logs hold none that names one.",
        sections=(
            Items("Symptoms without an evidenced cause", report.unexplained),
            timeline(report),
            _spikes(report),
            _errors(report),
            _routes(report),
            _queries(report),
            Items("Signals in the logs", tuple(f"{signal.kind.value}: {signal.count:,}, first at {signal.example}: "
                                               f"{signal.detail}" for signal in report.signals)),
            _inputs(report),
            Items(f"{report.lines.malformed:,} malformed lines (counted, not parsed); samples" if samples else "",
                  samples),
        ),
        notes=report.notes,
        json_head=_json_head(report),
        json_tail=_json_tail(report),
    )
