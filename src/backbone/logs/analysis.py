"""The analytics: SQL over the store, turned into the report's values."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from backbone.logs.model import (
    Culprit,
    ErrorGroup,
    RouteStats,
    SignalKind,
    SignalSummary,
    SlowQuery,
    SourceLine,
    Spike,
    SpikeMetric,
    TimeBucket,
)
from backbone.logs.spikes import (
    choose_bucket_seconds,
    error_rate_spikes,
    latency_spikes,
)
from backbone.logs.store import CHAIN_SEPARATOR, AnalyticsStore
from backbone.records import Record

MAX_ROUTES = 100
MAX_ERROR_GROUPS = 50
MAX_SLOW_QUERIES = 25
# Routes named as driving a spike: at most this many, each with at least this share of it.
SPIKE_ROUTES = 5
SPIKE_ROUTE_MIN_SHARE = 0.10


def as_float(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) else None


def as_int(value: object) -> int:
    return int(value) if isinstance(value, (int, float)) else 0


def as_time(value: object) -> datetime | None:
    return value if isinstance(value, datetime) else None


class Window(Record, frozen=True):
    start: datetime
    end: datetime  # exclusive

    def widened(self, by: timedelta) -> Window:
        return Window(self.start - by, self.end + by)


class Analysis:
    def __init__(self, store: AnalyticsStore) -> None:
        self.store = store

    def request_count(self) -> int:
        return as_int(self.store.query("SELECT count(*) FROM requests")[0][0])

    def routes(self) -> tuple[RouteStats, ...]:
        rows = self.store.query(
            """
            SELECT method, route, count(*) AS n,
                   count(*) FILTER (WHERE status BETWEEN 400 AND 499),
                   count(*) FILTER (WHERE status >= 500),
                   quantile_cont(duration_ms, [0.5, 0.95, 0.99]),
                   max(duration_ms),
                   histogram(status)
            FROM requests GROUP BY method, route ORDER BY n DESC, method, route LIMIT ?
            """,
            [MAX_ROUTES],
        )
        result = []
        for method, route, count, client, server, quantiles, maximum, statuses in rows:
            p50, p95, p99 = (as_float(q) for q in quantiles) if isinstance(quantiles, list) else (None, None, None)
            histogram = statuses if isinstance(statuses, dict) else {}
            result.append(RouteStats(
                method=str(method), route=str(route), count=as_int(count), client_errors=as_int(client),
                server_errors=as_int(server), p50_ms=p50, p95_ms=p95, p99_ms=p99, max_ms=as_float(maximum),
                statuses=tuple(sorted((as_int(status), as_int(n)) for status, n in histogram.items())),
            ))
        return tuple(result)

    def route_total(self) -> int:
        return as_int(self.store.query("SELECT count(DISTINCT (method, route)) FROM requests")[0][0])

    def statuses(self) -> tuple[tuple[int, int], ...]:
        rows = self.store.query("SELECT status, count(*) FROM requests GROUP BY status ORDER BY status")
        return tuple((as_int(status), as_int(count)) for status, count in rows)

    def time_range(self) -> tuple[datetime | None, datetime | None]:
        row = self.store.query(
            """
            SELECT min(ts), max(ts) FROM (
                SELECT min(ts) AS ts FROM requests UNION ALL SELECT max(ts) FROM requests
                UNION ALL SELECT min(ts) FROM exceptions UNION ALL SELECT max(ts) FROM exceptions
                UNION ALL SELECT min(ts) FROM signals UNION ALL SELECT max(ts) FROM signals
                UNION ALL SELECT min(ts) FROM queries UNION ALL SELECT max(ts) FROM queries)
            """
        )[0]
        return as_time(row[0]), as_time(row[1])

    def buckets(self, forced_seconds: int | None = None) -> tuple[int, tuple[TimeBucket, ...]]:
        row = self.store.query("SELECT min(ts), max(ts) FROM requests WHERE ts IS NOT NULL")[0]
        first, last = as_time(row[0]), as_time(row[1])
        if first is None or last is None:
            return forced_seconds or 60, ()
        seconds = forced_seconds or choose_bucket_seconds((last - first).total_seconds())
        rows = self.store.query(
            """
            SELECT (epoch(ts)::BIGINT // ?) * ? AS bucket, count(*), count(*) FILTER (WHERE status >= 500),
                   quantile_cont(duration_ms, [0.5, 0.95])
            FROM requests WHERE ts IS NOT NULL GROUP BY bucket ORDER BY bucket
            """,
            [seconds, seconds],
        )
        by_start = {as_int(bucket): (count, errors, quantiles) for bucket, count, errors, quantiles in rows}
        buckets = []
        epoch_first, epoch_last = min(by_start), max(by_start)
        for start in range(epoch_first, epoch_last + 1, seconds):
            count, errors, quantiles = by_start.get(start, (0, 0, None))
            p50, p95 = (as_float(q) for q in quantiles) if isinstance(quantiles, list) else (None, None)
            buckets.append(TimeBucket(_epoch(start), as_int(count), as_int(errors), p50, p95))
        return seconds, tuple(buckets)

    def spikes(self, buckets: Sequence[TimeBucket], seconds: int) -> tuple[Spike, ...]:
        requests = [bucket.requests for bucket in buckets]
        runs = latency_spikes([bucket.p95_ms for bucket in buckets], requests)
        runs += error_rate_spikes(requests, [bucket.server_errors for bucket in buckets])
        spikes = []
        for run in sorted(runs, key=lambda run: (run.first, run.metric.value)):
            window = Window(buckets[run.first].start, buckets[run.last].start + timedelta(seconds=seconds))
            members = buckets[run.first:run.last + 1]
            routes = (self._latency_routes(window) if run.metric is SpikeMetric.LATENCY
                      else self._error_routes(window))
            spikes.append(Spike(
                metric=run.metric, start=window.start, end=window.end, peak=run.peak, baseline=run.baseline,
                routes=routes, requests=sum(b.requests for b in members),
                server_errors=sum(b.server_errors for b in members),
            ))
        return tuple(spikes)

    def _latency_routes(self, window: Window) -> tuple[str, ...]:
        """Routes by the time they spent above their own usual (median outside the window)."""
        rows = self.store.query(
            """
            WITH usual AS (
                SELECT method, route, median(duration_ms) AS usual_ms FROM requests
                WHERE ts < ? OR ts >= ? GROUP BY method, route),
            excess AS (
                SELECT r.method, r.route, sum(r.duration_ms - coalesce(u.usual_ms, 0)) AS excess_ms
                FROM requests r LEFT JOIN usual u ON r.method = u.method AND r.route = u.route
                WHERE r.ts >= ? AND r.ts < ? AND r.duration_ms IS NOT NULL GROUP BY r.method, r.route)
            SELECT method, route, excess_ms FROM excess WHERE excess_ms > 0 ORDER BY excess_ms DESC, method, route
            """,
            [window.start, window.end, window.start, window.end],
        )
        return _leading(rows)

    def _error_routes(self, window: Window) -> tuple[str, ...]:
        rows = self.store.query(
            """
            SELECT method, route, count(*) AS n FROM requests
            WHERE ts >= ? AND ts < ? AND status >= 500 GROUP BY method, route ORDER BY n DESC, method, route
            """,
            [window.start, window.end],
        )
        return _leading(rows)

    def error_groups(self) -> tuple[ErrorGroup, ...]:
        rows = self.store.query(
            """
            SELECT e.fingerprint, count(*) AS n, min(e.ts), max(e.ts),
                   arg_min(struct_pack(exception := e.exception, message := e.message, chain := e.chain,
                                       path := e.culprit_path, line := e.culprit_line,
                                       function := e.culprit_function, file := f.path, at := e.line),
                           e.file_id * 10000000000 + e.line)
            FROM exceptions e JOIN files f USING (file_id)
            GROUP BY e.fingerprint ORDER BY n DESC, e.fingerprint LIMIT ?
            """,
            [MAX_ERROR_GROUPS],
        )
        groups = []
        for fingerprint, count, first, last, example in rows:
            first_row = example if isinstance(example, dict) else {}
            path, line, function = first_row.get("path"), first_row.get("line"), first_row.get("function")
            culprit = (Culprit(str(path), as_int(line), str(function))
                       if path is not None and line is not None and function is not None else None)
            groups.append(ErrorGroup(
                fingerprint=str(fingerprint), exception=str(first_row.get("exception", "")),
                message=str(first_row.get("message") or ""), count=as_int(count), culprit=culprit,
                first_seen=as_time(first), last_seen=as_time(last),
                chain=tuple(str(first_row.get("chain") or "").split(CHAIN_SEPARATOR)),
                example=SourceLine(str(first_row.get("file", "")), as_int(first_row.get("at"))),
            ))
        return tuple(groups)

    def exception_total(self) -> int:
        return as_int(self.store.query("SELECT count(*) FROM exceptions")[0][0])

    def slow_queries(self) -> tuple[SlowQuery, ...]:
        rows = self.store.query(
            """
            SELECT q.fingerprint, any_value(q.statement), count(*), sum(q.duration_ms) AS total, avg(q.duration_ms),
                   max(q.duration_ms), min(q.ts), max(q.ts), arg_max(struct_pack(file := f.path, at := q.line),
                   q.duration_ms)
            FROM queries q JOIN files f USING (file_id)
            GROUP BY q.fingerprint ORDER BY total DESC, q.fingerprint LIMIT ?
            """,
            [MAX_SLOW_QUERIES],
        )
        result = []
        for fingerprint, statement, count, total, mean, maximum, first, last, example in rows:
            where = example if isinstance(example, dict) else {}
            result.append(SlowQuery(
                fingerprint=str(fingerprint), statement=str(statement), count=as_int(count),
                total_ms=as_float(total) or 0.0, mean_ms=as_float(mean) or 0.0, max_ms=as_float(maximum) or 0.0,
                first_seen=as_time(first), last_seen=as_time(last),
                example=SourceLine(str(where.get("file", "")), as_int(where.get("at"))),
            ))
        return tuple(result)

    def signals(self) -> tuple[SignalSummary, ...]:
        rows = self.store.query(
            """
            SELECT s.kind, count(*) AS n, min(s.ts), max(s.ts),
                   arg_min(struct_pack(file := f.path, at := s.line, detail := s.detail),
                           s.file_id * 10000000000 + s.line)
            FROM signals s JOIN files f USING (file_id) GROUP BY s.kind ORDER BY n DESC, s.kind
            """
        )
        result = []
        for kind, count, first, last, example in rows:
            where = example if isinstance(example, dict) else {}
            result.append(SignalSummary(
                kind=SignalKind(str(kind)), count=as_int(count), first_seen=as_time(first), last_seen=as_time(last),
                example=SourceLine(str(where.get("file", "")), as_int(where.get("at"))),
                detail=str(where.get("detail") or ""),
            ))
        return tuple(result)


def _leading(rows: Sequence[tuple[object, ...]]) -> tuple[str, ...]:
    total = sum(as_float(row[2]) or 0.0 for row in rows)
    if total <= 0:
        return ()
    leading = [f"{method} {route}" for method, route, amount in rows
               if (as_float(amount) or 0.0) >= SPIKE_ROUTE_MIN_SHARE * total]
    return tuple(leading[:SPIKE_ROUTES])


def _epoch(seconds: int) -> datetime:
    return datetime(1970, 1, 1) + timedelta(seconds=seconds)
