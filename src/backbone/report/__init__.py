"""Renderers: they turn a `Report` (findings, and the command's sections as typed data, see
backbone.report.model) into text, JSON, Markdown, HTML, SARIF, GitHub annotations or GitLab
Code Quality, for every command, and nothing else."""

from __future__ import annotations

import enum

from msgspec.structs import replace

from backbone.redaction import mask_finding, mask_values
from backbone.report.model import Column, Items, JsonValue, Report, Section, Table

__all__ = ["Column", "Items", "JsonValue", "OutputFormat", "Report", "Section", "Table", "render", "render_html_page",
           "repository_path"]


class OutputFormat(enum.Enum):
    TEXT = "text"
    JSON = "json"
    SARIF = "sarif"
    GITHUB = "github"
    GITLAB = "gitlab"
    MARKDOWN = "markdown"
    HTML = "html"


def repository_path(report: Report, path: str) -> str:
    """A finding's path relative to the repository's top level (absolute paths stay as they are)."""
    if not report.repository_prefix or path.startswith("/") or (len(path) > 1 and path[1] == ":"):
        return path
    return report.repository_prefix + path


def _masked(report: Report) -> Report:
    # Every format shows every string masked for secrets, wherever it came from (the code, a
    # profiled app, the logs).
    return replace(mask_values(replace(report, findings=())), findings=tuple(map(mask_finding, report.findings)))


def render_html_page(report: Report) -> str:
    """The report as a self-contained HTML page (`--html FILE` of every command)."""
    from backbone.report.html_report import render_html

    return render_html(_masked(report))


def render(report: Report, output_format: OutputFormat, *, color: bool = False, width: int | None = None) -> str:
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
    if output_format is OutputFormat.HTML:
        from backbone.report.html_report import render_html

        return render_html(report)
    if output_format is OutputFormat.MARKDOWN:
        from backbone.report.markdown import render_markdown

        return render_markdown(report)
    from backbone.report.text import render_text

    return render_text(report, color=color, width=width)
