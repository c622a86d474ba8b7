"""Timestamps far from the rest: found, counted per file and left out of the timeline.

One line dated a week or a year away from the others would stretch the timeline until
every bucket holds hours of traffic, and no spike would stand out. The dense part of
the logs is found robustly: the span of the central 90% of timestamps (the 5% at each
end left out) sets a gap; timestamps separated from that part by an empty stretch
longer than the gap (4 spans, at least an hour) are outliers. A second period of logs
that holds more than 5% of the lines is inside the central span, so it is never taken
for an outlier: only a few stray lines are.

Outliers keep their place in the route statistics; their timestamp is cleared, so the
timeline, the spikes, the cause windows and the first and last times ignore them, and
the report says how many there were in which file.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from backbone.logs.analysis import as_int, as_time
from backbone.logs.store import AnalyticsStore
from backbone.records import Record

# Fewer timestamps than this say nothing robust about where the dense part lies.
MIN_TIMESTAMPS = 10
# The share of timestamps left out at each end to measure the dense part's span.
TAIL_SHARE = 0.05
# An empty stretch longer than this many spans of the dense part, and than MIN_GAP, cuts the timeline.
GAP_SPANS = 4
MIN_GAP = timedelta(hours=1)
_TABLES = ("requests", "exceptions", "signals", "queries")
_ALL_TIMES = " UNION ALL ".join(f"SELECT file_id, ts FROM {table} WHERE ts IS NOT NULL" for table in _TABLES)


class FileOutliers(Record, frozen=True):
    path: str
    count: int
    first: datetime
    last: datetime


class TimelineOutliers(Record, frozen=True):
    # The dense part of the timeline that is kept: from the second of `start` to the end of the second of `end`.
    start: datetime
    end: datetime
    files: tuple[FileOutliers, ...]

    @property
    def count(self) -> int:
        return sum(item.count for item in self.files)


def leave_out_outliers(store: AnalyticsStore) -> TimelineOutliers | None:
    """Find the outlier timestamps, clear them in the store and say where they were; None when there are none."""
    total = as_int(store.query(f"SELECT count(*) FROM ({_ALL_TIMES})")[0][0])
    if total < MIN_TIMESTAMPS:
        return None
    # At least the second timestamp from each end, so that one stray line never sets the span.
    share = max(TAIL_SHARE, 1.5 / (total - 1))
    (bounds,) = store.query(f"SELECT quantile_disc(ts, [?, ?]) FROM ({_ALL_TIMES})", [share, 1 - share])[0]
    low, high = (as_time(bound) for bound in bounds) if isinstance(bounds, list) else (None, None)
    if low is None or high is None:
        return None
    gap = max(GAP_SPANS * (high - low), MIN_GAP)
    segments = store.query(
        f"""
        WITH seconds AS (SELECT epoch(ts)::BIGINT AS s, count(*) AS n FROM ({_ALL_TIMES}) GROUP BY s),
        breaks AS (SELECT s, n, CASE WHEN s - lag(s) OVER (ORDER BY s) > ? THEN 1 ELSE 0 END AS cut FROM seconds),
        segments AS (SELECT s, n, sum(cut) OVER (ORDER BY s ROWS UNBOUNDED PRECEDING) AS segment FROM breaks)
        SELECT min(s), max(s), sum(n) AS lines FROM segments GROUP BY segment ORDER BY lines DESC, min(s) LIMIT 1
        """,
        [int(gap.total_seconds())],
    )
    first_second, last_second, kept = (as_int(value) for value in segments[0])
    if kept >= total:
        return None
    start = datetime(1970, 1, 1) + timedelta(seconds=first_second)
    last = datetime(1970, 1, 1) + timedelta(seconds=last_second)
    end = last + timedelta(seconds=1)
    rows = store.query(
        f"""
        SELECT f.path, count(*), min(t.ts), max(t.ts) FROM ({_ALL_TIMES}) t JOIN files f USING (file_id)
        WHERE t.ts < ? OR t.ts >= ? GROUP BY f.path ORDER BY f.path
        """,
        [start, end],
    )
    files = tuple(FileOutliers(str(path), as_int(count), first, last) for path, count, first, last in rows
                  if isinstance(first, datetime) and isinstance(last, datetime))
    for table in _TABLES:
        store.query(f"UPDATE {table} SET ts = NULL WHERE ts < ? OR ts >= ?", [start, end])
    return TimelineOutliers(start, last, files)

