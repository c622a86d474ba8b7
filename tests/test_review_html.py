"""`backbone review --html FILE`: a self-contained page of the findings that no string from the
reviewed code can turn into markup, with secrets masked like every other format."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest

from helpers import SECRET_VALUE, run_cli, write_tree

HOSTILE_NAME = "evil<script>alert(1)<!--"


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_the_page_lists_every_finding_escaped_and_masked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = (
        "import requests\n\n"
        f'STRIPE_API_KEY = "{SECRET_VALUE}"\n\n\n'
        "def load():\n"
        "    try:\n"
        f'        requests.get("https://svc:{SECRET_VALUE}@host/<b>x</b>")\n'
        "    except Exception:\n"
        "        pass\n"
    )
    write_tree(tmp_path, {"backbone.toml": "", f"{HOSTILE_NAME}.py": source})
    page_path = tmp_path / "review.html"
    run = run_cli(capsys, "review", str(tmp_path), "--no-cache", "--format", "json", "--html", str(page_path))
    assert run.code == 1
    findings = run.findings()
    page = page_path.read_text(encoding="utf-8")
    assert SECRET_VALUE not in page
    assert "<script" not in page and "<b>" not in page and "<!--" not in page
    parser = _Tags()
    parser.feed(page)
    assert "script" not in parser.tags and "b" not in parser.tags
    text = "".join(parser.text)
    assert f"{HOSTILE_NAME}.py" in text
    for finding in findings:
        assert f"{finding['code']} {finding['name']}" in text
    assert f"{len(findings)} findings in 1 file" in text


def test_an_unwritable_page_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_tree(tmp_path, {"backbone.toml": "", "app.py": "x = 1\n"})
    run = run_cli(capsys, "review", str(tmp_path), "--no-cache", "--html", str(tmp_path / "missing" / "r.html"))
    assert run.code == 2 and "cannot write" in run.err
