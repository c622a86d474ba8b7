"""The symptom -> probable cause -> fix matrix, applied to the evidence (docs/debug.md).

Each rule states a cause only when its evidence is in the logs, and says which: counts,
a time window, log lines. A symptom without such evidence goes to `unexplained`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from msgspec.structs import replace

from backbone.findings import QueryRef
from backbone.logs.analysis import Window, as_float, as_int, as_time
from backbone.logs.model import (
    Cause,
    CauseKind,
    ErrorGroup,
    SignalKind,
    SourceLine,
    Spike,
    SpikeMetric,
)
from backbone.logs.store import AnalyticsStore
from backbone.logs.wording import between, count, ms, percent
from backbone.records import Record

# LG101: a fingerprint in the spike window with at least this many executions at this mean.
SLOW_QUERY_MIN_COUNT = 2
SLOW_QUERY_MIN_MEAN_MS = 100.0
# LG102: this many 504s or timeout messages, with a stall within STALL_SLACK of them.
TIMEOUT_MIN_COUNT = 3
STALL_SLACK = timedelta(minutes=5)
GATEWAY_TIMEOUT = 504
# LG103: this many connection-exhaustion messages.
CONNECTION_MIN_COUNT = 3
# LG104: this many unique-violation or lock-conflict errors within BURST_WINDOW.
BURST_MIN_COUNT = 3
BURST_WINDOW = timedelta(seconds=60)
# LG105: the group has this many tracebacks and this share of all of them.
DOMINANT_MIN_COUNT = 5
DOMINANT_MIN_SHARE = 0.5


class _Event(Record, frozen=True):
    path: str
    line: int
    ts: datetime | None
    detail: str
    culprit: str | None

    @property
    def where(self) -> SourceLine:
        return SourceLine(self.path, self.line)


class Diagnosis(Record, frozen=True):
    causes: tuple[Cause, ...]
    unexplained: tuple[str, ...]


class CauseFinder:
    def __init__(self, store: AnalyticsStore, *, spikes: Sequence[Spike], errors: Sequence[ErrorGroup],
                 exception_total: int, bucket_seconds: int) -> None:
        self.store = store
        self.spikes = spikes
        self.errors = errors
        self.exception_total = exception_total
        self.bucket = timedelta(seconds=bucket_seconds)
        self.has_requests = bool(store.query("SELECT count(*) FROM requests WHERE ts IS NOT NULL")[0][0])
        # The time windows of the causes stated so far (widened by a bucket).
        self._windows: list[Window] = []

    def _explains(self, start: datetime | None, end: datetime | None) -> None:
        if start is not None and end is not None:
            self._windows.append(Window(start, end).widened(self.bucket))

    def diagnose(self) -> Diagnosis:
        causes: list[Cause] = []
        for finder in (self.blocking_event_loop, self.connection_exhaustion, self.race_or_missing_transaction,
                       self.dominant_exception):
            cause = finder()
            if cause is not None:
                causes.append(cause)
        unexplained: list[str] = []
        by_summary: dict[str, Cause] = {}
        for spike in self.spikes:
            explained = self._explained(spike)
            if spike.metric is SpikeMetric.LATENCY:
                cause = self.slow_query_in_spike(spike)
                earlier = by_summary.get(cause.summary) if cause is not None else None
                if cause is not None and earlier is not None:
                    # The same query behind another spike: one cause, with every window as evidence.
                    merged = replace(earlier, evidence=earlier.evidence + cause.evidence)
                    causes[causes.index(earlier)] = by_summary[cause.summary] = merged
                elif cause is not None:
                    causes.insert(len(by_summary), cause)
                    by_summary[cause.summary] = cause
                elif not explained:
                    unexplained.append(
                        f"p95 latency rose to {ms(spike.peak)} (usual {ms(spike.baseline)}) "
                        f"{between(spike.start, spike.end)}{_on(spike.routes)}, and no slow query, stall or "
                        "error in the logs explains it."
                    )
            elif not explained:
                unexplained.append(
                    f"The 5xx rate rose to {percent(spike.peak)} (usual {percent(spike.baseline)}) "
                    f"{between(spike.start, spike.end)}{_on(spike.routes)}; no traceback, database or pool error "
                    "in the logs names its cause (add the application log to the inputs)."
                )
        if not any(cause.kind is CauseKind.BLOCKING_EVENT_LOOP for cause in causes):
            timeouts = self._gateway_timeouts()
            if timeouts[0] >= TIMEOUT_MIN_COUNT:
                unexplained.append(
                    f"{count(timeouts[0], 'response')} were 504 Gateway Timeout {between(timeouts[1], timeouts[2])}, "
                    "with no event-loop stall, pool or slow-query evidence to say why."
                )
        return Diagnosis(tuple(causes), tuple(unexplained))

    def _explained(self, spike: Spike) -> bool:
        """Whether the window of a cause already stated overlaps the spike."""
        return any(window.start <= spike.end and spike.start <= window.end for window in self._windows)

    # LG101 -------------------------------------------------------------------------

    def slow_query_in_spike(self, spike: Spike) -> Cause | None:
        window = Window(spike.start, spike.end).widened(self.bucket)
        rows = self.store.query(
            """
            SELECT q.fingerprint, any_value(q.statement), count(*) AS n, sum(q.duration_ms) AS total,
                   avg(q.duration_ms), max(q.duration_ms),
                   arg_min(struct_pack(file := f.path, at := q.line), q.file_id * 10000000000 + q.line)
            FROM queries q JOIN files f USING (file_id)
            WHERE q.ts >= ? AND q.ts < ?
            GROUP BY q.fingerprint HAVING n >= ? AND avg(q.duration_ms) >= ?
            ORDER BY total DESC, q.fingerprint LIMIT 1
            """,
            [window.start, window.end, SLOW_QUERY_MIN_COUNT, SLOW_QUERY_MIN_MEAN_MS],
        )
        spike_evidence = (
            f"p95 latency rose from {ms(spike.baseline)} to {ms(spike.peak)} {between(spike.start, spike.end)}"
            f" over {count(spike.requests, 'request')}{_on(spike.routes)}."
        )
        if rows:
            fingerprint, statement, executions, total, mean, maximum, example = rows[0]
            where = example if isinstance(example, dict) else {}
            location = SourceLine(str(where.get("file", "")), as_int(where.get("at")))
            return Cause(
                kind=CauseKind.MISSING_INDEX,
                summary=f"The query {fingerprint} ran slowly during the latency spike: probably a missing index.",
                evidence=(
                    spike_evidence,
                    f"The statement `{_short(str(statement))}` (fingerprint {fingerprint}) ran "
                    f"{count(as_int(executions), 'time')} in that window, {ms(as_float(mean))} on average "
                    f"(max {ms(as_float(maximum))}, {ms(as_float(total))} in all), first at {location}.",
                ),
                fix=(f"Run `backbone explain` on query {fingerprint} and add the index it proves (or read "
                     "EXPLAIN (ANALYZE, BUFFERS) for a sequential scan), then check that p95 returns to "
                     f"{ms(spike.baseline)}."),
                location=location,
                query=QueryRef(str(fingerprint), str(statement)),
            )
        profiled = self._events(SignalKind.SLOW_QUERY, None, untimed_only=True)
        if profiled:
            first = profiled[0]
            return Cause(
                kind=CauseKind.MISSING_INDEX,
                summary=(f"A query that the profile found slow probably drove the latency spike "
                         f"{between(spike.start, spike.end)}: probably a missing index."),
                evidence=(spike_evidence,
                          f"`backbone profile` reported {count(len(profiled), 'slow query', 'slow queries')}, "
                          f"first {first.detail} ({first.where})."),
                fix="Run `backbone explain` on the slow query and add the index it proves.",
                location=first.where,
            )
        return None

    # LG102 -------------------------------------------------------------------------

    def blocking_event_loop(self) -> Cause | None:
        timeouts, first_504, last_504 = self._gateway_timeouts()
        timeout_events = self._events(SignalKind.TIMEOUT, None)
        symptom: list[str] = []
        starts: list[datetime] = []
        ends: list[datetime] = []
        if timeouts >= TIMEOUT_MIN_COUNT and first_504 and last_504:
            symptom.append(f"{count(timeouts, 'response')} were 504 Gateway Timeout "
                           f"{between(first_504, last_504)}{self._access_lines(first_504, last_504, 'status = 504')}.")
            starts.append(first_504)
            ends.append(last_504)
        if len(timeout_events) >= TIMEOUT_MIN_COUNT:
            timed = [event.ts for event in timeout_events if event.ts is not None]
            symptom.append(f"{count(len(timeout_events), 'timeout message')} in the logs, first at "
                           f"{timeout_events[0].where}: {timeout_events[0].detail}")
            if timed:
                starts.append(min(timed))
                ends.append(max(timed))
        if not symptom:
            return None
        window = Window(min(starts), max(ends)).widened(STALL_SLACK) if starts else None
        stalls = self._events(SignalKind.EVENT_LOOP_STALL, window)
        if not stalls:
            return None
        first = stalls[0]
        timed_stalls = [event.ts for event in stalls if event.ts is not None]
        self._explains(min(starts + timed_stalls, default=None), max(ends + timed_stalls, default=None))
        stall_window = f" {between(min(timed_stalls), max(timed_stalls))}" if timed_stalls else ""
        return Cause(
            kind=CauseKind.BLOCKING_EVENT_LOOP,
            summary="A blocking call in the event loop stalled the server until requests timed out.",
            evidence=(*symptom,
                      f"{count(len(stalls), 'event-loop stall')} reported{stall_window}, first at {first.where}: "
                      f"{first.detail}"),
            fix=("Find the blocking call (the stall's task or `backbone profile`'s RT103 call site) and move it off "
                 "the event loop: await an async client, or run it with `await asyncio.to_thread(...)`."),
            location=first.where,
        )

    def _gateway_timeouts(self) -> tuple[int, datetime | None, datetime | None]:
        row = self.store.query(f"SELECT count(*), min(ts), max(ts) FROM requests WHERE status = {GATEWAY_TIMEOUT}")[0]
        return as_int(row[0]), as_time(row[1]), as_time(row[2])

    # LG103 -------------------------------------------------------------------------

    def connection_exhaustion(self) -> Cause | None:
        events = self._events(SignalKind.CONNECTION_EXHAUSTION, None)
        if len(events) < CONNECTION_MIN_COUNT:
            return None
        first = events[0]
        evidence = [f"{count(len(events), 'connection-exhaustion error')}{_span(events)}, first at {first.where}: "
                    f"{first.detail}"]
        timed = [event.ts for event in events if event.ts is not None]
        self._explains(min(timed, default=None), max(timed, default=None))
        if timed and self.has_requests:
            errors = self._server_errors(min(timed) - self.bucket, max(timed) + self.bucket)
            if errors:
                evidence.append(f"{count(errors, 'response')} were 5xx in the same window.")
        return Cause(
            kind=CauseKind.CONNECTION_EXHAUSTION,
            summary="The database connections ran out: connections not returned to the pool, or a pool too small.",
            evidence=tuple(evidence),
            fix=("Close every session and connection on every path (context managers, a dependency with `yield`), "
                 "and size pool_size + max_overflow times the worker count below the server's max_connections "
                 "(or put PgBouncer in front)."),
            location=first.where,
        )

    # LG104 -------------------------------------------------------------------------

    def race_or_missing_transaction(self) -> Cause | None:
        events = sorted(
            self._events(SignalKind.INTEGRITY_ERROR, None) + self._events(SignalKind.LOCK_CONFLICT, None),
            key=lambda event: (event.ts or datetime.min, event.path, event.line),
        )
        burst = _densest_burst(events)
        if len(burst) < BURST_MIN_COUNT:
            return None
        first = burst[0]
        per_file: dict[str, int] = {}
        for event in burst:
            per_file[event.path] = per_file.get(event.path, 0) + 1
        sources = ", ".join(f"{number:,} in {path}" for path, number in sorted(per_file.items()))
        evidence = [f"{count(len(burst), 'unique-violation or lock-conflict error')}{_span(burst)} ({sources}), "
                    f"first at {first.where}: {first.detail}"]
        culprits = sorted({event.culprit for event in burst if event.culprit})
        if culprits:
            evidence.append(f"Raised at {', '.join(culprits[:3])}.")
        timed = [event.ts for event in burst if event.ts is not None]
        self._explains(min(timed, default=None), max(timed, default=None))
        if timed and self.has_requests:
            # Concurrency on the route that failed most in the burst (the busiest when none failed).
            peak = self.store.query(
                """
                WITH failing AS (
                    SELECT method, route, count(*) FILTER (WHERE status >= 500) AS errors, count(*) AS n
                    FROM requests WHERE ts >= ? AND ts <= ? GROUP BY method, route
                    ORDER BY errors DESC, n DESC, method, route LIMIT 1)
                SELECT r.method, r.route, count(*) AS n FROM requests r JOIN failing USING (method, route)
                WHERE r.ts >= ? AND r.ts <= ?
                GROUP BY r.method, r.route, date_trunc('second', r.ts) ORDER BY n DESC LIMIT 1
                """,
                [min(timed), max(timed), min(timed), max(timed)],
            )
            if peak and as_int(peak[0][2]) > 1:
                evidence.append(f"Requests were concurrent: up to {peak[0][2]} per second on {peak[0][0]} {peak[0][1]} "
                                "in that window.")
        return Cause(
            kind=CauseKind.RACE_OR_MISSING_TRANSACTION,
            summary="Concurrent requests raced on the same rows: a check-then-write without a transaction, or locks "
                    "taken in different orders.",
            evidence=tuple(evidence),
            fix=("Make the write atomic: INSERT ... ON CONFLICT (or get-or-create) inside one transaction under a "
                 "unique constraint, take row locks (SELECT ... FOR UPDATE) in a consistent order, and retry on "
                 "deadlock or serialization failure."),
            location=first.where,
        )

    # LG105 -------------------------------------------------------------------------

    def dominant_exception(self) -> Cause | None:
        if not self.errors or self.exception_total == 0:
            return None
        group = self.errors[0]
        share = group.count / self.exception_total
        if group.count < DOMINANT_MIN_COUNT or share < DOMINANT_MIN_SHARE:
            return None
        evidence = [f"{count(group.count, 'traceback')} of {self.exception_total:,} ({percent(share)}) share the "
                    f"fingerprint {group.fingerprint}, {between(group.first_seen, group.last_seen)}, first at "
                    f"{group.example}."]
        if self.has_requests:
            if group.first_seen is None or group.last_seen is None:
                return None
            start, end = group.first_seen - self.bucket, group.last_seen + self.bucket
            errors = self._server_errors(start, end)
            if errors == 0:
                return None  # the exceptions did not fail requests, as far as the access log says
            evidence.append(f"{count(errors, 'response')} were 5xx in that window"
                            f"{self._access_lines(start, end, 'status >= 500')}.")
        else:
            evidence.append("No access log was given: each of these tracebacks is an unhandled error.")
        self._explains(group.first_seen, group.last_seen)
        where = group.culprit
        location = SourceLine(where.path, where.line) if where else group.example
        at = f"{where.path}:{where.line} in {where.function}" if where else "(no frame in the application)"
        message = f": {_short(group.message.splitlines()[0], 120)}" if group.message else ""
        if len(group.chain) > 1:
            evidence.append(f"The exception chain is {' -> '.join(group.chain)}.")
        return Cause(
            kind=CauseKind.DOMINANT_EXCEPTION,
            summary=f"Most server errors are one exception, {group.exception}{message}, raised at {at}.",
            evidence=tuple(evidence),
            fix=(f"Fix the failure at {at}: handle {group.exception.rsplit('.', 1)[-1]} there, or validate the input "
                 "and answer with a 4xx when the caller sent it."),
            location=location,
        )

    # Evidence queries ---------------------------------------------------------------

    def _events(self, kind: SignalKind, window: Window | None, *, untimed_only: bool = False) -> list[_Event]:
        condition = "s.kind = ?"
        parameters: list[object] = [kind.value]
        if untimed_only:
            condition += " AND s.ts IS NULL"
        elif window is not None:
            condition += " AND (s.ts IS NULL OR (s.ts >= ? AND s.ts <= ?))"
            parameters += [window.start, window.end]
        rows = self.store.query(
            f"""
            SELECT f.path, s.line, s.ts, s.detail,
                   CASE WHEN e.culprit_path IS NOT NULL THEN e.culprit_path || ':' || e.culprit_line END
            FROM signals s JOIN files f USING (file_id)
            LEFT JOIN exceptions e ON e.file_id = s.file_id AND e.line = s.line
            WHERE {condition}
            ORDER BY s.ts NULLS LAST, s.file_id, s.line
            """,
            parameters,
        )
        return [_Event(str(path), as_int(line), as_time(ts), str(detail or ""), str(culprit) if culprit else None)
                for path, line, ts, detail, culprit in rows]

    def _server_errors(self, start: datetime, end: datetime) -> int:
        return as_int(self.store.query(
            "SELECT count(*) FROM requests WHERE status >= 500 AND ts >= ? AND ts <= ?", [start, end])[0][0])

    def _access_lines(self, start: datetime, end: datetime, condition: str) -> str:
        rows = self.store.query(
            f"""
            SELECT f.path, min(r.line), max(r.line) FROM requests r JOIN files f USING (file_id)
            WHERE {condition} AND r.ts >= ? AND r.ts <= ? GROUP BY f.path ORDER BY f.path LIMIT 3
            """,
            [start, end],
        )
        if not rows:
            return ""
        spans = ", ".join(f"{path} lines {first}-{last}" if first != last else f"{path}:{first}"
                          for path, first, last in rows)
        return f" ({spans})"


def _on(routes: Sequence[str]) -> str:
    return f", driven by {', '.join(routes)}" if routes else ""


def _short(text: str, limit: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _span(events: Sequence[_Event]) -> str:
    timed = [event.ts for event in events if event.ts is not None]
    return f" {between(min(timed), max(timed))}" if timed else ""


def _densest_burst(events: Sequence[_Event]) -> list[_Event]:
    """The largest set of events within BURST_WINDOW of each other (all of them when untimed)."""
    timed = [(event.ts, event) for event in events if event.ts is not None]
    if not timed:
        return list(events)
    best: list[_Event] = []
    start = 0
    for end, (moment, _) in enumerate(timed):
        while moment - timed[start][0] > BURST_WINDOW:
            start += 1
        if end - start + 1 > len(best):
            best = [event for _, event in timed[start:end + 1]]
    return best
