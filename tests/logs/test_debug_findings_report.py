"""`backbone debug` results as findings: SARIF for code scanning and GitHub annotations, LG codes in the catalog."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
from click.testing import CliRunner
from debug_log_factory import pg_duration, traffic, write
from test_debug_causes import SLOW_SQL, _minutes

from backbone.cli import main
from backbone.findings import Detail, Severity
from backbone.logs import CauseKind, DebugOptions, analyze
from backbone.logs.command import EXIT_CAUSES, debug
from backbone.sql.fingerprint import default_cache

SCHEMA = Path(__file__).resolve().parents[1] / "data" / "sarif-schema-2.1.0.json"


def _incident(tmp_path: Path) -> list[Path]:
    access = write(tmp_path / "access.log", traffic(minutes=90, spike=(40, 44)))
    pg = write(tmp_path / "postgresql.log",
               [pg_duration(moment, 1800.0, SLOW_SQL.format(index)) for index, moment in enumerate(_minutes(40, 44))])
    return [access, pg]


def test_causes_are_findings_with_a_typed_detail(tmp_path: Path) -> None:
    report = analyze(_incident(tmp_path), DebugOptions(bucket_seconds=60))
    [finding] = report.findings()
    assert (finding.code, finding.name, finding.severity) == ("LG101", "slow-query-in-latency-spike", Severity.ERROR)
    detail = finding.extra
    assert isinstance(detail, Detail) and detail.command == "debug"
    assert detail.evidence == report.causes[0].evidence
    expected = default_cache.get(SLOW_SQL.format(1), "postgresql")
    assert detail.query is not None and (detail.query.id, detail.query.fingerprint) == (expected.id, expected.text)


def test_debug_writes_sarif_that_validates(tmp_path: Path) -> None:
    result = CliRunner().invoke(debug, [*map(str, _incident(tmp_path)), "--bucket", "60", "--format", "sarif"],
                                standalone_mode=False)
    assert result.exception is None and result.return_value == EXIT_CAUSES
    document = json.loads(result.stdout)
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    errors = list(jsonschema.validators.validator_for(schema)(schema).iter_errors(document))
    assert errors == []
    (run,) = document["runs"]
    [sarif_result] = run["results"]
    assert sarif_result["ruleId"] == "LG101" and sarif_result["level"] == "error"
    rule = run["tool"]["driver"]["rules"][sarif_result["ruleIndex"]]
    assert rule["id"] == "LG101" and rule["name"] == CauseKind.MISSING_INDEX.slug
    assert sarif_result["properties"]["command"] == "debug"
    assert sarif_result["properties"]["queryId"] == default_cache.get(SLOW_SQL.format(1), "postgresql").id
    assert len(sarif_result["properties"]["evidence"]) == 2


def test_debug_writes_github_annotations(tmp_path: Path) -> None:
    result = CliRunner().invoke(debug, [*map(str, _incident(tmp_path)), "--bucket", "60", "--format", "github"],
                                standalone_mode=False)
    [line] = result.stdout.splitlines()
    assert line.startswith("::error file=") and "title=LG101 slow-query-in-latency-spike" in line


def test_one_catalog_lists_and_documents_rt_and_lg_codes(capsys: object) -> None:
    assert main(["rules", "--format", "json"]) == 0
    listed = {row["code"]: row for row in json.loads(capsys.readouterr().out)}  # type: ignore[attr-defined]
    assert {"BB101", "RT101", "RT105", "LG101", "LG105"} <= set(listed)
    assert listed["RT104"]["severity"] == "error" and listed["LG103"]["name"] == "connection-exhaustion"
    for code, heading in (("RT101", "RT101 n-plus-one"), ("lg105", "LG105 dominant-exception"),
                          ("event-loop-stall", "RT103 event-loop-stall")):
        assert main(["rule", code, "--color", "never"]) == 0
        page = capsys.readouterr().out  # type: ignore[attr-defined]
        assert heading in page and "What it does" in page and "backbone " in page
    assert main(["rule", "RT999"]) == 2
