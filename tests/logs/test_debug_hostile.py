"""`backbone debug` on hostile logs: one record never loses the report, the output is always
valid, and lines dated far from the rest never flatten the timeline."""

from __future__ import annotations

import json
import os
import re
import resource
import signal
import subprocess
import sys
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

from debug_log_factory import (
    T0,
    app_errors,
    combined,
    json_access,
    pg_duration,
    traffic,
    write,
)
from debug_render import (
    chart_data,
    render_html,
    render_json,
    render_markdown,
    render_text,
)
from markdown_it import MarkdownIt
from msgspec.structs import replace
from test_debug_html import _dump_dom

from backbone.logs import DebugReport, analyze
from backbone.logs.store import AnalyticsStore
from backbone.logs.timeparse import parse_any, parse_iso, parse_with_zone_name

HOSTILE = '<img src=x onerror=alert(1)> </script><script>alert(2)</script> <!--<script> `|` *x* [a](javascript:b) &amp;'


def _strict(text: str) -> object:
    """json.loads refusing NaN and Infinity, as any RFC 8259 parser does."""
    def refuse(constant: str) -> object:
        raise ValueError(f"not JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


def _render_all(report: DebugReport) -> None:
    _strict(render_json(report))
    render_text(report)
    render_markdown(report)
    render_html(report)


# Per-record isolation --------------------------------------------------------------------


def test_a_frame_line_number_past_32_bits_skips_that_record_only(tmp_path: Path) -> None:
    good = app_errors([T0, T0 + timedelta(seconds=5)], "ValueError", "bad input")
    huge = app_errors([T0 + timedelta(seconds=9)], "ValueError", "bad input", app_line=2**31)
    enormous = [line.replace("line 7,", "line " + "9" * 5000 + ",")
                for line in app_errors([T0 + timedelta(seconds=12)], "KeyError", "k", app_line=7)]
    log = write(tmp_path / "app.log", good + huge + enormous)
    report = analyze([log])
    (item,) = report.inputs
    assert item.rejected == 2 and item.problem is None
    (group,) = report.errors
    assert (group.exception, group.count) == ("ValueError", 2)
    reasons = [sample.reason for sample in report.malformed_samples]
    assert reasons == ["record skipped: a frame's line number (2147483648) is out of range",
                       "record skipped: a frame's line number (99999999999999999999) is out of range"]
    assert any("2 records skipped" in warning for warning in report.warnings)
    _render_all(report)


def test_json_nested_a_thousand_deep_is_counted_and_the_rest_is_read(tmp_path: Path) -> None:
    lines = [json_access(T0 + timedelta(seconds=i), "GET", "/a", 200, 5.0) for i in range(10)]
    lines.insert(4, '{"timestamp": "2024-05-01T12:00:01Z", "x": ' + "[" * 1000 + "]" * 1000 + "}")
    lines.append('{"exception": ' + "[" * 5000 + "]" * 5000 + "}")
    report = analyze([write(tmp_path / "app.jsonl", lines)])
    assert report.requests == 10 and report.lines.malformed == 2
    assert {sample.reason for sample in report.malformed_samples} == {"JSON nested too deeply to read"}
    _render_all(report)


def test_durations_that_are_not_finite_are_skipped_at_parse_time(tmp_path: Path) -> None:
    good = [json_access(T0 + timedelta(seconds=i), "GET", "/a", 200, 5.0) for i in range(10)]
    bad = [
        '{"timestamp": "2024-05-01T12:00:01Z", "http": {"method": "GET", "path": "/a", "status_code": 200}, '
        '"duration_ms": 1' + "0" * 400 + "}",
        '{"timestamp": "2024-05-01T12:00:01Z", "http": {"method": "GET", "path": "/a", "status_code": 200}, '
        '"duration_ms": NaN}',
        '{"timestamp": "2024-05-01T12:00:01Z", "http": {"method": "GET", "path": "/a", "status_code": 200}, '
        '"duration_ms": "-Infinity"}',
        '{"timestamp": "2024-05-01T12:00:01Z", "http": {"method": "GET", "path": "/a", "status_code": 200}, '
        '"duration_ms": 1e300}',
    ]
    access = [combined(T0 + timedelta(seconds=i), "GET", "/b", 200, 0.05) for i in range(10)]
    access.append(combined(T0, "GET", "/b", 200, None) + " 1" + "0" * 400 + ".5")
    pg = [pg_duration(T0, 12.0, "SELECT 1"),
          pg_duration(T0, 1.0, "SELECT 2").replace("duration: 1.000", "duration: 1" + "0" * 400 + ".0")]
    report = analyze([write(tmp_path / "app.jsonl", good + bad), write(tmp_path / "access.log", access),
                      write(tmp_path / "pg.log", pg)])
    assert [item.rejected for item in report.inputs] == [4, 1, 1]
    routes = {route.route: route for route in report.routes}
    assert (routes["/a"].count, routes["/a"].max_ms) == (10, 5.0)
    assert (routes["/b"].count, routes["/b"].max_ms) == (10, 50.0)
    (query,) = report.slow_queries
    assert query.count == 1 and query.max_ms == 12.0
    assert all(sample.reason.startswith("record skipped: ") for sample in report.malformed_samples)
    _render_all(report)


def test_the_store_skips_the_rows_it_rejects_and_keeps_the_rest(tmp_path: Path) -> None:
    store = AnalyticsStore(tmp_path)
    try:
        rows = [(1, line, "2024-05-01 12:00:00", "abc", "ValueError", "m", "ValueError", "/a.py",
                 2**40 if line in (7, 300) else line, "f") for line in range(1, 1001)]
        rejected = store.load_rows("exceptions", rows)
        assert sorted(row[1] for row, _ in rejected) == [7, 300]
        assert all(reason.startswith("record skipped: rejected by the analytics store") for _, reason in rejected)
        assert store.query("SELECT count(*) FROM exceptions") == [(998,)]
    finally:
        store.close()


def test_timestamps_past_the_calendar_and_lone_surrogates_are_read(tmp_path: Path) -> None:
    assert parse_any(10**400) is None and parse_any(-(10**400)) is None and parse_any(float("nan")) is None
    assert parse_iso("9999-12-31 23:59:59 -2359") is None and parse_iso("0001-01-01 00:00:00 +0100") is None
    assert parse_with_zone_name("0001-01-01 00:00:00", "CEST") is None
    epoch = write(tmp_path / "epoch.jsonl", [
        json_access(T0, "GET", "/x", 200, 3.0),
        '{"timestamp": 1' + "0" * 400 + ', "http": {"method": "GET", "path": "/x", "status_code": 200}}',
    ])
    zone = write(tmp_path / "zone.log", ["9999-12-31 23:59:59 -2359 ERROR [app] x", "2024-05-01 12:00:00 ERROR [app] y"])
    surrogate = write(tmp_path / "sur.jsonl", [
        json.dumps({"timestamp": "2024-05-01T12:00:00Z", "message": "boom",
                    "exception": 'Traceback (most recent call last):\n  File "/srv/\udcff.py", line 1, in f\n'
                                 "ValueError: x\udcff"}),
        json.dumps({"timestamp": "2024-05-01T12:00:00Z", "method": "GET", "path": "/x\udcff", "status": 200,
                    "message": "\udcff boom"}),
    ])
    report = analyze([epoch, zone, surrogate])
    assert [item.parsed for item in report.inputs] == [2, 2, 2]
    assert report.requests == 3 and report.errors[0].culprit is not None
    assert report.errors[0].culprit.path == "/srv/?.py" and report.errors[0].message == "x?"
    _render_all(report)


def _run_with_small_files(arguments: list[str], limit: int) -> subprocess.CompletedProcess[str]:
    """`backbone debug` where no file may grow past `limit` bytes: the temporary directory is full."""
    def limit_files() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.run([sys.executable, "-m", "backbone", "debug", *arguments], capture_output=True, text=True,
                          timeout=300, check=False, preexec_fn=limit_files, env={**os.environ, "NO_COLOR": "1"})


def test_a_full_temporary_directory_gives_a_partial_report_and_exit_2(tmp_path: Path) -> None:
    access = write(tmp_path / "access.log", [combined(T0 + timedelta(seconds=i), "GET", "/a", 200) for i in range(30)])
    big = write(tmp_path / "big.jsonl", [json_access(T0 + timedelta(seconds=i // 50), "GET", f"/b/{i % 7}", 200, 4.0)
                                         for i in range(60_000)])
    completed = _run_with_small_files([str(access), str(big), "--format", "json"], 1_000_000)
    assert completed.returncode == 2, completed.stderr
    assert "Traceback" not in completed.stderr and "internal error" not in completed.stderr
    assert "backbone: error: the report is incomplete: backbone's temporary directory" in completed.stderr
    assert "free space there or point TMPDIR" in completed.stderr
    document = _strict(completed.stdout)
    assert isinstance(document, dict)
    assert [(route["route"], route["count"]) for route in document["routes"]] == [("/a", 30)]
    assert any(warning.startswith(f"{big}: skipped: analysed in part at most: backbone's temporary directory")
               for warning in document["warnings"])


# Valid output ----------------------------------------------------------------------------


def test_json_output_is_strict_whatever_the_numbers(tmp_path: Path) -> None:
    log = write(tmp_path / "access.log", [combined(T0 + timedelta(seconds=i), "GET", "/a", 200) for i in range(5)])
    report = analyze([log])
    (route,) = report.routes
    hostile = replace(report, routes=(replace(route, p95_ms=float("nan"), p99_ms=float("inf")),))
    document = _strict(render_json(hostile))
    assert isinstance(document, dict)
    assert (document["routes"][0]["p95_ms"], document["routes"][0]["p99_ms"]) == (None, None)
    assert "NaN" not in render_html(hostile)


class _Structure(HTMLParser):
    """Start tags, and the text of each <script> element."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "script":
            self._in_script = True
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data


def _hostile_report(tmp_path: Path) -> DebugReport:
    directory = tmp_path / "<!--<script>"
    directory.mkdir()
    access = write(directory / "access.log", traffic(minutes=30, spike=(15, 18)) + [
        combined(T0 + timedelta(minutes=10, seconds=i), "GET", "/x/<!--<script>/a|b`c</script>", 500, 0.2)
        for i in range(6)
    ])
    app = write(directory / "app.log", app_errors([T0 + timedelta(minutes=12, seconds=i) for i in range(6)],
                                                  "ValueError", HOSTILE, function="run_</script>"))
    return analyze([access, app])


def test_markdown_escapes_every_string_from_the_logs(tmp_path: Path) -> None:
    report = _hostile_report(tmp_path)
    text = render_markdown(report)
    rendered = MarkdownIt("commonmark").enable("table").render(text)
    structure = _Structure()
    structure.feed(rendered)
    assert set(structure.tags) <= {"h1", "h2", "h3", "p", "ul", "li", "strong", "code", "table", "thead", "tbody",
                                   "tr", "th", "td", "em"}
    assert "img" not in structure.tags and "script" not in structure.tags and "a" not in structure.tags
    assert "&lt;img src=x onerror=alert(1)&gt;" in rendered
    for table in re.findall(r"<table>.*?</table>", rendered, re.DOTALL):
        widths = {len(re.findall(r"<t[hd][ >]", row)) for row in re.findall(r"<tr>.*?</tr>", table, re.DOTALL)}
        assert len(widths) == 1  # no pipe in the data split a cell
    assert "/x/{id}" not in rendered and "/x/&lt;!--&lt;script&gt;/a|b`c&lt;/script&gt;" in rendered


def test_html_survives_any_string_and_still_draws(tmp_path: Path) -> None:
    report = _hostile_report(tmp_path)
    page = render_html(report)
    path = tmp_path / "report.html"
    path.write_text(page, encoding="utf-8")
    dom = _dump_dom(path, tmp_path / "chromium-profile")
    assert 'data-charts-drawn="3"' in dom  # the browser ran the chart script: no string swallowed it
    structure = _Structure()
    structure.feed(page)
    assert structure.tags.count("script") == 2 and "img" not in structure.tags
    data_script, chart_script = structure.scripts
    assert _strict(data_script) == _strict(json.dumps(chart_data(report)))
    assert "<" not in data_script and ">" not in data_script and "&" not in data_script
    assert chart_script.lstrip().startswith("(function () {")


# Outlier timestamps and skip messages ----------------------------------------------------


def test_one_line_dated_far_away_does_not_flatten_the_timeline(tmp_path: Path) -> None:
    clean = analyze([write(tmp_path / "clean.log", traffic(minutes=60, spike=(30, 36)))])
    assert len(clean.spikes) == 1
    for name, away in (("week", timedelta(days=-7)), ("year", timedelta(days=365))):
        lines = traffic(minutes=60, spike=(30, 36))
        lines.insert(100, combined(T0 + away, "GET", "/orders", 200, 0.04))
        log = write(tmp_path / f"{name}.log", lines)
        report = analyze([log])
        assert [(spike.metric, spike.start, spike.end) for spike in report.spikes] == \
            [(spike.metric, spike.start, spike.end) for spike in clean.spikes]
        assert (report.first_seen, report.last_seen, report.bucket_seconds) == \
            (clean.first_seen, clean.last_seen, clean.bucket_seconds)
        assert not clean.warnings
        assert report.inputs[0].outliers == 1 and report.requests == clean.requests + 1
        (warning,) = report.warnings
        assert warning.startswith(f"{log}: 1 line dated far from the rest ({(T0 + away):%Y-%m-%d %H:%M:%S}) "
                                  "left out of the timeline")
        assert warning in render_text(report, width=400) and _strict(render_json(report))["warnings"] == [warning]
        assert "1 line dated far from the rest" in render_markdown(report)
        assert "1 line dated far from the rest" in render_html(report)


def test_two_periods_of_logs_are_not_outliers(tmp_path: Path) -> None:
    first = traffic(minutes=30, per_minute=20)
    second = [line.replace("01/May/2024", "02/May/2024") for line in traffic(minutes=30, per_minute=5, seed=2)]
    report = analyze([write(tmp_path / "two.log", first + second)])
    assert not report.warnings and report.inputs[0].outliers == 0
    assert report.last_seen is not None and report.last_seen.day == 2


def test_skip_messages_say_what_was_skipped_and_why(tmp_path: Path) -> None:
    high_bytes = write(tmp_path / "large.bin", [])
    high_bytes.write_bytes(bytes(range(128, 256)) * 40_000)
    blank = write(tmp_path / "blank.log", ["", "   ", ""])
    one_line = write(tmp_path / "one.log", ["x" * 100_000])
    report = analyze([high_bytes, blank, one_line])
    problems = {Path(item.path).name: item.problem for item in report.inputs}
    assert problems == {
        "large.bin": "binary file (mostly bytes that are not UTF-8 text), not a text log",
        "blank.log": "no text: only blank lines in the first 1 KiB",
        "one.log": "no line shorter than 16 KiB in the first 97 KiB: not a line-by-line text log",
    }
    assert f"{high_bytes}: skipped: binary file (mostly bytes that are not UTF-8 text), not a text log" in report.warnings


def test_duckdb_never_draws_a_progress_bar_into_the_report(tmp_path: Path) -> None:
    # DuckDB prints its bar on standard output for queries past 2 s, tty or not: into a JSON report.
    # Its default differs under pytest, so the setting is read in a plain process.
    script = ("import pathlib, sys; from backbone.logs.store import AnalyticsStore; "
              "store = AnalyticsStore(pathlib.Path(sys.argv[1])); "
              "print(store.query(\"SELECT current_setting('enable_progress_bar')\")[0][0])")
    completed = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True,
                               timeout=120, check=False)
    assert completed.stdout.strip() == "False", completed.stderr
