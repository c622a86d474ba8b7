"""`backbone debug` never prints a secret whole: not from exception messages, PostgreSQL
details, URLs or malformed-line samples, in any format (text, JSON, Markdown, HTML) nor on
the console.

The secrets are assembled at run time, so that this file holds no secret-shaped literal.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from debug_log_factory import T0, app_errors, pg_csv, pg_error, traffic, write

from backbone.logs import analyze
from backbone.logs.command import debug

MESSAGE_PASSWORD = "Hq3Vn8" + "Lw2Zt6Rk9Bc"
MESSAGE_TOKEN = "Pq3Wm8" + "Zr5Yt2Xk7"
DETAIL_TOKEN = "Jd4Kx9" + "Wp2Rm7Tn5Qa"
DETAIL_API_KEY = "Gh6Tk2" + "Lp9Ws3Qd7"
CSV_TOKEN = "Tn5Qa8" + "Zx2Cv7Bn4"
SAMPLE_TOKEN = "Mf7Tq2" + "Wx9Lc4Zn8Rs"
SAMPLE_API_KEY = "Vb7Nq2" + "Lx9Tz4Wc6"
SECRETS = (MESSAGE_PASSWORD, MESSAGE_TOKEN, DETAIL_TOKEN, DETAIL_API_KEY, CSV_TOKEN, SAMPLE_TOKEN, SAMPLE_API_KEY)


def _logs(root: Path) -> list[Path]:
    root.mkdir()
    moments = [T0 + timedelta(seconds=3 * index) for index in range(3)]
    access = traffic(minutes=5, per_minute=10)
    access.insert(3, f"garbage GET /reset?token={SAMPLE_TOKEN}&api_key={SAMPLE_API_KEY} HTTP/1.1")
    return [
        write(root / "app.log", app_errors(moments, "ConnectionError",
                                           f"cannot connect: password={MESSAGE_PASSWORD} token={MESSAGE_TOKEN}")),
        write(root / "orm.log", app_errors(
            [T0 + timedelta(seconds=30)], "sqlalchemy.exc.IntegrityError",
            '(psycopg2.errors.UniqueViolation) duplicate key value violates unique constraint "sessions_token_key"\n'
            f"DETAIL:  Key (user_id, token)=(17, {DETAIL_TOKEN}) already exists.")),
        write(root / "postgresql.log", [
            pg_error(T0, 'duplicate key value violates unique constraint "api_keys_pkey" '
                         f"DETAIL:  Key (api_key)=({DETAIL_API_KEY}) already exists."),
        ]),
        write(root / "postgresql.csv", [
            pg_csv(T0, "ERROR", 'duplicate key value violates unique constraint "t_token_key" '
                                f"DETAIL:  Key (token)=({CSV_TOKEN}) already exists."),
        ]),
        write(root / "access.log", access),
    ]


def _masked(secret: str) -> re.Pattern[str]:
    """The shown prefix followed by the mask, `*` as written or escaped for Markdown."""
    return re.compile(re.escape(secret[: min(4, len(secret) // 4)]) + r"(?:\\?\*){4}")


@pytest.mark.parametrize("output_format", ["text", "json", "markdown"])
def test_no_format_and_no_console_line_shows_a_secret(output_format: str, tmp_path: Path) -> None:
    paths = _logs(tmp_path / "logs")
    report_file = tmp_path / f"report.{output_format}"
    page = tmp_path / "report.html"

    result = CliRunner().invoke(debug, [*map(str, paths), "--format", output_format, "-o", str(report_file),
                                        "--html", str(page), "--exit-zero"], standalone_mode=False)

    assert result.exception is None, result.exception
    for shown in (report_file.read_bytes(), page.read_bytes(), result.stdout_bytes, result.stderr_bytes):
        text = shown.decode("utf-8")
        assert [secret for secret in SECRETS if secret in text] == []
    report = report_file.read_text(encoding="utf-8")
    # The JSON report carries no malformed-line samples.
    samples = (SAMPLE_TOKEN, SAMPLE_API_KEY) if output_format != "json" else ()
    for secret in (MESSAGE_PASSWORD, MESSAGE_TOKEN, DETAIL_API_KEY, *samples):
        assert _masked(secret).search(report), secret
    assert _masked(MESSAGE_PASSWORD).search(page.read_text(encoding="utf-8"))


def test_the_report_model_holds_no_secret(tmp_path: Path) -> None:
    """Masked once, when the report is built: every renderer, present or future, gets masked data."""
    report = analyze(_logs(tmp_path / "logs"))

    assert report.errors and report.signals and report.malformed_samples
    shown = repr(report)
    assert [secret for secret in SECRETS if secret in shown] == []
    messages = " ".join(group.message for group in report.errors)
    assert _masked(MESSAGE_PASSWORD).search(messages) and _masked(DETAIL_TOKEN).search(messages)
    assert any(_masked(SAMPLE_TOKEN).search(sample.text) for sample in report.malformed_samples)
