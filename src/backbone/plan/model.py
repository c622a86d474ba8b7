"""What `backbone plan` knows: the facts it read, each with its source, and what it decided."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Source:
    """Where a fact comes from: a file and line of the code, or a log or profile file."""

    path: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.path}:{self.line}" if self.line is not None else self.path


@dataclass(frozen=True, slots=True)
class DataAccess:
    """One place that runs SQL for a route: a read or a write (the ORM layer's answer)."""

    write: bool
    text: str
    function: str
    source: Source


@dataclass(frozen=True, slots=True)
class Outbound:
    """A call to another service that the route waits on."""

    library: str
    text: str
    function: str
    source: Source
    # None when the call has a timeout (explicit or the library's default).
    unbounded: str | None = None


@dataclass(frozen=True, slots=True)
class Observed:
    """What logs or a profile measured for one route."""

    requests: int
    # Mean requests per second over the logged period; None from a profile (no wall clock).
    rate_rps: float | None
    p99_ms: float | None
    error_rate: float
    source: str


@dataclass(frozen=True, slots=True)
class RoutePlan:
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


@dataclass(frozen=True, slots=True)
class Traffic:
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


@dataclass(frozen=True, slots=True)
class Queue:
    library: str
    source: Source | None


@dataclass(frozen=True, slots=True)
class Criterion:
    """One row of the API-style decision matrix."""

    name: str
    scores: dict[str, int]
    evidence: str
    sources: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Decision:
    name: str
    choice: str
    reason: str
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Question:
    topic: str
    question: str
    why: str


@dataclass(slots=True)
class Plan:
    root: str
    frameworks: tuple[str, ...]
    routes: list[RoutePlan] = field(default_factory=list)
    queues: list[Queue] = field(default_factory=list)
    traffic: Traffic | None = None
    balance: Balance = Balance.UNKNOWN
    balance_basis: str = ""
    matrix: list[Criterion] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    questions: list[Question] = field(default_factory=list)
    # Inputs backbone could not read, or read only in part.
    problems: list[str] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)
    # Logs were given and none of them could be read: the record stands on the code alone.
    unreadable_evidence: bool = False
