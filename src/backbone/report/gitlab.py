"""GitLab Code Quality: the JSON array a `codequality` report artifact holds.

Each finding is an issue with a description, a check name, a unique fingerprint (the
baseline key, as SARIF's, so that GitLab follows code that moves), a severity and a
location whose path is relative to the repository's top level.
"""

from __future__ import annotations

import json

from backbone.findings import Finding, Severity
from backbone.report import Report, repository_path
from backbone.report.model import JsonValue
from backbone.report.sarif import unique_fingerprints

# GitLab's levels: info, minor, major, critical, blocker.
_SEVERITIES: dict[Severity, str] = {
    Severity.ERROR: "critical",
    Severity.WARNING: "major",
    Severity.INFO: "minor",
}
# Code Climate categories, by rule family.
_CATEGORIES: dict[str, str] = {
    "BB0": "Bug Risk",
    "BB1": "Bug Risk",
    "BB2": "Performance",
    "BB3": "Compatibility",
    "BB4": "Performance",
    "BB5": "Security",
    "BB6": "Complexity",
}


def issue(finding: Finding, fingerprint: str, path: str) -> dict[str, JsonValue]:
    description = f"{finding.code} {finding.name}: {finding.message}"
    if finding.fix is not None:
        description += f" Fix: {finding.fix.message}"
    location = finding.location
    return {
        "type": "issue",
        "description": description,
        "check_name": finding.code,
        "categories": [_CATEGORIES.get(finding.code[:3], "Bug Risk")],
        "fingerprint": fingerprint,
        "severity": _SEVERITIES[finding.severity],
        "location": {
            "path": path,
            "lines": {"begin": max(location.line, 1), "end": max(location.last_line, location.line, 1)},
        },
    }


def render_gitlab(report: Report) -> str:
    findings = sorted(report.findings, key=Finding.sort_key)
    issues: list[JsonValue] = [
        issue(finding, fingerprint, repository_path(report, finding.path))
        for finding, fingerprint in zip(findings, unique_fingerprints(findings))
    ]
    return json.dumps(issues, indent=2, ensure_ascii=False) + "\n"
