"""SARIF 2.1.0: the format code scanning (GitHub, Azure DevOps, IDEs) ingests.

One run. The driver lists every code backbone can report (so a consumer can show the
documentation of a rule that found nothing this time); each result points at its rule by
id and index. GitHub code scanning specifics: `properties.precision` from the rule's
confidence, `security-severity` (with the `security` tag) for the security family, and
`partialFingerprints` from the baseline key, so that alerts follow code that moves.
Fixes are not SARIF `fixes` (those need replacement text); the fix sentence is appended to
the message and kept in the result's properties.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import PurePosixPath, PureWindowsPath
from urllib.parse import quote

from backbone import __version__
from backbone.findings import Confidence, Finding, Severity
from backbone.report import Report, repository_path
from backbone.report.command_codes import all_entries
from backbone.report.model import JsonValue
from backbone.report.rule_docs import CatalogEntry, entry_markdown
from backbone.review.baseline import finding_key

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
SOURCE_ROOT = "%SRCROOT%"
# SARIF property names for fingerprints end in a version; bump it if finding_key changes.
FINGERPRINT_NAME = "backboneFindingKey/v1"

_LEVELS: dict[Severity, str] = {
    Severity.ERROR: "error",
    Severity.WARNING: "warning",
    Severity.INFO: "note",
}
_PRECISION: dict[Confidence, str] = {
    Confidence.HIGH: "high",
    Confidence.MEDIUM: "medium",
    Confidence.LOW: "low",
}
_FAMILY_TAGS: dict[str, str] = {
    "BB0": "engine",
    "BB1": "failure-handling",
    "BB2": "data-access",
    "BB3": "api-contract",
    "BB4": "request-cycle",
    "BB5": "security",
    "BB6": "architecture",
}
SECURITY_FAMILY = "BB5"
# GitHub shows 9.0+ as critical, 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9 low.
_SECURITY_SEVERITY: dict[Severity, str] = {
    Severity.ERROR: "8.0",
    Severity.WARNING: "5.0",
    Severity.INFO: "2.0",
}


def _text(value: str) -> dict[str, JsonValue]:
    return {"text": value}


def _tags(entry: CatalogEntry) -> list[JsonValue]:
    tags: list[JsonValue] = [_FAMILY_TAGS.get(entry.code[:3], "other")]
    if entry.code.startswith(SECURITY_FAMILY) and "security" not in tags:
        tags.append("security")
    tags += sorted(framework.value for framework in entry.frameworks)
    return tags


def _help_body(entry: CatalogEntry) -> str:
    """The page without its `# CODE name` title: code scanning shows its own."""
    page = entry_markdown(entry)
    return page.split("\n\n", 1)[1] if "\n\n" in page else page


def rule_descriptor(entry: CatalogEntry, rules_url: str | None = None) -> dict[str, JsonValue]:
    body = _help_body(entry)
    properties: dict[str, JsonValue] = {
        "tags": _tags(entry),
        "precision": _PRECISION[entry.confidence],
    }
    if entry.code.startswith(SECURITY_FAMILY):
        properties["security-severity"] = _SECURITY_SEVERITY[entry.severity]
    descriptor: dict[str, JsonValue] = {
        "id": entry.code,
        "name": entry.name,
        "shortDescription": _text(entry.summary),
        "fullDescription": _text(" ".join(entry.doc.what_it_does.split())),
        "help": {"text": body, "markdown": body},
        "defaultConfiguration": {"level": _LEVELS[entry.severity]},
        "properties": properties,
    }
    if rules_url is not None:
        descriptor["helpUri"] = f"{rules_url}{quote(entry.code)}.md"
    return descriptor


def _unknown_descriptor(finding: Finding) -> dict[str, JsonValue]:
    """A code outside the catalog (a plugin, or an older cache): enough for results to point at."""
    return {
        "id": finding.code,
        "name": finding.name,
        "shortDescription": _text(finding.name),
        "fullDescription": _text(finding.name),
        "help": _text(finding.name),
        "defaultConfiguration": {"level": _LEVELS[finding.severity]},
    }


def artifact_location(path: str) -> dict[str, JsonValue]:
    """A relative path as a URI under %SRCROOT%; a path outside the root as a file: URI."""
    if PurePosixPath(path).is_absolute():
        return {"uri": "file://" + quote(path, safe="/")}
    if PureWindowsPath(path).is_absolute():
        return {"uri": PureWindowsPath(path).as_uri()}
    return {"uri": quote(path, safe="/"), "uriBaseId": SOURCE_ROOT}


def _region(finding: Finding) -> dict[str, JsonValue]:
    location = finding.location
    start_line = max(location.line, 1)
    start_column = max(location.column, 1)
    end_line = max(location.last_line, start_line)
    end_column = location.end_column if location.end_column is not None else start_column
    if end_line == start_line:
        end_column = max(end_column, start_column)
    return {
        "startLine": start_line,
        "startColumn": start_column,
        "endLine": end_line,
        "endColumn": max(end_column, 1),
    }


def detail_properties(finding: Finding) -> dict[str, JsonValue]:
    """What profile or debug saw behind a finding (its route, query id, figures, evidence)."""
    detail = finding.extra
    if detail is None:
        return {}
    properties: dict[str, JsonValue] = {"command": detail.command}
    if detail.route:
        properties["route"] = detail.route
    if detail.query is not None:
        properties["queryId"] = detail.query.id
        properties["queryFingerprint"] = detail.query.fingerprint
    for measure in detail.measures:
        properties[measure.name] = measure.value
    if detail.evidence:
        properties["evidence"] = list(detail.evidence)
    return properties


def _result(finding: Finding, rule_index: int, fingerprint: str, path: str) -> dict[str, JsonValue]:
    message = finding.message
    properties: dict[str, JsonValue] = {"confidence": finding.confidence.value}
    if finding.rule_confidence is not None:
        properties["ruleConfidence"] = finding.rule_confidence.value
    if finding.context:
        properties["context"] = finding.context
        properties["contextEvidence"] = finding.context_evidence
    if finding.fix is not None:
        message = f"{message} Fix: {finding.fix.message}"
        properties["fix"] = finding.fix.message
    properties.update(detail_properties(finding))
    return {
        "ruleId": finding.code,
        "ruleIndex": rule_index,
        "level": _LEVELS[finding.severity],
        "message": _text(message),
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": artifact_location(path),
                    "region": _region(finding),
                }
            }
        ],
        "partialFingerprints": {FINGERPRINT_NAME: fingerprint},
        "properties": properties,
    }


def unique_fingerprints(findings: list[Finding]) -> list[str]:
    """Each finding's baseline key, unique in the report.

    Two copies of one mistake in one function share a baseline key; code scanning would
    merge them into one alert, so later copies get their occurrence number.
    """
    occurrences: Counter[str] = Counter()
    fingerprints: list[str] = []
    for finding in findings:
        key = finding_key(finding)
        occurrences[key] += 1
        fingerprints.append(key if occurrences[key] == 1 else f"{key}:{occurrences[key]}")
    return fingerprints


def sarif_document(report: Report) -> dict[str, JsonValue]:
    findings = sorted(report.findings, key=Finding.sort_key)
    rules: list[JsonValue] = []
    rule_indexes: dict[str, int] = {}
    # The whole catalog of the command, found or not, and the entry of any other code found.
    found = {finding.code for finding in findings}
    for entry in all_entries():
        if entry.command == report.command or entry.code in found:
            rule_indexes[entry.code] = len(rules)
            rules.append(rule_descriptor(entry, report.rules_url))
    for finding in findings:
        if finding.code not in rule_indexes:
            rule_indexes[finding.code] = len(rules)
            rules.append(_unknown_descriptor(finding))

    results: list[JsonValue] = []
    for finding, fingerprint in zip(findings, unique_fingerprints(findings)):
        results.append(_result(finding, rule_indexes[finding.code], fingerprint, repository_path(report, finding.path)))

    run: dict[str, JsonValue] = {
        "tool": {
            "driver": {
                "name": "backbone",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": rules,
            }
        },
        "columnKind": "unicodeCodePoints",
        "results": results,
        "properties": {
            "filesReviewed": report.files_reviewed,
            "filesFromCache": report.files_from_cache,
            "suppressed": report.suppressed,
            "baselined": report.baselined,
            "belowConfidence": report.below_confidence,
        },
    }
    if report.notes:
        run["invocations"] = [
            {
                "executionSuccessful": True,
                "toolExecutionNotifications": [{"level": "note", "message": _text(note)} for note in report.notes],
            }
        ]
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def render_sarif(report: Report) -> str:
    return json.dumps(sarif_document(report), indent=2, ensure_ascii=False) + "\n"

