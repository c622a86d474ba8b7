"""Renderers: they turn findings into text, JSON, SARIF, GitHub annotations or GitLab Code Quality, and nothing else."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from backbone.findings import Finding
from backbone.redaction import mask_finding, mask_values


class OutputFormat(enum.Enum):
    TEXT = "text"
    JSON = "json"
    SARIF = "sarif"
    GITHUB = "github"
    GITLAB = "gitlab"


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
    # The reviewed root relative to the git top level ("" or "dir/"): SARIF, GitHub and GitLab
    # paths are relative to the repository, whatever directory was reviewed.
    repository_prefix: str = ""
    # Where the rule pages are (a URL ending in "/"; CODE.md is appended), when known.
    rules_url: str | None = None


def repository_path(report: ReviewReport, path: str) -> str:
    """A finding's path relative to the repository's top level (absolute paths stay as they are)."""
    if not report.repository_prefix or path.startswith("/") or (len(path) > 1 and path[1] == ":"):
        return path
    return report.repository_prefix + path


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
    if output_format is OutputFormat.GITLAB:
        from backbone.report.gitlab import render_gitlab

        return render_gitlab(report)
    from backbone.report.text import render_text

    return render_text(report, color=color)


def render_findings(
    findings: Iterable[Finding], output_format: OutputFormat, *, root: str = ".", notes: Iterable[str] = ()
) -> str:
    """Findings of any command (profile's RT, debug's LG) through the same renderers as the review's:
    SARIF for code scanning, GitHub annotations."""
    return render(ReviewReport(findings=tuple(findings), root=root, notes=tuple(notes)), output_format)
