"""Timestamps as logs write them, turned into naive UTC datetimes (naive local when no zone is given)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

_ISO = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:[.,](?P<fraction>\d{1,9}))?"
    r"\s?(?P<zone>Z|UTC|GMT|[+-]\d\d:?\d\d)?"
)
# Zone abbreviations PostgreSQL and friends print; others are taken as written.
_ZONE_ABBREVIATIONS = {"UTC": 0, "GMT": 0, "Z": 0, "CET": 60, "CEST": 120, "EST": -300, "EDT": -240,
                       "PST": -480, "PDT": -420, "CST": -360, "CDT": -300, "MST": -420, "MDT": -360}
# Epoch numbers above this are milliseconds, not seconds (the year 5138 in seconds).
_EPOCH_MILLISECONDS = 1e11


def parse_iso(text: str) -> datetime | None:
    """`2024-05-01 12:00:00,123`, `2024-05-01T12:00:00.123456+02:00`, `... UTC` and the like."""
    match = _ISO.match(text.strip())
    if match is None:
        return None
    fraction = match["fraction"]
    try:
        # Integers straight from the groups: strptime costs ten times more, once per log line.
        moment = datetime(int(match[1]), int(match[2]), int(match[3]), int(match[4]), int(match[5]),
                          int(match[6]), int(fraction[:6].ljust(6, "0")) if fraction else 0)
    except ValueError:
        return None
    return _to_utc(moment, match["zone"])


def parse_with_zone_name(text: str, zone: str | None) -> datetime | None:
    """A timestamp followed by a zone abbreviation (PostgreSQL's `%m`: `2024-05-01 12:00:00.123 UTC`)."""
    moment = parse_iso(text)
    if moment is None or not zone:
        return moment
    if zone.upper() in _ZONE_ABBREVIATIONS:
        return _shifted(moment, -timedelta(minutes=_ZONE_ABBREVIATIONS[zone.upper()]))
    return moment


def parse_any(value: object) -> datetime | None:
    """A JSON timestamp: an ISO string or an epoch number in seconds or milliseconds."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        try:
            seconds = value / 1000 if value > _EPOCH_MILLISECONDS else float(value)
            return datetime.fromtimestamp(seconds, timezone.utc).replace(tzinfo=None)
        except (OverflowError, OSError, ValueError):
            return None  # an integer too large for a float, NaN, or a time out of the calendar
    if isinstance(value, str):
        return parse_iso(value)
    return None


def _to_utc(moment: datetime, zone: str | None) -> datetime | None:
    if zone is None:
        return moment
    if zone in _ZONE_ABBREVIATIONS:
        return _shifted(moment, -timedelta(minutes=_ZONE_ABBREVIATIONS[zone]))
    sign = 1 if zone[0] == "+" else -1
    digits = zone[1:].replace(":", "")
    offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:4]))
    return _shifted(moment, -sign * offset)


def _shifted(moment: datetime, by: timedelta) -> datetime | None:
    """`moment` moved by `by`; None when that leaves the calendar (before year 1, after 9999)."""
    try:
        return moment + by
    except OverflowError:
        return None
