"""The one report model every command renders through: findings, plus the command's own
sections as typed data.

A command builds a `Report`: its findings (`Finding`, with command-specific detail in
`Finding.extra`), a title and header lines, and sections (tables, lists, charts) that every
format shows in its own way. The renderers of backbone.report turn it into text, JSON,
Markdown, HTML, SARIF, GitHub annotations or GitLab Code Quality; no command has a renderer
of its own.
"""

from __future__ import annotations

import msgspec

from backbone.findings import Finding
from backbone.records import Record

JsonValue = str | int | float | bool | None | list["JsonValue"] | dict[str, "JsonValue"]


class Column(Record, frozen=True):
    title: str
    # Right-aligned figures; `code`: shown as code (Markdown code span, HTML <code>).
    numeric: bool = False
    code: bool = False


class Table(Record, frozen=True):
    """Rows of cells (already formatted as text). `empty` is said when there are no rows;
    without it an empty table is left out."""

    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[str, ...], ...]
    empty: str = ""


class Items(Record, frozen=True):
    """A titled list of sentences (`title` may be empty: the items then stand alone)."""

    title: str
    items: tuple[str, ...]
    empty: str = ""


class Block(Record, frozen=True):
    """Preformatted lines shown as they are (a statement, a query plan); `marked` holds the
    indexes of the lines to highlight."""

    title: str
    lines: tuple[str, ...]
    marked: tuple[int, ...] = ()


class Bin(Record, frozen=True):
    low_ms: float
    high_ms: float
    count: int


class Histogram(Record, frozen=True):
    """One latency histogram with its percentile markers (label, value in ms)."""

    title: str
    caption: str
    count: int
    bins: tuple[Bin, ...]
    markers: tuple[tuple[str, float], ...]


class Histograms(Record, frozen=True):
    """Histograms side by side (HTML only: the text formats show the figures in a table)."""

    title: str
    histograms: tuple[Histogram, ...]


class ChartBucket(Record, frozen=True):
    start: int  # seconds since the epoch
    p50_ms: float | None
    p95_ms: float | None
    requests: int
    error_rate: float | None


class ChartSpike(Record, frozen=True):
    start: int
    end: int
    metric: str  # "latency_p95" or "error_rate"


class ChartRoute(Record, frozen=True):
    label: str
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None


class Timeline(Record, frozen=True):
    """Latency and server errors over time, and route percentiles (HTML only, drawn by the
    page's script from the data embedded as JSON)."""

    bucket_seconds: int
    buckets: tuple[ChartBucket, ...]
    spikes: tuple[ChartSpike, ...]
    routes: tuple[ChartRoute, ...]


Section = Table | Items | Block | Histograms | Timeline


class Report(Record, frozen=True):
    """Everything a renderer may show about one run of a command."""

    findings: tuple[Finding, ...]
    files_reviewed: int = 0
    files_from_cache: int = 0
    suppressed: int = 0
    baselined: int = 0
    # Findings under `min_confidence` (the review's setting), counted but not shown.
    below_confidence: int = 0
    min_confidence: str = ""
    # The reviewed root, as given to the user (paths in findings are relative to it).
    root: str = "."
    notes: tuple[str, ...] = ()
    # The reviewed root relative to the git top level ("" or "dir/"): SARIF, GitHub and GitLab
    # paths are relative to the repository, whatever directory was reviewed.
    repository_prefix: str = ""
    # Where the rule pages are (a URL ending in "/"; CODE.md is appended), when known.
    rules_url: str | None = None
    # The command that made the report; its codes' catalog entries describe SARIF's rules.
    command: str = "review"
    # The review's totals: files named in the text's totals line, and JSON's "summary" key
    # (the review, contract and migrations reports); other commands write their own summary.
    review_summary: bool = True
    # The heading (HTML, Markdown; the text report's first line when `text_header`) and the
    # lines under it.
    title: str = ""
    header: tuple[str, ...] = ()
    text_header: bool = False
    warnings: tuple[str, ...] = ()
    # Sections before the findings, and after them.
    overview: tuple[Section, ...] = ()
    sections: tuple[Section, ...] = ()
    findings_title: str = "Findings"
    # Said when there is no finding (the review's text report says it in its summary line).
    no_findings: str = ""
    # Findings shown by file, line and column (the review's), or in the order given (most
    # important first: the profile's and debug's).
    by_location: bool = True
    # The JSON document's keys of the command, before and after "findings" (the review's
    # "summary" is added by the renderer).
    json_head: dict[str, JsonValue] = msgspec.field(default_factory=dict)
    json_tail: dict[str, JsonValue] = msgspec.field(default_factory=dict)

    def ordered_findings(self) -> tuple[Finding, ...]:
        return tuple(sorted(self.findings, key=Finding.sort_key)) if self.by_location else self.findings
