"""How numbers and times are written in causes and reports, the same everywhere."""

from __future__ import annotations

from datetime import datetime


def when(moment: datetime | None) -> str:
    if moment is None:
        return "(no time)"
    text = moment.strftime("%Y-%m-%d %H:%M:%S")
    return f"{text}.{moment.microsecond // 1000:03d}" if moment.microsecond else text


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z, for machine-readable output."""
    if moment is None:
        return None
    return moment.isoformat(timespec="milliseconds" if moment.microsecond else "seconds") + "Z"


def between(start: datetime | None, end: datetime | None) -> str:
    if start is None or end is None:
        return "(no time)"
    if start.date() == end.date():
        return f"between {when(start)} and {end.strftime('%H:%M:%S')}"
    return f"between {when(start)} and {when(end)}"


def ms(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 10_000:
        return f"{value / 1000:.1f} s"
    if value >= 100:
        return f"{value:.0f} ms"
    return f"{value:.1f} ms"


def percent(share: float) -> str:
    return f"{share * 100:.1f}%"


def count(number: int, noun: str, plural: str | None = None) -> str:
    return f"{number:,} {noun if number == 1 else (plural or noun + 's')}"
