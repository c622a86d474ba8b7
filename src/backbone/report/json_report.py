"""The JSON report (DESIGN.md): `{"version": 1, "findings": [...], "summary": {...}}`.

A public contract: keys are only ever added. Findings are sorted by path, line, column
and code, so the same review always prints the same bytes.
"""

from __future__ import annotations

import json
from collections import Counter

from backbone.findings import Finding, Severity
from backbone.report import ReviewReport

JSON_REPORT_VERSION = 1

JsonValue = str | int | float | bool | None | list["JsonValue"] | dict[str, "JsonValue"]


def finding_json(finding: Finding) -> dict[str, JsonValue]:
    location = finding.location
    return {
        "code": finding.code,
        "name": finding.name,
        "severity": finding.severity.value,
        "confidence": finding.confidence.value,
        "path": finding.path,
        "line": location.line,
        "column": location.column,
        "end_line": location.last_line,
        "end_column": location.end_column if location.end_column is not None else location.column,
        "message": finding.message,
        "fix": finding.fix.message if finding.fix is not None else None,
        "context": finding.context or None,
        "context_evidence": finding.context_evidence or None,
    }


def summary_json(report: ReviewReport) -> dict[str, JsonValue]:
    by_severity = Counter(finding.severity for finding in report.findings)
    by_code = Counter(finding.code for finding in report.findings)
    return {
        "files_reviewed": report.files_reviewed,
        "files_from_cache": report.files_from_cache,
        "suppressed": report.suppressed,
        "baselined": report.baselined,
        "total": len(report.findings),
        "by_severity": {severity.value: by_severity[severity] for severity in Severity},
        "by_code": {code: by_code[code] for code in sorted(by_code)},
    }


def render_json(report: ReviewReport) -> str:
    document: dict[str, JsonValue] = {
        "version": JSON_REPORT_VERSION,
        "findings": [finding_json(finding) for finding in sorted(report.findings, key=Finding.sort_key)],
        "summary": summary_json(report),
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
