"""`backbone profile` never prints a secret whole: not in a captured statement, a source
line of the app, a route or a note, in text, JSON or HTML.

The app is written at run time with its secret assembled here, so that this file holds no
secret-shaped literal of its own.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from backbone.runtime.command import profile_command

API_KEY = "Gh6Tk2" + "Lp9Ws3Qd7"
APP = f'''\
import sqlite3


def app(environ, start_response):
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE TABLE api_keys (id INTEGER, api_key TEXT)")
    for number in range(8):
        connection.execute("SELECT id FROM api_keys WHERE api_key = '{API_KEY}' AND id = ?", (number,))
    connection.close()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
'''


@pytest.mark.parametrize("output_format", ["text", "json"])
def test_statements_and_source_lines_are_masked_in_every_format(output_format: str, tmp_path: Path) -> None:
    (tmp_path / "leaky_keys_app.py").write_text(APP, encoding="utf-8")
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text("requests:\n  - path: /keys\n", encoding="utf-8")
    page = tmp_path / "profile.html"

    result = CliRunner().invoke(
        profile_command,
        ["leaky_keys_app:app", "--app-dir", str(tmp_path), "--scenario", str(scenario), "--format", output_format,
         "--html", str(page), "--no-progress", "--exit-zero"],
        standalone_mode=False,
        catch_exceptions=False,
    )

    assert "RT101" in result.stdout  # the repeated statement was captured and reported
    masked = re.compile(re.escape(API_KEY[: min(4, len(API_KEY) // 4)]) + r"\*{4}")
    html = page.read_text(encoding="utf-8")
    for shown in (result.stdout, result.stderr, html):
        assert API_KEY not in shown
    assert masked.search(result.stdout) and masked.search(html)


def test_an_error_quoting_the_app_s_exception_is_masked(tmp_path: Path) -> None:
    (tmp_path / "leaky_factory_app.py").write_text(
        "def create():\n"
        f"    raise ConnectionError('cannot reach postgresql://shop:{API_KEY}@db.prod.internal/shop')\n",
        encoding="utf-8",
    )

    result = CliRunner().invoke(
        profile_command,
        ["leaky_factory_app:create", "--factory", "--app-dir", str(tmp_path), "--no-progress"],
        standalone_mode=False,
        catch_exceptions=False,
    )

    assert "ConnectionError" in result.stderr
    assert API_KEY not in result.stderr and API_KEY not in result.stdout
    assert API_KEY[: min(4, len(API_KEY) // 4)] + "****" in result.stderr
