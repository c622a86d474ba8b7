"""The debug report through the shared renderers (backbone.report), as the command writes it."""

from __future__ import annotations

from backbone.logs.document import debug_document, timeline
from backbone.logs.model import DebugReport
from backbone.report import OutputFormat, render, render_html_page
from backbone.report.charts import timeline_json
from backbone.report.model import JsonValue


def render_json(report: DebugReport) -> str:
    return render(debug_document(report), OutputFormat.JSON)


def render_text(report: DebugReport, *, color: bool = False, width: int | None = None) -> str:
    return render(debug_document(report), OutputFormat.TEXT, color=color, width=width)


def render_markdown(report: DebugReport) -> str:
    return render(debug_document(report), OutputFormat.MARKDOWN)


def render_html(report: DebugReport) -> str:
    return render_html_page(debug_document(report))


def chart_data(report: DebugReport) -> dict[str, JsonValue]:
    return timeline_json(timeline(report))
