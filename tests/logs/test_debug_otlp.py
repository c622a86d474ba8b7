"""`backbone debug` on OpenTelemetry traces: OTLP JSON written by the SDK's file exporter from the SDK's own
FastAPI and SQLAlchemy instrumentation of a real service, read with the same detectors as `backbone profile`."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from backbone.logs import DebugOptions, analyze
from backbone.logs.command import EXIT_CAUSES, debug
from backbone.logs.model import LogFormat
from backbone.runtime.detectors import DetectionSettings
from backbone.sql.fingerprint import default_cache

HERE = Path(__file__).resolve().parent
SHOP = HERE / "otel_shop.py"
N_PLUS_ONE_SQL = "SELECT customers.id, customers.email \nFROM customers \nWHERE customers.id = ?"


def _marked_line(marker: str) -> int:
    return next(number for number, line in enumerate(SHOP.read_text().splitlines(), 1) if f"# otel: {marker}" in line)


def _traces(directory: Path, *, with_code_location: bool, requests: int = 3) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import otel_shop

        exported = directory / "traces.jsonl"
        app, provider = otel_shop.create_app(directory / "shop.sqlite", exported, with_code_location=with_code_location)
        otel_shop.run_traffic(app, requests)
        otel_shop.finish(app, provider)
    return exported


@pytest.fixture(scope="module")
def located(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield _traces(tmp_path_factory.mktemp("located"), with_code_location=True)


@pytest.fixture(scope="module")
def unlocated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield _traces(tmp_path_factory.mktemp("unlocated"), with_code_location=False)


def test_n_plus_one_in_traces_points_at_the_code_location(located: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(HERE)
    report = analyze([located])
    assert [item.format for item in report.inputs] == [LogFormat.OTLP] and report.lines.malformed == 0
    [finding] = [item for item in report.trace_findings if item.code == "RT101"]
    assert (finding.path, finding.line) == ("otel_shop.py", _marked_line("lazy-customer"))
    assert finding.message.startswith("GET /orders ran the same query 6 times in one request (in 3 of 3 requests)")
    assert finding.source_line == ""  # a trace names a file; backbone does not read it
    detail = finding.extra
    assert detail is not None and detail.route == "GET /orders" and detail.query is not None
    # The same id as the profile and the slow-query table give that statement.
    assert detail.query.id == default_cache.get(N_PLUS_ONE_SQL, "sqlite").id
    assert detail.query.id in {query.fingerprint for query in report.slow_queries}
    assert "selectinload()" in (finding.fix.message if finding.fix else "")


def test_routes_percentiles_and_errors_with_their_exception_events(located: Path) -> None:
    report = analyze([located])
    routes = {route.label: route for route in report.routes}
    assert set(routes) == {"GET /orders", "GET /orders/{order_id}", "GET /checkout"}
    assert all(route.count == 3 for route in routes.values())
    orders = routes["GET /orders"]
    assert orders.p50_ms is not None and orders.p95_ms is not None and 0 < orders.p50_ms <= orders.p95_ms
    assert routes["GET /checkout"].server_errors == 3 and routes["GET /orders"].server_errors == 0
    [group] = report.errors
    assert (group.exception, group.count) == ("ValueError", 3) and "card declined" in group.message
    assert group.culprit is not None and group.culprit.function == "checkout"
    assert group.culprit.path.endswith("otel_shop.py")


def test_n_plus_one_without_code_location_is_reported_at_the_route(unlocated: Path) -> None:
    report = analyze([unlocated])
    [finding] = [item for item in report.trace_findings if item.code == "RT101"]
    assert finding.path == "<unknown>" and "GET /orders ran the same query 6 times" in finding.message


def test_slow_queries_use_the_profile_threshold(located: Path) -> None:
    quiet = analyze([located])
    assert not [item for item in quiet.trace_findings if item.code == "RT102"]
    strict = analyze([located], DebugOptions(detection=DetectionSettings(slow_query_ms=0.0)))
    slow_routes = {item.extra.route for item in strict.trace_findings if item.code == "RT102" and item.extra}
    assert slow_routes == {"GET /orders", "GET /orders/{order_id}"}


def test_a_directory_of_exports_with_a_trace_split_across_files(located: Path, tmp_path: Path) -> None:
    lines = located.read_text().splitlines()
    middle = len(lines) // 2
    (tmp_path / "a.json").write_text("\n".join(lines[:middle]) + "\n")
    # The second half pretty-printed as one document per file is read too.
    documents = [json.loads(line) for line in lines[middle:]]
    merged = {"resourceSpans": [resource for document in documents for resource in document["resourceSpans"]]}
    (tmp_path / "b.json").write_text(json.dumps(merged, indent=2))
    report = analyze([tmp_path])
    assert {item.format for item in report.inputs} == {LogFormat.OTLP} and report.lines.malformed == 0
    assert [item.code for item in report.trace_findings] == ["RT101"]
    assert report.trace_findings[0].message.startswith("GET /orders ran the same query 6 times in one request (in 3 of 3")


def test_cli_exit_code_formats_and_bad_lines(located: Path, tmp_path: Path) -> None:
    export = tmp_path / "traces.jsonl"
    hostile = {"resourceSpans": [{"scopeSpans": [{"spans": [{
        "traceId": "t", "spanId": "s", "kind": 3, "startTimeUnixNano": "1", "endTimeUnixNano": "2",
        "attributes": [{"key": "db.statement", "value": {"stringValue": "SELECT secret FROM t WHERE k = 'hunter2'"}},
                       {"key": "code.filepath", "value": {"stringValue": "/etc/passwd"}},
                       {"key": "code.lineno", "value": {"intValue": "1"}}]}]}]}]}
    export.write_text(located.read_text() + "{not json\n" + json.dumps(hostile) + "\n" + '{"resourceSpans": 3}\n')
    result = CliRunner().invoke(debug, [str(export), "--format", "json"], standalone_mode=False)
    assert result.exception is None and result.return_value == EXIT_CAUSES
    document = json.loads(result.stdout)
    assert document["lines"]["malformed"] == 2
    assert [finding["code"] for finding in document["findings"]] == ["RT101"]
    assert document["findings"][0]["query_id"] == default_cache.get(N_PLUS_ONE_SQL, "sqlite").id
    assert "hunter2" not in result.stdout and "root:" not in result.stdout
    text = CliRunner().invoke(debug, [str(export), "--color", "never"], standalone_mode=False).stdout
    # The trace findings in the shared report formats, like the profile's.
    assert "RT101 [warning] GET /orders" in text
    page = tmp_path / "report.html"
    CliRunner().invoke(debug, [str(export), "--html", str(page)], standalone_mode=False)
    assert '<div class="finding warning"' in page.read_text() and "RT101 n-plus-one &middot;" in page.read_text()
    markdown = CliRunner().invoke(debug, [str(export), "--format", "markdown"], standalone_mode=False).stdout
    assert "Rule: RT101 (n-plus-one), warning, look first at `" in markdown
    sarif = json.loads(CliRunner().invoke(debug, [str(export), "--format", "sarif"], standalone_mode=False).stdout)
    assert [item["ruleId"] for item in sarif["runs"][0]["results"]] == ["RT101"]


def test_cli_thresholds_for_the_traces(located: Path) -> None:
    result = CliRunner().invoke(debug, [str(located), "--format", "json", "--slow-query-ms", "0",
                                        "--n-plus-one-threshold", "7"], standalone_mode=False)
    codes = [finding["code"] for finding in json.loads(result.stdout)["findings"]]
    assert "RT102" in codes and "RT101" not in codes  # 6 repeats are under a threshold of 7
