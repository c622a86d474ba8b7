"""Which format a log file is in, from its first lines."""

from __future__ import annotations

import csv
from pathlib import Path

from backbone.logs.access import detect_access
from backbone.logs.applog import is_header
from backbone.logs.jsonlog import read_json
from backbone.logs.model import LogFormat
from backbone.logs.otlp import is_otlp_document
from backbone.logs.postgres import CSV_MIN_COLUMNS, STDERR_LINE
from backbone.logs.profile_json import MAX_PROFILE_BYTES, is_profile_document
from backbone.logs.sources import open_binary, sample_lines, unreadable_start
from backbone.logs.timeparse import parse_iso
from backbone.logs.tracebacks import FRAME_LINE, TRACEBACK_START
from backbone.records import Record


class Detection(Record, frozen=True):
    format: LogFormat | None
    # Why no format was chosen (empty, binary, unknown), for the user.
    problem: str | None = None


def detect_format(path: Path, head: bytes) -> Detection:
    problem = unreadable_start(head)
    if problem is not None:
        return Detection(None, problem)
    lines = [line for line in sample_lines(head) if line.strip()]
    found = (
        _detect_json(path, lines)
        or _detect_postgres_csv(lines)
        or _detect_postgres_stderr(lines)
        or detect_access(lines)
        or _detect_python(lines)
    )
    if found is None:
        return Detection(None, "unknown log format (use --log-format to name it)")
    return Detection(found)


def _detect_json(path: Path, lines: list[str]) -> LogFormat | None:
    first = lines[0].lstrip()
    if not first.startswith("{"):
        return None
    objects = [read_json(line) for line in lines]
    dicts = [item for item in objects if isinstance(item, dict)]
    if dicts and is_profile_document(dicts[0]):
        return LogFormat.PROFILE
    if dicts and is_otlp_document(dicts[0]):
        return LogFormat.OTLP
    if len(dicts) * 2 >= len(lines):
        return LogFormat.JSON
    # A pretty-printed document: a profile report, if the whole file says so.
    try:
        if path.stat().st_size <= MAX_PROFILE_BYTES:
            with open_binary(path) as stream:
                document = read_json(stream.read(MAX_PROFILE_BYTES).decode("utf-8", "replace"))
            if is_profile_document(document):
                return LogFormat.PROFILE
            if is_otlp_document(document):
                return LogFormat.OTLP
    except (OSError, EOFError):
        return None
    return None


def _detect_postgres_csv(lines: list[str]) -> LogFormat | None:
    try:
        row = next(csv.reader(lines))
    except (csv.Error, StopIteration):
        return None
    if len(row) >= CSV_MIN_COLUMNS and parse_iso(row[0]) is not None:
        return LogFormat.POSTGRES_CSV
    return None


def _detect_postgres_stderr(lines: list[str]) -> LogFormat | None:
    heads = [line for line in lines if not line[:1].isspace()]
    matched = sum(1 for line in heads if STDERR_LINE.match(line))
    return LogFormat.POSTGRES if heads and matched * 2 >= len(heads) else None


def _detect_python(lines: list[str]) -> LogFormat | None:
    if any(TRACEBACK_START.match(line) for line in lines):
        return LogFormat.PYTHON
    heads = [line for line in lines if not line[:1].isspace() and not FRAME_LINE.match(line)]
    headers = sum(1 for line in heads if is_header(line))
    return LogFormat.PYTHON if heads and headers * 2 >= len(heads) else None
