"""OpenTelemetry traces as evidence: OTLP JSON exports, as a collector's file exporter writes them.

One JSON document per line (`{"resourceSpans": [...]}`), or one pretty-printed document
per file. From the spans:

- each SERVER span is a request (method, route, status, duration, start time): it feeds
  the per-route percentiles, the timeline and the spikes like an access log line;
- each database span (`db.statement` or `db.query.text`) is a timed query, grouped by
  backbone's one SQL fingerprint like a PostgreSQL log's;
- each `exception` event with a stack trace is a traceback, grouped like an application log's;
- and the requests, with the database spans under each (by the parent chain of the trace),
  go through `backbone profile`'s own detectors (`backbone.runtime.detectors.Analyzer`):
  N+1 groups (RT101) with their code location when the spans carry it (`code.filepath`,
  `code.lineno`, `code.function`, or their newer `code.file.path`, `code.line.number`,
  `code.function.name`), slow queries (RT102) and per-route statistics.

Spans of one trace may be spread over lines and files: requests are put together once
every file has been read (`TraceCollector.findings`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path

import msgspec

from backbone.findings import Finding
from backbone.logs.jsonlog import read_json_strict
from backbone.logs.records import RecordSink
from backbone.logs.skips import StoreFailure, record_problem
from backbone.logs.tracebacks import parse_traceback_text
from backbone.runtime.detectors import Analyzer, DetectionSettings, RouteSummary
from backbone.runtime.events import CallSite, QueryEvent, QueryLayer, RequestRecord

# A whole-file (pretty-printed) export larger than this is not read as one document.
MAX_DOCUMENT_BYTES = 64 * 1024 * 1024
# The most spans kept for putting requests together; past it, a warning says so.
MAX_SPANS = 2_000_000
SPAN_KIND_SERVER = 2
STATUS_ERROR = 2

Scalar = str | int | float | bool
_DIALECTS = {"postgresql": "postgresql", "postgres": "postgresql", "sqlite": "sqlite", "mysql": "mysql",
             "mariadb": "mysql", "oracle": "oracle", "mssql": "mssql"}


def is_otlp_document(document: object) -> bool:
    return isinstance(document, dict) and isinstance(document.get("resourceSpans"), list)


class _Server(msgspec.Struct):
    method: str
    route: str
    path: str
    status: int
    duration_s: float


class _Trace(msgspec.Struct):
    parents: dict[str, str] = msgspec.field(default_factory=dict)
    servers: dict[str, _Server] = msgspec.field(default_factory=dict)
    # (parent span id, query)
    queries: list[tuple[str, QueryEvent]] = msgspec.field(default_factory=list)


class TraceCollector:
    """Spans from every OTLP input of one `backbone debug` run, put together into requests at the end."""

    def __init__(self, settings: DetectionSettings | None = None) -> None:
        self.settings = settings or DetectionSettings()
        self._traces: dict[str, _Trace] = {}
        self.spans = 0
        self.dropped = 0

    @property
    def empty(self) -> bool:
        return not self._traces

    def feed_text(self, text: str, sink: RecordSink, *, whole: bool) -> None:
        """An export's text: one document per line, or (whole) one document."""
        if whole:
            if self._feed_document(1, text, sink):
                sink.parsed(max(text.count("\n"), 1))
            return
        for number, line in enumerate(text.splitlines(), start=1):
            self.feed_line(number, line, sink)

    def feed_line(self, number: int, line: str, sink: RecordSink) -> None:
        """One line of an OTLP JSON lines export (blank lines are skipped)."""
        if line.strip() and self._feed_document(number, line, sink):
            sink.parsed()

    def _feed_document(self, number: int, text: str, sink: RecordSink) -> bool:
        try:
            document = read_json_strict(text)
        except (ValueError, RecursionError) as error:
            reason = "nested too deeply to read" if isinstance(error, RecursionError) else str(error)
            sink.malformed(number, text[:200], f"not an OTLP JSON document: {reason}")
            return False
        if not isinstance(document, dict) or not is_otlp_document(document):
            sink.malformed(number, text[:200], "not an OTLP JSON document: no resourceSpans")
            return False
        for resource in _objects(document.get("resourceSpans")):
            for scope_spans in _objects(resource.get("scopeSpans")):
                scope = scope_spans.get("scope")
                scope_name = str(scope.get("name", "")) if isinstance(scope, dict) else ""
                for span in _objects(scope_spans.get("spans")):
                    try:
                        self._span(number, span, scope_name, sink)
                    except StoreFailure:
                        raise
                    except Exception as error:  # noqa: BLE001 - one span that cannot be analysed never stops the file
                        sink.skip(number, str(span.get("name", ""))[:200], record_problem(error))
        return True

    def _span(self, number: int, span: Mapping[str, object], scope: str, sink: RecordSink) -> None:
        trace_id, span_id = str(span.get("traceId", "")), str(span.get("spanId", ""))
        parent = str(span.get("parentSpanId", "") or "")
        attributes = _attributes(span.get("attributes"))
        start_ns, end_ns = _nanos(span.get("startTimeUnixNano")), _nanos(span.get("endTimeUnixNano"))
        ts = _time(start_ns)
        duration_s = max(end_ns - start_ns, 0) / 1e9 if start_ns and end_ns else 0.0
        status = span.get("status")
        failed = isinstance(status, dict) and _int(status.get("code")) == STATUS_ERROR
        for event in _objects(span.get("events")):
            if event.get("name") == "exception":
                stack = _attributes(event.get("attributes")).get("exception.stacktrace")
                parsed = parse_traceback_text(stack) if isinstance(stack, str) else None
                if parsed is not None:
                    sink.exception(number, _time(_nanos(event.get("timeUnixNano"))) or ts, parsed)
        trace = self._trace(trace_id)
        if trace is None:
            return
        if parent:
            trace.parents[span_id] = parent
        statement = attributes.get("db.query.text", attributes.get("db.statement"))
        if isinstance(statement, str) and statement.strip():
            system = str(attributes.get("db.system.name", attributes.get("db.system", ""))).lower()
            dialect = _DIALECTS.get(system)
            sink.query(number, ts, statement, duration_s * 1000, dialect)
            query = QueryEvent(statement, duration_s, _call_site(attributes), _layer(scope), dialect=dialect,
                               failed=failed)
            trace.queries.append((parent, query))
            return
        if _int(span.get("kind")) != SPAN_KIND_SERVER:
            return
        method = str(attributes.get("http.request.method", attributes.get("http.method", ""))).upper() or "-"
        path = str(attributes.get("url.path", attributes.get("http.target", ""))).split("?", 1)[0]
        route = str(attributes.get("http.route", "")) or path or str(span.get("name", ""))
        code = _int(attributes.get("http.response.status_code", attributes.get("http.status_code")))
        status_code = code if code is not None and 100 <= code <= 599 else (500 if failed else 200)
        sink.request(number, ts, method, route, status_code, duration_s * 1000)
        trace.servers[span_id] = _Server(method, route, path or route, status_code, duration_s)

    def _trace(self, trace_id: str) -> _Trace | None:
        self.spans += 1
        if self.spans > MAX_SPANS:
            self.dropped += 1
            return None
        trace = self._traces.get(trace_id)
        if trace is None:
            trace = self._traces[trace_id] = _Trace()
        return trace

    def records(self) -> Iterable[RequestRecord]:
        """Each SERVER span as a request, with the database spans whose nearest SERVER ancestor it is."""
        for trace in self._traces.values():
            if not trace.servers:
                continue
            by_server: dict[str, list[QueryEvent]] = {span_id: [] for span_id in trace.servers}
            for parent, query in trace.queries:
                owner = _owner(parent, trace)
                if owner is not None:
                    by_server[owner].append(query)
            for span_id, server in trace.servers.items():
                yield RequestRecord(server.method, server.route, server.path, server.status, server.duration_s,
                                    tuple(by_server[span_id]))

    def analyse(self, root: Path) -> tuple[tuple[Finding, ...], tuple[RouteSummary, ...]]:
        """`backbone profile`'s detectors on the requests of the traces: findings and per-route statistics."""
        analyzer = Analyzer(self.settings)
        batch: list[RequestRecord] = []
        for record in self.records():
            batch.append(record)
            if len(batch) >= 1000:
                analyzer.add(batch)
                batch = []
        analyzer.add(batch)
        return tuple(issue.finding(root) for issue in analyzer.issues()), analyzer.routes()

    def warnings(self) -> tuple[str, ...]:
        if not self.dropped:
            return ()
        return (f"{self.dropped:,} spans past the first {MAX_SPANS:,} were counted in the timeline but not put "
                "together into requests for the N+1 and slow-query detectors",)


def _owner(parent: str, trace: _Trace) -> str | None:
    """The nearest SERVER span above a span, following parent links (bounded, cycles ignored)."""
    seen = 0
    current = parent
    while current and seen < 256:
        if current in trace.servers:
            return current
        current = trace.parents.get(current, "")
        seen += 1
    return None


def _objects(value: object) -> list[dict[str, object]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _attributes(value: object) -> dict[str, Scalar]:
    """OTLP's `[{"key": ..., "value": {"stringValue": ...}}]` as a dict of scalars (arrays and maps left out)."""
    found: dict[str, Scalar] = {}
    for item in _objects(value):
        key, wrapped = item.get("key"), item.get("value")
        if not isinstance(key, str) or not isinstance(wrapped, dict):
            continue
        if isinstance(wrapped.get("stringValue"), str):
            found[key] = str(wrapped["stringValue"])
        elif "intValue" in wrapped:
            number = _int(wrapped["intValue"])
            if number is not None:
                found[key] = number
        elif isinstance(wrapped.get("doubleValue"), (int, float)) and not isinstance(wrapped.get("doubleValue"), bool):
            found[key] = float(wrapped["doubleValue"])
        elif isinstance(wrapped.get("boolValue"), bool):
            found[key] = bool(wrapped["boolValue"])
    return found


def _int(value: object) -> int | None:
    """An integer as OTLP JSON writes it: a number, or (int64) a decimal string."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit() and len(value) <= 20:
        return int(value)
    return None


def _nanos(value: object) -> int:
    number = _int(value)
    return number if number is not None and number > 0 else 0


def _time(nanos: int) -> datetime | None:
    if nanos <= 0:
        return None
    try:
        return datetime.fromtimestamp(nanos / 1e9, tz=timezone.utc).replace(tzinfo=None)
    except (OverflowError, OSError, ValueError):
        return None


def _call_site(attributes: Mapping[str, Scalar]) -> CallSite | None:
    path = attributes.get("code.file.path", attributes.get("code.filepath"))
    line = attributes.get("code.line.number", attributes.get("code.lineno"))
    function = attributes.get("code.function.name", attributes.get("code.function", ""))
    if not isinstance(path, str) or not path or not isinstance(line, int) or isinstance(line, bool) or line < 1:
        return None
    return CallSite(path, line, str(function).rsplit(".", 1)[-1] or "?")


def _layer(scope: str) -> QueryLayer:
    if "sqlalchemy" in scope:
        return QueryLayer.SQLALCHEMY
    if "django" in scope:
        return QueryLayer.DJANGO
    return QueryLayer.DBAPI
