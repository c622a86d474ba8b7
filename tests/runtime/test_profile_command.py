"""`backbone profile` as a command: text, JSON and HTML output, exit codes, scenario files, OpenAPI requests."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from backbone.runtime import ScenarioError, parse_scenario
from backbone.runtime.command import profile_command
from backbone.runtime.scenario import ScenarioStep, scenario_from_openapi
from rt_lines import HERE, marked_line
from rt_sa_models import AUTHORS

APP_FILE = "rt_fastapi_app.py"
SCENARIO = """\
repeat: 3
requests:
  - path: /authors
  - path: /authors/eager
  - path: /authors/1
    concurrency: 2
"""


@pytest.fixture
def scenario(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RT_FASTAPI_DB", str(tmp_path / "cli.sqlite"))
    monkeypatch.chdir(HERE)
    path = tmp_path / "scenario.yaml"
    path.write_text(SCENARIO, encoding="utf-8")
    return path


def invoke(*arguments: str) -> Result:
    base = ["rt_fastapi_app:create_app", "--factory", "--setup", "rt_fastapi_app:setup", "--no-progress"]
    return CliRunner().invoke(profile_command, [*base, *arguments], standalone_mode=False, catch_exceptions=False)


def test_text_report_shows_a_table_per_route_and_the_findings(scenario: Path) -> None:
    result = invoke("--scenario", str(scenario))

    assert result.return_value == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("backbone profile rt_fastapi_app:create_app (asgi): 9 requests")
    header = next(line for line in lines if line.startswith("route"))
    assert header.split() == ["route", "count", "p50", "ms", "p95", "ms", "p99", "ms", "max", "ms", "queries/req",
                              "max", "queries", "N+1", "errors", "statuses"]
    rows = {line.split()[1]: line.split() for line in lines if line.startswith("GET ")}
    # route (2 words), count, p50, p95, p99, max, queries/req, max queries, N+1, errors, statuses
    assert rows["/authors"][2] == "3" and rows["/authors"][7:10] == [f"{1 + AUTHORS:.1f}", str(1 + AUTHORS), "1"]
    assert rows["/authors/eager"][7:10] == ["2.0", "2", "-"]
    assert rows["/authors/{author_id}"][7:10] == ["1.0", "1", "-"]
    line = marked_line(APP_FILE, "lazy-books")[1]
    # The shared text report: place, code and severity, message.
    assert any(text.startswith(f"{APP_FILE}:{line}:1: RT101 [warning] GET /authors ran the same query {AUTHORS} times")
               for text in lines)
    assert "Found 1 finding (1 warning)." in lines


def test_json_report_has_the_documented_shape(scenario: Path) -> None:
    result = invoke("--scenario", str(scenario), "--format", "json", "--max-queries", "3")

    document = json.loads(result.stdout)
    assert document["version"] == 1
    assert {"version", "routes", "findings"} <= set(document)
    for route in document["routes"]:
        assert {"method", "route", "count", "p50_ms", "p95_ms", "p99_ms", "queries_per_request"} <= set(route)
        assert route["p50_ms"] <= route["p95_ms"] <= route["p99_ms"]
    by_route = {route["route"]: route for route in document["routes"]}
    assert by_route["/authors"]["queries_per_request"] == 1 + AUTHORS and by_route["/authors"]["count"] == 3
    codes = {finding["code"]: finding for finding in document["findings"]}
    assert set(codes) == {"RT101", "RT104"}
    for finding in document["findings"]:
        assert {"code", "path", "line", "message"} <= set(finding)
        assert (finding["path"], finding["line"]) == (APP_FILE, marked_line(APP_FILE, "lazy-books")[1])
    n_plus_one = codes["RT101"]
    assert n_plus_one["repeat_count"] == AUTHORS
    assert n_plus_one["fingerprint"] == "SELECT books.id, books.title, books.author_id FROM books WHERE ? = books.author_id"
    assert (codes["RT104"]["max_queries"], codes["RT104"]["budget"]) == (1 + AUTHORS, 3)


def test_html_report_is_self_contained_with_histograms_and_n_plus_one_groups(scenario: Path, tmp_path: Path) -> None:
    # Enough requests per route for a histogram (report/charts.py draws none from fewer than 20).
    scenario.write_text(SCENARIO.replace("repeat: 3", "repeat: 20"), encoding="utf-8")
    report = tmp_path / "profile.html"
    result = invoke("--scenario", str(scenario), "--html", str(report), "--exit-zero")

    assert result.return_value == 0
    page = report.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    # Nothing fetched: no scripts, no external style sheets, images or fonts.
    assert not re.search(r"<script|<link|src=|url\(|@import", page)
    assert page.count("<svg") == 3
    assert "RT101 n-plus-one" in page  # the N+1 group, as a finding of the shared HTML report
    assert "SELECT books.id, books.title, books.author_id" in page
    line = marked_line(APP_FILE, "lazy-books")[1]
    assert f"{APP_FILE}:{line} in &lt;listcomp&gt;" in page or f"{APP_FILE}:{line} in list_authors" in page


def test_fail_on_and_exit_zero(scenario: Path) -> None:
    assert invoke("--scenario", str(scenario), "--fail-on", "error").return_value == 0
    assert invoke("--scenario", str(scenario), "--fail-on", "warning").return_value == 1
    assert invoke("--scenario", str(scenario), "--exit-zero").return_value == 0


def test_usage_errors_exit_2(tmp_path: Path, scenario: Path) -> None:
    runner = CliRunner()
    missing = runner.invoke(profile_command, ["no_such_module:app", "--no-progress"], standalone_mode=False)
    assert missing.return_value == 2
    assert "cannot import app module 'no_such_module'" in missing.stderr

    bad = tmp_path / "bad.yaml"
    bad.write_text("requests:\n  - path: /authors\n    repeats: 3\n", encoding="utf-8")
    result = invoke("--scenario", str(bad))
    assert result.return_value == 2
    assert "requests[1]: unknown key(s) repeats" in result.stderr


def test_json_output_to_a_file(scenario: Path, tmp_path: Path) -> None:
    output = tmp_path / "profile.json"
    result = invoke("--scenario", str(scenario), "--format", "json", "--output", str(output), "--exit-zero")
    assert result.stdout == ""
    assert json.loads(output.read_text(encoding="utf-8"))["version"] == 1


# --- scenario files ----------------------------------------------------------------------------


def test_scenario_defaults_apply_to_each_request() -> None:
    scenario = parse_scenario(
        {
            "repeat": 4,
            "concurrency": 2,
            "headers": {"Authorization": "Bearer demo"},
            "requests": [
                {"path": "/orders", "query": {"limit": 10, "tag": ["a", "b"]}},
                {"method": "post", "path": "/orders", "json": {"sku": "A-1", "quantity": 2}, "repeat": 1,
                 "headers": {"Idempotency-Key": "k1"}},
            ],
        },
        "scenario.yaml",
    )
    first, second = scenario.steps
    assert first == ScenarioStep(
        "GET", "/orders", (("limit", "10"), ("tag", "a"), ("tag", "b")), (("Authorization", "Bearer demo"),), repeat=4, concurrency=2
    )
    assert (second.method, second.has_body, second.body, second.repeat, second.concurrency) == (
        "POST",
        True,
        {"sku": "A-1", "quantity": 2},
        1,
        2,
    )
    assert second.headers == (("Authorization", "Bearer demo"), ("Idempotency-Key", "k1"))
    assert scenario.total_requests == 5


def test_a_bare_list_is_a_scenario() -> None:
    assert parse_scenario([{"path": "/health"}], "s.yaml").steps == (ScenarioStep("GET", "/health"),)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"requests": []}, "'requests' must be a non-empty list"),
        ({"requests": [{"method": "GET"}]}, "requests[1]: 'path' must be a string starting with '/'"),
        ({"requests": [{"path": "/x", "repeat": 0}]}, "requests[1]: 'repeat' must be a whole number of at least 1"),
        ({"requests": [{"path": "/x", "method": "FETCH"}]}, "requests[1]: unknown method 'FETCH'"),
        ({"requests": [{"path": "/x"}], "rate": 3}, "unknown key(s) rate"),
        ({"requests": [{"path": "/x", "query": {"a": {"b": 1}}}]}, "'query.a' must be a scalar or a list of scalars"),
        ("just text", "a scenario is a mapping with a 'requests' list"),
    ],
)
def test_scenario_errors_name_the_file_and_the_entry(document: object, message: str) -> None:
    with pytest.raises(ScenarioError) as raised:
        parse_scenario(document, "s.yaml")
    assert str(raised.value).startswith("s.yaml") and message in str(raised.value)


def test_openapi_get_operations_become_requests_with_sample_parameters() -> None:
    document = {
        "paths": {
            "/orders": {"get": {"parameters": [{"name": "limit", "in": "query", "required": True, "schema": {"type": "integer"}}]},
                        "post": {}},
            "/orders/{order_id}": {"get": {"parameters": [{"name": "order_id", "in": "path", "required": True,
                                                             "schema": {"type": "integer", "example": 42}}]}},
            "/orders/{order_id}/status": {
                "parameters": [{"name": "order_id", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}],
                "get": {"parameters": [{"name": "state", "in": "query", "required": True,
                                        "schema": {"type": "string", "enum": ["open", "shipped"]}}]},
            },
            "/search": {"get": {"parameters": [{"name": "filter", "in": "query", "required": True, "schema": {"type": "object"}}]}},
        }
    }
    scenario = scenario_from_openapi(document, repeat=5, concurrency=2)
    assert [(step.path, step.query) for step in scenario.steps] == [
        ("/orders", (("limit", "1"),)),
        ("/orders/42", ()),
        ("/orders/00000000-0000-4000-8000-000000000001/status", (("state", "open"),)),
    ]
    assert {(step.repeat, step.concurrency) for step in scenario.steps} == {(5, 2)}
    assert scenario.skipped == ("GET /search: no value for filter",)


# --- failures of the user's code are usage errors, not crashes ----------------------------------


@pytest.mark.parametrize(
    ("module", "arguments", "message"),
    [
        ("import os\nDATABASE = os.environ['NO_SUCH_VARIABLE_FOR_BACKBONE']\n", ("broken_app:app",),
         "importing app module 'broken_app' failed: KeyError"),
        ("def create():\n    raise RuntimeError('no config')\n", ("broken_app:create", "--factory"),
         "--factory: 'broken_app:create' failed: RuntimeError: no config"),
        ("async def app(scope, receive, send):\n    pass\n\ndef setup():\n    raise ValueError('no seed')\n",
         ("broken_app:app", "--setup", "broken_app:setup"), "the setup hook setup() failed: ValueError: no seed"),
        ("async def app(scope, receive, send):\n"
         "    if scope['type'] == 'lifespan':\n"
         "        await receive()\n"
         "        await send({'type': 'lifespan.startup.failed', 'message': 'database unreachable'})\n",
         ("broken_app:app",), "the app's lifespan startup failed: database unreachable"),
        ("async def app(scope, receive, send):\n"
         "    if scope['type'] == 'lifespan':\n"
         "        await receive()\n"
         "        raise RuntimeError('no database')\n",
         ("broken_app:app",), "the app's lifespan startup raised RuntimeError: no database"),
    ],
    ids=["import", "factory", "setup", "lifespan-failed", "lifespan-raised"],
)
def test_failures_in_the_apps_code_exit_2_with_the_reason(
    tmp_path: Path, module: str, arguments: tuple[str, ...], message: str
) -> None:
    app_dir = tmp_path / "app"
    app_dir.mkdir()
    (app_dir / "broken_app.py").write_text(module, encoding="utf-8")
    scenario = tmp_path / "s.yaml"
    scenario.write_text("requests: [{path: /}]\n", encoding="utf-8")
    result = CliRunner().invoke(
        profile_command,
        [*arguments, "--app-dir", str(app_dir), "--scenario", str(scenario), "--no-progress"],
        standalone_mode=False,
    )
    sys.modules.pop("broken_app", None)
    assert result.return_value == 2, result.output
    assert message in result.stderr


def test_progress_bar_does_not_disturb_the_report(scenario: Path) -> None:
    result = invoke("--scenario", str(scenario), "--progress", "--format", "json")
    assert json.loads(result.stdout)["requests"] == 9


def test_an_app_without_lifespan_support_is_profiled(tmp_path: Path) -> None:
    (tmp_path / "plain_asgi.py").write_text(
        "async def app(scope, receive, send):\n"
        "    if scope['type'] != 'http':\n"
        "        raise ValueError('only HTTP here')  # as Django's ASGIHandler does\n"
        "    await send({'type': 'http.response.start', 'status': 204, 'headers': []})\n"
        "    await send({'type': 'http.response.body', 'body': b''})\n",
        encoding="utf-8",
    )
    scenario = tmp_path / "s.yaml"
    scenario.write_text("requests: [{path: /ping, repeat: 3}]\n", encoding="utf-8")
    result = CliRunner().invoke(
        profile_command,
        ["plain_asgi:app", "--app-dir", str(tmp_path), "--scenario", str(scenario), "--no-progress", "--format", "json"],
        standalone_mode=False,
    )
    sys.modules.pop("plain_asgi", None)
    document = json.loads(result.stdout)
    assert result.return_value == 0
    assert [(route["route"], route["count"], route["statuses"]) for route in document["routes"]] == [("/ping", 3, {"204": 3})]
    assert document["notes"] == ["The app does not support the ASGI lifespan protocol; it was not started or shut down."]


def test_sarif_and_github_reports_carry_the_runtime_findings(scenario: Path) -> None:
    import jsonschema

    from backbone.runtime.fingerprint import query_id

    result = invoke("--scenario", str(scenario), "--format", "sarif", "--max-queries", "3")
    assert result.return_value == 1
    document = json.loads(result.stdout)
    schema = json.loads((Path(__file__).resolve().parents[1] / "data" / "sarif-schema-2.1.0.json").read_text())
    assert list(jsonschema.validators.validator_for(schema)(schema).iter_errors(document)) == []
    (run,) = document["runs"]
    rules = run["tool"]["driver"]["rules"]
    results = {item["ruleId"]: item for item in run["results"]}
    assert set(results) == {"RT101", "RT104"}
    n_plus_one = results["RT101"]
    assert rules[n_plus_one["ruleIndex"]]["id"] == "RT101" and n_plus_one["level"] == "warning"
    location = n_plus_one["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == APP_FILE
    assert location["region"]["startLine"] == marked_line(APP_FILE, "lazy-books")[1]
    fingerprint = "SELECT books.id, books.title, books.author_id FROM books WHERE ? = books.author_id"
    assert n_plus_one["properties"]["queryId"] == query_id(fingerprint)
    assert (n_plus_one["properties"]["route"], n_plus_one["properties"]["repeat_count"]) == ("GET /authors", AUTHORS)
    assert results["RT104"]["level"] == "error" and results["RT104"]["properties"]["budget"] == 3

    annotations = invoke("--scenario", str(scenario), "--format", "github").stdout.splitlines()
    assert [line.split(" ", 1)[0] for line in annotations] == ["::warning"]
    assert f"file={APP_FILE},line={marked_line(APP_FILE, 'lazy-books')[1]}," in annotations[0]


def test_json_findings_name_the_query_by_its_shared_id(scenario: Path) -> None:
    from backbone.runtime.fingerprint import query_id

    document = json.loads(invoke("--scenario", str(scenario), "--format", "json").stdout)
    [finding] = document["findings"]
    assert finding["query_id"] == query_id(finding["fingerprint"]) and len(finding["query_id"]) == 12


def test_colour_marks_the_code_by_severity_only_when_asked(scenario: Path) -> None:
    plain = invoke("--scenario", str(scenario), "--color", "never").stdout
    coloured = invoke("--scenario", str(scenario), "--color", "always").stdout
    assert "\x1b[" not in plain and "\x1b[33mRT101\x1b[0m" in coloured
    stripped = re.sub(r"\x1b\[[0-9;]*m", "", coloured).splitlines()
    # The second run seeds its database again (more rows): the finding's line is the same up to its counts.
    prefix = f"{APP_FILE}:{marked_line(APP_FILE, 'lazy-books')[1]}:1: RT101 [warning] GET /authors ran the same query "
    assert [line[: len(prefix)] for line in stripped if ": RT101 " in line] == [prefix]
    assert [line[: len(prefix)] for line in plain.splitlines() if ": RT101 " in line] == [prefix]
    assert "Found 1 finding (1 warning)." in stripped and "Found 1 finding (1 warning)." in plain.splitlines()
