"""Property tests for `backbone debug`: every log parser, format detection, time parsing and
the whole pipeline on generated and mutated logs never raise, and JSON output is strict.

Short, deterministic runs (SHORT_RUN); bench/fuzz.py runs the same strategies for an hour.
"""

from __future__ import annotations

import gzip
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fuzz_cases import (
    LOG_FORMATS,
    PropertyViolation,
    check_access_ingest,
    check_debug_cli,
    check_debug_report,
    check_detection,
    check_parser,
    check_time,
    check_traceback_text,
    iso_timestamps,
    log_bytes,
    log_files,
    log_text,
    mutated,
    python_traceback,
    short_run,
    strict_json,
)
from hypothesis import example, given
from hypothesis import strategies as st

from backbone.logs.store import AnalyticsStore

T = "2024-05-01 12:00:00,000"
ACCESS = '10.0.0.1 - - [01/May/2024:12:00:{s:02d} +0000] "GET /orders/{s} HTTP/1.1" 200 512 "-" "curl" {d}'


def access_log(duration: str) -> bytes:
    return "".join(ACCESS.format(s=second, d=duration) + "\n" for second in range(5)).encode()


def json_log(record: str) -> bytes:
    plain = json.dumps({"timestamp": "2024-05-01T12:00:00Z", "method": "GET", "path": "/x", "status": 200,
                        "duration_ms": 3})
    return f"{plain}\n{plain}\n{record}\n".encode()


DEEP_JSON = '{"timestamp": "2024-05-01T12:00:00Z", "message": "x", "extra": ' + "[" * 1000 + "]" * 1000 + "}"
HUGE_LINE_TRACEBACK = (f"{T} ERROR [app] boom\nTraceback (most recent call last):\n"
                       f'  File "/srv/app/orders.py", line {2**31}, in create\n    x()\nValueError: no\n')
# Inputs that made debug fail on main when the fuzz suite was written: each stays an explicit case.
KNOWN_LOGS = {
    "json nested 1000 deep": {"app.log": json_log(DEEP_JSON)},
    "json duration 10^400": {"app.log": json_log('{"timestamp": "2024-05-01T12:00:01Z", "method": "GET", '
                                                 '"path": "/x", "status": 200, "duration_ms": 1' + "0" * 400 + "}")},
    "json status 10^400": {"app.log": json_log('{"timestamp": "2024-05-01T12:00:01Z", "method": "GET", '
                                               '"path": "/x", "status": 1' + "0" * 400 + "}")},
    "json duration NaN": {"app.log": json_log('{"timestamp": "2024-05-01T12:00:01Z", "method": "GET", '
                                              '"path": "/x", "status": 200, "duration_ms": NaN}')},
    "json duration 1e400": {"app.log": json_log('{"timestamp": "2024-05-01T12:00:01Z", "method": "GET", '
                                                '"path": "/x", "status": 200, "duration_ms": 1e400}')},
    "json timestamp 10^400": {"app.log": json_log('{"timestamp": 1' + "0" * 400 + ', "message": "x"}')},
    "timestamp zone past year 9999": {"app.log": b"9999-12-31 23:59:59 -2359 ERROR [app] x\n"
                                                 b"2024-05-01 12:00:00 ERROR [app] y\n"},
    "access duration 1e400": {"access.log": access_log("1e400")},
    "access duration NaN": {"access.log": access_log("NaN")},
    "traceback line 2^31": {"app.log": HUGE_LINE_TRACEBACK.encode()},
    "json traceback lone surrogate": {"app.log": json_log(json.dumps({
        "timestamp": "2024-05-01T12:00:01Z", "message": "boom",
        "exception": 'Traceback (most recent call last):\n  File "/srv/\udcff.py", line 1, in f\nValueError: x'}))},
}


@pytest.fixture
def workdir() -> Iterator[Path]:
    # One directory for all the examples of a test: each example overwrites what it writes.
    with tempfile.TemporaryDirectory(prefix="backbone-fuzz-") as directory:
        yield Path(directory)


@pytest.mark.parametrize("format_name", LOG_FORMATS)
def test_parsers_never_raise_on_generated_and_mutated_lines(format_name: str) -> None:
    @short_run(25)
    @given(log_text(format_name, 25))
    def run(text: str) -> None:
        check_parser(format_name, text)

    run()


@short_run(40)
@given(st.sampled_from(LOG_FORMATS), st.text(max_size=400))
def test_parsers_never_raise_on_arbitrary_text(format_name: str, text: str) -> None:
    check_parser(format_name, text)


@short_run(150)
@given(st.one_of(iso_timestamps, st.text(max_size=60), log_text("postgres", 1), log_text("python", 1)),
       st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=40),
                 st.sampled_from((10**400, -(10**400), 2**63, 1e308, -1e308))))
@example("2024-05-01 12:00:00.123 +99:99", 10**400)
@example("9999-12-31 23:59:59 -2359", float("nan"))
def test_time_parsers_give_a_naive_datetime_or_none(text: str, value: object) -> None:
    check_time(text, value)


@short_run(60)
@given(st.one_of(python_traceback(), python_traceback().flatmap(lambda text: mutated(text)), st.text(max_size=300)))
def test_traceback_text_parser_never_raises(text: str) -> None:
    check_traceback_text(text)


@short_run(25)
@given(log_bytes(None, 30))
@example(gzip.compress(b"x\n" * 100)[:30])
@example(b"\x1f\x8b")
def test_format_detection_and_line_reading_never_raise(workdir: Path, data: bytes) -> None:
    check_detection(workdir, data)


def test_access_log_ingestion_never_raises(workdir: Path) -> None:
    store = AnalyticsStore(workdir, threads=1)
    counter = [0]

    @short_run(15)
    @given(log_bytes("access", 20))
    @example(access_log("1e400"))
    @example(access_log("9" * 400))
    def run(data: bytes) -> None:
        check_access_ingest(store, workdir, data, counter)

    try:
        run()
    finally:
        store.close()


@short_run(12)
@given(log_files(2, 20))
def test_debug_report_renders_in_every_format(workdir: Path, files: dict[str, bytes]) -> None:
    check_debug_report(workdir, files)


@pytest.mark.parametrize("name", sorted(KNOWN_LOGS))
def test_debug_report_on_inputs_that_once_failed(workdir: Path, name: str) -> None:
    check_debug_report(workdir, KNOWN_LOGS[name])


@short_run(8)
@given(log_files(2, 15))
@example({"access.log": access_log("NaN")})
def test_debug_command_never_fails_internally_and_writes_strict_json(workdir: Path, files: dict[str, bytes]) -> None:
    check_debug_cli(workdir, files)


def test_strict_json_rejects_what_json_dumps_writes_for_nan() -> None:
    # The oracle itself: Python's json writes NaN and Infinity, which no strict reader accepts.
    for value in (float("nan"), float("inf"), -float("inf")):
        with pytest.raises(PropertyViolation):
            strict_json(json.dumps({"p99_ms": value}))
    assert strict_json('{"p99_ms": 1.5}') == {"p99_ms": 1.5}
