"""The terminal report of every command: the command's header and overview tables, each
finding with its source line and a caret (and its evidence), counts by code, the command's
sections, then totals and notes.

The review's findings come sorted by file, line and column, so the output reads file by file,
like flake8 and ruff's full output; the profile's and debug's come most important first. The
source line shown is `Finding.source_line`, already masked for secrets: this module never
reads a file.
"""

from __future__ import annotations

import io
import unicodedata
from collections import Counter

from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table as RichTable
from rich.text import Text

from backbone.findings import Finding, Severity
from backbone.report import terminal
from backbone.report.model import Block, Items, Report, Section, Table

# Tabs are expanded here (not by rich) so that the caret lines up under the same cells.
_TAB_WIDTH = 4
_CONSOLE_WIDTH = 100

_SEVERITY_STYLE = terminal.SEVERITY_STYLE
_SEVERITY_PLURAL: dict[Severity, str] = {
    Severity.ERROR: "errors",
    Severity.WARNING: "warnings",
    Severity.INFO: "info",
}
_SEVERITY_ORDER = (Severity.ERROR, Severity.WARNING, Severity.INFO)

# Characters that would let reviewed source drive the terminal, or reorder what it shows
# ("Trojan Source" bidirectional overrides): shown escaped, never emitted.
_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _visible(character: str) -> str:
    if character in _BIDI_CONTROLS or (unicodedata.category(character) == "Cc" and character != "\t"):
        code_point = ord(character)
        return f"\\x{code_point:02x}" if code_point < 0x100 else f"\\u{code_point:04x}"
    return character


def _safe(text: str) -> str:
    """Text from findings (messages, paths) with control characters escaped; tabs become spaces."""
    return "".join(" " if character == "\t" else _visible(character) for character in text)


def _display_pieces(line: str) -> list[str]:
    """What each character of a source line shows as: tabs expanded, control characters escaped."""
    pieces: list[str] = []
    cells = 0
    for character in line:
        piece = " " * (_TAB_WIDTH - cells % _TAB_WIDTH) if character == "\t" else _visible(character)
        pieces.append(piece)
        cells += cell_len(piece)
    return pieces


def source_and_caret(finding: Finding) -> tuple[str, str] | None:
    """The displayed source line and the caret line under the reported columns (None without a source line).

    Columns are 1-based characters and the end column is exclusive; the caret is measured in
    terminal cells, so wide characters (CJK) and tabs before it keep it aligned. A finding that
    continues on later lines is underlined to the end of its first line.
    """
    line = finding.source_line.rstrip("\r\n")
    if not line.strip():
        return None
    location = finding.location
    pieces = _display_pieces(line)
    start = min(max(location.column, 1), len(pieces) + 1) - 1
    if location.last_line > location.line:
        end = len(line.rstrip())
    elif location.end_column is not None:
        end = min(location.end_column - 1, len(pieces))
    else:
        end = start
    caret_cells = sum(cell_len(piece) for piece in pieces[start:end]) if end > start else 1
    offset_cells = sum(cell_len(piece) for piece in pieces[:start])
    caret = " " * offset_cells + "^" + "~" * max(caret_cells - 1, 0)
    return "".join(pieces), caret


def _plural(count: int, singular: str, plural: str | None = None) -> str:
    return f"{count} {singular if count == 1 else (plural or singular + 's')}"


def _finding_lines(finding: Finding) -> list[Text]:
    severity_style = _SEVERITY_STYLE[finding.severity]
    location = finding.location
    header = Text()
    header.append(_safe(finding.path), style="bold")
    header.append(f":{location.line}:{location.column}: ")
    header.append(finding.code, style=severity_style)
    header.append(" ")
    header.append(f"[{finding.severity.value}]", style=severity_style)
    header.append(" ")
    header.append(_safe(finding.message))
    lines = [header]
    shown = source_and_caret(finding)
    if shown is not None:
        source, caret = shown
        number = str(location.line)
        source_text = Text()
        source_text.append(f"  {number} | ", style="dim")
        source_text.append(source)
        caret_text = Text()
        caret_text.append(f"  {' ' * len(number)} | ", style="dim")
        caret_text.append(caret, style=severity_style)
        lines += [source_text, caret_text]
    if finding.fix is not None:
        fix = Text("  ")
        fix.append("fix:", style="bold cyan")
        fix.append(" " + _safe(finding.fix.message))
        lines.append(fix)
    detail = finding.extra
    if detail is not None:
        statement = " ".join(detail.statement.split())
        if statement and statement not in finding.message:
            lines.append(Text("  sql: " + _safe(statement), style="dim"))
        lines += [Text("  at " + _safe(frame.label()), style="dim") for frame in detail.stack]
        lines += [Text("  - " + _safe(item)) for item in detail.evidence]
    return lines


def _by_rule_lines(findings: tuple[Finding, ...]) -> list[Text]:
    counts = Counter(finding.code for finding in findings)
    names = {finding.code: finding.name for finding in findings}
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    count_width = len(str(ordered[0][1]))
    code_width = max(len(code) for code in counts)
    lines: list[Text] = []
    for code, count in ordered:
        line = Text(f"  {count:>{count_width}}  ")
        line.append(f"{code:<{code_width}}", style="bold")
        line.append(f"  {_safe(names[code])}")
        lines.append(line)
    return lines


def summary_line(report: Report) -> str:
    """`Found 3 findings (1 error, 2 warnings) in 12 files; 2 suppressed; ...` or `No findings in 12 files.`

    Only the review (and the commands that count files like it) names files.
    """
    files = f" in {_plural(report.files_reviewed, 'file')}" if report.review_summary else ""
    if report.findings:
        by_severity = Counter(finding.severity for finding in report.findings)
        breakdown = ", ".join(
            _plural(by_severity[severity], severity.value, _SEVERITY_PLURAL[severity])
            for severity in _SEVERITY_ORDER
            if by_severity[severity]
        )
        parts = [f"Found {_plural(len(report.findings), 'finding')} ({breakdown}){files}"]
    else:
        parts = [f"No findings{files}"]
    if report.suppressed:
        parts.append(f"{report.suppressed} suppressed")
    if report.baselined:
        parts.append(f"{report.baselined} baselined")
    if report.below_confidence:
        lower = "`--min-confidence medium` or `low`" if report.min_confidence == "high" else "`--min-confidence low`"
        parts.append(f"{report.below_confidence} below {report.min_confidence} confidence not shown ({lower} shows them)")
    if report.files_from_cache:
        parts.append(f"{_plural(report.files_from_cache, 'file')} from cache")
    return "; ".join(parts) + "."


def _table(console: Console, table: Table) -> None:
    if not table.rows:
        if table.empty:
            console.print(Text(table.title, style="bold"))
            console.print(Text(_safe(table.empty)))
            console.print()
        return
    shown = RichTable(title=table.title, title_justify="left", title_style="bold", box=box.SIMPLE_HEAD,
                      show_edge=False, pad_edge=False)
    for index, column in enumerate(table.columns):
        # Figures never wrap; a route or a path keeps up to 48 cells on one line.
        longest = max(cell_len(row[index]) for row in table.rows)
        shown.add_column(column.title, justify="right" if column.numeric else "left", no_wrap=column.numeric,
                         min_width=min(longest, 48) if column.code else None)
    for row in table.rows:
        shown.add_row(*(Text(_safe(cell)) for cell in row))
    console.print(shown)
    console.print()


def _items(console: Console, items: Items) -> None:
    if not items.items and not items.empty:
        return
    if items.title:
        console.print(Text(items.title, style="bold"))
    for item in items.items or (items.empty,):
        console.print(Text(("  " if items.title else "") + _safe(item)))
    console.print()


def _block(console: Console, block: Block) -> None:
    console.print(Text(_safe(block.title), style="bold"))
    for index, line in enumerate(block.lines):
        console.print(Text("  " + _safe(line), style="bold" if index in block.marked else ""))
    console.print()


def _section(console: Console, section: Section) -> None:
    if isinstance(section, Table):
        _table(console, section)
    elif isinstance(section, Items):
        _items(console, section)
    elif isinstance(section, Block):
        _block(console, section)
    # Charts are drawn in HTML only; their figures are in the tables.


def render_text(report: Report, *, color: bool, width: int | None = None) -> str:
    buffer = io.StringIO()
    console = terminal.console(buffer, color=color, width=width or _CONSOLE_WIDTH)
    if report.text_header and report.title:
        console.print(Text(_safe(report.title), style="bold"))
        for header_line in report.header:
            console.print(Text(_safe(header_line)))
    for warning in report.warnings:
        console.print(Text(f"Warning: {_safe(warning)}", style="yellow"))
    if report.text_header or report.warnings:
        console.print()
    for section in report.overview:
        _section(console, section)
    findings = report.ordered_findings()
    for finding in findings:
        for line in _finding_lines(finding):
            console.print(line)
        console.print()
    if not findings and report.no_findings:
        console.print(Text(_safe(report.no_findings), style="bold green"))
        console.print()
    if findings:
        for line in _by_rule_lines(findings):
            console.print(line)
        console.print()
    for section in report.sections:
        _section(console, section)
    if findings or not report.no_findings:
        console.print(Text(summary_line(report), style="bold"))
    for note in report.notes:
        console.print(Text(_safe(note), style="dim"))
    return buffer.getvalue()
