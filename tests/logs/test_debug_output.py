"""Outputs (JSON schema, Markdown, terminal), the command's exit codes, SQL fingerprints."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from debug_log_factory import T0, app_errors, combined, pg_duration, traffic, write
from debug_render import render_json, render_markdown, render_text

from backbone.logs import analyze
from backbone.logs.command import EXIT_CAUSES, EXIT_ERROR, EXIT_NO_CAUSE, debug
from backbone.sql.fingerprint import default_cache


@pytest.fixture
def incident(tmp_path: Path) -> list[Path]:
    access = write(tmp_path / "access.log", traffic(minutes=60, spike=(30, 34), burst=(45, 47)))
    app = write(tmp_path / "app.log", app_errors(
        [T0 + timedelta(minutes=45, seconds=5 * index) for index in range(20)], "ValueError", "negative quantity"))
    pg = write(tmp_path / "pg.log", [pg_duration(T0 + timedelta(minutes=30, seconds=10 * index), 1500.0,
                                                 f"SELECT * FROM orders WHERE customer_id = {index}")
                                     for index in range(20)])
    return [access, app, pg]


def _invoke(arguments: list[str]) -> tuple[int, str, str]:
    result = CliRunner().invoke(debug, arguments, standalone_mode=False)
    if result.exception is not None:
        raise result.exception
    return int(result.return_value), result.stdout, result.stderr


def test_json_output_matches_the_schema_exactly(incident: list[Path]) -> None:
    document = json.loads(render_json(analyze(incident)))
    assert list(document) == ["version", "lines", "routes", "spikes", "errors", "slow_queries", "causes",
                              "warnings", "findings", "inputs"]
    assert document["version"] == 1 and document["warnings"] == []
    assert list(document["lines"]) == ["total", "parsed", "malformed"]
    assert document["lines"]["malformed"] == 0
    for route in document["routes"]:
        assert list(route) == ["method", "route", "count", "error_rate", "p50_ms", "p95_ms", "p99_ms", "statuses"]
        assert all(isinstance(key, str) and isinstance(value, int) for key, value in route["statuses"].items())
    orders = next(r for r in document["routes"] if (r["method"], r["route"]) == ("POST", "/orders"))
    assert orders["error_rate"] == pytest.approx(orders["statuses"].get("500", 0) / orders["count"], abs=1e-6)
    assert [list(spike) for spike in document["spikes"]] == [["start", "end", "metric", "routes"]] * 2
    assert {spike["metric"] for spike in document["spikes"]} == {"latency_p95", "error_rate"}
    assert document["spikes"][0]["start"] == "2024-05-01T12:30:00Z"
    (error,) = document["errors"]
    assert list(error) == ["fingerprint", "exception", "message", "count", "culprit", "first_seen", "last_seen"]
    assert error["culprit"] == {"path": "/srv/app/shop/services/orders.py", "line": 42, "function": "create_order"}
    assert (error["count"], error["first_seen"]) == (20, "2024-05-01T12:45:00Z")
    (query,) = document["slow_queries"]
    assert list(query) == ["fingerprint", "statement", "count", "total_ms", "mean_ms", "max_ms", "first_seen",
                           "last_seen"]
    assert query["statement"] == "SELECT * FROM orders WHERE customer_id = ?" and query["total_ms"] == 30000.0
    assert document["causes"] and all(list(cause) == ["cause", "evidence", "fix"] for cause in document["causes"])
    assert all(isinstance(cause["evidence"], list) and cause["evidence"] for cause in document["causes"])


def test_markdown_is_an_rca_document(incident: list[Path]) -> None:
    text = render_markdown(analyze(incident))
    for heading in ("# Root-cause analysis", "## Summary", "## Probable causes", "## Timeline", "## Errors",
                    "## Slowest routes", "## Slow queries", "## Inputs"):
        assert f"\n{heading}\n" in f"\n{text}"
    assert "**Fix:**" in text and "| `GET /orders` |" in text and "Evidence:" in text


def test_text_report_leads_with_the_causes(incident: list[Path]) -> None:
    text = render_text(analyze(incident))
    # The shared text report: each cause as a finding (place, code, severity), its fix and evidence.
    first_cause = re.search(r":\d+:\d+: LG1\d\d \[error\] ", text)
    assert first_cause is not None and first_cause.start() < text.index("Slowest routes")
    assert "fix:" in text and "/srv/app/shop/services/orders.py:42" in text


def test_command_exit_codes_and_outputs(incident: list[Path], tmp_path: Path) -> None:
    paths = [str(path) for path in incident]
    code, out, _ = _invoke([*paths, "--format", "json"])
    assert code == EXIT_CAUSES and json.loads(out)["causes"]
    assert _invoke([*paths, "--exit-zero"])[0] == EXIT_NO_CAUSE
    calm = write(tmp_path / "calm.log", traffic(minutes=30))
    code, out, _ = _invoke([str(calm), "--color", "never"])
    assert code == EXIT_NO_CAUSE and "No probable cause found" in out
    report = tmp_path / "rca.md"
    page = tmp_path / "rca.html"
    code, out, _ = _invoke([*paths, "--format", "markdown", "-o", str(report), "--html", str(page)])
    assert code == EXIT_CAUSES and out == ""
    assert report.read_text(encoding="utf-8").startswith("# Root-cause analysis")
    assert "<script>" in page.read_text(encoding="utf-8")


def test_command_reports_bad_input(tmp_path: Path) -> None:
    empty = tmp_path / "empty.log"
    empty.write_text("", encoding="utf-8")
    code, out, err = _invoke([str(empty), str(tmp_path / "missing.log")])
    assert code == EXIT_ERROR and out == ""
    assert f"{empty}: skipped: empty file" in err and "missing.log: skipped: no such file or directory" in err
    assert "no readable input" in err
    good = write(tmp_path / "access.log", [combined(T0, "GET", "/a", 200), "junk"])
    code, _, err = _invoke([str(good), str(empty)])
    assert code == EXIT_NO_CAUSE and "1 malformed lines counted" in err
    assert _invoke([str(good), "--json-field", "nonsense"])[0] == EXIT_ERROR
    assert _invoke([str(good), "-o", str(tmp_path / "no" / "such" / "dir.txt")])[0] == EXIT_ERROR
    result = CliRunner().invoke(debug, [str(good), "--format", "yaml"], standalone_mode=False)
    assert result.exception is not None  # a usage error: the CLI's main() turns it into exit code 2


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ("SELECT * FROM t WHERE id = 42 AND name = 'x''y'", "SELECT * FROM t WHERE id = ? AND name = ?"),
        ("select *\n  from t where id in (1, 2, 3)", "SELECT * FROM t WHERE id IN (?)"),
        ("SELECT a FROM t WHERE b = $1 AND c = %(c)s AND d = :d -- trailing", "SELECT a FROM t WHERE b = ? AND c = ? "
                                                                               "AND d = ?"),
        ("INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y');", "INSERT INTO t (a, b) VALUES (?, ?)"),
        ("SELECT created_at::date, 1.5e3 FROM t /* hint */", "SELECT CAST(created_at AS DATE), ? FROM t"),
        ("SELECT $$s3cret$$, $tag$x$tag$, E'a\\n', X'0f' FROM t", "SELECT ?, ?, ?, ? FROM t"),
    ],
)
def test_sql_fingerprints(statement: str, expected: str) -> None:
    assert default_cache.get(statement, "postgresql").text == expected


def test_same_statement_other_values_same_fingerprint() -> None:
    first = default_cache.get("SELECT * FROM orders WHERE customer_id = 17", "postgresql").id
    second = default_cache.get("select *   from orders where customer_id = 99", "postgresql").id
    other = default_cache.get("SELECT * FROM orders WHERE id = 17", "postgresql").id
    assert first == second != other and len(first) == 12


def test_long_signal_details_keep_their_end() -> None:
    from backbone.logs.records import DETAIL_CHARS, signal_detail

    text = "Executing <Task pending coro=<" + "x" * 500 + ">> took 2.512 seconds\nsecond line"
    detail = signal_detail(text)
    assert len(detail) == DETAIL_CHARS and detail.startswith("Executing <Task") and detail.endswith("2.512 seconds")
    assert signal_detail("  short\nmore") == "short"
