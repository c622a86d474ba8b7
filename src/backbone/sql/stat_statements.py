"""The statements of a live PostgreSQL database from pg_stat_statements: the top ones by
total execution time, with their number of calls."""

from __future__ import annotations

from backbone.sql.database import DatabaseError, parse_database_url
from backbone.sql.model import ExplainOptions, Statement

DEFAULT_TOP = 20
_TOP = (
    "SELECT query, calls, total_exec_time FROM pg_stat_statements "
    "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND calls > 0 "
    "AND query ~* '^\\s*(select|with|insert|update|delete)\\M' AND query !~* '\\m(pg_|hypopg)' "
    "ORDER BY total_exec_time DESC LIMIT %s"
)


def from_pg_stat_statements(options: ExplainOptions, top: int = DEFAULT_TOP) -> list[Statement]:
    """Raises DatabaseError with what to do when the extension is missing or unreadable."""
    url = parse_database_url(options.database_url)
    if url.dialect != "postgresql":
        raise DatabaseError("--pg-stat-statements needs a PostgreSQL database (--database postgresql://...)")
    from backbone.sql.backend import StatementError
    from backbone.sql.postgres import PostgresBackend

    backend = PostgresBackend(url, options)
    try:
        [(installed, loaded)] = backend.fetch_all(
            "SELECT (SELECT count(*) FROM pg_extension WHERE extname = 'pg_stat_statements'), 'pg_stat_statements' = "
            "ANY(string_to_array(replace(current_setting('shared_preload_libraries'), ' ', ''), ','))")
        if not loaded:
            raise DatabaseError(f"{url.display}: pg_stat_statements is not loaded: add it to shared_preload_libraries "
                                "in postgresql.conf and restart the server, then CREATE EXTENSION pg_stat_statements")
        if not installed:
            raise DatabaseError(f"{url.display}: the pg_stat_statements extension is not created in this database: "
                                "run CREATE EXTENSION pg_stat_statements (it is loaded, but has no view here)")
        rows = backend.fetch_all(_TOP, (top,))
    except StatementError as error:
        raise DatabaseError(f"{url.display}: cannot read pg_stat_statements: {error}") from None
    finally:
        backend.close()
    if not rows:
        raise DatabaseError(f"{url.display}: pg_stat_statements has no statements for this database yet")
    return [
        Statement(str(query).strip(), "pg_stat_statements", "pg_stat_statements", rank,
                  note=f"{int(calls):,} calls, {float(total):,.1f} ms in total", calls=max(int(calls), 1))
        for rank, (query, calls, total) in enumerate(rows, 1) if _reads_a_table(str(query))
    ]


def _reads_a_table(sql: str) -> bool:
    """Statements on no table (`SELECT current_setting($1)`) have no index to find."""
    from sqlglot import exp

    from backbone.sql.shape import ShapeError, parse

    try:
        return parse(sql, "postgresql").find(exp.Table) is not None
    except ShapeError:
        return True  # explained, and reported if it cannot be
