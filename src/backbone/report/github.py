"""GitHub Actions workflow commands: one `::error`/`::warning`/`::notice` annotation per finding.

The runner parses `::command key=value,...::message` from a step's output. Values are
escaped as the runner unescapes them (actions/toolkit command.ts): `%`, CR and LF in the
message; those and `:` and `,` in properties, where they would end a value early.
"""

from __future__ import annotations

from backbone.findings import Finding, Severity
from backbone.report import Report, repository_path

_COMMANDS: dict[Severity, str] = {
    Severity.ERROR: "error",
    Severity.WARNING: "warning",
    Severity.INFO: "notice",
}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(finding: Finding, path: str | None = None) -> str:
    location = finding.location
    single_line = location.last_line == location.line
    properties = [("file", finding.path if path is None else path), ("line", str(location.line))]
    # GitHub accepts columns only for an annotation on a single line.
    if single_line:
        properties.append(("col", str(location.column)))
    properties.append(("endLine", str(location.last_line)))
    if single_line and location.end_column is not None:
        properties.append(("endColumn", str(location.end_column)))
    properties.append(("title", f"{finding.code} {finding.name}"))
    message = finding.message
    if finding.fix is not None:
        message += f"\nfix: {finding.fix.message}"
    rendered = ",".join(f"{key}={escape_property(value)}" for key, value in properties)
    return f"::{_COMMANDS[finding.severity]} {rendered}::{escape_data(message)}"


def render_github(report: Report) -> str:
    lines = [
        annotation(finding, repository_path(report, finding.path))
        for finding in sorted(report.findings, key=Finding.sort_key)
    ]
    return "".join(line + "\n" for line in lines)
