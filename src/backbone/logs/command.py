"""`backbone debug LOG...`: the click command. The lead wires it with `cli.add_command(debug)`.

Exit codes (docs/debug.md): 0 the report was produced and states no probable cause;
1 the report was produced and states at least one probable cause (0 with --exit-zero);
2 usage error, no readable input (no line of any input could be parsed), the report
could not be written, or it is incomplete because backbone's temporary directory filled up
(what could be analysed is still written).
"""

from __future__ import annotations

from pathlib import Path

import click

from backbone.logs.analyze import DebugOptions, analyze
from backbone.logs.document import debug_document
from backbone.logs.jsonlog import FieldSpecError
from backbone.logs.model import LogFormat
from backbone.logs.store import DEFAULT_MEMORY_LIMIT
from backbone.logs.zones import TimezoneError, UserZone
from backbone.report import OutputFormat, render, render_html_page
from backbone.report.terminal import text_width, use_color
from backbone.runtime.detectors import DetectionSettings

EXIT_NO_CAUSE = 0
EXIT_CAUSES = 1
EXIT_ERROR = 2
OUTPUT_FORMATS = tuple(f.value for f in OutputFormat)


def _error(message: str) -> int:
    click.echo(f"backbone: error: {message}", err=True)
    return EXIT_ERROR


@click.command("debug")
@click.argument("logs", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option("--log-format", type=click.Choice([f.value for f in LogFormat]), default=None,
              help="Read every file in this format instead of detecting it per file.")
@click.option("--format", "output_format", type=click.Choice(OUTPUT_FORMATS), default="text", show_default=True,
              help="Report format.")
@click.option("--html", "html_file", type=click.Path(dir_okay=False, path_type=str),
              help="Also write a self-contained HTML report with charts to FILE.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=str), help="Write the report to FILE.")
@click.option("--json-field", "json_fields", multiple=True, metavar="FIELD=KEY[:UNIT]",
              help="Map a JSON log key: timestamp, method, path, status or duration (unit s, ms, us, ns), "
                   "e.g. duration=latency:ms or path=http.url.")
@click.option("--bucket", "bucket_seconds", type=click.IntRange(min=1), default=None,
              help="Time bucket in seconds for the timeline and spike detection (default: from the time span).")
@click.option("--timezone", "timezone_name", default=None, metavar="ZONE",
              help="The zone of logs whose timestamps name none: +01:00, UTC or Europe/Paris (default: the zone "
                   "the other logs agree on).")
@click.option("--memory-limit", default=DEFAULT_MEMORY_LIMIT, show_default=True, help="DuckDB memory limit; past it, DuckDB spills.")
@click.option("--n-plus-one-threshold", type=click.IntRange(min=2), default=5, show_default=True,
              help="Traces: repeats of one query from one place in one request that make an N+1 (RT101).")
@click.option("--slow-query-ms", type=click.FloatRange(min=0), default=500.0, show_default=True,
              help="Traces: query duration reported as slow (RT102).")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when a probable cause is stated.")
@click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True)
def debug(
    logs: tuple[str, ...],
    log_format: str | None,
    output_format: str,
    html_file: str | None,
    output: str | None,
    json_fields: tuple[str, ...],
    bucket_seconds: int | None,
    memory_limit: str,
    timezone_name: str | None,
    n_plus_one_threshold: int,
    slow_query_ms: float,
    exit_zero: bool,
    color: str,
) -> int:
    """Root-cause analysis from access logs, application logs with tracebacks, slow-query logs and
    OpenTelemetry traces (OTLP JSON exports).

    LOG is a file (plain or gzip) or a directory of them; each file's format is detected.
    """
    options = DebugOptions(
        log_format=LogFormat(log_format) if log_format else None,
        json_fields=json_fields,
        bucket_seconds=bucket_seconds,
        memory_limit=memory_limit,
        timezone=timezone_name,
        detection=DetectionSettings(n_plus_one_threshold=n_plus_one_threshold, slow_query_ms=slow_query_ms),
    )
    try:
        if timezone_name is not None:
            UserZone.parse(timezone_name)
        report = analyze(logs, options)
    except (FieldSpecError, TimezoneError) as error:
        return _error(str(error))
    for warning in report.warnings:
        if report.incomplete is None or not warning.startswith("the report is incomplete"):
            click.echo(f"backbone: warning: {warning}", err=True)
    if not report.readable and report.incomplete is None:
        return _error("no readable input: no line of " + ", ".join(logs) + " could be parsed")
    if report.lines.malformed:
        click.echo(f"backbone: warning: {report.lines.malformed:,} malformed lines counted and skipped "
                   "(samples in the report)", err=True)

    document = debug_document(report)
    rendered = render(document, OutputFormat(output_format), color=use_color(color, output), width=text_width(output))
    try:
        if output is not None:
            Path(output).write_text(rendered, encoding="utf-8")
        else:
            click.echo(rendered, nl=not rendered.endswith("\n"))
        if html_file is not None:
            Path(html_file).write_text(render_html_page(document), encoding="utf-8")
    except OSError as error:
        return _error(f"cannot write {error.filename}: {error.strerror}")
    if report.incomplete is not None:
        return _error(f"the report is incomplete: {report.incomplete}")
    if (report.causes or report.trace_findings) and not exit_zero:
        return EXIT_CAUSES
    return EXIT_NO_CAUSE
