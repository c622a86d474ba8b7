"""The renderers: exact text, GitHub annotations and JSON; SARIF validated against the official schema."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest

from backbone.findings import Confidence, Finding, Fix, Location, Severity
from backbone.report import OutputFormat, Report, render
from backbone.report.github import escape_data, escape_property, render_github
from backbone.report.json_report import render_json
from backbone.report.rule_docs import rule_entry
from backbone.report.sarif import FINGERPRINT_NAME, render_sarif, rule_descriptor
from backbone.report.text import render_text, source_and_caret
from backbone.review.baseline import finding_key
from backbone.review.rules import ENGINE_CODES, all_rules
from backbone.review.rules.base import Rule, RuleDoc

SARIF_SCHEMA_PATH = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")

SILENT_EXCEPT = Finding(
    code="BB101",
    name="silent-except",
    severity=Severity.WARNING,
    confidence=Confidence.HIGH,
    location=Location("app/api/orders.py", 14, 5, 14, 22),
    message="`except Exception` swallows the error: it neither re-raises, logs nor answers with an error.",
    fix=Fix("Log the exception with `logger.exception(...)` or re-raise it."),
    source_line="    except Exception:",
    statement_digest="digest-except",
    scope="app.api.orders.create_order",
)
# Spans three lines; no fix.
QUERY_IN_LOOP = Finding(
    code="BB201",
    name="query-in-loop",
    severity=Severity.WARNING,
    confidence=Confidence.MEDIUM,
    location=Location("app/api/orders.py", 20, 20, 22, 10),
    message="`Customer.objects.get(...)` runs one query per order of the loop on line 19.",
    source_line="        customer = Customer.objects.get(",
    statement_digest="digest-query",
    scope="app.api.orders.list_orders",
)
# A non-ASCII path and line, with characters before the reported column; the secret already masked.
HARDCODED_SECRET = Finding(
    code="BB501",
    name="hardcoded-secret",
    severity=Severity.ERROR,
    confidence=Confidence.HIGH,
    location=Location("app/réglages.py", 3, 11, 3, 25),
    message="A Stripe live secret key is hard-coded in `clé_api`.",
    fix=Fix('Read it from the environment (`os.environ["STRIPE_API_KEY"]`).'),
    source_line='clé_api = "sk_l********"  # clé de production',
    statement_digest="digest-secret",
    scope="app.réglages",
)
GOD_MODULE = Finding(
    code="BB601",
    name="god-module",
    severity=Severity.INFO,
    confidence=Confidence.LOW,
    location=Location("app/api/orders.py", 1, 1, 1, 1),
    message="The module spans 3 domains: orders (create_order), payments (refund), users (login).",
    source_line='"""Orders API."""',
    statement_digest="digest-module",
    scope="app.api.orders",
)
UNREADABLE = Finding(
    code="BB000",
    name="unreadable-file",
    severity=Severity.ERROR,
    confidence=Confidence.HIGH,
    location=Location("legacy/broken.py", 2, 19, 2, 19),
    message="Not reviewed: invalid syntax (expected ':').",
    statement_digest="digest-broken",
)

# Deliberately out of order: every renderer sorts.
REPORT = Report(
    findings=(HARDCODED_SECRET, QUERY_IN_LOOP, SILENT_EXCEPT, GOD_MODULE),
    files_reviewed=12,
    files_from_cache=10,
    suppressed=2,
    baselined=1,
)


def _plain(text: str) -> str:
    return ANSI_ESCAPE.sub("", text)


# -- text -------------------------------------------------------------------------------

EXPECTED_TEXT = """\
app/api/orders.py:1:1: BB601 [info] The module spans 3 domains: orders (create_order), payments (refund), users (login).
  1 | \"\"\"Orders API.\"\"\"
    | ^

app/api/orders.py:14:5: BB101 [warning] `except Exception` swallows the error: it neither re-raises, logs nor answers with an error.
  14 |     except Exception:
     |     ^~~~~~~~~~~~~~~~~
  fix: Log the exception with `logger.exception(...)` or re-raise it.

app/api/orders.py:20:20: BB201 [warning] `Customer.objects.get(...)` runs one query per order of the loop on line 19.
  20 |         customer = Customer.objects.get(
     |                    ^~~~~~~~~~~~~~~~~~~~~

app/réglages.py:3:11: BB501 [error] A Stripe live secret key is hard-coded in `clé_api`.
  3 | clé_api = "sk_l********"  # clé de production
    |           ^~~~~~~~~~~~~~
  fix: Read it from the environment (`os.environ["STRIPE_API_KEY"]`).

  1  BB101  silent-except
  1  BB201  query-in-loop
  1  BB501  hardcoded-secret
  1  BB601  god-module

Found 4 findings (1 error, 2 warnings, 1 info) in 12 files; 2 suppressed; 1 baselined; 10 files from cache.
"""


def test_text_report_is_exact() -> None:
    assert render_text(REPORT, color=False) == EXPECTED_TEXT


def test_text_summary_by_rule_is_sorted_by_count() -> None:
    report = Report(findings=(UNREADABLE, GOD_MODULE, SILENT_EXCEPT, SILENT_EXCEPT), files_reviewed=2)
    rendered = render_text(report, color=False)
    assert rendered.endswith(
        "\n"
        "  2  BB101  silent-except\n"
        "  1  BB000  unreadable-file\n"
        "  1  BB601  god-module\n"
        "\n"
        "Found 4 findings (1 error, 2 warnings, 1 info) in 2 files.\n"
    )


def test_text_report_without_findings() -> None:
    report = Report(findings=(), files_reviewed=1, notes=("Wrote 0 findings to the baseline base.json.",))
    assert render_text(report, color=False) == (
        "No findings in 1 file.\nWrote 0 findings to the baseline base.json.\n"
    )
    assert render_text(Report(findings=(), files_reviewed=3, suppressed=1), color=False) == (
        "No findings in 3 files; 1 suppressed.\n"
    )


def test_text_report_without_a_source_line_shows_no_caret() -> None:
    report = Report(findings=(UNREADABLE,), files_reviewed=1, files_from_cache=1)
    assert render_text(report, color=False) == (
        "legacy/broken.py:2:19: BB000 [error] Not reviewed: invalid syntax (expected ':').\n"
        "\n"
        "  1  BB000  unreadable-file\n"
        "\n"
        "Found 1 finding (1 error) in 1 file; 1 file from cache.\n"
    )


def test_text_report_colors_only_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    # The caller decides; the environment must not.
    monkeypatch.setenv("NO_COLOR", "1")
    colored = render_text(REPORT, color=True)
    assert ANSI_ESCAPE.search(colored)
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("FORCE_COLOR", "1")
    plain = render_text(REPORT, color=False)
    assert "\x1b" not in plain
    assert _plain(colored) == plain
    assert render(REPORT, OutputFormat.TEXT) == plain


def test_caret_is_aligned_in_terminal_cells_for_wide_characters_and_tabs() -> None:
    wide = Finding(
        code="BB501",
        name="hardcoded-secret",
        severity=Severity.ERROR,
        confidence=Confidence.HIGH,
        location=Location("app.py", 1, 6, 1, 14),
        message="A secret.",
        source_line='名前 = "ab****"',
    )
    assert source_and_caret(wide) == ('名前 = "ab****"', "       ^~~~~~~~")
    tabbed = Finding(
        code="BB101",
        name="silent-except",
        severity=Severity.WARNING,
        confidence=Confidence.HIGH,
        location=Location("app.py", 1, 2, 1, 8),
        message="Silent.",
        source_line="\texcept:",
    )
    assert source_and_caret(tabbed) == ("    except:", "    ^~~~~~")


def test_caret_stays_on_the_line_when_columns_overrun_it() -> None:
    overrun = Finding(
        code="BB101",
        name="silent-except",
        severity=Severity.WARNING,
        confidence=Confidence.HIGH,
        location=Location("app.py", 1, 40, 1, 50),
        message="Silent.",
        source_line="except:",
    )
    assert source_and_caret(overrun) == ("except:", "       ^")


def test_control_characters_from_source_never_reach_the_terminal() -> None:
    hostile = Finding(
        code="BB101",
        name="silent-except",
        severity=Severity.WARNING,
        confidence=Confidence.HIGH,
        location=Location("app\x1b[2J.py", 1, 1, 1, 3),
        message="Message with \x07 bell.",
        source_line="x\x1b[31m = 1  # \u202e evil",
    )
    for color in (False, True):
        rendered = render_text(Report(findings=(hostile,), files_reviewed=1), color=color)
        assert "\x1b[2J" not in rendered and "\x1b[31m = 1" not in rendered
        assert "\x07" not in rendered and "\u202e" not in rendered
    plain = render_text(Report(findings=(hostile,), files_reviewed=1), color=False)
    assert "app\\x1b[2J.py:1:1:" in plain
    # The escaped character is underlined as wide as it is shown.
    assert "  1 | x\\x1b[31m = 1  # \\u202e evil\n    | ^~~~~\n" in plain


# -- GitHub -----------------------------------------------------------------------------


def test_github_annotations_are_exact() -> None:
    assert render_github(REPORT) == (
        "::notice file=app/api/orders.py,line=1,col=1,endLine=1,endColumn=1,title=BB601 god-module::"
        "The module spans 3 domains: orders (create_order), payments (refund), users (login).\n"
        "::warning file=app/api/orders.py,line=14,col=5,endLine=14,endColumn=22,title=BB101 silent-except::"
        "`except Exception` swallows the error: it neither re-raises, logs nor answers with an error."
        "%0Afix: Log the exception with `logger.exception(...)` or re-raise it.\n"
        "::warning file=app/api/orders.py,line=20,endLine=22,title=BB201 query-in-loop::"
        "`Customer.objects.get(...)` runs one query per order of the loop on line 19.\n"
        "::error file=app/réglages.py,line=3,col=11,endLine=3,endColumn=25,title=BB501 hardcoded-secret::"
        "A Stripe live secret key is hard-coded in `clé_api`."
        '%0Afix: Read it from the environment (`os.environ["STRIPE_API_KEY"]`).\n'
    )
    assert render(REPORT, OutputFormat.GITHUB) == render_github(REPORT)


def test_github_escaping() -> None:
    assert escape_data("100% done\r\nnext: a, b") == "100%25 done%0D%0Anext: a, b"
    assert escape_property("a,b:c%\n") == "a%2Cb%3Ac%25%0A"
    odd = Finding(
        code="BB101",
        name="silent-except",
        severity=Severity.WARNING,
        confidence=Confidence.HIGH,
        location=Location("dir,x/a:b.py", 7, 1, 7, 8),
        message="Line one: 50% of calls,\nline two.",
    )
    assert render_github(Report(findings=(odd,))) == (
        "::warning file=dir%2Cx/a%3Ab.py,line=7,col=1,endLine=7,endColumn=8,title=BB101 silent-except::"
        "Line one: 50%25 of calls,%0Aline two.\n"
    )
    assert render_github(Report(findings=())) == ""


# -- JSON -------------------------------------------------------------------------------


def test_json_report_is_exact() -> None:
    document = json.loads(render_json(REPORT))
    assert document == {
        "version": 1,
        "findings": [
            {
                "code": "BB601",
                "name": "god-module",
                "severity": "info",
                "confidence": "low",
                "rule_confidence": None,
                "path": "app/api/orders.py",
                "line": 1,
                "column": 1,
                "end_line": 1,
                "end_column": 1,
                "message": "The module spans 3 domains: orders (create_order), payments (refund), users (login).",
                "fix": None,
                "context": None,
                "context_evidence": None,
            },
            {
                "code": "BB101",
                "name": "silent-except",
                "severity": "warning",
                "confidence": "high",
                "rule_confidence": None,
                "path": "app/api/orders.py",
                "line": 14,
                "column": 5,
                "end_line": 14,
                "end_column": 22,
                "message": "`except Exception` swallows the error: it neither re-raises, logs nor answers with an error.",
                "fix": "Log the exception with `logger.exception(...)` or re-raise it.",
                "context": None,
                "context_evidence": None,
            },
            {
                "code": "BB201",
                "name": "query-in-loop",
                "severity": "warning",
                "confidence": "medium",
                "rule_confidence": None,
                "path": "app/api/orders.py",
                "line": 20,
                "column": 20,
                "end_line": 22,
                "end_column": 10,
                "message": "`Customer.objects.get(...)` runs one query per order of the loop on line 19.",
                "fix": None,
                "context": None,
                "context_evidence": None,
            },
            {
                "code": "BB501",
                "name": "hardcoded-secret",
                "severity": "error",
                "confidence": "high",
                "rule_confidence": None,
                "path": "app/réglages.py",
                "line": 3,
                "column": 11,
                "end_line": 3,
                "end_column": 25,
                "message": "A Stripe live secret key is hard-coded in `clé_api`.",
                "fix": 'Read it from the environment (`os.environ["STRIPE_API_KEY"]`).',
                "context": None,
                "context_evidence": None,
            },
        ],
        "summary": {
            "files_reviewed": 12,
            "files_from_cache": 10,
            "suppressed": 2,
            "baselined": 1,
            "below_confidence": 0,
            "total": 4,
            "by_severity": {"error": 1, "warning": 2, "info": 1},
            "by_code": {"BB101": 1, "BB201": 1, "BB501": 1, "BB601": 1},
        },
    }
    # Keys in the documented order, and stable bytes whatever the input order.
    assert list(document) == ["version", "findings", "summary"]
    assert list(document["findings"][0]) == [
        "code", "name", "severity", "confidence", "rule_confidence", "path", "line", "column", "end_line", "end_column", "message", "fix",
        "context", "context_evidence",
    ]
    shuffled = Report(
        findings=tuple(reversed(REPORT.findings)), files_reviewed=12, files_from_cache=10, suppressed=2, baselined=1
    )
    assert render_json(shuffled) == render_json(REPORT) == render(REPORT, OutputFormat.JSON)
    assert render_json(REPORT).endswith("}\n")


def test_json_report_without_findings() -> None:
    document = json.loads(render_json(Report(findings=(), files_reviewed=3)))
    assert document["findings"] == []
    assert document["summary"] == {
        "files_reviewed": 3,
        "files_from_cache": 0,
        "suppressed": 0,
        "baselined": 0,
        "below_confidence": 0,
        "total": 0,
        "by_severity": {"error": 0, "warning": 0, "info": 0},
        "by_code": {},
    }


# -- SARIF ------------------------------------------------------------------------------


def _sarif_schema() -> dict[str, object]:
    schema: dict[str, object] = json.loads(SARIF_SCHEMA_PATH.read_text(encoding="utf-8"))
    return schema


@pytest.mark.parametrize(
    "validator_class",
    [
        # The official schema declares draft-04; the brief asked for Draft 7 too. Both must accept the output.
        pytest.param(jsonschema.validators.validator_for(_sarif_schema()), id="declared-draft"),
        pytest.param(jsonschema.Draft7Validator, id="draft7"),
    ],
)
@pytest.mark.parametrize(
    "report",
    [
        pytest.param(REPORT, id="findings"),
        pytest.param(Report(findings=(), files_reviewed=2), id="empty"),
        pytest.param(Report(findings=(UNREADABLE,), notes=("No Python files found under x.",)), id="notes"),
        pytest.param(
            Report(findings=REPORT.findings, repository_prefix="services/shop/",
                         rules_url="https://github.com/acme/shop/blob/HEAD/docs/rules/"),
            id="repository",
        ),
    ],
)
def test_sarif_validates_against_the_official_schema(
    validator_class: type[jsonschema.protocols.Validator], report: Report
) -> None:
    schema = _sarif_schema()
    validator_class.check_schema(schema)
    validator = validator_class(schema)
    errors = sorted(validator.iter_errors(json.loads(render_sarif(report))), key=lambda error: list(error.path))
    assert [f"{list(error.path)}: {error.message}" for error in errors] == []


def test_sarif_rules_and_results_agree() -> None:
    document = json.loads(render_sarif(REPORT))
    assert document["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    assert document["version"] == "2.1.0"
    (run,) = document["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "backbone"
    rules = driver["rules"]
    rule_ids = [rule["id"] for rule in rules]
    assert len(rule_ids) == len(set(rule_ids))
    # The whole catalog is listed, found or not, then any code outside it.
    assert set(ENGINE_CODES) | set(all_rules()) <= set(rule_ids)
    assert {"BB101", "BB201", "BB501", "BB601"} <= set(rule_ids)
    for rule in rules:
        assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"]
        assert rule["help"]["text"]
        assert rule["defaultConfiguration"]["level"] in {"error", "warning", "note"}
        assert len(rule.get("properties", {}).get("tags", [])) <= 20  # GitHub's limit per rule
    for code in [*ENGINE_CODES, *all_rules()]:
        rule = rules[rule_ids.index(code)]
        # The whole rule documentation travels in the SARIF file; no web page is assumed.
        assert "helpUri" not in rule
        assert rule["properties"]["precision"] in {"high", "medium", "low"}
        assert rule["help"]["markdown"].startswith(rule["shortDescription"]["text"])

    results = run["results"]
    assert [result["ruleId"] for result in results] == ["BB601", "BB101", "BB201", "BB501"]
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    by_code = {result["ruleId"]: result for result in results}
    assert [by_code[code]["level"] for code in ("BB601", "BB101", "BB501")] == ["note", "warning", "error"]
    assert by_code["BB101"]["message"]["text"] == (
        "`except Exception` swallows the error: it neither re-raises, logs nor answers with an error."
        " Fix: Log the exception with `logger.exception(...)` or re-raise it."
    )
    assert by_code["BB101"]["properties"] == {
        "confidence": "high",
        "fix": "Log the exception with `logger.exception(...)` or re-raise it.",
    }
    assert by_code["BB201"]["message"]["text"] == QUERY_IN_LOOP.message
    assert by_code["BB201"]["locations"] == [
        {
            "physicalLocation": {
                "artifactLocation": {"uri": "app/api/orders.py", "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": 20, "startColumn": 20, "endLine": 22, "endColumn": 10},
            }
        }
    ]
    # Relative paths are URI references: non-ASCII is percent-encoded.
    secret_location = by_code["BB501"]["locations"][0]["physicalLocation"]
    assert secret_location["artifactLocation"] == {"uri": "app/r%C3%A9glages.py", "uriBaseId": "%SRCROOT%"}
    assert by_code["BB501"]["partialFingerprints"] == {FINGERPRINT_NAME: finding_key(HARDCODED_SECRET)}
    assert render(REPORT, OutputFormat.SARIF) == render_sarif(REPORT)


def test_sarif_fingerprints_are_unique_and_survive_moved_lines() -> None:
    moved = Finding(
        code=SILENT_EXCEPT.code,
        name=SILENT_EXCEPT.name,
        severity=SILENT_EXCEPT.severity,
        confidence=SILENT_EXCEPT.confidence,
        location=Location("app/api/orders.py", 40, 5, 40, 22),
        message=SILENT_EXCEPT.message,
        statement_digest=SILENT_EXCEPT.statement_digest,
        scope=SILENT_EXCEPT.scope,
    )
    document = json.loads(render_sarif(Report(findings=(SILENT_EXCEPT, moved))))
    fingerprints = [result["partialFingerprints"][FINGERPRINT_NAME] for result in document["runs"][0]["results"]]
    key = finding_key(SILENT_EXCEPT)
    assert fingerprints == [key, f"{key}:2"]
    alone = json.loads(render_sarif(Report(findings=(moved,))))
    assert alone["runs"][0]["results"][0]["partialFingerprints"][FINGERPRINT_NAME] == key


def test_sarif_paths_outside_the_root_are_file_uris() -> None:
    outside = Finding(
        code="BB000",
        name="unreadable-file",
        severity=Severity.ERROR,
        confidence=Confidence.HIGH,
        location=Location("/srv/other app/x.py", 1, 1, 1, 1),
        message="Not reviewed: binary file.",
    )
    document = json.loads(render_sarif(Report(findings=(outside,))))
    location = document["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "file:///srv/other%20app/x.py"}


def test_sarif_describes_codes_outside_the_catalog() -> None:
    plugin = Finding(
        code="XX900",
        name="plugin-rule",
        severity=Severity.INFO,
        confidence=Confidence.LOW,
        location=Location("a.py", 1, 1, 1, 2),
        message="A plugin said so.",
    )
    document = json.loads(render_sarif(Report(findings=(plugin,))))
    run = document["runs"][0]
    (result,) = run["results"]
    descriptor = run["tool"]["driver"]["rules"][result["ruleIndex"]]
    assert descriptor["id"] == "XX900" and descriptor["name"] == "plugin-rule"


def test_sarif_notes_become_tool_notifications() -> None:
    document = json.loads(render_sarif(Report(findings=(), notes=("No Python files found under src.",))))
    (invocation,) = document["runs"][0]["invocations"]
    assert invocation == {
        "executionSuccessful": True,
        "toolExecutionNotifications": [{"level": "note", "message": {"text": "No Python files found under src."}}],
    }
    assert "invocations" not in json.loads(render_sarif(Report(findings=())))["runs"][0]


class _ExampleSecurityRule(Rule):
    code = "BB599"
    name = "example-security-rule"
    summary = "An example of the security family."
    severity = Severity.ERROR
    doc = RuleDoc(what_it_does="Flags.", why_is_this_bad="Leaks.", example="x = 1", use_instead="x = 2")


class _ExampleDataRule(Rule):
    code = "BB299"
    name = "example-data-rule"
    summary = "An example of another family."
    severity = Severity.WARNING
    confidence = Confidence.MEDIUM
    doc = RuleDoc(what_it_does="Flags.", why_is_this_bad="Slow.", example="x = 1", use_instead="x = 2")


def test_sarif_security_severity_only_for_the_security_family() -> None:
    security = rule_descriptor(rule_entry(_ExampleSecurityRule))
    assert security["properties"] == {"tags": ["security"], "precision": "high", "security-severity": "8.0"}
    assert security["defaultConfiguration"] == {"level": "error"}
    data = rule_descriptor(rule_entry(_ExampleDataRule))
    assert data["properties"] == {"tags": ["data-access"], "precision": "medium"}
    assert data["defaultConfiguration"] == {"level": "warning"}
