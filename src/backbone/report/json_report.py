"""The JSON report of every command (DESIGN.md): `{"version": 1, ...the command's keys...,
"findings": [...], ...}`; the review's is `{"version": 1, "findings": [...], "summary": {...}}`.

A public contract: keys are only ever added. Each finding has the same keys whatever the
command; a finding with a typed extra (profile, debug, contract...) adds the extra's keys:
route, query_id, fingerprint, sql, evidence, call_site, stack, then its measures and labels
each under its own name. The JSON is strict (no NaN nor Infinity: null instead). The
review's findings are sorted by path, line, column and code, so the same review always
prints the same bytes.
"""

from __future__ import annotations

import json
import math
from collections import Counter

from backbone.findings import Finding, Frame, Severity
from backbone.report.model import JsonValue, Report

JSON_REPORT_VERSION = 1


def _frame(frame: Frame) -> JsonValue:
    return {"path": frame.path, "line": frame.line, "function": frame.function}


def finding_json(finding: Finding) -> dict[str, JsonValue]:
    location = finding.location
    document: dict[str, JsonValue] = {
        "code": finding.code,
        "name": finding.name,
        "severity": finding.severity.value,
        "confidence": finding.confidence.value,
        "rule_confidence": finding.rule_confidence.value if finding.rule_confidence is not None else None,
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
    detail = finding.extra
    if detail is not None:
        document["route"] = detail.route or None
        document["query_id"] = detail.query.id if detail.query is not None else None
        document["fingerprint"] = detail.query.fingerprint if detail.query is not None else None
        document["sql"] = detail.statement or None
        document["evidence"] = list(detail.evidence)
        document["call_site"] = _frame(detail.call_site) if detail.call_site is not None else None
        document["stack"] = [_frame(frame) for frame in detail.stack]
        document.update({measure.name: measure.value for measure in detail.measures})
        document.update({label.name: label.value for label in detail.labels})
    return document


def summary_json(report: Report) -> dict[str, JsonValue]:
    by_severity = Counter(finding.severity for finding in report.findings)
    by_code = Counter(finding.code for finding in report.findings)
    return {
        "files_reviewed": report.files_reviewed,
        "files_from_cache": report.files_from_cache,
        "suppressed": report.suppressed,
        "baselined": report.baselined,
        "below_confidence": report.below_confidence,
        "total": len(report.findings),
        "by_severity": {severity.value: by_severity[severity] for severity in Severity},
        "by_code": {code: by_code[code] for code in sorted(by_code)},
    }


def finite(value: object) -> object:
    """`value` with every float that is not finite (NaN, infinities) replaced by None, so that
    the JSON written is strict (RFC 8259 has no NaN nor Infinity)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(item) for item in value]
    return value


def strict_json(value: object, *, indent: int | None = None) -> str:
    """Strict JSON: non-finite numbers as null; json.dumps refuses any that would remain."""
    return json.dumps(finite(value), indent=indent, ensure_ascii=False, allow_nan=False)


def report_json(report: Report) -> dict[str, JsonValue]:
    document: dict[str, JsonValue] = {"version": JSON_REPORT_VERSION, **report.json_head}
    document["findings"] = [finding_json(finding) for finding in report.ordered_findings()]
    document.update(report.json_tail)
    if report.review_summary:
        document["summary"] = summary_json(report)
    return document


def render_json(report: Report) -> str:
    return strict_json(report_json(report), indent=2) + "\n"
