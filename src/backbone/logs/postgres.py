"""PostgreSQL logs, stderr and csvlog: statement durations (`log_min_duration_statement`)
and the errors that are evidence (deadlocks, unique violations, too many clients, timeouts)."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from datetime import datetime

from backbone.logs.model import SignalKind
from backbone.logs.records import SAMPLE_CHARS, RecordSink, signal_detail
from backbone.logs.signals import classify
from backbone.logs.skips import StoreFailure, record_problem
from backbone.logs.sources import Line
from backbone.logs.timeparse import parse_with_zone_name

# `%m [%p] `, `%t [%p]: [%l-1] user=%u,db=%d ` and friends: a timestamp first, then a
# severity followed by a colon and two spaces.
STDERR_LINE = re.compile(
    r"^(?P<ts>\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:\.\d+)?)(?: (?P<zone>[A-Z]{1,5}|[+-]\d\d(?::?\d\d)?))?"
    r"\b.*?\b(?P<severity>LOG|ERROR|FATAL|PANIC|WARNING|NOTICE|INFO|DEBUG\d?|DETAIL|HINT|STATEMENT|CONTEXT|QUERY|LOCATION)"
    r":  (?P<message>.*)$"
)
DURATION = re.compile(
    r"^duration: (?P<ms>\d+(?:\.\d+)?) ms\s+(?:statement|execute [^:]*|bind [^:]*|parse [^:]*): (?P<sql>.*)$",
    re.DOTALL,
)
_EVIDENCE_SEVERITIES = frozenset({"ERROR", "FATAL", "PANIC", "WARNING", "LOG"})
# csvlog columns (PostgreSQL 9.0 to 17): the ones we read, by position.
CSV_TIME, CSV_SEVERITY, CSV_MESSAGE = 0, 11, 13
CSV_MIN_COLUMNS = 22


class PostgresStderrParser:
    def __init__(self, sink: RecordSink) -> None:
        self.sink = sink
        self._entry: tuple[int, datetime | None, str, list[str]] | None = None

    def feed_all(self, lines: Iterable[Line]) -> None:
        for line in lines:
            if line.text is None:
                self.sink.malformed(line.number, line.head[:SAMPLE_CHARS], "line longer than the 256 KiB limit")
                continue
            self.feed(line.number, line.text)
        self._finish()

    def feed(self, number: int, text: str) -> None:
        match = STDERR_LINE.match(text)
        if match is not None:
            self._finish()
            ts = parse_with_zone_name(match["ts"], match["zone"])
            self._entry = (number, ts, match["severity"], [match["message"]])
            self.sink.parsed()
        elif text[:1] in ("\t", " ") and self._entry is not None:
            self._entry[3].append(text.strip())  # a multi-line statement goes on
            self.sink.parsed()
        elif text.strip():
            self.sink.malformed(number, text[:SAMPLE_CHARS], "not a PostgreSQL log line")

    def _finish(self) -> None:
        if self._entry is None:
            return
        number, ts, severity, parts = self._entry
        self._entry = None
        emit_entry(self.sink, number, ts, severity, "\n".join(parts))


def emit_entry(sink: RecordSink, number: int, ts: datetime | None, severity: str, message: str) -> None:
    try:
        _emit(sink, number, ts, severity, message)
    except StoreFailure:
        raise
    except Exception as error:  # noqa: BLE001 - one entry that cannot be analysed never stops the file
        sink.skip(number, message[:SAMPLE_CHARS], record_problem(error))


def _emit(sink: RecordSink, number: int, ts: datetime | None, severity: str, message: str) -> None:
    duration = DURATION.match(message)
    if duration is not None:
        sink.query(number, ts, duration["sql"], float(duration["ms"]), "postgresql")
        return
    if severity not in _EVIDENCE_SEVERITIES:
        return
    for kind in sorted(classify(message), key=lambda kind: kind.value):
        if kind is SignalKind.EVENT_LOOP_STALL:
            continue  # not a database's to say
        sink.signal(number, ts, kind, signal_detail(f"{severity}: {message}"))


class PostgresCsvParser:
    """csvlog: one CSV record per entry, statements may span physical lines."""

    def __init__(self, sink: RecordSink) -> None:
        self.sink = sink

    def feed_all(self, lines: Iterable[Line]) -> None:
        numbered = _NumberedText(lines, self.sink)
        reader = csv.reader(numbered)
        start = 1
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                self.sink.malformed(numbered.number, numbered.last[:SAMPLE_CHARS], f"not a csvlog record: {error}")
                start = numbered.number + 1
                continue
            physical = numbered.number - start + 1
            if not row:
                pass  # a blank line
            elif len(row) < CSV_MIN_COLUMNS:
                self.sink.malformed(start, ",".join(row)[:SAMPLE_CHARS], "not a csvlog record")
            else:
                zone = row[CSV_TIME].rsplit(" ", 1)[-1] if row[CSV_TIME].count(" ") >= 2 else None
                ts = parse_with_zone_name(row[CSV_TIME], zone)
                emit_entry(self.sink, start, ts, row[CSV_SEVERITY], row[CSV_MESSAGE])
                self.sink.parsed(physical)
            start = numbered.number + 1


class _NumberedText:
    """Feeds csv.reader the text of lines while counting them; too-long lines become malformed."""

    def __init__(self, lines: Iterable[Line], sink: RecordSink) -> None:
        self._lines: Iterator[Line] = iter(lines)
        self._sink = sink
        self.number = 0
        self.last = ""

    def __iter__(self) -> _NumberedText:
        return self

    def __next__(self) -> str:
        while True:
            line = next(self._lines)
            self.number = line.number
            if line.text is None:
                self._sink.malformed(line.number, line.head[:SAMPLE_CHARS], "line longer than the 256 KiB limit")
                continue
            self.last = line.text
            return line.text + "\n"
