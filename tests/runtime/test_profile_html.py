"""The profile HTML report, rendered in headless Chromium: one histogram per route, no network."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from backbone.runtime import ProfileOptions, profile
from backbone.report import render_html_page
from backbone.runtime import profile_document
from rt_lines import HERE

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync")


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail("chromium is not installed: run scripts/system-deps (it installs .ci/apt-packages)")
    return found


def test_histograms_and_n_plus_one_groups_render_in_chromium(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RT_FASTAPI_DB", str(tmp_path / "html.sqlite"))
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text("repeat: 20\nrequests:\n  - path: /authors\n  - path: /authors/eager\n", encoding="utf-8")
    report = profile(
        ProfileOptions(
            app="rt_fastapi_app:create_app", factory=True, setup="rt_fastapi_app:setup",
            scenario=str(scenario), app_dir=str(HERE), root=str(HERE),
        )
    )
    page = tmp_path / "profile.html"
    page.write_text(render_html_page(profile_document(report)), encoding="utf-8")

    completed = subprocess.run(
        [_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'chromium'}", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    dom = completed.stdout
    charts = re.findall(r'<svg[^>]*aria-label="latency histogram of (GET [^"]+)"[^>]*>(.*?)</svg>', dom, re.DOTALL)
    assert [route for route, _ in charts] == ["GET /authors", "GET /authors/eager"]
    for _, chart in charts:
        bars = re.findall(r"<title>[^<]*: (\d+) requests</title>", chart)
        assert sum(int(count) for count in bars) == 20
    assert dom.count('class="finding ') == 1 and "rt_fastapi_app.py:" in dom


def test_few_requests_get_no_histogram_and_an_n_plus_one_card_shows_its_sql_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RT_FASTAPI_DB", str(tmp_path / "few.sqlite"))
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text("repeat: 5\nrequests:\n  - path: /authors\n", encoding="utf-8")
    report = profile(
        ProfileOptions(
            app="rt_fastapi_app:create_app", factory=True, setup="rt_fastapi_app:setup",
            scenario=str(scenario), app_dir=str(HERE), root=str(HERE),
        )
    )
    page = render_html_page(profile_document(report))
    assert "latency histogram of" not in page
    assert "5 requests: too few for a histogram" in page
    start = page.index('<div class="finding warning"')
    card = page[start: page.index('<div class="muted">', start)]
    statements = re.findall(r"<pre>(SELECT[^<]*)</pre>", card)
    assert len(statements) == 1, statements
