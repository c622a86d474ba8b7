"""One report stack: every command's report (findings with a typed extra, and the command's
own sections as typed data) goes through the same renderers, and each format stays valid
whatever the strings hold."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner
from markdown_it import MarkdownIt

from backbone.findings import Confidence, Detail, Finding, Fix, Frame, Label, Location, Measure, QueryRef, Severity
from backbone.report import OutputFormat, Report, render, render_html_page
from backbone.report.command_codes import all_entries
from backbone.report.model import Bin, Column, Histogram, Histograms, Items, Table

HOSTILE = "<img src=x onerror=alert(1)> | `tick` *star* </script><!--"
SECRET = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"


def _finding(command: str, code: str) -> Finding:
    return Finding(
        code=code, name="hostile", severity=Severity.WARNING, confidence=Confidence.HIGH,
        location=Location(f"app/{HOSTILE}.py", 3), message=f"message {HOSTILE} token={SECRET}",
        fix=Fix(f"fix {HOSTILE}"), source_line=f"x = 1  # {HOSTILE}",
        extra=Detail(command, route=f"GET /{HOSTILE}", query=QueryRef("abc123def456", f"SELECT {HOSTILE}"),
                     measures=(Measure("repeat_count", 7), Measure("max_ms", float("nan"))),
                     evidence=(f"evidence {HOSTILE}",), statement=f"SELECT '{SECRET}' -- {HOSTILE}",
                     call_site=Frame(f"app/{HOSTILE}.py", 3, "view"), stack=(Frame("app/a.py", 1, HOSTILE),),
                     labels=(Label("layer", HOSTILE),)),
    )


def _report(command: str, code: str) -> Report:
    table = Table(f"Routes {HOSTILE}", (Column("route", code=True), Column("count", numeric=True), Column("note")),
                  ((f"GET /{HOSTILE}", "3", f"a|b {HOSTILE}"), ("GET /x", "1", "")))
    histogram = Histogram(f"GET /{HOSTILE}", HOSTILE, 40, (Bin(1.0, 2.0, 30), Bin(2.0, 4.0, 10)),
                          (("p50", 1.5), ("p95", 3.9), ("p99", 3.95)))
    return Report(
        findings=(_finding(command, code),), command=command, review_summary=False, by_location=False,
        text_header=True, title=f"backbone {command} {HOSTILE}", header=(f"header {HOSTILE}",),
        warnings=(f"warning {HOSTILE}",), overview=(table, Histograms("Latency", (histogram,))),
        sections=(Items(f"Signals {HOSTILE}", (f"item {HOSTILE}",)), Table("Empty", (Column("a"),), (), empty="none")),
        notes=(f"note {HOSTILE} {SECRET}",), json_head={"routes": [{"route": HOSTILE, "p95_ms": float("inf")}]},
        json_tail={"inputs": []},
    )


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)


@pytest.mark.parametrize(("command", "code"), [("profile", "RT101"), ("debug", "LG101"), ("explain", "EX101"),
                                               ("contract", "CT1001"), ("migrations", "MT701")])
def test_every_format_of_every_command_is_valid_and_escaped(command: str, code: str) -> None:
    report = _report(command, code)
    for output_format in OutputFormat:
        assert SECRET not in render(report, output_format), output_format
    assert SECRET not in render_html_page(report)

    # Strict JSON: the command's keys around the findings; non-finite numbers are null.
    document = json.loads(render(report, OutputFormat.JSON), parse_constant=lambda name: pytest.fail(name))
    assert list(document) == ["version", "routes", "findings", "inputs"]
    assert document["routes"][0]["p95_ms"] is None
    (finding,) = document["findings"]
    assert finding["route"] == f"GET /{HOSTILE}" and finding["query_id"] == "abc123def456"
    assert finding["call_site"] == {"path": f"app/{HOSTILE}.py", "line": 3, "function": "view"}
    assert finding["repeat_count"] == 7 and finding["max_ms"] is None and finding["layer"] == HOSTILE

    # Markdown: no tag, link or image from the data, and no table cell split by a pipe.
    rendered = MarkdownIt("commonmark").enable("table").render(render(report, OutputFormat.MARKDOWN))
    tags = _Tags()
    tags.feed(rendered)
    assert set(tags.tags) <= {"h1", "h2", "h3", "p", "ul", "li", "strong", "code", "table", "thead", "tbody", "tr",
                              "th", "td", "em"}
    for table in re.findall(r"<table>.*?</table>", rendered, re.DOTALL):
        assert len({len(re.findall(r"<t[hd][ >]", row)) for row in re.findall(r"<tr>.*?</tr>", table, re.DOTALL)}) == 1

    # HTML: only the page's own markup; the histogram is drawn.
    page = render_html_page(report)
    tags = _Tags()
    tags.feed(page)
    assert "img" not in tags.tags and "script" not in tags.tags
    assert 'aria-label="latency histogram of GET /&lt;img' in page

    # Text: the header, the overview table, the finding with its evidence, the sections.
    text = render(report, OutputFormat.TEXT, width=200)
    for expected in (f"backbone {command}", "Routes", f"{code} [warning]", f"- evidence {HOSTILE}", "Signals", "none"):
        assert expected in text, expected

    # SARIF describes the command's whole catalog, so that any command's results go to code scanning.
    sarif = json.loads(render(report, OutputFormat.SARIF))
    rules = {rule["id"] for rule in sarif["runs"][0]["tool"]["driver"]["rules"]}
    assert rules == {entry.code for entry in all_entries() if entry.command == command}
    assert [result["ruleId"] for result in sarif["runs"][0]["results"]] == [code]


def test_a_typed_extra_has_the_same_keys_whatever_the_command() -> None:
    keys = {command: list(json.loads(render(_report(command, code), OutputFormat.JSON))["findings"][0])
            for command, code in (("profile", "RT101"), ("debug", "LG101"))}
    assert keys["profile"] == keys["debug"]
    assert keys["profile"][-10:] == ["route", "query_id", "fingerprint", "sql", "evidence", "call_site", "stack",
                                     "repeat_count", "max_ms", "layer"]


def test_debug_writes_gitlab_and_markdown_through_the_shared_stack(tmp_path: Path) -> None:
    from backbone.logs.command import debug

    log = tmp_path / "access.log"
    log.write_text("".join(
        f'10.0.0.1 - - [01/May/2024:12:{minute:02d}:00 +0000] "GET /a HTTP/1.1" 200 12 "-" "curl" 0.040\n'
        for minute in range(30)), encoding="utf-8")
    gitlab = CliRunner().invoke(debug, [str(log), "--format", "gitlab"], standalone_mode=False)
    assert gitlab.exception is None and json.loads(gitlab.stdout) == []
    markdown = CliRunner().invoke(debug, [str(log), "--format", "markdown"], standalone_mode=False)
    assert markdown.stdout.startswith("# Root-cause analysis\n") and "| `GET /a` |" in markdown.stdout


def test_review_writes_markdown() -> None:
    finding = _finding("review", "BB101")
    report = Report(findings=(finding,), files_reviewed=1, title="backbone review of .")
    text = render(report, OutputFormat.MARKDOWN)
    assert text.startswith("# backbone review of .\n") and "Rule: BB101 (hostile), warning" in text
