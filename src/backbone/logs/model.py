"""What `backbone debug` reads and what it reports: the data model of log analysis.

Everything here is a frozen, slotted value. Times are naive datetimes in UTC when the
log said which zone it was in, and as written otherwise (see docs/debug.md, "Time").
"""

from __future__ import annotations

import enum
from datetime import datetime


from backbone.findings import (
    Confidence,
    Detail,
    Finding,
    Fix,
    Location,
    QueryRef,
    Severity,
)
from backbone.records import Record


class LogFormat(enum.Enum):
    """The log formats `backbone debug` detects (or is told with `--log-format`)."""

    COMBINED = "combined"  # nginx/Apache combined, with an optional request-time field
    COMMON = "common"  # NCSA common, with an optional request-time field
    JSON = "json"  # JSON lines: uvicorn, gunicorn, structlog or any JSON logger
    PYTHON = "python"  # Python application logs with tracebacks
    POSTGRES = "postgres"  # PostgreSQL stderr log (log_min_duration_statement, errors)
    POSTGRES_CSV = "postgres-csv"  # PostgreSQL csvlog
    PROFILE = "profile"  # `backbone profile --format json` output
    OTLP = "otlp"  # OpenTelemetry traces, OTLP JSON (a collector's file exporter)

    @property
    def is_access_log(self) -> bool:
        return self in (LogFormat.COMBINED, LogFormat.COMMON)


class SignalKind(enum.Enum):
    """Evidence found in log messages, exceptions and database logs, as a closed set."""

    CONNECTION_EXHAUSTION = "connection-exhaustion"
    INTEGRITY_ERROR = "integrity-error"
    LOCK_CONFLICT = "lock-conflict"  # deadlocks, serialization failures, lock timeouts
    EVENT_LOOP_STALL = "event-loop-stall"
    TIMEOUT = "timeout"
    SLOW_QUERY = "slow-query"  # from a profile report (RT102): a call site, no timestamp
    N_PLUS_ONE = "n-plus-one"  # from a profile report (RT101)


class SpikeMetric(enum.Enum):
    LATENCY = "latency_p95"
    ERROR_RATE = "error_rate"


class CauseKind(enum.Enum):
    """The rows of the symptom -> probable cause -> fix matrix (docs/debug.md)."""

    MISSING_INDEX = "LG101"
    BLOCKING_EVENT_LOOP = "LG102"
    CONNECTION_EXHAUSTION = "LG103"
    RACE_OR_MISSING_TRANSACTION = "LG104"
    DOMINANT_EXCEPTION = "LG105"

    @property
    def code(self) -> str:
        return self.value

    @property
    def slug(self) -> str:
        return _CAUSE_SLUGS[self]


_CAUSE_SLUGS = {
    CauseKind.MISSING_INDEX: "slow-query-in-latency-spike",
    CauseKind.BLOCKING_EVENT_LOOP: "blocking-call-in-event-loop",
    CauseKind.CONNECTION_EXHAUSTION: "connection-exhaustion",
    CauseKind.RACE_OR_MISSING_TRANSACTION: "race-or-missing-transaction",
    CauseKind.DOMINANT_EXCEPTION: "dominant-exception",
}


# Per cause: what the catalog says it is (`backbone rules`) and its usual fix.
CAUSE_SUMMARIES: dict[CauseKind, tuple[str, str]] = {
    CauseKind.MISSING_INDEX: (
        "A query ran slowly during a latency spike: probably a missing index.",
        "Run `backbone explain` on the query and add the index it proves; check that p95 returns to its baseline.",
    ),
    CauseKind.BLOCKING_EVENT_LOOP: (
        "A blocking call in the event loop stalled the server until requests timed out.",
        "Move the call off the loop: an async client, or `await asyncio.to_thread(...)`.",
    ),
    CauseKind.CONNECTION_EXHAUSTION: (
        "The database connections ran out: connections not returned to the pool, or a pool too small.",
        "Close sessions on every path; keep pool_size + max_overflow times the workers below max_connections.",
    ),
    CauseKind.RACE_OR_MISSING_TRANSACTION: (
        "Concurrent requests raced on the same rows: a check-then-write without a transaction, or locks in "
        "different orders.",
        "Make the write atomic (INSERT ... ON CONFLICT in one transaction), lock rows in a consistent order, "
        "retry deadlocks.",
    ),
    CauseKind.DOMINANT_EXCEPTION: (
        "Most server errors are one exception, raised at one place.",
        "Fix the failure at the culprit frame: handle the exception there, or validate the input and answer 4xx.",
    ),
}


class SourceLine(Record, frozen=True):
    """A line of an input log, cited as evidence."""

    path: str
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


class MalformedLine(Record, frozen=True):
    path: str
    line: int
    # The start of the line, shortened for display; never the whole of a huge line.
    text: str
    reason: str


class InputSummary(Record, frozen=True):
    """One input file: what it was read as, and what went wrong reading it."""

    path: str
    format: LogFormat | None
    total: int = 0
    parsed: int = 0
    malformed: int = 0
    # Why the file was skipped or read only in part; None when it was read whole.
    problem: str | None = None
    # Records read but skipped because a value could not be analysed (each with its reason
    # in the samples), and lines whose timestamp lies far outside the rest (left out of the timeline).
    rejected: int = 0
    outliers: int = 0
    # The zone the file's timestamps were read in, and why ("UTC+01:00 (from the log)").
    zone: str | None = None

    @property
    def skipped(self) -> bool:
        return self.format is None


class LineCounts(Record, frozen=True):
    total: int
    parsed: int
    malformed: int


class RouteStats(Record, frozen=True):
    method: str
    route: str
    count: int
    client_errors: int
    server_errors: int
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    statuses: tuple[tuple[int, int], ...]

    @property
    def error_rate(self) -> float:
        """The share of server errors (5xx); client errors (4xx) are in `statuses`."""
        return self.server_errors / self.count if self.count else 0.0

    @property
    def client_error_rate(self) -> float:
        return self.client_errors / self.count if self.count else 0.0

    @property
    def label(self) -> str:
        return f"{self.method} {self.route}"


class TimeBucket(Record, frozen=True):
    start: datetime
    requests: int
    server_errors: int
    p50_ms: float | None
    p95_ms: float | None

    @property
    def error_rate(self) -> float:
        return self.server_errors / self.requests if self.requests else 0.0


class Spike(Record, frozen=True):
    metric: SpikeMetric
    start: datetime
    end: datetime
    peak: float
    baseline: float
    # "METHOD /route" labels of the routes that drove the spike, the largest share first.
    routes: tuple[str, ...]
    requests: int = 0
    server_errors: int = 0


class Frame(Record, frozen=True):
    path: str
    line: int
    function: str
    in_app: bool


class Culprit(Record, frozen=True):
    path: str
    line: int
    function: str


class ErrorGroup(Record, frozen=True):
    """Tracebacks grouped like Sentry: exception types plus in-app frames, line numbers ignored."""

    fingerprint: str
    exception: str
    message: str
    count: int
    culprit: Culprit | None
    first_seen: datetime | None
    last_seen: datetime | None
    # The exception types of the chain, root cause first ("raise ... from" and
    # "During handling of the above exception").
    chain: tuple[str, ...]
    example: SourceLine


class SlowQuery(Record, frozen=True):
    fingerprint: str
    statement: str
    count: int
    total_ms: float
    mean_ms: float
    max_ms: float
    first_seen: datetime | None
    last_seen: datetime | None
    example: SourceLine


class SignalSummary(Record, frozen=True):
    kind: SignalKind
    count: int
    first_seen: datetime | None
    last_seen: datetime | None
    example: SourceLine
    detail: str


class Cause(Record, frozen=True):
    kind: CauseKind
    # One sentence naming the probable cause with its facts.
    summary: str
    # Sentences, each citing counts, a time window or log lines.
    evidence: tuple[str, ...]
    fix: str
    # Where to look first: the culprit frame or a cited log line.
    location: SourceLine
    # The query named (LG101 from a database log), by backbone's one SQL fingerprint.
    query: QueryRef | None = None


class DebugReport(Record, frozen=True):
    inputs: tuple[InputSummary, ...]
    lines: LineCounts
    routes: tuple[RouteStats, ...]
    statuses: tuple[tuple[int, int], ...]
    buckets: tuple[TimeBucket, ...]
    bucket_seconds: int
    spikes: tuple[Spike, ...]
    errors: tuple[ErrorGroup, ...]
    slow_queries: tuple[SlowQuery, ...]
    signals: tuple[SignalSummary, ...]
    causes: tuple[Cause, ...]
    malformed_samples: tuple[MalformedLine, ...]
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    requests: int = 0
    # Symptoms seen without the evidence that would name their cause, said plainly.
    unexplained: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    # What the user must know to trust the report: files skipped or read in part and why,
    # records skipped, timestamps left out of the timeline, a store that failed.
    warnings: tuple[str, ...] = ()
    # Why the report is incomplete because backbone's own resources failed (a full temporary
    # directory); None when everything readable was analysed.
    incomplete: str | None = None
    # What `backbone profile`'s detectors found in OpenTelemetry traces (RT101 N+1, RT102 slow query...).
    trace_findings: tuple[Finding, ...] = ()

    @property
    def readable(self) -> bool:
        """Whether any input gave at least one parsed line."""
        return self.lines.parsed > 0

    def findings(self) -> tuple[Finding, ...]:
        """The probable causes (LG) and what the profile's detectors found in traces (RT), as findings,
        for the reporters shared with `review` and `profile`."""
        return self.trace_findings + tuple(
            Finding(
                code=cause.kind.code,
                name=cause.kind.slug,
                severity=Severity.ERROR,
                confidence=Confidence.MEDIUM,
                location=Location(cause.location.path, max(cause.location.line, 1)),
                message=cause.summary,
                fix=Fix(cause.fix),
                extra=Detail("debug", query=cause.query, evidence=cause.evidence),
            )
            for cause in self.causes
        )
