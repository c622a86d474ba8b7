"""`backbone debug`: root-cause analysis from access logs, tracebacks and slow-query logs.

The public API is `analyze(paths, options) -> DebugReport`; the renderers turn a report
into text, JSON, Markdown or a self-contained HTML page.
"""

from __future__ import annotations

from backbone.logs.analyze import DebugOptions, analyze
from backbone.logs.jsonlog import FieldSpecError
from backbone.logs.model import (
    Cause,
    CauseKind,
    DebugReport,
    ErrorGroup,
    InputSummary,
    LogFormat,
    RouteStats,
    SlowQuery,
    Spike,
    SpikeMetric,
)

__all__ = [
    "Cause",
    "CauseKind",
    "DebugOptions",
    "DebugReport",
    "ErrorGroup",
    "FieldSpecError",
    "InputSummary",
    "LogFormat",
    "RouteStats",
    "SlowQuery",
    "Spike",
    "SpikeMetric",
    "analyze",
]
