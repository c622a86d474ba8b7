"""The terminal report of `backbone debug`: causes first, then the evidence behind them."""

from __future__ import annotations

import io

from rich.console import Console
from rich.table import Table
from rich.text import Text

from backbone.logs.model import DebugReport, SpikeMetric
from backbone.report import terminal
from backbone.logs.wording import between, ms, percent, when

TOP_ROUTES = 15
TOP_ERRORS = 10
TOP_QUERIES = 10


def status_classes(statuses: tuple[tuple[int, int], ...]) -> list[tuple[str, int]]:
    classes: dict[str, int] = {}
    for status, count in statuses:
        key = f"{status // 100}xx"
        classes[key] = classes.get(key, 0) + count
    return sorted(classes.items())


def render_text(report: DebugReport, *, color: bool = False, width: int = 120) -> str:
    buffer = io.StringIO()
    console = terminal.console(buffer, color=color, width=width, soft_wrap=False)
    _header(console, report)
    _causes(console, report)
    _trace_findings(console, report)
    _spikes(console, report)
    _errors(console, report)
    _routes(console, report)
    _queries(console, report)
    _signals(console, report)
    _data_quality(console, report)
    return buffer.getvalue()


def _header(console: Console, report: DebugReport) -> None:
    files = sum(1 for item in report.inputs if not item.skipped)
    console.print(Text("backbone debug", style="bold"), end=" ")
    console.print(f"{report.lines.parsed:,} of {report.lines.total:,} lines parsed from {files} "
                  f"file{'s' if files != 1 else ''}, {report.requests:,} requests, "
                  f"{when(report.first_seen)} to {when(report.last_seen)}")
    if report.statuses:
        total = sum(count for _, count in report.statuses) or 1
        parts = [f"{name} {count:,} ({percent(count / total)})" for name, count in status_classes(report.statuses)]
        console.print("Statuses: " + ", ".join(parts))
    zoned = [item for item in report.inputs if item.zone and not item.zone.endswith("(from the log)")]
    if zoned:
        console.print("Time: " + "; ".join(f"{item.path} read in {item.zone}" for item in zoned))
    for warning in report.warnings:
        console.print(Text(f"Warning: {warning}", style="yellow"))
    console.print()


def _causes(console: Console, report: DebugReport) -> None:
    if not report.causes:
        console.print(Text("No probable cause found in the evidence.", style="bold green"))
    for number, cause in enumerate(report.causes, start=1):
        console.print(Text(f"{number}. [{cause.kind.code}] {cause.summary}", style="bold red"))
        for item in cause.evidence:
            console.print(f"   - {item}", markup=False)
        console.print(Text(f"   Fix: {cause.fix}", style="green"))
        console.print()
    for symptom in report.unexplained:
        console.print(Text(f"Unexplained: {symptom}", style="yellow"))
    if report.unexplained or not report.causes:
        console.print()


def _trace_findings(console: Console, report: DebugReport) -> None:
    if not report.trace_findings:
        return
    console.print(Text("In the traces (backbone profile's detectors)", style="bold"))
    for finding in report.trace_findings:
        line = Text(f"  {finding.path}:{finding.line}: ")
        line.append(finding.code, style=terminal.SEVERITY_STYLE[finding.severity])
        line.append(f" [{finding.name}] {finding.message}")
        console.print(line)
        if finding.fix is not None:
            console.print(Text(f"    fix: {finding.fix.message}", style="green"))
    console.print()


def _spikes(console: Console, report: DebugReport) -> None:
    if not report.spikes:
        return
    table = Table(title="Spikes", title_justify="left", show_edge=False)
    for column in ("metric", "window", "peak", "usual", "driven by"):
        table.add_column(column)
    for spike in report.spikes:
        show = ms if spike.metric is SpikeMetric.LATENCY else percent
        table.add_row(spike.metric.value, between(spike.start, spike.end), show(spike.peak), show(spike.baseline),
                      ", ".join(spike.routes) or "-")
    console.print(table)
    console.print()


def _errors(console: Console, report: DebugReport) -> None:
    if not report.errors:
        return
    table = Table(title="Errors (tracebacks grouped)", title_justify="left", show_edge=False)
    for column in ("count", "exception", "culprit", "first seen", "last seen"):
        table.add_column(column, justify="right" if column == "count" else "left")
    for group in report.errors[:TOP_ERRORS]:
        culprit = (f"{group.culprit.path}:{group.culprit.line} in {group.culprit.function}"
                   if group.culprit else "(no application frame)")
        message = group.message.splitlines()[0][:80] if group.message else ""
        table.add_row(f"{group.count:,}", Text(f"{group.exception}: {message}" if message else group.exception),
                      Text(culprit), when(group.first_seen), when(group.last_seen))
    console.print(table)
    console.print()


def _routes(console: Console, report: DebugReport) -> None:
    if not report.routes:
        return
    routes = sorted(report.routes, key=lambda route: (route.p95_ms is None, -(route.p95_ms or 0), -route.count))
    table = Table(title="Slowest routes (by p95)", title_justify="left", show_edge=False)
    for column in ("route", "count", "4xx", "5xx", "p50", "p95", "p99", "max"):
        table.add_column(column, justify="left" if column == "route" else "right")
    for route in routes[:TOP_ROUTES]:
        table.add_row(Text(route.label), f"{route.count:,}", percent(route.client_error_rate),
                      percent(route.error_rate), ms(route.p50_ms), ms(route.p95_ms), ms(route.p99_ms),
                      ms(route.max_ms))
    console.print(table)
    console.print()


def _queries(console: Console, report: DebugReport) -> None:
    if not report.slow_queries:
        return
    table = Table(title="Slow queries (by total time)", title_justify="left", show_edge=False)
    for column in ("fingerprint", "count", "total", "mean", "max", "statement"):
        table.add_column(column, justify="right" if column in ("count", "total", "mean", "max") else "left")
    for query in report.slow_queries[:TOP_QUERIES]:
        table.add_row(query.fingerprint, f"{query.count:,}", ms(query.total_ms), ms(query.mean_ms), ms(query.max_ms),
                      Text(query.statement[:100]))
    console.print(table)
    console.print()


def _signals(console: Console, report: DebugReport) -> None:
    if not report.signals:
        return
    console.print(Text("Signals in the logs", style="bold"))
    for signal in report.signals:
        console.print(f"  {signal.kind.value}: {signal.count:,}, first at {signal.example}: {signal.detail}",
                      markup=False)
    console.print()


def _data_quality(console: Console, report: DebugReport) -> None:
    if report.lines.malformed:
        console.print(Text(f"{report.lines.malformed:,} malformed lines (counted, not parsed); samples:", style="yellow"))
        for sample in report.malformed_samples:
            console.print(f"  {sample.path}:{sample.line} ({sample.reason}): {sample.text[:100]!r}", markup=False)
    for note in report.notes:
        console.print(Text(f"Note: {note}", style="dim"))
