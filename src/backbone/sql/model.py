"""The data of `backbone explain`: statements in, plans, index candidates and their tests out."""

from __future__ import annotations

import msgspec

from backbone.findings import Finding
from backbone.records import Record

# Dexter's thresholds: keep an index when it cuts the plan cost by at least half, for a
# query that costs at least 100.
DEFAULT_MIN_COST_SAVINGS = 0.5
DEFAULT_MIN_COST = 100.0
# SQLite has no plan cost: the measured time decides, for queries of at least this many ms.
DEFAULT_SQLITE_MIN_MS = 1.0
DEFAULT_LARGE_TABLE_ROWS = 10_000
DEFAULT_STATEMENT_TIMEOUT_MS = 10_000
# Workload mode: what one written row costs each index of its table (docs/explain.md), in the
# backend's unit: PostgreSQL cost units (about two random page writes), or ms on SQLite.
DEFAULT_WRITE_COST = {"cost": 10.0, "ms": 0.02}


class ExplainOptions(Record, frozen=True):
    database_url: str
    analyze: bool = False
    prove: bool = False
    hypothetical: bool = True
    min_cost_savings: float = DEFAULT_MIN_COST_SAVINGS
    min_cost: float = DEFAULT_MIN_COST
    sqlite_min_ms: float = DEFAULT_SQLITE_MIN_MS
    large_table_rows: int = DEFAULT_LARGE_TABLE_ROWS
    statement_timeout_ms: int = DEFAULT_STATEMENT_TIMEOUT_MS
    workload: bool = False  # one set of indexes for all the statements, weighing writes
    write_cost: float | None = None  # per written row and index; None: DEFAULT_WRITE_COST of the unit


class Statement(Record, frozen=True):
    """One statement to explain and where it came from."""

    sql: str
    origin: str  # "argument", "file", "profile", "log", "pg_stat_statements"
    path: str  # the file the statement was read from, or "<argument>"
    line: int
    # The application line that issued it (a profile's call site): "shop/orders.py:42".
    call_site: str = ""
    call_function: str = ""
    note: str = ""  # e.g. "RT101: repeated 40 times in GET /orders"
    calls: int = 1  # how many times the workload runs it (pg_stat_statements' calls)
    plan: PlanNode | None = None  # a plan already logged for it (auto_explain): read, not re-run


class PlanNode(Record, frozen=True):
    """One node of a plan, PostgreSQL's or SQLite's, in the same shape."""

    kind: str  # "Seq Scan", "Nested Loop", "SCAN", "SEARCH", ...
    relation: str = ""
    index: str = ""
    detail: str = ""  # filter, join condition, SQLite's detail text
    cost: float | None = None  # total cost (PostgreSQL)
    rows: float | None = None  # estimated rows per loop
    actual_rows: float | None = None  # per loop
    actual_ms: float | None = None  # total time per loop
    loops: int | None = None
    rows_removed: float | None = None
    heap_fetches: float | None = None
    sort_space: str = ""  # "Memory" or "Disk"
    hash_batches: int | None = None
    children: tuple[PlanNode, ...] = ()

    def sorts(self) -> int:
        return sum(1 for node in self.walk() if node.kind in {"Sort", "Incremental Sort"} or node.kind.startswith("USE TEMP B-TREE"))

    def walk(self) -> list[PlanNode]:
        nodes = [self]
        for child in self.children:
            nodes.extend(child.walk())
        return nodes

    def exclusive_weight(self, analyzed: bool) -> float:
        """What this node costs by itself: its time (analyzed) or its cost, minus its children's."""
        if analyzed and self.actual_ms is not None:
            own = self.actual_ms * (self.loops or 1)
            return own - sum((c.actual_ms or 0.0) * (c.loops or 1) for c in self.children)
        if self.cost is not None:
            return self.cost - sum(c.cost or 0.0 for c in self.children)
        return 0.0


class IndexCandidate(Record, frozen=True):
    table: str
    columns: tuple[str, ...]
    include: tuple[str, ...] = ()
    where: str = ""  # a partial index's predicate, SQL
    why: str = ""  # "equality on customer_id, then sort on created_at"

    @property
    def name(self) -> str:
        parts = [self.table, *self.columns]
        if self.where:
            parts.append("partial")
        name = "_".join(part.lower() for part in parts) + "_idx"
        return "".join(char if char.isalnum() or char == "_" else "_" for char in name)[:63]

    def key(self) -> tuple[str, tuple[str, ...], tuple[str, ...], str]:
        return (self.table, self.columns, self.include, self.where)


class ExistingIndex(Record, frozen=True):
    name: str
    table: str
    columns: tuple[str, ...]
    where: str = ""
    # SQLite's INTEGER PRIMARY KEY is the rowid, which ends every index of its table.
    ends_every_index: bool = False

    def covers(self, candidate: IndexCandidate) -> bool:
        """True when this index already serves `candidate`: same predicate, and the candidate's
        columns are a prefix of this index's columns (a duplicate is the whole prefix)."""
        if self.table != candidate.table or _norm(self.where) != _norm(candidate.where):
            return False
        if candidate.columns[: len(self.columns)] != self.columns[: len(candidate.columns)]:
            return False
        return len(candidate.columns) <= len(self.columns) and not candidate.include


def _norm(predicate: str) -> str:
    return "".join(predicate.lower().replace("(", "").replace(")", "").split())


class Costed(Record, frozen=True):
    """A statement's plan with some indexes present: its cost (or time), the candidate indexes
    it uses, and how many sorts it still does."""

    cost: float
    used: frozenset[str]
    sorts: int


class IndexTrial(Record, frozen=True):
    """A candidate tried against one statement: the cost (or time) with and without it."""

    candidate: IndexCandidate
    before: float
    after: float
    used: bool
    accepted: bool
    reason: str
    sorts: int = 0  # sorts left in the plan with the index
    # --prove: EXPLAIN ANALYZE times with the index really built.
    proven_before_ms: float | None = None
    proven_after_ms: float | None = None

    @property
    def savings(self) -> float:
        return (self.before - self.after) / self.before if self.before > 0 else 0.0


class QueryResult(msgspec.Struct):
    statement: Statement
    query_id: str  # the id `backbone debug` shows for this statement
    fingerprint: str  # the runtime fingerprint (what `backbone profile` groups on)
    executed_sql: str = ""  # with parameters filled
    filled: tuple[str, ...] = ()  # "customer_id = 42 (most common value)"
    plan: PlanNode | None = None
    analyzed: bool = False
    findings: list[Finding] = msgspec.field(default_factory=list)
    trials: list[IndexTrial] = msgspec.field(default_factory=list)
    recommended: list[IndexTrial] = msgspec.field(default_factory=list)
    error: str = ""
    notes: list[str] = msgspec.field(default_factory=list)

    @property
    def hot_node(self) -> PlanNode | None:
        if self.plan is None:
            return None
        nodes = self.plan.walk()
        if all(node.cost is None and node.actual_ms is None for node in nodes):
            # SQLite's plan has no costs: its full scans are where the time goes.
            scans = [node for node in nodes if node.kind == "SCAN"] or [node for node in nodes if node.kind == "SEARCH"]
            return scans[0] if scans else None
        return max(nodes, key=lambda node: node.exclusive_weight(self.analyzed))


class WorkloadChoice(Record, frozen=True):
    """Workload mode: one candidate weighed over every statement at once."""

    candidate: IndexCandidate
    benefit: float  # sum over the statements it serves of (cost saved x calls)
    writes: int  # INSERT/UPDATE/DELETE runs on its table in the workload
    write_penalty: float  # writes x the write cost
    accepted: bool
    reason: str
    queries: tuple[str, ...] = ()  # ids of the statements it serves


class ExplainReport(msgspec.Struct):
    database: str  # the URL with any password removed
    dialect: str  # "postgresql" or "sqlite"
    server_version: str
    method: str  # how candidates were tried: "hypopg", "real build (rolled back)", "scratch copy", "untested"
    unit: str  # "cost" or "ms"
    options: ExplainOptions
    queries: list[QueryResult] = msgspec.field(default_factory=list)
    notes: list[str] = msgspec.field(default_factory=list)
    input_problems: list[str] = msgspec.field(default_factory=list)
    workload: list[WorkloadChoice] = msgspec.field(default_factory=list)

    @property
    def findings(self) -> list[Finding]:
        return [finding for query in self.queries for finding in query.findings]
