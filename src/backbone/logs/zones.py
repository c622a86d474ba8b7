"""Which time zone each log was written in, and lining the logs up on one clock (UTC).

Logs disagree about time: nginx writes `[01/May/2024:12:00:00 +0100]`, PostgreSQL
`2024-05-01 12:00:00.123 CEST`, a Python app `2024-05-01 12:00:00,123` with no zone at all.
Timestamps that carry a zone are read in UTC by the parsers. A log without one was written
in some local zone that nothing in it names: read as written, it sits an hour or more away
from the others, and an error burst in it never meets the 5xx burst it caused.

So each file's head is sampled for the zones its timestamps carry; then the files without
a zone are read in the zone the user names (`--timezone`), or else in the one zone every
other log agrees on (the machine's local zone, which nginx and PostgreSQL print), and the
report says which zone each file was read in. When the zoned logs disagree (several
offsets) and the user named none, the zoneless files are read as written and the report
warns that they could not be aligned.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from backbone.records import Record

_ACCESS_ZONE = re.compile(r"\[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d ([+-]\d{4})\]")
_ISO_ZONE = re.compile(
    r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d{1,9})?(?:\s?(Z|UTC|GMT|[+-]\d\d:?\d\d|[A-Z]{3,4})\b)?"
)
_OFFSET = re.compile(r"^(?:UTC|GMT)?([+-])(\d\d):?(\d\d)$")
# Abbreviations the parsers convert (logs/timeparse.py); others are taken as written there.
_ABBREVIATIONS = {"UTC": 0, "GMT": 0, "Z": 0, "CET": 60, "CEST": 120, "EST": -300, "EDT": -240,
                  "PST": -480, "PDT": -420, "CST": -360, "CDT": -300, "MST": -420, "MDT": -360}
_JSON_TIME_KEYS = ("timestamp", "time", "ts", "@timestamp", "datetime", "date", "asctime")


class ZoneSample(Record, frozen=True):
    """What a file's first lines say about their zone: the offsets named, and how many
    timestamps named none."""

    offsets: Counter[int]
    zoneless: int

    @property
    def zoned(self) -> bool:
        return bool(self.offsets) and sum(self.offsets.values()) >= self.zoneless


def sample_zones(lines: list[str]) -> ZoneSample:
    """The zones named by the timestamps of `lines` (minutes east of UTC)."""
    offsets: Counter[int] = Counter()
    zoneless = 0
    for line in lines:
        has_timestamp, offset = _line_zone(line)
        if not has_timestamp:
            continue
        if offset is None:
            zoneless += 1
        else:
            offsets[offset] += 1
    return ZoneSample(offsets, zoneless)


# (whether the line has a timestamp, the minutes east of UTC it names or None)
_Zone = tuple[bool, "int | None"]
_NO_TIMESTAMP: _Zone = (False, None)


def _line_zone(line: str) -> _Zone:
    access = _ACCESS_ZONE.search(line)
    if access is not None:
        return True, _offset_minutes(access[1])
    stripped = line.lstrip()
    if stripped.startswith("{"):
        return _json_zone(stripped)
    iso = _ISO_ZONE.search(line)
    if iso is None:
        return _NO_TIMESTAMP
    zone = iso[1]
    if zone is None:
        return True, None
    if zone in _ABBREVIATIONS:
        return True, _ABBREVIATIONS[zone]
    return True, _offset_minutes(zone) if zone[0] in "+-" else None


def _json_zone(text: str) -> _Zone:
    try:
        record = json.loads(text)
    except (ValueError, RecursionError):
        return _NO_TIMESTAMP
    if not isinstance(record, dict):
        return _NO_TIMESTAMP
    for key in _JSON_TIME_KEYS:
        value = record.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return True, 0  # an epoch number is UTC by definition
        if isinstance(value, str):
            return _line_zone(value)
    return _NO_TIMESTAMP


def _offset_minutes(text: str) -> int | None:
    match = _OFFSET.match(text.strip())
    if match is None:
        return None
    sign = 1 if match[1] == "+" else -1
    return sign * (int(match[2]) * 60 + int(match[3]))


def describe_offset(minutes: int) -> str:
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


class TimezoneError(ValueError):
    """A --timezone value that names no zone."""


class UserZone(Record, frozen=True):
    """The zone given with --timezone: a fixed offset, or an IANA name (with its DST rules)."""

    text: str
    offset_minutes: int | None
    name: str | None

    @classmethod
    def parse(cls, text: str) -> UserZone:
        cleaned = text.strip()
        if cleaned.upper() in {"UTC", "GMT", "Z"}:
            return cls(cleaned, 0, None)
        minutes = _offset_minutes(cleaned)
        if minutes is not None and abs(minutes) <= 14 * 60:
            return cls(cleaned, minutes, None)
        try:
            ZoneInfo(cleaned)
        except (ZoneInfoNotFoundError, ValueError):
            raise TimezoneError(
                f"--timezone {text!r} names no zone: give an offset (+01:00, -0500), UTC, or a zone name "
                "such as Europe/Paris"
            ) from None
        return cls(cleaned, None, cleaned)

    def describe(self) -> str:
        return describe_offset(self.offset_minutes) if self.offset_minutes is not None else self.text


class Alignment(Record, frozen=True):
    """How one zoneless file is put on the UTC clock: a fixed shift or an IANA zone, and why."""

    offset_minutes: int | None
    zone_name: str | None
    description: str


def align(samples: dict[str, ZoneSample], user_zone: UserZone | None) -> tuple[dict[str, str], dict[str, Alignment], list[str]]:
    """The zone each file is read in (for the report), the shifts for zoneless files, and warnings."""
    read_in: dict[str, str] = {}
    shifts: dict[str, Alignment] = {}
    warnings: list[str] = []
    zoned_offsets: Counter[int] = Counter()
    for path, sample in samples.items():
        if sample.zoned:
            zoned_offsets.update(sample.offsets)
            named = ", ".join(describe_offset(minutes) for minutes, _ in sample.offsets.most_common())
            read_in[path] = f"{named} (from the log)"
    agreed = next(iter(zoned_offsets)) if len(zoned_offsets) == 1 else None
    zoned_files = [path for path, sample in samples.items() if sample.zoned]
    for path, sample in samples.items():
        if sample.zoned or (not sample.zoneless and not sample.offsets):
            continue
        if user_zone is not None:
            read_in[path] = f"{user_zone.describe()} (--timezone)"
            shifts[path] = Alignment(user_zone.offset_minutes, user_zone.name, read_in[path])
        elif agreed is not None:
            read_in[path] = (f"{describe_offset(agreed)} (assumed: the log names no zone, and "
                             f"{', '.join(zoned_files[:3])} {'is' if len(zoned_files) == 1 else 'are'} in that zone)")
            shifts[path] = Alignment(agreed, None, read_in[path])
        elif zoned_offsets:
            read_in[path] = "as written (the log names no zone)"
            zones = ", ".join(describe_offset(minutes) for minutes in sorted(zoned_offsets))
            warnings.append(f"{path}: its timestamps name no zone and the other logs are in several ({zones}), so it "
                            "could not be aligned with them: pass --timezone with the zone it was written in")
        else:
            read_in[path] = "as written (no log names a zone)"
    return read_in, shifts, warnings
