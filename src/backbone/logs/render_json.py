"""`backbone debug --format json`: the schema of issue 6, exactly (docs/debug.md, "JSON output")."""

from __future__ import annotations

import json
import math

from backbone.findings import Finding
from backbone.logs.model import DebugReport
from backbone.report.json_report import finding_json
from backbone.logs.wording import iso

JSON_VERSION = 1


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def report_dict(report: DebugReport) -> dict[str, object]:
    return {
        "version": JSON_VERSION,
        "lines": {"total": report.lines.total, "parsed": report.lines.parsed, "malformed": report.lines.malformed},
        "routes": [
            {
                "method": route.method,
                "route": route.route,
                "count": route.count,
                "error_rate": round(route.error_rate, 6),
                "p50_ms": _round(route.p50_ms),
                "p95_ms": _round(route.p95_ms),
                "p99_ms": _round(route.p99_ms),
                "statuses": {str(status): count for status, count in route.statuses},
            }
            for route in report.routes
        ],
        "spikes": [
            {"start": iso(spike.start), "end": iso(spike.end), "metric": spike.metric.value, "routes": list(spike.routes)}
            for spike in report.spikes
        ],
        "errors": [
            {
                "fingerprint": group.fingerprint,
                "exception": group.exception,
                "message": group.message,
                "count": group.count,
                "culprit": (
                    {"path": group.culprit.path, "line": group.culprit.line, "function": group.culprit.function}
                    if group.culprit is not None else None
                ),
                "first_seen": iso(group.first_seen),
                "last_seen": iso(group.last_seen),
            }
            for group in report.errors
        ],
        "slow_queries": [
            {
                "fingerprint": query.fingerprint,
                "statement": query.statement,
                "count": query.count,
                "total_ms": _round(query.total_ms),
                "mean_ms": _round(query.mean_ms),
                "max_ms": _round(query.max_ms),
                "first_seen": iso(query.first_seen),
                "last_seen": iso(query.last_seen),
            }
            for query in report.slow_queries
        ],
        "causes": [{"cause": cause.summary, "evidence": list(cause.evidence), "fix": cause.fix} for cause in report.causes],
        "warnings": list(report.warnings),
        # The probable causes (LG) and what the profile's detectors found in traces (RT), in the
        # finding shape `backbone review --format json` writes.
        "findings": [_finding(finding) for finding in report.findings()],
        "inputs": [
            {
                "path": item.path,
                "format": item.format.value if item.format else None,
                "lines": item.total,
                "parsed": item.parsed,
                "malformed": item.malformed,
                "time_zone": item.zone,
                "problem": item.problem,
            }
            for item in report.inputs
        ],
    }


def _finding(finding: Finding) -> dict[str, object]:
    document: dict[str, object] = dict(finding_json(finding))
    detail = finding.extra
    if detail is not None:
        document["route"] = detail.route or None
        document["query_id"] = detail.query.id if detail.query is not None else None
        document["evidence"] = list(detail.evidence)
        document.update({measure.name: measure.value for measure in detail.measures})
    return document


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


def render_json(report: DebugReport) -> str:
    return strict_json(report_dict(report), indent=2) + "\n"
