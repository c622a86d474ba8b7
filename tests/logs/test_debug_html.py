"""The HTML report, rendered in headless Chromium: the charts must be drawn, with no network."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from debug_log_factory import T0, pg_duration, traffic, write
from debug_render import render_html

from backbone.logs import analyze

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync")


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail("chromium is not installed: run scripts/system-deps (it installs .ci/apt-packages)")
    return found


def _dump_dom(page: Path, profile: Path) -> str:
    completed = subprocess.run(
        [_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    return completed.stdout


def test_charts_are_drawn_in_headless_chromium(tmp_path: Path) -> None:
    access = write(tmp_path / "access.log", traffic(minutes=60, spike=(30, 34), burst=(45, 47)))
    pg = write(tmp_path / "pg.log", [pg_duration(T0 + timedelta(minutes=30, seconds=10 * index), 1500.0,
                                                 "SELECT * FROM orders WHERE customer_id = 1") for index in range(20)])
    page = tmp_path / "report.html"
    page.write_text(render_html(analyze([access, pg])), encoding="utf-8")

    source = page.read_text(encoding="utf-8")
    assert not re.search(r"<(?:link|img|iframe)\b|<script[^>]+src=|@import|url\(", source)  # self-contained

    dom = _dump_dom(page, tmp_path / "chromium-profile")
    assert 'data-charts-drawn="3"' in dom
    marks = {name: int(count) for name, count in re.findall(r'<svg id="([\w-]+)"[^>]*data-marks="(\d+)"', dom)}
    # latency: the spike band and the p50 and p95 lines; errors: the burst band and the rate line;
    # routes: a bar per percentile per route (4 routes with durations).
    assert marks == {"latency-chart": 3, "errors-chart": 2, "routes-chart": 12}
    latency_chart = dom[dom.index('<svg id="latency-chart"'):dom.index("</svg>", dom.index('<svg id="latency-chart"'))]
    assert latency_chart.count('class="spike"') == 1 and latency_chart.count('class="series"') == 2
    assert re.search(r'<path d="M[\d.]+,[\d.]+L', latency_chart)


def test_an_empty_timeline_still_renders(tmp_path: Path) -> None:
    log = write(tmp_path / "access.log", [line.rsplit(" ", 1)[0] for line in traffic(minutes=2)])  # no durations
    page = tmp_path / "report.html"
    page.write_text(render_html(analyze([log])), encoding="utf-8")
    dom = _dump_dom(page, tmp_path / "chromium-profile")
    assert 'data-charts-drawn="1"' in dom  # the error-rate line; no latency, no route percentiles
    assert "no request durations" in dom


def test_latencies_are_drawn_on_a_log_scale(tmp_path: Path) -> None:
    """One 30 s route must not flatten the others, and a p50 of 40 ms must not lie on zero."""
    slow = [line.rsplit(" ", 1)[0] + " 30.000" if '"GET /health' in line else line for line in traffic(minutes=10)]
    page = tmp_path / "report.html"
    page.write_text(render_html(analyze([write(tmp_path / "access.log", slow)])), encoding="utf-8")
    dom = _dump_dom(page, tmp_path / "chromium-profile")
    routes_chart = dom[dom.index('<svg id="routes-chart"'):dom.index("</svg>", dom.index('<svg id="routes-chart"'))]
    widths = [float(width) for width in re.findall(r'<rect[^>]*width="([\d.]+)"[^>]*class="bar"', routes_chart)]
    # On a linear scale 40 ms beside 30 s is a 1-pixel bar; on a log scale, a sixth of the longest.
    assert widths and min(widths) > max(widths) / 20
    latency_chart = dom[dom.index('<svg id="latency-chart"'):dom.index("</svg>", dom.index('<svg id="latency-chart"'))]
    ys = [float(y) for path in re.findall(r'<path d="([^"]+)"', latency_chart)
          for y in re.findall(r",([\d.]+)", path)]
    bottom = max(ys)
    assert len({round(y) for y in ys}) > 2 and min(ys) < bottom - 20  # the lines move, not flat on the axis
    assert "10 s" in latency_chart or "100 s" in latency_chart  # log ticks reach the 30 s route
