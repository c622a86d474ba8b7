"""From recorded requests to per-route statistics and findings (RT101-RT104).

- RT101 n-plus-one: in one request, the same read fingerprint from the same call
  site ran at least `n_plus_one_threshold` times.
- RT102 slow-query: a query took `slow_query_ms` or longer.
- RT103 event-loop-stall: an async app's event loop was blocked `stall_ms` or longer.
- RT104 query-budget-exceeded: a request ran more than `max_queries` queries.
- RT105 request-timeout: a request had no answer within the request timeout.

Statements that raised count like the others (they ran), and are marked failed.

The analyzer folds records into bounded per-route aggregates, so a run of any
length keeps one latency digest and a few groups per route.
"""

from __future__ import annotations

import linecache
import os
import re
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import msgspec

from backbone.findings import (
    Confidence,
    Detail,
    Finding,
    Fix,
    Frame,
    Label,
    Location,
    Measure,
    QueryRef,
    Severity,
)
from backbone.records import Record
from backbone.runtime.events import (
    CallSite,
    LoopStall,
    Outcome,
    QueryEvent,
    QueryLayer,
    RequestRecord,
)
from backbone.runtime.stats import HistogramBin, LatencyDigest
from backbone.sql.fingerprint import FingerprintCache, default_cache, query_id
from backbone.sql.kinds import StatementKind

RUNTIME_CODES: dict[str, tuple[str, str]] = {
    "RT101": ("n-plus-one", "The same query ran once per row in one request."),
    "RT102": ("slow-query", "A query took longer than the slow-query threshold."),
    "RT103": ("event-loop-stall", "Blocking work stopped an async app's event loop."),
    "RT104": ("query-budget-exceeded", "A request ran more queries than its budget allows."),
    "RT105": ("request-timeout", "A request got no answer within the request timeout."),
}

RUNTIME_SEVERITIES: dict[str, Severity] = {
    "RT101": Severity.WARNING,
    "RT102": Severity.WARNING,
    "RT103": Severity.WARNING,
    "RT104": Severity.ERROR,
    "RT105": Severity.ERROR,
}

_N_PLUS_ONE_FIX = {
    QueryLayer.SQLALCHEMY: "Load the related rows with the parent query (selectinload() or joinedload() on the "
    "relationship), or fetch them in one query with IN (...) over the collected keys.",
    QueryLayer.DJANGO: "Load the related rows with the parent query: select_related() for foreign keys, "
    "prefetch_related() for reverse and many-to-many relations.",
    QueryLayer.DBAPI: "Fetch the rows in one query (a JOIN, or WHERE ... IN (...) over the collected keys) "
    "instead of one query per row.",
}


class DetectionSettings(Record, frozen=True):
    n_plus_one_threshold: int = 5
    slow_query_ms: float = 500.0
    stall_ms: float = 100.0
    # The most queries one request may run (RT104); None: no budget.
    max_queries: int | None = None
    # How long a request may go unanswered before it is recorded as timed out (RT105); None: forever.
    request_timeout_s: float | None = 30.0

    def __post_init__(self) -> None:
        if self.n_plus_one_threshold < 2:
            raise ValueError("the N+1 threshold must be at least 2")
        if self.max_queries is not None and self.max_queries < 0:
            raise ValueError("the query budget cannot be negative")
        if self.request_timeout_s is not None and not self.request_timeout_s > 0:
            raise ValueError("the request timeout must be positive")


class RepeatedQuery(Record, frozen=True):
    """One request's N+1 group: a read fingerprint repeated from one call site."""

    fingerprint: str
    call_site: CallSite | None
    count: int
    sql: str
    layer: QueryLayer
    total_s: float
    # How many of the repeats raised.
    failed: int = 0


def repeated_queries(
    queries: Iterable[QueryEvent], threshold: int, cache: FingerprintCache = default_cache
) -> tuple[RepeatedQuery, ...]:
    """The N+1 groups among one request's (or one test's) queries, most repeated first."""
    groups: dict[tuple[str, CallSite | None], list[QueryEvent]] = {}
    for query in queries:
        found = cache.get(query.sql, query.dialect)
        if found.kind is not StatementKind.READ:
            continue
        groups.setdefault((found.text, query.call_site), []).append(query)
    repeated = [
        RepeatedQuery(
            text,
            site,
            len(events),
            events[0].sql,
            events[0].layer,
            sum(event.duration_s for event in events),
            sum(1 for event in events if event.failed),
        )
        for (text, site), events in groups.items()
        if len(events) >= threshold
    ]
    repeated.sort(key=lambda group: (-group.count, group.fingerprint))
    return tuple(repeated)


def relative_path(path: str, root: Path) -> str:
    """`path` relative to `root` when it is inside it, else as it is."""
    absolute, base = os.path.abspath(path), os.path.abspath(root)
    # Paths on another drive (Windows) have no common path with the root.
    if os.path.splitdrive(absolute)[0] != os.path.splitdrive(base)[0]:
        return path
    if os.path.commonpath([absolute, base]) != base:
        return path
    return os.path.relpath(absolute, base)


def _location(site: CallSite | None, fallback: CallSite | None, root: Path) -> Location:
    chosen = site or fallback
    if chosen is None:
        return Location("<unknown>", 1)
    return Location(relative_path(chosen.path, root), chosen.line)


_SELECT_LIST = re.compile(r"^(SELECT\s+(?:DISTINCT\s+)?)(.+?)(\s+FROM\s)", re.IGNORECASE | re.DOTALL)


def _short(sql: str, limit: int = 120) -> str:
    """The statement for a one-line message: a long select list shown as `…`, then cut at `limit`."""
    text = " ".join(sql.split())
    if len(text) > limit:
        match = _SELECT_LIST.match(text)
        if match is not None and len(match.group(2)) > 30:
            text = f"{match.group(1)}…{match.group(3)}{text[match.end():]}"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _function(site: CallSite | None) -> str:
    # Comprehensions and module code have names like `<listcomp>`: no use to a reader.
    return f" from {site.function}()" if site is not None and not site.function.startswith("<") else ""


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _source_line(site: CallSite | None) -> str:
    if site is None:
        return ""
    return linecache.getline(site.path, site.line).strip()


def _frame(site: CallSite, root: Path) -> Frame:
    return Frame(relative_path(site.path, root), site.line, site.function)


def _detail(method: str, route: str, root: Path, site: CallSite | None, *measures: Measure,
            fingerprint: str | None = None, sql: str = "", stack: tuple[CallSite, ...] = (),
            labels: tuple[Label, ...] = ()) -> Detail:
    """The typed extra of a runtime finding: what JSON writes as the finding's own keys."""
    query = QueryRef(query_id(fingerprint), fingerprint) if fingerprint is not None else None
    return Detail("profile", route=f"{method} {route}", query=query, measures=measures, statement=sql,
                  call_site=_frame(site, root) if site is not None else None,
                  stack=tuple(_frame(frame, root) for frame in stack), labels=labels)


class NPlusOne(Record, frozen=True):
    method: str
    route: str
    fingerprint: str
    sql: str
    call_site: CallSite | None
    layer: QueryLayer
    repeat_count: int
    requests_affected: int
    requests_total: int
    # Time the repeated queries took, summed over the affected requests.
    total_ms: float
    handler: CallSite | None = None
    # The most repeats that raised in one request.
    failed_count: int = 0
    code: str = "RT101"

    def finding(self, root: Path) -> Finding:
        return Finding(
            code=self.code,
            name=RUNTIME_CODES[self.code][0],
            severity=RUNTIME_SEVERITIES[self.code],
            confidence=Confidence.HIGH,
            location=_location(self.call_site, self.handler, root),
            source_line=_source_line(self.call_site or self.handler),
            message=(
                f"{self.method} {self.route} ran the same query {self.repeat_count} times in one request"
                f"{_function(self.call_site)} (in {self.requests_affected} of {_plural(self.requests_total, 'request')}"
                f"{self._failed_note()}): "
                f"{_short(self.fingerprint)}."
            ),
            fix=Fix(_N_PLUS_ONE_FIX[self.layer]),
            scope=f"{self.method} {self.route}",
            extra=_detail(
                self.method, self.route, root, self.call_site, Measure("repeat_count", self.repeat_count),
                Measure("failed_count", self.failed_count), Measure("requests_affected", self.requests_affected),
                Measure("requests_total", self.requests_total), Measure("total_ms", round(self.total_ms, 3)),
                fingerprint=self.fingerprint, sql=self.sql, labels=(Label("layer", self.layer.value),),
            ),
        )

    def _failed_note(self) -> str:
        return f"; {self.failed_count} of the repeats failed" if self.failed_count else ""


class SlowQuery(Record, frozen=True):
    method: str
    route: str
    fingerprint: str
    sql: str
    call_site: CallSite | None
    max_ms: float
    slow_count: int
    threshold_ms: float
    handler: CallSite | None = None
    code: str = "RT102"

    def finding(self, root: Path) -> Finding:
        return Finding(
            code=self.code,
            name=RUNTIME_CODES[self.code][0],
            severity=RUNTIME_SEVERITIES[self.code],
            confidence=Confidence.HIGH,
            location=_location(self.call_site, self.handler, root),
            source_line=_source_line(self.call_site or self.handler),
            message=(
                f"A query took {self.max_ms:.0f} ms in {self.method} {self.route}{_function(self.call_site)} "
                f"(threshold {self.threshold_ms:.0f} ms, {_plural(self.slow_count, 'slow run')}): {_short(self.fingerprint)}."
            ),
            fix=Fix("Run `backbone explain` on this query and add the index it needs, or narrow what it reads."),
            scope=f"{self.method} {self.route}",
            extra=_detail(
                self.method, self.route, root, self.call_site, Measure("max_ms", round(self.max_ms, 3)),
                Measure("slow_count", self.slow_count), Measure("threshold_ms", self.threshold_ms),
                fingerprint=self.fingerprint, sql=self.sql,
            ),
        )


class EventLoopStall(Record, frozen=True):
    method: str
    route: str
    call_site: CallSite | None
    max_ms: float
    stall_count: int
    threshold_ms: float
    stack: tuple[CallSite, ...] = ()
    handler: CallSite | None = None
    code: str = "RT103"

    def finding(self, root: Path) -> Finding:
        where = f" at {self.call_site.function}()" if self.call_site is not None and not self.call_site.function.startswith("<") else ""
        return Finding(
            code=self.code,
            name=RUNTIME_CODES[self.code][0],
            severity=RUNTIME_SEVERITIES[self.code],
            confidence=Confidence.HIGH if self.call_site is not None else Confidence.MEDIUM,
            location=_location(self.call_site, self.handler, root),
            source_line=_source_line(self.call_site or self.handler),
            message=(
                f"The event loop was blocked for {self.max_ms:.0f} ms while serving {self.method} {self.route}{where} "
                f"(threshold {self.threshold_ms:.0f} ms, {_plural(self.stall_count, 'stall')})."
            ),
            fix=Fix(
                "Do not block the event loop: await an async API, or move the blocking call to a thread "
                "(asyncio.to_thread, run_in_threadpool), or declare the handler with a plain def."
            ),
            scope=f"{self.method} {self.route}",
            extra=_detail(
                self.method, self.route, root, self.call_site, Measure("max_ms", round(self.max_ms, 3)),
                Measure("stall_count", self.stall_count), Measure("threshold_ms", self.threshold_ms), stack=self.stack,
            ),
        )


class QueryBudgetExceeded(Record, frozen=True):
    method: str
    route: str
    max_queries: int
    budget: int
    requests_affected: int
    requests_total: int
    # The call site that ran the most queries in the worst request.
    call_site: CallSite | None
    handler: CallSite | None = None
    code: str = "RT104"

    def finding(self, root: Path) -> Finding:
        return Finding(
            code=self.code,
            name=RUNTIME_CODES[self.code][0],
            severity=RUNTIME_SEVERITIES[self.code],
            confidence=Confidence.HIGH,
            location=_location(self.call_site, self.handler, root),
            source_line=_source_line(self.call_site or self.handler),
            message=(
                f"{self.method} {self.route} ran {self.max_queries} queries in one request, over the budget of "
                f"{self.budget} (in {self.requests_affected} of {_plural(self.requests_total, 'request')})."
            ),
            fix=Fix("Batch or eager-load the queries this request runs, or raise the budget if they are all needed."),
            scope=f"{self.method} {self.route}",
            extra=_detail(
                self.method, self.route, root, self.call_site, Measure("max_queries", self.max_queries),
                Measure("budget", self.budget), Measure("requests_affected", self.requests_affected),
                Measure("requests_total", self.requests_total),
            ),
        )


class RequestTimeout(Record, frozen=True):
    method: str
    route: str
    timeout_s: float
    requests_affected: int
    requests_total: int
    handler: CallSite | None = None
    code: str = "RT105"

    @property
    def call_site(self) -> CallSite | None:
        return self.handler

    def finding(self, root: Path) -> Finding:
        return Finding(
            code=self.code,
            name=RUNTIME_CODES[self.code][0],
            severity=RUNTIME_SEVERITIES[self.code],
            confidence=Confidence.HIGH,
            location=_location(None, self.handler, root),
            source_line=_source_line(self.handler),
            message=(
                f"{self.method} {self.route} had no answer within {self.timeout_s:g} s "
                f"(in {self.requests_affected} of {_plural(self.requests_total, 'request')}); "
                "the run went on without it."
            ),
            fix=Fix("Find what the handler waits on (a lock, a remote call without a timeout, a loop that never ends) "
                    "and bound it with a timeout."),
            scope=f"{self.method} {self.route}",
            extra=_detail(
                self.method, self.route, root, self.handler, Measure("timeout_s", self.timeout_s),
                Measure("requests_affected", self.requests_affected), Measure("requests_total", self.requests_total),
            ),
        )


RuntimeIssue = NPlusOne | SlowQuery | EventLoopStall | QueryBudgetExceeded | RequestTimeout


class RouteSummary(Record, frozen=True):
    method: str
    route: str
    count: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float
    queries_per_request: float
    max_queries: int
    n_plus_one_groups: int
    # Each status as reports show it ("200", "500", "200 aborted stream", "timed out") and how often.
    statuses: tuple[tuple[str, int], ...]
    histogram: tuple[HistogramBin, ...]
    # True when the percentiles come from every sample, False when from the histogram sketch.
    exact: bool = True
    # Requests that failed: a 5xx status, a body cut off by an error, no answer in time.
    errors: int = 0
    # Statements that raised, over all the route's requests.
    failed_queries: int = 0


class _NPlusOneAggregate(msgspec.Struct):
    group: RepeatedQuery
    repeat_count: int = 0
    failed_count: int = 0
    requests: int = 0
    total_s: float = 0.0


class _SlowAggregate(msgspec.Struct):
    sql: str
    max_s: float = 0.0
    count: int = 0


class _StallAggregate(msgspec.Struct):
    worst: LoopStall
    count: int = 0


class _RouteAggregate(msgspec.Struct):
    method: str
    route: str
    digest: LatencyDigest = msgspec.field(default_factory=LatencyDigest)
    statuses: Counter[str] = msgspec.field(default_factory=Counter)
    errors: int = 0
    timeouts: int = 0
    failed_queries: int = 0
    total_queries: int = 0
    max_queries: int = 0
    handler: CallSite | None = None
    n_plus_one: dict[tuple[str, CallSite | None], _NPlusOneAggregate] = msgspec.field(default_factory=dict)
    slow: dict[tuple[str, CallSite | None], _SlowAggregate] = msgspec.field(default_factory=dict)
    stalls: dict[CallSite | None, _StallAggregate] = msgspec.field(default_factory=dict)
    over_budget: int = 0
    worst_over_budget: int = 0
    worst_budget_site: CallSite | None = None


class Analyzer:
    """Folds request records into per-route aggregates; thread-safe."""

    def __init__(self, settings: DetectionSettings | None = None, cache: FingerprintCache = default_cache) -> None:
        self.settings = settings or DetectionSettings()
        self._cache = cache
        self._routes: dict[tuple[str, str], _RouteAggregate] = {}
        self._lock = threading.Lock()
        self.unattributed_stalls: list[LoopStall] = []

    def add(self, records: Sequence[RequestRecord]) -> None:
        with self._lock:
            for record in records:
                self._add(record)

    def _add(self, record: RequestRecord) -> None:
        settings = self.settings
        key = (record.method, record.route)
        aggregate = self._routes.get(key)
        if aggregate is None:
            aggregate = self._routes[key] = _RouteAggregate(record.method, record.route)
        aggregate.digest.add(record.duration_s)
        outcome = record.outcome
        aggregate.statuses[outcome.label(record.status)] += 1
        if record.status >= 500 or outcome is not Outcome.COMPLETE:
            aggregate.errors += 1
        if outcome is Outcome.TIMED_OUT:
            aggregate.timeouts += 1
        query_count = len(record.queries)
        aggregate.failed_queries += sum(1 for query in record.queries if query.failed)
        aggregate.total_queries += query_count
        aggregate.max_queries = max(aggregate.max_queries, query_count)
        if aggregate.handler is None:
            aggregate.handler = record.handler

        for group in repeated_queries(record.queries, settings.n_plus_one_threshold, self._cache):
            group_key = (group.fingerprint, group.call_site)
            found = aggregate.n_plus_one.get(group_key)
            if found is None:
                found = aggregate.n_plus_one[group_key] = _NPlusOneAggregate(group)
            found.repeat_count = max(found.repeat_count, group.count)
            found.failed_count = max(found.failed_count, group.failed)
            found.requests += 1
            found.total_s += group.total_s

        slow_s = settings.slow_query_ms / 1000
        for query in record.queries:
            if query.duration_s < slow_s:
                continue
            slow_key = (self._cache.get(query.sql, query.dialect).text, query.call_site)
            slow = aggregate.slow.get(slow_key)
            if slow is None:
                slow = aggregate.slow[slow_key] = _SlowAggregate(query.sql)
            slow.count += 1
            slow.max_s = max(slow.max_s, query.duration_s)

        stall_s = settings.stall_ms / 1000
        for stall in record.stalls:
            if stall.duration_s < stall_s:
                continue
            stalled = aggregate.stalls.get(stall.call_site)
            if stalled is None:
                stalled = aggregate.stalls[stall.call_site] = _StallAggregate(stall)
            stalled.count += 1
            if stall.duration_s > stalled.worst.duration_s:
                stalled.worst = stall

        if settings.max_queries is not None and query_count > settings.max_queries:
            aggregate.over_budget += 1
            if query_count > aggregate.worst_over_budget:
                aggregate.worst_over_budget = query_count
                sites = Counter(query.call_site for query in record.queries)
                aggregate.worst_budget_site = sites.most_common(1)[0][0]

    def routes(self) -> tuple[RouteSummary, ...]:
        with self._lock:
            aggregates = sorted(self._routes.values(), key=lambda item: (item.route, item.method))
            return tuple(_summary(aggregate) for aggregate in aggregates)

    def issues(self) -> tuple[RuntimeIssue, ...]:
        settings = self.settings
        found: list[RuntimeIssue] = []
        with self._lock:
            for aggregate in self._routes.values():
                total = aggregate.digest.count
                for group_aggregate in aggregate.n_plus_one.values():
                    group = group_aggregate.group
                    found.append(
                        NPlusOne(
                            aggregate.method,
                            aggregate.route,
                            group.fingerprint,
                            group.sql,
                            group.call_site,
                            group.layer,
                            group_aggregate.repeat_count,
                            group_aggregate.requests,
                            total,
                            group_aggregate.total_s * 1000,
                            aggregate.handler,
                            group_aggregate.failed_count,
                        )
                    )
                for (text, site), slow in aggregate.slow.items():
                    found.append(
                        SlowQuery(
                            aggregate.method,
                            aggregate.route,
                            text,
                            slow.sql,
                            site,
                            slow.max_s * 1000,
                            slow.count,
                            settings.slow_query_ms,
                            aggregate.handler,
                        )
                    )
                for site, stalled in aggregate.stalls.items():
                    found.append(
                        EventLoopStall(
                            aggregate.method,
                            aggregate.route,
                            site,
                            stalled.worst.duration_s * 1000,
                            stalled.count,
                            settings.stall_ms,
                            stalled.worst.stack,
                            aggregate.handler,
                        )
                    )
                if aggregate.timeouts and settings.request_timeout_s is not None:
                    found.append(
                        RequestTimeout(
                            aggregate.method,
                            aggregate.route,
                            settings.request_timeout_s,
                            aggregate.timeouts,
                            total,
                            aggregate.handler,
                        )
                    )
                if aggregate.over_budget and settings.max_queries is not None:
                    found.append(
                        QueryBudgetExceeded(
                            aggregate.method,
                            aggregate.route,
                            aggregate.worst_over_budget,
                            settings.max_queries,
                            aggregate.over_budget,
                            total,
                            aggregate.worst_budget_site,
                            aggregate.handler,
                        )
                    )
        found.sort(key=lambda issue: (issue.code, issue.route, issue.method))
        return tuple(found)


def _summary(aggregate: _RouteAggregate) -> RouteSummary:
    digest = aggregate.digest
    p50, p95, p99 = digest.percentiles_ms()
    count = digest.count
    return RouteSummary(
        method=aggregate.method,
        route=aggregate.route,
        count=count,
        p50_ms=p50,
        p95_ms=p95,
        p99_ms=p99,
        mean_ms=(digest.total_s / count * 1000) if count else 0.0,
        max_ms=digest.max_s * 1000,
        queries_per_request=(aggregate.total_queries / count) if count else 0.0,
        max_queries=aggregate.max_queries,
        n_plus_one_groups=len(aggregate.n_plus_one),
        statuses=tuple(sorted(aggregate.statuses.items(), key=_status_order)),
        histogram=digest.histogram(),
        exact=digest.exact,
        errors=aggregate.errors,
        failed_queries=aggregate.failed_queries,
    )


def _status_order(item: tuple[str, int]) -> tuple[int, str]:
    """Statuses in numeric order, each before its aborted variant; "timed out" last."""
    label = item[0]
    number = label.split(" ", 1)[0]
    return (int(number) if number.isdigit() else 1000, label)
