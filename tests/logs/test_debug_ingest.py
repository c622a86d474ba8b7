"""Ingestion: every format detected and parsed, gzip, malformed lines, bad input."""

from __future__ import annotations

import gzip
import json
import statistics
from datetime import timedelta
from pathlib import Path

import pytest
from debug_log_factory import (
    T0,
    app_errors,
    app_record,
    combined,
    common,
    json_access,
    pg_csv,
    pg_duration,
    pg_error,
    write,
)

from backbone.logs import DebugOptions, LogFormat, analyze
from backbone.logs.access import access_rows_sql, sql_string
from backbone.logs.formats import detect_format
from backbone.logs.sources import MAX_LINE_BYTES, read_head
from backbone.logs.store import AnalyticsStore


def _format_of(path: Path) -> LogFormat | None:
    return detect_format(path, read_head(path)).format


def _route(report: object, method: str, route: str):  # type: ignore[no-untyped-def]
    return next(r for r in report.routes if (r.method, r.route) == (method, route))  # type: ignore[attr-defined]


PROFILE = {"version": 1, "routes": [{"method": "GET", "route": "/orders", "count": 3, "p50_ms": 1.0, "p95_ms": 2.0,
                                     "p99_ms": 2.0, "queries_per_request": 1.0}],
           "findings": [{"code": "RT103", "path": "shop/routers/orders.py", "line": 66,
                         "message": "The event loop stalled for 512 ms in shipping_quote."}]}


@pytest.mark.parametrize(
    ("name", "lines", "expected"),
    [
        ("combined.log", [combined(T0, "GET", "/a", 200)] * 3, LogFormat.COMBINED),
        ("common.log", [common(T0, "GET", "/a", 200)] * 3, LogFormat.COMMON),
        ("app.jsonl", [json_access(T0, "GET", "/a", 200, 3.5)] * 3, LogFormat.JSON),
        ("app.log", [app_record(T0, "INFO", "started"), *app_errors([T0], "ValueError", "bad")], LogFormat.PYTHON),
        ("pg.log", [pg_duration(T0, 812.5, "SELECT 1"), pg_error(T0, "deadlock detected")], LogFormat.POSTGRES),
        ("pg.csv", [pg_csv(T0, "LOG", "duration: 501.000 ms  statement: SELECT 1")], LogFormat.POSTGRES_CSV),
        ("profile.json", json.dumps(PROFILE, indent=2).splitlines(), LogFormat.PROFILE),
    ],
)
def test_each_format_is_detected(tmp_path: Path, name: str, lines: list[str], expected: LogFormat) -> None:
    assert _format_of(write(tmp_path / name, lines)) is expected


def test_combined_log_is_parsed_with_request_time_in_seconds(tmp_path: Path) -> None:
    log = write(tmp_path / "access.log", [
        combined(T0, "GET", "/orders/17?expand=items", 200, 0.120),
        combined(T0 + timedelta(seconds=1), "GET", "/orders/18", 404, 0.010),
        combined(T0 + timedelta(seconds=2), "POST", "/orders", 500, 1.500),
    ])
    report = analyze([log])
    assert (report.lines.total, report.lines.parsed, report.lines.malformed) == (3, 3, 0)
    detail = _route(report, "GET", "/orders/{id}")
    assert detail.count == 2 and detail.statuses == ((200, 1), (404, 1)) and detail.max_ms == pytest.approx(120.0)
    assert _route(report, "POST", "/orders").server_errors == 1
    assert report.first_seen == T0 and report.last_seen == T0 + timedelta(seconds=2)


def test_common_log_with_apache_microseconds_and_zone(tmp_path: Path) -> None:
    log = write(tmp_path / "access_log", [common(T0, "GET", "/apache_pb.gif", 200, 2500),
                                          common(T0, "GET", "/apache_pb.gif", 200, None)])
    report = analyze([log])
    route = _route(report, "GET", "/apache_pb.gif")
    assert route.count == 2 and route.max_ms == pytest.approx(2.5)
    assert report.first_seen == T0 + timedelta(hours=7)  # -0700 turned into UTC


def test_gzip_is_read_directly_even_without_the_extension(tmp_path: Path) -> None:
    lines = [combined(T0 + timedelta(seconds=i), "GET", f"/p/{i}", 200) for i in range(50)]
    report = analyze([write(tmp_path / "access.log.1", lines, compress=True)])
    assert report.lines.parsed == 50 and report.routes[0].route == "/p/{id}"


def test_route_templating(tmp_path: Path) -> None:
    paths = {
        "/users/42/orders/7": "/users/{id}/orders/{id}",
        "/files/0f8fad5b-d9cb-469f-a165-70867728950e": "/files/{id}",
        "/blobs/9c56cc51b374c3ba189210d5b6d4bf57790d351c": "/blobs/{id}",
        "/search?q=7": "/search",
        "https://shop.example/cart/3#top": "/cart/{id}",
        "/static/app.css": "/static/app.css",
        "/v2/items": "/v2/items",
        "/1/2/3": "/{id}/{id}/{id}",
        "/a/7/8/b/9": "/a/{id}/{id}/b/{id}",
        # No digit, so no identifier: hex letters alone are a word, even after a literal "{id}/".
        "/{id}/deadbeefdeadbeefcafe": "/{id}/deadbeefdeadbeefcafe",
        "/": "/",
    }
    lines = [combined(T0, "GET", path, 200) for path in paths]
    routes = {route.route for route in analyze([write(tmp_path / "a.log", lines)]).routes}
    assert routes == set(paths.values())


def test_percentiles_are_exact_on_small_data(tmp_path: Path) -> None:
    durations = [0.010, 0.020, 0.030, 0.040, 0.050, 0.060, 0.070, 0.080, 0.090, 1.000]
    lines = [combined(T0 + timedelta(seconds=i), "GET", "/x", 200, seconds) for i, seconds in enumerate(durations)]
    route = analyze([write(tmp_path / "a.log", lines)]).routes[0]
    expected = statistics.quantiles([d * 1000 for d in durations], n=100, method="inclusive")
    assert route.p50_ms == pytest.approx(statistics.median([d * 1000 for d in durations]))
    assert route.p95_ms == pytest.approx(expected[94])
    assert route.p99_ms == pytest.approx(expected[98])
    assert route.max_ms == pytest.approx(1000.0)


def test_malformed_lines_are_counted_and_sampled_never_fatal(tmp_path: Path) -> None:
    lines = [combined(T0, "GET", "/a", 200), "garbage here", "", combined(T0, "GET", "/b", 200), "more garbage"]
    report = analyze([write(tmp_path / "a.log", lines)])
    assert (report.lines.total, report.lines.parsed, report.lines.malformed) == (4, 2, 2)
    assert [(s.line, s.text) for s in report.malformed_samples] == [(2, "garbage here"), (5, "more garbage")]


def test_invalid_utf8_keeps_line_numbers(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_bytes((combined(T0, "GET", "/a", 200) + "\n").encode() + b"\xff\xfe broken \x01 line\n"
                    + (combined(T0, "GET", "/b", 200) + "\n").encode())
    report = analyze([log])
    assert (report.lines.parsed, report.lines.malformed) == (2, 1)
    assert report.malformed_samples[0].line == 2


def test_a_one_megabyte_line_is_malformed_not_fatal(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_text(combined(T0, "GET", "/a", 200) + "\n" + "x" * 1_000_000 + "\n" + combined(T0, "GET", "/b", 200)
                   + "\n", encoding="utf-8")
    report = analyze([log])
    assert (report.lines.total, report.lines.parsed, report.lines.malformed) == (3, 2, 1)
    assert report.malformed_samples[0].line == 2 and len(report.malformed_samples[0].text) <= 200
    assert 1_000_000 > MAX_LINE_BYTES


def test_a_huge_line_in_an_application_log(tmp_path: Path) -> None:
    lines = [app_record(T0, "INFO", "x" * 400_000), app_record(T0, "INFO", "fine")]
    report = analyze([write(tmp_path / "app.log", lines)], DebugOptions(log_format=LogFormat.PYTHON))
    assert (report.lines.parsed, report.lines.malformed) == (1, 1)


def test_truncated_gzip_gives_partial_results(tmp_path: Path) -> None:
    lines = [combined(T0 + timedelta(seconds=i), "GET", f"/items/{i}?pad={'z' * (i % 97)}", 200) for i in range(20000)]
    whole = write(tmp_path / "whole.log.gz", lines, compress=True).read_bytes()
    truncated = tmp_path / "cut.log.gz"
    truncated.write_bytes(whole[: len(whole) // 2])
    report = analyze([truncated])
    (item,) = report.inputs
    assert item.problem is not None and "truncated gzip" in item.problem
    assert 0 < report.lines.parsed < 20000 and report.lines.malformed <= 1


def test_bad_inputs_are_reported_and_skipped(tmp_path: Path) -> None:
    (tmp_path / "empty.log").write_text("", encoding="utf-8")
    (tmp_path / "binary.bin").write_bytes(bytes(range(256)) * 64)
    (tmp_path / "notes.txt").write_text("dear diary\nnothing to see\n", encoding="utf-8")
    with gzip.open(tmp_path / "corrupt.gz", "wb") as stream:
        stream.write(b"x")
    (tmp_path / "corrupt.gz").write_bytes(b"\x1f\x8b" + b"\x00" * 30)
    report = analyze([tmp_path, tmp_path / "missing.log"])
    problems = {Path(item.path).name: item.problem for item in report.inputs}
    assert problems["empty.log"] == "empty file"
    assert problems["binary.bin"] == "binary file, not a text log"
    assert problems["notes.txt"] is not None and problems["notes.txt"].startswith("unknown log format")
    assert problems["missing.log"] == "no such file or directory"
    assert problems["corrupt.gz"] is not None
    assert not report.readable and report.lines.total == 0


def test_a_directory_with_a_mix_of_formats(tmp_path: Path) -> None:
    write(tmp_path / "access.log", [combined(T0 + timedelta(seconds=i), "GET", "/a", 200) for i in range(10)])
    write(tmp_path / "app.log", app_errors([T0], "ValueError", "bad input"))
    write(tmp_path / "pg.log", [pg_duration(T0, 900.0, "SELECT * FROM orders WHERE id = 1")])
    write(tmp_path / "events.jsonl", [json_access(T0, "GET", "/j/1", 201, 12.5)])
    (tmp_path / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
    report = analyze([tmp_path])
    formats = {Path(item.path).name: item.format for item in report.inputs}
    assert formats == {"access.log": LogFormat.COMBINED, "app.log": LogFormat.PYTHON, "pg.log": LogFormat.POSTGRES,
                       "events.jsonl": LogFormat.JSON, "image.png": None}
    assert report.lines.malformed == 0
    assert {(r.method, r.route) for r in report.routes} == {("GET", "/a"), ("GET", "/j/{id}")}
    assert len(report.errors) == 1 and len(report.slow_queries) == 1


def test_json_lines_with_nested_keys_and_mapping_overrides(tmp_path: Path) -> None:
    log = write(tmp_path / "app.jsonl", [
        json_access(T0, "GET", "/orders/5", 200, 12.0),
        json.dumps({"ts": 1714564800.5, "req": {"verb": "POST", "url": "/orders"}, "code": "201", "took": 0.25}),
        "{not json",
        json.dumps({"event": "cache warmed"}),
    ])
    report = analyze([log])
    assert (report.lines.parsed, report.lines.malformed) == (3, 1)
    assert _route(report, "GET", "/orders/{id}").p50_ms == pytest.approx(12.0)
    mapped = analyze([write(tmp_path / "b.jsonl", [
        json.dumps({"ts": 1714564800.5, "req": {"verb": "POST", "url": "/orders"}, "code": "201", "took": 0.25}),
    ])], DebugOptions(json_fields=("timestamp=ts", "method=req.verb", "path=req.url", "status=code",
                                   "duration=took:s")))
    route = _route(mapped, "POST", "/orders")
    assert route.statuses == ((201, 1),) and route.p50_ms == pytest.approx(250.0)
    assert mapped.first_seen == T0 + timedelta(milliseconds=500)


def test_uvicorn_and_gunicorn_style_json(tmp_path: Path) -> None:
    log = write(tmp_path / "uvicorn.jsonl", [
        json.dumps({"time": "2024-05-01T12:00:00.250+00:00", "levelname": "INFO",
                    "message": '127.0.0.1:50000 - "GET /health HTTP/1.1" 200'}),
        json.dumps({"t": "2024-05-01 12:00:01", "request": "DELETE /carts/9 HTTP/1.1", "status": 204,
                    "request_time": 0.004}),
    ])
    report = analyze([log])
    assert {(r.method, r.route) for r in report.routes} == {("GET", "/health"), ("DELETE", "/carts/{id}")}


def test_invalid_json_field_mapping_is_an_error(tmp_path: Path) -> None:
    from backbone.logs import FieldSpecError

    with pytest.raises(FieldSpecError):
        analyze([tmp_path], DebugOptions(json_fields=("latency",)))
    with pytest.raises(FieldSpecError):
        analyze([tmp_path], DebugOptions(json_fields=("path=url:ms",)))


def test_postgres_stderr_and_csvlog(tmp_path: Path) -> None:
    stderr = write(tmp_path / "postgresql.log", [
        pg_duration(T0, 1200.0, "SELECT * FROM orders WHERE customer_id = 17"),
        "\tAND status = 'open'",
        pg_duration(T0 + timedelta(seconds=5), 800.0, "SELECT * FROM orders WHERE customer_id = 99"),
        "\tAND status = 'paid'",
        pg_error(T0, "duplicate key value violates unique constraint \"orders_pkey\""),
        pg_error(T0, "INSERT INTO orders VALUES (1)", severity="STATEMENT"),
    ])
    csvlog = write(tmp_path / "postgresql.csv", [
        pg_csv(T0, "LOG", "duration: 650.500 ms  execute <unnamed>: SELECT name FROM products WHERE id = $1"),
        pg_csv(T0, "FATAL", "sorry, too many clients already"),
    ])
    report = analyze([stderr, csvlog])
    assert report.lines.malformed == 0
    by_statement = {query.statement: query for query in report.slow_queries}
    orders = by_statement["SELECT * FROM orders WHERE customer_id = ? AND status = ?"]
    assert (orders.count, orders.total_ms, orders.max_ms) == (2, 2000.0, 1200.0)
    assert by_statement["SELECT name FROM products WHERE id = ?"].mean_ms == pytest.approx(650.5)
    kinds = {signal.kind.value: signal.count for signal in report.signals}
    assert kinds == {"integrity-error": 1, "connection-exhaustion": 1}


def test_python_application_log_without_timestamps(tmp_path: Path) -> None:
    lines = ["ERROR:app.orders:order failed", *app_errors([T0], "KeyError", "'sku'")[1:],
             'INFO:     127.0.0.1:41234 - "GET /orders/3 HTTP/1.1" 500 Internal Server Error']
    report = analyze([write(tmp_path / "app.log", lines)])
    assert report.lines.malformed == 0
    assert report.errors[0].exception == "KeyError" and report.errors[0].first_seen is None
    assert _route(report, "GET", "/orders/{id}").server_errors == 1


def test_profile_report_is_evidence(tmp_path: Path) -> None:
    path = tmp_path / "profile.json"
    path.write_text(json.dumps(PROFILE, indent=2), encoding="utf-8")
    report = analyze([path])
    (signal,) = report.signals
    assert signal.kind.value == "event-loop-stall" and "shop/routers/orders.py:66" in signal.detail


def test_forced_format_reads_every_file_that_way(tmp_path: Path) -> None:
    log = write(tmp_path / "weird.txt", [combined(T0, "GET", "/a", 200), "noise", "noise", "noise"])
    assert _format_of(log) is None
    report = analyze([log], DebugOptions(log_format=LogFormat.COMBINED))
    assert (report.lines.parsed, report.lines.malformed) == (1, 3)


def test_an_access_log_streams_through_duckdb_without_holding_its_lines(tmp_path: Path) -> None:
    # The parse is one pipeline of projections and the line numbering: no join or materialised
    # common table, which would hold every raw line (the route templating once did, as a
    # decorrelated scalar subquery, and peaked at twice GoAccess's memory on 2M lines).
    log = write(tmp_path / "access.log", [combined(T0, "GET", "/orders/42?page=2", 200)] * 3)
    store = AnalyticsStore(tmp_path)
    try:
        lines = f"(SELECT column0 AS raw FROM read_csv({sql_string(str(log))}, header=false, delim='\\x01'))"
        plan = "\n".join(str(row[-1]) for row in store.query(f"EXPLAIN {access_rows_sql(1, lines)}"))
        requests = store.query(f"SELECT method, route FROM ({access_rows_sql(1, lines)})")
    finally:
        store.close()
    assert not any(operator in plan.upper() for operator in ("JOIN", "CTE", "DELIM"))
    assert requests == [("GET", "/orders/{id}")] * 3
