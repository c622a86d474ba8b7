"""What `backbone explain` asks of a database; postgres.py and sqlite.py answer it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from backbone.sql.model import Costed, ExistingIndex, IndexCandidate, PlanNode


class StatementError(Exception):
    """One statement failed (a missing table, a timeout): reported, the others go on."""


class Backend(Protocol):
    dialect: str
    server_version: str
    method: str  # how candidates are tried
    unit: str  # what `cost` returns: "cost" or "ms"
    supports_include: bool
    supports_partial: bool

    def schema(self, tables: Sequence[str]) -> dict[str, tuple[str, ...]]: ...

    def table_rows(self, tables: Sequence[str]) -> dict[str, float]: ...

    def existing_indexes(self, tables: Sequence[str]) -> dict[str, list[ExistingIndex]]: ...

    def sample(self, table: str, column: str, quantile: float | None) -> tuple[object, str] | None: ...

    def explain(self, sql: str, analyze: bool) -> PlanNode: ...

    def can_try(self) -> bool: ...

    def cost(self, sql: str, indexes: Sequence[IndexCandidate]) -> Costed:
        """The statement's cost with these indexes present, the names of those its plan uses,
        and the sorts left in its plan."""
        ...

    def prove(self, sql: str, indexes: Sequence[IndexCandidate]) -> tuple[float, float]:
        """Measured time (ms) before and after building the indexes for real."""
        ...

    def create_index(self, candidate: IndexCandidate, *, concurrently: bool) -> str: ...

    def close(self) -> None: ...


def quote(name: str) -> str:
    """An SQL identifier, quoted when it is not a plain lower-case name."""
    if name.isidentifier() and name == name.lower() and name.isascii():
        return name
    return '"' + name.replace('"', '""') + '"'


def create_index_sql(candidate: IndexCandidate, *, name: bool = True, concurrently: bool = False,
                     include: bool = True, if_not_exists: bool = False) -> str:
    parts = ["CREATE INDEX"]
    if concurrently:
        parts.append("CONCURRENTLY")
    if if_not_exists:
        parts.append("IF NOT EXISTS")
    if name:
        parts.append(quote(candidate.name))
    parts.append(f"ON {quote(candidate.table)} ({', '.join(map(quote, candidate.columns))})")
    if include and candidate.include:
        parts.append(f"INCLUDE ({', '.join(map(quote, candidate.include))})")
    if candidate.where:
        parts.append(f"WHERE {candidate.where}")
    return " ".join(parts)
