"""Records that cannot be analysed: skipped and counted with their reason.

A value out of range, JSON nested too deeply, a duration that is not a finite number:
the record is skipped and counted, and one record never stops the file.
"""

from __future__ import annotations

import math

# The longest duration taken as one (about 31 years): past it, sums over millions of
# records could overflow, and no request or statement lasts that long.
MAX_DURATION_MS = 1e12


class RecordError(ValueError):
    """A record that cannot be analysed; the message says why, for the skip's reason."""


class StoreFailure(Exception):
    """The analytics store cannot take or give data: its temporary directory is full or unwritable,
    or DuckDB ran out of memory. Not a record's fault: it stops the ingestion, never becomes a skip."""


def record_problem(error: Exception) -> str:
    """The reason a record is skipped, from what went wrong analysing it."""
    if isinstance(error, RecordError):
        return str(error)
    if isinstance(error, RecursionError):
        return "record skipped: nested too deeply to analyse"
    detail = str(error).splitlines()[0][:120] if str(error) else ""
    return f"record skipped: {type(error).__name__}" + (f": {detail}" if detail else "")


def checked_duration(duration_ms: float | None) -> float | None:
    """A duration in milliseconds, or RecordError when it is not a finite, plausible number."""
    if duration_ms is None:
        return None
    if not math.isfinite(duration_ms):
        raise RecordError(f"record skipped: the duration is not a finite number ({duration_ms})")
    if abs(duration_ms) > MAX_DURATION_MS:
        raise RecordError(f"record skipped: the duration {duration_ms:.3g} ms is out of range")
    return duration_ms
