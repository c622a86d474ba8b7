"""Logs in different time zones are lined up on one clock, and the report says in which
zone each file was read (logs/zones.py)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from debug_log_factory import T0, app_errors, traffic, write

from backbone.cli import main
from backbone.logs import CauseKind, DebugOptions, analyze
from backbone.logs.command import debug
from backbone.logs.zones import UserZone, sample_zones

# The error burst lasts four minutes (12:20 to 12:24 local time) in both logs.
BURST = (20, 24)


def _incident(tmp_path: Path, access_zone: str = "+0100") -> tuple[Path, Path]:
    """nginx writes local time with its offset; the app writes the same local time with none."""
    lines = [line.replace("+0000]", f"{access_zone}]") for line in traffic(minutes=40, burst=BURST)]
    access = write(tmp_path / "access.log", lines)
    moments = [T0 + timedelta(minutes=BURST[0], seconds=15 * index) for index in range(16)]
    app = write(tmp_path / "app.log", app_errors(moments, "ValueError", "negative quantity"))
    return access, app


def test_a_zoneless_app_log_is_read_in_the_zone_the_access_log_names(tmp_path: Path) -> None:
    access, app = _incident(tmp_path)
    report = analyze([access, app])
    cause = next(cause for cause in report.causes if cause.kind is CauseKind.DOMINANT_EXCEPTION)
    # The whole four-minute burst, in UTC, meets the 5xx of the access log.
    assert "between 2024-05-01 11:20:00 and 11:23:45" in cause.evidence[0]
    assert "responses were 5xx in that window" in cause.evidence[1]
    zones = {Path(item.path).name: item.zone for item in report.inputs}
    assert zones["access.log"] == "UTC+01:00 (from the log)"
    assert zones["app.log"] is not None and zones["app.log"].startswith("UTC+01:00 (assumed")


def test_the_zone_given_on_the_command_line_wins(tmp_path: Path) -> None:
    access, app = _incident(tmp_path)
    report = analyze([access, app], DebugOptions(timezone="Europe/Paris"))
    zones = {Path(item.path).name: item.zone for item in report.inputs}
    assert zones["app.log"] == "Europe/Paris (--timezone)"
    # Paris is two hours east of UTC in May: the app's 12:20 is 10:20 UTC, away from the 5xx at 11:20.
    errors = report.errors[0]
    assert errors.first_seen == T0.replace(hour=10, minute=20)


def test_logs_that_cannot_be_aligned_are_said_to_be(tmp_path: Path) -> None:
    access, app = _incident(tmp_path)
    other = write(tmp_path / "edge.log", [line.replace("+0000]", "-0500]") for line in traffic(minutes=5)])
    report = analyze([access, other, app])
    assert any("app.log: its timestamps name no zone" in warning and "--timezone" in warning
               for warning in report.warnings)
    zones = {Path(item.path).name: item.zone for item in report.inputs}
    assert zones["app.log"] == "as written (the log names no zone)"


def test_every_format_names_the_zone_and_a_bad_zone_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    access, app = _incident(tmp_path)
    runner = CliRunner()
    done = runner.invoke(debug, [str(access), str(app), "--format", "json", "--exit-zero"])
    document = json.loads(done.stdout)
    assert {Path(item["path"]).name: item["time_zone"] for item in document["inputs"]}["access.log"] == (
        "UTC+01:00 (from the log)")
    markdown = runner.invoke(debug, [str(access), str(app), "--format", "markdown", "--exit-zero"]).stdout
    assert "| time zone |" in markdown and "UTC+01:00 (assumed" in markdown
    text = runner.invoke(debug, [str(access), str(app), "--exit-zero", "--color", "never"]).stdout
    assert "app.log read in UTC+01:00 (assumed" in text
    capsys.readouterr()
    assert main(["debug", str(access), "--timezone", "Mars/Olympus"]) == 2
    error = capsys.readouterr().err
    assert "Mars/Olympus" in error and "names no zone" in error


@pytest.mark.parametrize(
    ("line", "offsets", "zoneless"),
    [
        ('10.0.0.1 - - [01/May/2024:12:00:00 +0200] "GET / HTTP/1.1" 200 5', {120: 1}, 0),
        ("2024-05-01 12:00:00,123 ERROR [app] boom", {}, 1),
        ("2024-05-01T12:00:00.123+05:30 ERROR boom", {330: 1}, 0),
        ("2024-05-01 12:00:00.123 CEST [77] LOG:  duration: 1.0 ms", {120: 1}, 0),
        ('{"timestamp": 1714564800, "msg": "x"}', {0: 1}, 0),
        ('{"timestamp": "2024-05-01T12:00:00Z", "msg": "x"}', {0: 1}, 0),
        ("no timestamp here", {}, 0),
    ],
)
def test_zone_samples(line: str, offsets: dict[int, int], zoneless: int) -> None:
    sample = sample_zones([line])
    assert dict(sample.offsets) == offsets and sample.zoneless == zoneless


def test_user_zones() -> None:
    assert UserZone.parse("+01:00").offset_minutes == 60
    assert UserZone.parse("-0500").offset_minutes == -300
    assert UserZone.parse("UTC").offset_minutes == 0
    assert UserZone.parse("Europe/Paris").name == "Europe/Paris"
