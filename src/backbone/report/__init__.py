"""Renderers: they turn findings into text, JSON, SARIF or GitHub annotations, and nothing else."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace

from backbone.findings import Finding
from backbone.redaction import mask_finding, mask_values


class OutputFormat(enum.Enum):
    TEXT = "text"
    JSON = "json"
    SARIF = "sarif"
    GITHUB = "github"


@dataclass(frozen=True, slots=True)
class ReviewReport:
    """Everything a renderer may show about one review run."""

    findings: tuple[Finding, ...]
    files_reviewed: int = 0
    files_from_cache: int = 0
    suppressed: int = 0
    baselined: int = 0
    # The reviewed root, as given to the user (paths in findings are relative to it).
    root: str = "."
    notes: tuple[str, ...] = field(default=())


def _masked(report: ReviewReport) -> ReviewReport:
    # Every format shows findings masked for secrets, wherever the finding came from.
    return replace(report, findings=tuple(map(mask_finding, report.findings)), notes=mask_values(report.notes))


def render_html_page(report: ReviewReport) -> str:
    """The review as a self-contained HTML page (`backbone review --html FILE`)."""
    from backbone.report.html_report import render_html

    return render_html(_masked(report))


def render(report: ReviewReport, output_format: OutputFormat, *, color: bool = False) -> str:
    report = _masked(report)
    if output_format is OutputFormat.JSON:
        from backbone.report.json_report import render_json

        return render_json(report)
    if output_format is OutputFormat.SARIF:
        from backbone.report.sarif import render_sarif

        return render_sarif(report)
    if output_format is OutputFormat.GITHUB:
        from backbone.report.github import render_github

        return render_github(report)
    from backbone.report.text import render_text

    return render_text(report, color=color)
