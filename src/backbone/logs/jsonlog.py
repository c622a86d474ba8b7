"""JSON lines: uvicorn, gunicorn, structlog or any JSON logger.

Which key holds the timestamp, method, path, status and duration is found from the
first records (the names below, nested keys with dots), or given with
`--json-field duration=latency:ms`. A record with a path and a status is a request; any
record may carry a traceback (`exception`, `exc_info`, `stack_trace`...) and a message
that is evidence.
"""

from __future__ import annotations

import enum
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from backbone.logs.applog import UVICORN_ACCESS
from backbone.logs.records import SAMPLE_CHARS, RecordSink, signal_detail
from backbone.logs.signals import classify
from backbone.logs.skips import StoreFailure, record_problem
from backbone.logs.sources import Line
from backbone.logs.timeparse import parse_any
from backbone.logs.tracebacks import parse_traceback_text
from backbone.records import Record


class DurationUnit(enum.Enum):
    SECONDS = "s"
    MILLISECONDS = "ms"
    MICROSECONDS = "us"
    NANOSECONDS = "ns"

    @property
    def to_ms(self) -> float:
        return {"s": 1000.0, "ms": 1.0, "us": 0.001, "ns": 0.000001}[self.value]


class JsonField(enum.Enum):
    TIMESTAMP = "timestamp"
    METHOD = "method"
    PATH = "path"
    STATUS = "status"
    DURATION = "duration"


_CANDIDATES: dict[JsonField, tuple[str, ...]] = {
    JsonField.TIMESTAMP: ("timestamp", "time", "ts", "@timestamp", "asctime", "datetime", "date", "t"),
    JsonField.METHOD: ("method", "request_method", "http_method", "http.method", "http.request.method",
                       "request.method", "req.method", "httpRequest.requestMethod"),
    JsonField.PATH: ("path", "request_path", "raw_path", "url", "uri", "request_uri", "http.path", "http.url",
                     "http.target", "url.path", "url.original", "request.path", "request.url", "req.url",
                     "httpRequest.requestUrl", "route"),
    JsonField.STATUS: ("status", "status_code", "http_status", "response_status", "http.status_code",
                       "http.response.status_code", "response.status", "response.status_code", "res.statusCode",
                       "httpRequest.status"),
}
_DURATION_CANDIDATES: tuple[tuple[str, DurationUnit], ...] = (
    ("duration_ms", DurationUnit.MILLISECONDS), ("elapsed_ms", DurationUnit.MILLISECONDS),
    ("latency_ms", DurationUnit.MILLISECONDS), ("response_time_ms", DurationUnit.MILLISECONDS),
    ("request_time_ms", DurationUnit.MILLISECONDS), ("took_ms", DurationUnit.MILLISECONDS),
    ("time_ms", DurationUnit.MILLISECONDS), ("duration_us", DurationUnit.MICROSECONDS),
    ("duration_ns", DurationUnit.NANOSECONDS), ("event.duration", DurationUnit.NANOSECONDS),
    ("request_time", DurationUnit.SECONDS), ("response_time", DurationUnit.SECONDS),
    ("duration_s", DurationUnit.SECONDS), ("elapsed_s", DurationUnit.SECONDS),
    ("duration", DurationUnit.SECONDS), ("elapsed", DurationUnit.SECONDS), ("latency", DurationUnit.SECONDS),
)
_REQUEST_LINE_KEYS = ("request", "request_line", "r")
_MESSAGE_KEYS = ("message", "msg", "event", "log")
_EXCEPTION_KEYS = ("exception", "exc_info", "exc_text", "traceback", "stack_trace", "stack", "error.stack_trace",
                   "error.stack", "exc")
_REQUEST_LINE = re.compile(r"^(?P<method>[A-Z]+) (?P<path>\S+)")
_FIELD_SPEC = re.compile(r"^(?P<field>\w+)=(?P<key>[^:]+)(?::(?P<unit>s|ms|us|ns))?$")


class FieldMapping(Record, frozen=True):
    timestamp: str | None = None
    method: str | None = None
    path: str | None = None
    status: str | None = None
    duration: str | None = None
    duration_unit: DurationUnit = DurationUnit.SECONDS


class FieldSpecError(ValueError):
    pass


def parse_field_specs(specs: Sequence[str]) -> dict[JsonField, tuple[str, DurationUnit | None]]:
    """`duration=latency:ms`, `path=http.url` -> the overrides of the JSON field mapping."""
    overrides: dict[JsonField, tuple[str, DurationUnit | None]] = {}
    for spec in specs:
        match = _FIELD_SPEC.match(spec.strip())
        if match is None:
            raise FieldSpecError(f"invalid --json-field {spec!r}: expected FIELD=KEY or duration=KEY:UNIT")
        try:
            field = JsonField(match["field"])
        except ValueError:
            names = ", ".join(field.value for field in JsonField)
            raise FieldSpecError(f"invalid --json-field {spec!r}: FIELD is one of {names}") from None
        unit = DurationUnit(match["unit"]) if match["unit"] else None
        if unit is not None and field is not JsonField.DURATION:
            raise FieldSpecError(f"invalid --json-field {spec!r}: only duration takes a unit")
        overrides[field] = (match["key"], unit)
    return overrides


def lookup(record: Mapping[str, object], key: str) -> object:
    """A key, or a dotted path into nested objects (`http.request.method`)."""
    if key in record:
        return record[key]
    value: object = record
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def resolve_mapping(samples: Iterable[Mapping[str, object]],
                    overrides: Mapping[JsonField, tuple[str, DurationUnit | None]]) -> FieldMapping:
    found: dict[JsonField, str] = {}
    duration: tuple[str, DurationUnit] | None = None
    for record in samples:
        for field, candidates in _CANDIDATES.items():
            if field not in found:
                key = next((key for key in candidates if lookup(record, key) is not None), None)
                if key is not None:
                    found[field] = key
        if duration is None:
            duration = next(((key, unit) for key, unit in _DURATION_CANDIDATES
                             if isinstance(lookup(record, key), (int, float, str))), None)
    for field, (key, unit) in overrides.items():
        if field is JsonField.DURATION:
            duration = (key, unit or (duration[1] if duration and duration[0] == key else DurationUnit.SECONDS))
        else:
            found[field] = key
    return FieldMapping(
        timestamp=found.get(JsonField.TIMESTAMP),
        method=found.get(JsonField.METHOD),
        path=found.get(JsonField.PATH),
        status=found.get(JsonField.STATUS),
        duration=duration[0] if duration else None,
        duration_unit=duration[1] if duration else DurationUnit.SECONDS,
    )


# A JSON escape of a surrogate: the only way a lone surrogate gets into a decoded line.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def read_json(text: str) -> object:
    """The JSON value of `text`; None when it is not JSON or nested too deeply to read."""
    try:
        return read_json_strict(text)
    except (ValueError, RecursionError):
        return None


def read_json_strict(text: str) -> object:
    """The JSON value of `text`, lone surrogates replaced; raises ValueError or RecursionError."""
    value = json.loads(text)
    return without_surrogates(value) if _SURROGATE_ESCAPE.search(text) else value


def without_surrogates(value: object) -> object:
    """`value` with lone surrogates (valid JSON escapes, not text) replaced by "?" in every string,
    so that it can be written as UTF-8."""
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, list):
        return [without_surrogates(item) for item in value]
    if isinstance(value, dict):
        return {str(without_surrogates(key)): without_surrogates(item) for key, item in value.items()}
    return value


def _number(value: object) -> float | None:
    """A number from a JSON value; an integer too large for a float is infinite (and then refused)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        try:
            return float(value)
        except OverflowError:
            return math.copysign(math.inf, value)
    if isinstance(value, float):
        return value
    if isinstance(value, str):
        try:
            return float(value.strip().removesuffix("ms").removesuffix("s"))
        except ValueError:
            return None
    return None


def _text(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "\n".join(str(item) for item in value)
    return "" if value is None else str(value)


class JsonLinesParser:
    def __init__(self, sink: RecordSink, mapping: FieldMapping) -> None:
        self.sink = sink
        self.mapping = mapping

    def feed_all(self, lines: Iterable[Line]) -> None:
        for line in lines:
            if line.text is None:
                self.sink.malformed(line.number, line.head[:SAMPLE_CHARS], "line longer than the 256 KiB limit")
                continue
            if not line.text.strip():
                continue
            try:
                record = read_json_strict(line.text)
            except ValueError:
                record = None
            except RecursionError:
                self.sink.malformed(line.number, line.text[:SAMPLE_CHARS], "JSON nested too deeply to read")
                continue
            if not isinstance(record, dict):
                self.sink.malformed(line.number, line.text[:SAMPLE_CHARS], "not a JSON object")
                continue
            self.sink.parsed()
            try:
                self.record(line.number, record)
            except StoreFailure:
                raise
            except Exception as error:  # noqa: BLE001 - one record that cannot be analysed never stops the file
                self.sink.skip(line.number, line.text[:SAMPLE_CHARS], record_problem(error))

    def record(self, number: int, record: Mapping[str, object]) -> None:
        mapping = self.mapping
        ts = parse_any(lookup(record, mapping.timestamp)) if mapping.timestamp else None
        message = next((_text(record[key]) for key in _MESSAGE_KEYS if key in record), "")
        if self._request(number, record, ts, message):
            return
        exception_text = next((_text(lookup(record, key)) for key in _EXCEPTION_KEYS
                               if isinstance(lookup(record, key), (str, list))), "")
        traceback = parse_traceback_text(exception_text) if exception_text else None
        if traceback is not None:
            self.sink.exception(number, ts, traceback)
        evidence = f"{message}\n{traceback.text if traceback else exception_text}"
        detail = f"{traceback.final.exception}: {traceback.final.message}" if traceback else message
        for kind in sorted(classify(evidence), key=lambda kind: kind.value):
            self.sink.signal(number, ts, kind, signal_detail(detail))

    def _request(self, number: int, record: Mapping[str, object], ts: datetime | None, message: str) -> bool:
        mapping = self.mapping
        status = _number(lookup(record, mapping.status)) if mapping.status else None
        path = lookup(record, mapping.path) if mapping.path else None
        method = lookup(record, mapping.method) if mapping.method else None
        if not isinstance(path, str) or not isinstance(method, str):
            request_line = next((record[key] for key in _REQUEST_LINE_KEYS if isinstance(record.get(key), str)), None)
            parsed = _REQUEST_LINE.match(request_line) if isinstance(request_line, str) else None
            if parsed is not None:
                method, path = parsed["method"], parsed["path"]
        if (not isinstance(path, str) or status is None) and message:
            access = UVICORN_ACCESS.search(message)  # uvicorn's access message in a JSON formatter
            if access is not None:
                method, path, status = access["method"], access["path"], float(access["status"])
        if not isinstance(path, str) or status is None or not 100 <= status <= 599:
            return False
        duration = _number(lookup(record, mapping.duration)) if mapping.duration else None
        self.sink.request(
            number,
            ts,
            method.upper() if isinstance(method, str) else "-",
            path,
            int(status),
            duration * mapping.duration_unit.to_ms if duration is not None else None,
        )
        return True


__all__ = ["DurationUnit", "FieldMapping", "FieldSpecError", "JsonField", "JsonLinesParser", "parse_field_specs",
           "read_json", "resolve_mapping"]
