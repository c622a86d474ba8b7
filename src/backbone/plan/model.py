"""What `backbone plan` knows: the facts it read, each with its source, and what it decided."""

from __future__ import annotations

import enum

import msgspec

from backbone.records import Record


class Source(Record, frozen=True):
    """Where a fact comes from: a file and line of the code, or a log or profile file."""

    path: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.path}:{self.line}" if self.line is not None else self.path


class DataAccess(Record, frozen=True):
    """One place that runs SQL for a route: a read or a write (the ORM layer's answer)."""

    write: bool
    text: str
    function: str
    source: Source


class Outbound(Record, frozen=True):
    """A call to another service that the route waits on."""

    library: str
    text: str
    function: str
    source: Source
    # None when the call has a timeout (explicit or the library's default).
    unbounded: str | None = None


class Observed(Record, frozen=True):
    """What logs or a profile measured for one route."""

    requests: int
    # Mean requests per second over the logged period; None from a profile (no wall clock).
    rate_rps: float | None
    p99_ms: float | None
    error_rate: float
    source: str


class RoutePlan(Record, frozen=True):
    methods: tuple[str, ...]
    route: str
    handler: str
    source: Source
    is_async: bool
    reads: tuple[DataAccess, ...] = ()
    writes: tuple[DataAccess, ...] = ()
    # Functions that take a lock serialising writers (select_for_update, advisory locks).
    locks: tuple[Source, ...] = ()
    # Explicit transaction boundaries: commit(), begin(), atomic blocks.
    transactions: tuple[DataAccess, ...] = ()
    outbound: tuple[Outbound, ...] = ()
    observed: Observed | None = None

    @property
    def label(self) -> str:
        return f"{'|'.join(self.methods) or 'ANY'} {self.route}"

    @property
    def writes_data(self) -> bool:
        return bool(self.writes)


class Balance(enum.Enum):
    READ_HEAVY = "read-heavy"
    WRITE_HEAVY = "write-heavy"
    MIXED = "mixed"
    UNKNOWN = "unknown"


class Traffic(Record, frozen=True):
    """Rates over the whole service, from access logs."""

    requests: int
    seconds: float
    mean_rps: float
    peak_rps: float
    # The window the peak is averaged over.
    peak_window_s: int
    peak_at: str
    p99_ms: float | None
    error_rate: float
    write_share: float
    sources: tuple[str, ...]


class Queue(Record, frozen=True):
    library: str
    source: Source | None


class Criterion(Record, frozen=True):
    """One row of the API-style decision matrix."""

    name: str
    scores: dict[str, int]
    evidence: str
    sources: tuple[str, ...] = ()


class Decision(Record, frozen=True):
    name: str
    choice: str
    reason: str
    evidence: tuple[str, ...] = ()


class Question(Record, frozen=True):
    topic: str
    question: str
    why: str


class Plan(msgspec.Struct):
    root: str
    frameworks: tuple[str, ...]
    routes: list[RoutePlan] = msgspec.field(default_factory=list)
    queues: list[Queue] = msgspec.field(default_factory=list)
    traffic: Traffic | None = None
    balance: Balance = Balance.UNKNOWN
    balance_basis: str = ""
    matrix: list[Criterion] = msgspec.field(default_factory=list)
    decisions: list[Decision] = msgspec.field(default_factory=list)
    questions: list[Question] = msgspec.field(default_factory=list)
    # Inputs backbone could not read, or read only in part.
    problems: list[str] = msgspec.field(default_factory=list)
    inputs: list[str] = msgspec.field(default_factory=list)
    # Logs were given and none of them could be read: the record stands on the code alone.
    unreadable_evidence: bool = False
