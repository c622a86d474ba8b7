"""Contract changes and lint problems as backbone findings, rendered by the shared reporters.

A finding is placed at the Python line responsible when the spec came from code
(`x-backbone-source`), else at the spec file. Every format (Markdown for a pull-request
comment too) goes through backbone.report.
"""

from __future__ import annotations

import re

from backbone.contract.changes import Change
from backbone.contract.lint import Problem
from backbone.contract.verify import VerifyOptions, VerifyRun, Violation
from backbone.findings import Confidence, Detail, Finding, Location
from backbone.records import Record
from backbone.report import OutputFormat, Report, render
from backbone.report.model import Column, JsonValue, Section, Table

FORMATS = tuple(f.value for f in OutputFormat)
_SOURCE = re.compile(r"^(?P<path>.+):(?P<line>\d+)$")


def _location(source: str | None, fallback: str) -> Location:
    match = _SOURCE.match(source or "")
    if match is not None:
        return Location(match.group("path"), max(int(match.group("line")), 1))
    return Location(fallback, 1)


def change_finding(change: Change, spec_label: str) -> Finding:
    check = change.check
    detail = Detail(command="contract", route=change.operation, evidence=(f"check {check.id}", f"level {check.level.value}"))
    return Finding(
        code=check.code,
        name=check.id,
        severity=check.level.severity,
        confidence=Confidence.HIGH,
        location=_location(change.source, spec_label),
        message=f"{check.level.value}: {change.message}",
        scope=change.operation,
        extra=detail,
    )


def problem_finding(problem: Problem, spec_label: str) -> Finding:
    rule = problem.rule
    detail = Detail(command="contract", route=problem.operation, evidence=(f"rule {rule.id}",))
    return Finding(
        code=rule.code,
        name=rule.id,
        severity=rule.level.severity,
        confidence=Confidence.HIGH,
        location=_location(problem.source, spec_label),
        message=problem.message,
        scope=problem.operation,
        extra=detail,
    )


def verify_finding(violation: Violation, related: tuple[Finding, ...], spec_label: str) -> Finding:
    """A response that broke the contract, at the handler's line, with the curl that reproduces it.

    `related`: the review's findings in the same handler, named in the message (a 500 on a
    handler whose errors are swallowed is one story, not two).
    """
    rule = violation.rule
    message = f"{violation.operation} {violation.what}"
    if violation.count > 1:
        message += f" ({violation.count} requests)"
    if related:
        named = ", ".join(f"{finding.code} {finding.name} (line {finding.line})" for finding in related)
        message += f"; the handler also has {named}"
    message += f"; reproduce: {violation.curl}"
    evidence = (f"rule {rule.id}", f"curl {violation.curl}", *(f"{finding.code} at {finding.path}:{finding.line}" for finding in related))
    return Finding(
        code=rule.code,
        name=rule.id,
        severity=rule.level.severity,
        confidence=Confidence.HIGH,
        location=_location(violation.source, spec_label),
        message=message,
        scope=violation.operation,
        extra=Detail(command="contract", route=violation.operation, evidence=evidence),
    )


class RunSummary(Record, frozen=True):
    """What a run did besides its findings: JSON keys before the findings, and the same as a section."""

    json: dict[str, JsonValue]
    section: Section


def verify_summary(run: VerifyRun, options: VerifyOptions) -> RunSummary:
    """verify's run: requests sent, operations driven and not, the seed and the bounds."""
    tested = max(run.operations - len(run.untested), 0)
    document: dict[str, JsonValue] = {
        "requests": run.requests, "operations": run.operations, "operations_tested": tested,
        "operations_not_tested": list(run.untested), "seed": options.seed, "max_examples": options.max_examples,
        "time_limit_s": options.time_limit_s, "stopped_at_time_limit": run.stopped_at_time_limit,
    }
    rows = (
        ("requests sent", str(run.requests)),
        ("operations tested", f"{tested} of {run.operations}"),
        ("seed", str(options.seed)),
        ("requests per operation and mode", str(options.max_examples)),
        ("time limit", f"{options.time_limit_s:g} s" + (" (reached)" if run.stopped_at_time_limit else "")),
        ("not tested", ", ".join(run.untested) or "none"),
    )
    return RunSummary({"run": document}, Table("Run", (Column("what"), Column("value")), rows))


def render_findings(
    findings: list[Finding], output_format: str, title: str, specs: int, notes: tuple[str, ...] = (),
    summary: RunSummary | None = None,
) -> str:
    """`specs`: how many contracts were read (2 for a diff), shown as the files of the summary line."""
    ordered = tuple(sorted(findings, key=lambda finding: (-finding.severity.rank, finding.scope, finding.code)))
    report = Report(findings=ordered, files_reviewed=specs, notes=notes, command="contract", by_location=False,
                    title=title, json_head=summary.json if summary else {},
                    overview=(summary.section,) if summary else ())
    return render(report, OutputFormat(output_format))
