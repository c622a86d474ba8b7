"""Python application logs: records (with or without a timestamp) and the tracebacks under them.

A record starts at a line with a timestamp (`2024-05-01 12:00:00,123 ERROR ...`,
gunicorn's `[2024-05-01 12:00:00 +0000] [42] [ERROR] ...`) or a level prefix
(`ERROR:app.orders:...`, uvicorn's `INFO:     ...`). Lines that follow it belong to it:
a traceback, or the rest of a multi-line message. Inside records we also recognise
uvicorn's access lines and Django's `django.db.backends` query lines.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

import msgspec

from backbone.logs.records import SAMPLE_CHARS, RecordSink, signal_detail
from backbone.logs.signals import classify
from backbone.logs.skips import StoreFailure, record_problem
from backbone.logs.sources import Line
from backbone.logs.timeparse import parse_iso
from backbone.logs.tracebacks import TRACEBACK_START, ParsedTraceback, TracebackBuilder

TIMESTAMP_HEADER = re.compile(
    r"^\[?(?P<ts>\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:\s?(?:Z|UTC|[+-]\d\d:?\d\d))?)\]?(?P<rest>.*)$"
)
LEVEL_HEADER = re.compile(r"^(?P<level>DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL|FATAL):(?P<rest>.*)$")
UVICORN_ACCESS = re.compile(r'(?P<client>\S+) - "(?P<method>[A-Z]+) (?P<path>\S+) HTTP/[\d.]+" (?P<status>\d{3})\b')
DJANGO_QUERY = re.compile(r"\((?P<seconds>\d+\.\d+)\) (?P<sql>(?:SELECT|INSERT|UPDATE|DELETE|WITH)\b.*?);? ?args=", re.DOTALL)


def is_header(text: str) -> bool:
    return TIMESTAMP_HEADER.match(text) is not None or LEVEL_HEADER.match(text) is not None


class _Record(msgspec.Struct):
    line: int
    ts: datetime | None
    message: list[str] = msgspec.field(default_factory=list)
    traceback: TracebackBuilder | None = None
    traceback_line: int = 0


class PythonLogParser:
    def __init__(self, sink: RecordSink) -> None:
        self.sink = sink
        self.record: _Record | None = None
        # The traceback being read: lines go to it first while it accepts them.
        self.open_traceback: TracebackBuilder | None = None

    def feed_all(self, lines: Iterable[Line]) -> None:
        for line in lines:
            try:
                self.feed(line)
            except StoreFailure:
                raise
            except Exception as error:  # noqa: BLE001 - one line that cannot be analysed never stops the file
                self.open_traceback = None
                self.sink.skip(line.number, (line.text or line.head)[:SAMPLE_CHARS], record_problem(error))
        self.finish()

    def feed(self, line: Line) -> None:
        if line.text is None:
            self.sink.malformed(line.number, line.head[:SAMPLE_CHARS], "line longer than the 256 KiB limit")
            return
        text = line.text
        if self.open_traceback is not None:
            if self.open_traceback.feed(text):
                self.sink.parsed()
                return
            if (self.open_traceback.complete and text.strip() and not is_header(text)
                    and not TRACEBACK_START.match(text)):
                self.open_traceback.continue_message(text)
                self.sink.parsed()
                return
            self.open_traceback = None
        if TRACEBACK_START.match(text):
            record = self.record
            if record is None or record.traceback is not None:
                # A traceback with no record above it (stderr), or a second one: a record of its own.
                self._finish_record()
                record = self.record = _Record(line.number, record.ts if record else None)
            record.traceback = self.open_traceback = TracebackBuilder()
            record.traceback_line = line.number
            self.open_traceback.feed(text)
            self.sink.parsed()
            return
        header = TIMESTAMP_HEADER.match(text)
        level = None if header else LEVEL_HEADER.match(text)
        if header is not None or level is not None:
            self._finish_record()
            ts = parse_iso(header["ts"]) if header is not None else None
            rest = header["rest"] if header is not None else (level["rest"] if level is not None else "")
            self.record = _Record(line.number, ts, [rest.strip()])
            self.sink.parsed()
            return
        if not text.strip():
            return
        if self.record is not None:
            self.record.message.append(text)
            self.sink.parsed()
            return
        self.sink.malformed(line.number, text[:SAMPLE_CHARS], "not a Python log record")

    def finish(self) -> None:
        self._finish_record()
        self.open_traceback = None

    def _finish_record(self) -> None:
        record, self.record = self.record, None
        if record is None:
            return
        try:
            self._emit(record)
        except StoreFailure:
            raise
        except Exception as error:  # noqa: BLE001 - one record that cannot be analysed never stops the file
            self.sink.skip(record.line, (record.message[0] if record.message else "")[:SAMPLE_CHARS],
                           record_problem(error))

    def _emit(self, record: _Record) -> None:
        message = "\n".join(record.message)
        parsed: ParsedTraceback | None = record.traceback.build() if record.traceback is not None else None
        line = record.traceback_line if parsed is not None else record.line
        if parsed is not None:
            self.sink.exception(line, record.ts, parsed)
        access = UVICORN_ACCESS.search(message)
        if access is not None and parsed is None:
            self.sink.request(record.line, record.ts, access["method"], access["path"], int(access["status"]), None)
            return
        query = DJANGO_QUERY.search(message)
        if query is not None:
            self.sink.query(record.line, record.ts, query["sql"], float(query["seconds"]) * 1000)
            return
        evidence = message if parsed is None else f"{message}\n{parsed.text}"
        detail = (f"{parsed.final.exception}: {parsed.final.message}" if parsed is not None else message).strip()
        for kind in sorted(classify(evidence), key=lambda kind: kind.value):
            self.sink.signal(line, record.ts, kind, signal_detail(detail))
