"""`analyze(paths)`: every input read in its format, analysed in DuckDB, causes named."""

from __future__ import annotations

import errno
import tempfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import duckdb
import msgspec
from msgspec.structs import replace

from backbone.logs.analysis import MAX_ROUTES, Analysis
from backbone.logs.applog import PythonLogParser
from backbone.logs.causes import CauseFinder
from backbone.logs.formats import detect_format
from backbone.logs.jsonlog import (
    DurationUnit,
    JsonField,
    JsonLinesParser,
    parse_field_specs,
    read_json,
    resolve_mapping,
)
from backbone.logs.model import (
    DebugReport,
    InputSummary,
    LineCounts,
    LogFormat,
    MalformedLine,
)
from backbone.logs.otlp import MAX_DOCUMENT_BYTES as MAX_OTLP_DOCUMENT_BYTES
from backbone.logs.otlp import TraceCollector
from backbone.logs.outliers import TimelineOutliers, leave_out_outliers
from backbone.logs.postgres import PostgresCsvParser, PostgresStderrParser
from backbone.logs.profile_json import MAX_PROFILE_BYTES, parse_profile
from backbone.logs.skips import StoreFailure
from backbone.logs.sources import (
    LineReader,
    UnreadableInput,
    expand_paths,
    is_gzip,
    open_binary,
    read_head,
    sample_lines,
    unreadable_start,
)
from backbone.logs.store import (
    DEFAULT_MEMORY_LIMIT,
    AnalyticsStore,
    StoreSink,
    store_failure,
)
from backbone.logs.wording import count, when
from backbone.logs.zones import UserZone, ZoneSample, align, sample_zones
from backbone.records import Record
from backbone.redaction import mask_values
from backbone.runtime.detectors import DetectionSettings

# Malformed lines shown in the report, over all files.
MAX_SAMPLES = 20
# An OSError with one of these means backbone's own temporary directory cannot take more.
_DISK_FULL = frozenset({errno.ENOSPC, errno.EFBIG, errno.EDQUOT, errno.EROFS})


class DebugOptions(Record, frozen=True):
    # Read every file in this format instead of detecting it.
    log_format: LogFormat | None = None
    # JSON field mapping overrides: "duration=latency:ms", "path=http.url".
    json_fields: tuple[str, ...] = ()
    # Time bucket width for spike detection; chosen from the time span when None.
    bucket_seconds: int | None = None
    memory_limit: str = DEFAULT_MEMORY_LIMIT
    threads: int | None = None
    # The zone of logs whose timestamps name none (`--timezone`): "+01:00", "UTC", "Europe/Paris".
    timezone: str | None = None
    # The thresholds of `backbone profile`'s detectors, applied to OpenTelemetry traces.
    detection: DetectionSettings = msgspec.field(default_factory=DetectionSettings)


def analyze(paths: Sequence[str | Path], options: DebugOptions | None = None) -> DebugReport:
    """Read the logs at `paths` (files or directories) and return the analysis.

    Never raises for bad input: unreadable, empty, binary or unknown files are reported
    in `inputs` with their problem, a record that cannot be analysed is skipped and
    counted, and the rest is analysed. When backbone's own temporary directory fills up,
    the report holds what could be analysed and says why in `incomplete`. Raises
    FieldSpecError for an invalid JSON field mapping.
    """
    options = options or DebugOptions()
    overrides = parse_field_specs(options.json_fields)
    files, missing = expand_paths(paths)
    inputs: list[InputSummary] = [InputSummary(path, None, problem="no such file or directory") for path in missing]
    try:
        scratch = tempfile.TemporaryDirectory(prefix="backbone-debug-", ignore_cleanup_errors=True)
    except OSError as error:
        failure = store_failure(error)
        inputs += [InputSummary(str(path), None, problem=f"not analysed: {failure}") for path in files]
        return _finished(_bare_report(tuple(inputs), ()), failure)
    with scratch:
        try:
            store = AnalyticsStore(Path(scratch.name), memory_limit=options.memory_limit, threads=options.threads)
        except (duckdb.Error, OSError) as error:
            failure = store_failure(error)
            inputs += [InputSummary(str(path), None, problem=f"not analysed: {failure}") for path in files]
            return _finished(_bare_report(tuple(inputs), ()), failure)
        try:
            return _analyze_files(store, files, inputs, options, overrides, TraceCollector(options.detection))
        finally:
            store.close()


def _analyze_files(store: AnalyticsStore, files: Sequence[Path], inputs: list[InputSummary], options: DebugOptions,
                   overrides: dict[JsonField, tuple[str, DurationUnit | None]], traces: TraceCollector) -> DebugReport:
    samples: list[MalformedLine] = []
    failure: StoreFailure | None = None
    zones: dict[str, tuple[int, ZoneSample]] = {}
    for path in files:
        if failure is not None:
            inputs.append(InputSummary(str(path), None, problem=f"not analysed: {failure}"))
            continue
        try:
            summary, file_samples = _ingest(store, path, options, overrides, zones, traces)
        except StoreFailure as error:
            failure = error
        except OSError as error:
            if error.errno not in _DISK_FULL:
                raise
            failure = store_failure(error)
        except Exception as error:  # noqa: BLE001 - one file that cannot be analysed never loses the report
            detail = (str(error).splitlines() or [""])[0][:160]
            summary, file_samples = InputSummary(str(path), None, problem=f"not analysed: {type(error).__name__}"
                                                 + (f": {detail}" if detail else "")), []
        if failure is not None:
            summary, file_samples = InputSummary(str(path), None, problem=f"analysed in part at most: {failure}"), []
        inputs.append(summary)
        samples.extend(file_samples[: max(0, MAX_SAMPLES - len(samples))])
    zone_warnings: list[str] = []
    if failure is None:
        try:
            inputs, zone_warnings = _align_zones(store, inputs, zones, options)
        except (duckdb.Error, OSError) as error:
            failure = error if isinstance(error, StoreFailure) else store_failure(error)
    try:
        report = _report(store, tuple(inputs), tuple(samples), options)
        report = replace(report, warnings=(*zone_warnings, *report.warnings))
        if not traces.empty:
            found, _ = traces.analyse(Path("."))
            # A trace names its code location; its file is never read (the trace is input, not the code).
            report = replace(report, trace_findings=tuple(replace(item, source_line="") for item in found),
                             warnings=report.warnings + traces.warnings())
    except (StoreFailure, duckdb.Error, OSError) as error:
        failure = failure or (error if isinstance(error, StoreFailure) else store_failure(error))
        report = _bare_report(tuple(inputs), tuple(samples))
    return _finished(report, failure)


def _align_zones(store: AnalyticsStore, inputs: list[InputSummary], zones: dict[str, tuple[int, ZoneSample]],
                 options: DebugOptions) -> tuple[list[InputSummary], list[str]]:
    """Every file on the UTC clock where its zone is known or can be inferred (logs/zones.py)."""
    user_zone = UserZone.parse(options.timezone) if options.timezone else None
    read_in, shifts, warnings = align({path: sample for path, (_, sample) in zones.items()}, user_zone)
    for path, alignment in shifts.items():
        store.shift_file(zones[path][0], alignment.offset_minutes, alignment.zone_name)
    return [replace(item, zone=read_in.get(item.path)) for item in inputs], warnings


def _ingest(store: AnalyticsStore, path: Path, options: DebugOptions,
            overrides: dict[JsonField, tuple[str, DurationUnit | None]],
            zones: dict[str, tuple[int, ZoneSample]], traces: TraceCollector,
            ) -> tuple[InputSummary, list[MalformedLine]]:
    display = str(path)
    try:
        head = read_head(path)
    except UnreadableInput as error:
        return InputSummary(display, None, problem=str(error)), []
    except OSError as error:
        return InputSummary(display, None, problem=f"cannot read: {error.strerror or error}"), []
    if options.log_format is not None:
        unreadable = unreadable_start(head)
        if unreadable is not None:
            return InputSummary(display, None, problem=unreadable), []
        log_format = options.log_format
    else:
        detection = detect_format(path, head)
        if detection.format is None:
            return InputSummary(display, None, problem=detection.problem), []
        log_format = detection.format
    file_id = store.add_file(display)
    if log_format is not LogFormat.PROFILE:
        zones[display] = (file_id, sample_zones(sample_lines(head)))
    if log_format.is_access_log:
        return _ingest_access(store, file_id, path, display, log_format)
    sink = store.sink(file_id, display)
    reader = LineReader(path)
    problem: str | None = None
    if log_format is LogFormat.PYTHON:
        PythonLogParser(sink).feed_all(reader)
    elif log_format is LogFormat.POSTGRES:
        PostgresStderrParser(sink).feed_all(reader)
    elif log_format is LogFormat.POSTGRES_CSV:
        PostgresCsvParser(sink).feed_all(reader)
    elif log_format is LogFormat.JSON:
        samples = [_json_object(line) for line in sample_lines(head)]
        mapping = resolve_mapping([sample for sample in samples if sample is not None], overrides)
        JsonLinesParser(sink, mapping).feed_all(reader)
    elif log_format is LogFormat.OTLP:
        problem = _ingest_otlp(path, sink, traces)
    else:
        problem = _ingest_profile(path, sink)
    sink.flush()
    return _summary(display, log_format, sink, reader.problem or problem), sink.samples


def _ingest_access(store: AnalyticsStore, file_id: int, path: Path, display: str,
                   log_format: LogFormat) -> tuple[InputSummary, list[MalformedLine]]:
    problem: str | None = None
    try:
        counts = store.ingest_access_log(file_id, path, display, gzip=is_gzip(path))
    except duckdb.Error:
        # Not clean UTF-8, an overlong line, mixed line endings or a truncated gzip
        # stream: copy what can be read, line for line, and parse the copy.
        reader = LineReader(path)
        clean = store.sanitized_copy(path, reader)
        counts = store.ingest_access_log(file_id, clean, display, gzip=False)
        clean.unlink()
        problem = reader.problem
    summary = InputSummary(display, log_format, counts.total, counts.parsed, counts.malformed, problem,
                           rejected=counts.rejected)
    return summary, list(counts.samples)


def _ingest_profile(path: Path, sink: StoreSink) -> str | None:
    if path.stat().st_size > MAX_PROFILE_BYTES:
        return f"larger than {MAX_PROFILE_BYTES // (1024 * 1024)} MiB: not a profile report"
    reader = LineReader(path)
    text = "\n".join(line.text or "" for line in reader)
    parse_profile(text, sink)
    return reader.problem


def _ingest_otlp(path: Path, sink: StoreSink, traces: TraceCollector) -> str | None:
    """An OTLP JSON export: one document per line (a collector batch may be megabytes long), or one
    pretty-printed document; each document is read whole up to MAX_OTLP_DOCUMENT_BYTES."""
    try:
        with open_binary(path) as stream:
            data = stream.read(MAX_OTLP_DOCUMENT_BYTES + 1)
            if data.lstrip().split(b"\n", 1)[0].strip() == b"{":
                if len(data) > MAX_OTLP_DOCUMENT_BYTES:
                    return f"larger than {MAX_OTLP_DOCUMENT_BYTES // (1024 * 1024)} MiB: not one OTLP JSON document"
                traces.feed_text(data.decode("utf-8", "replace"), sink, whole=True)
                return None
            number = 0
            pending = b""
            while True:
                lines = (pending + data).split(b"\n")
                pending = lines.pop()
                for raw in lines:
                    number += 1
                    traces.feed_line(number, raw.decode("utf-8", "replace"), sink)
                if len(pending) > MAX_OTLP_DOCUMENT_BYTES:
                    number += 1
                    sink.malformed(number, pending[:200].decode("utf-8", "replace"),
                                   f"line longer than {MAX_OTLP_DOCUMENT_BYTES // (1024 * 1024)} MiB")
                    pending = b""
                    _skip_to_line_end(stream)
                data = stream.read(1 << 20)
                if not data:
                    break
            if pending.strip():
                traces.feed_line(number + 1, pending.decode("utf-8", "replace"), sink)
    except (OSError, EOFError, UnreadableInput) as error:
        return f"read in part: {getattr(error, 'strerror', None) or error}"
    return None


def _skip_to_line_end(stream: BinaryIO) -> None:
    while True:
        chunk = stream.read(1 << 20)
        if not chunk or b"\n" in chunk:
            return


def _json_object(line: str) -> dict[str, object] | None:
    value = read_json(line)
    return value if isinstance(value, dict) else None


def _summary(display: str, log_format: LogFormat, sink: StoreSink, problem: str | None) -> InputSummary:
    return InputSummary(display, log_format, sink.parsed_lines + sink.malformed_lines, sink.parsed_lines,
                        sink.malformed_lines, problem, rejected=sink.skipped_records)


def _report(store: AnalyticsStore, inputs: tuple[InputSummary, ...], samples: tuple[MalformedLine, ...],
            options: DebugOptions) -> DebugReport:
    outliers = leave_out_outliers(store)
    if outliers is not None:
        inputs = _with_outliers(inputs, outliers)
    analysis = Analysis(store)
    seconds, buckets = analysis.buckets(options.bucket_seconds)
    spikes = analysis.spikes(buckets, seconds)
    errors = analysis.error_groups()
    exception_total = analysis.exception_total()
    diagnosis = CauseFinder(store, spikes=spikes, errors=errors, exception_total=exception_total,
                            bucket_seconds=seconds).diagnose()
    first, last = analysis.time_range()
    routes = analysis.routes()
    requests = analysis.request_count()
    notes: list[str] = []
    route_total = analysis.route_total()
    if route_total > MAX_ROUTES:
        notes.append(f"{route_total:,} routes seen; the {MAX_ROUTES} busiest are listed.")
    if requests and all(route.p50_ms is None for route in routes):
        notes.append("No request had a duration: add $request_time (nginx) or %D (Apache) to the access log "
                     "format to get latency percentiles and latency spikes.")
    if requests and not any(bucket.requests for bucket in buckets):
        notes.append("No request had a timestamp, so there is no timeline and no spike detection.")
    return DebugReport(
        inputs=inputs,
        lines=_line_counts(inputs),
        routes=routes,
        statuses=analysis.statuses(),
        buckets=buckets,
        bucket_seconds=seconds,
        spikes=spikes,
        errors=errors,
        slow_queries=analysis.slow_queries(),
        signals=analysis.signals(),
        causes=diagnosis.causes,
        malformed_samples=samples,
        first_seen=first,
        last_seen=last,
        requests=requests,
        unexplained=diagnosis.unexplained,
        notes=tuple(notes),
        warnings=_warnings(inputs, outliers),
    )


def _with_outliers(inputs: tuple[InputSummary, ...], outliers: TimelineOutliers) -> tuple[InputSummary, ...]:
    counts = {item.path: item.count for item in outliers.files}
    return tuple(replace(item, outliers=counts[item.path]) if item.path in counts else item for item in inputs)


def _warnings(inputs: Sequence[InputSummary], outliers: TimelineOutliers | None) -> tuple[str, ...]:
    """What the reader must know to trust the report, one sentence per file and problem."""
    warnings: list[str] = []
    for item in inputs:
        if item.skipped:
            warnings.append(f"{item.path}: skipped: {item.problem}")
        elif item.problem:
            warnings.append(f"{item.path}: {item.problem}; partial results")
        if item.rejected:
            warnings.append(f"{item.path}: {count(item.rejected, 'record')} skipped because a value could not be "
                            "analysed (the reasons are in the samples)")
    if outliers is not None:
        warnings += [f"{where.path}: {count(where.count, 'line')} dated far from the rest ({_span(where.first, where.last)}) "
                     f"left out of the timeline, which covers {_span(outliers.start, outliers.end)}"
                     for where in outliers.files]
    return tuple(warnings)


def _span(first: datetime, last: datetime) -> str:
    return when(first) if first == last else f"{when(first)} to {when(last)}"


def _line_counts(inputs: Sequence[InputSummary]) -> LineCounts:
    return LineCounts(
        total=sum(item.total for item in inputs),
        parsed=sum(item.parsed for item in inputs),
        malformed=sum(item.malformed for item in inputs),
    )


def _bare_report(inputs: tuple[InputSummary, ...], samples: tuple[MalformedLine, ...]) -> DebugReport:
    """The report when the analytics store cannot answer: the inputs and their counts only."""
    return DebugReport(
        inputs=inputs,
        lines=_line_counts(inputs),
        routes=(), statuses=(), buckets=(), bucket_seconds=60, spikes=(), errors=(), slow_queries=(), signals=(),
        causes=(), malformed_samples=samples, warnings=_warnings(inputs, None),
    )


def _finished(report: DebugReport, failure: StoreFailure | None) -> DebugReport:
    # Logs hold whatever was sent and raised: every string of the report (messages, samples,
    # routes, PostgreSQL details) is masked for secrets here, before any format renders it.
    if failure is None:
        return mask_values(report)
    return mask_values(replace(report, incomplete=str(failure),
                               warnings=(*report.warnings, f"the report is incomplete: {failure}")))
