"""PostgreSQL: EXPLAIN (FORMAT JSON), EXPLAIN (ANALYZE, BUFFERS) inside a rolled-back read-only
transaction under a statement timeout, and candidates tried with HypoPG (or built for real
inside a transaction that is rolled back)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from backbone.sql.backend import StatementError, create_index_sql
from backbone.sql.database import DatabaseError, DatabaseURL, one_line
from backbone.sql.model import (
    Costed,
    ExistingIndex,
    ExplainOptions,
    IndexCandidate,
    PlanNode,
)
from backbone.sql.plan import postgres_node

if TYPE_CHECKING:
    import psycopg

CONNECT_TIMEOUT_S = 5


class PostgresBackend:
    dialect = "postgresql"
    unit = "cost"
    supports_include = True
    supports_partial = True

    def __init__(self, url: DatabaseURL, options: ExplainOptions) -> None:
        try:
            import psycopg
        except ImportError:
            raise DatabaseError("PostgreSQL needs psycopg: pip install 'backbone[postgres]'") from None
        self._psycopg = psycopg
        self.options = options
        try:
            self.connection: psycopg.Connection[Any] = psycopg.connect(
                url.target, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S
            )
        except (psycopg.Error, ValueError) as error:
            raise DatabaseError(f"cannot connect to {url.display}: {one_line(error)}") from None
        self.server_version = str(self._scalar("SHOW server_version"))
        self._quiet_auto_explain()
        self.hypopg_installed = bool(self._scalar("SELECT count(*) FROM pg_extension WHERE extname = 'hypopg'"))
        self.hypopg_available = self.hypopg_installed or bool(
            self._scalar("SELECT count(*) FROM pg_available_extensions WHERE name = 'hypopg'")
        )
        if options.hypothetical and self.hypopg_available:
            self.method = "hypopg"
        elif not options.hypothetical:
            self.method = "real build (rolled back)"
        else:
            self.method = "untested"

    def _scalar(self, query: str, params: Sequence[object] = ()) -> object:
        with self._transaction(read_only=True) as cursor:
            cursor.execute(query, params)
            row = cursor.fetchone()
        return row[0] if row else None

    def _quiet_auto_explain(self) -> None:
        """auto_explain logging every statement (log_min_duration = 0) would log backbone's own
        EXPLAINs, and makes HypoPG's hypothetical indexes fail ("cache lookup failed for index"):
        this session turns it off where the role may (a superuser setting)."""
        setting = self._scalar("SELECT current_setting('auto_explain.log_min_duration', true)")
        if setting not in (None, "", "-1"):
            try:
                self.connection.execute("SET auto_explain.log_min_duration = -1")
            except self._psycopg.Error:
                pass  # the candidates' notes will say what failed

    def fetch_all(self, query: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """A read-only query's rows (raises StatementError)."""
        with self._transaction(read_only=True) as cursor:
            cursor.execute(query.encode("utf-8"), params)
            return list(cursor.fetchall())

    @contextmanager
    def _transaction(self, *, read_only: bool) -> Iterator[psycopg.Cursor[Any]]:
        """A transaction that is always rolled back, under the statement timeout."""
        with self.connection.cursor() as cursor:
            cursor.execute("BEGIN READ ONLY" if read_only else "BEGIN")
            try:
                cursor.execute(f"SET LOCAL statement_timeout = {int(self.options.statement_timeout_ms)}")
                yield cursor
            except self._psycopg.Error as error:
                raise StatementError(one_line(error)) from None
            finally:
                try:
                    cursor.execute("ROLLBACK")
                except self._psycopg.Error:
                    pass

    def schema(self, tables: Sequence[str]) -> dict[str, tuple[str, ...]]:
        found: dict[str, list[str]] = {}
        with self._transaction(read_only=True) as cursor:
            cursor.execute(
                "SELECT c.relname, a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
                "WHERE c.relname = ANY(%s) AND pg_table_is_visible(c.oid) AND a.attnum > 0 AND NOT a.attisdropped "
                "ORDER BY a.attnum", (list(tables),)
            )
            for table, column in cursor.fetchall():
                found.setdefault(table, []).append(column)
        return {table: tuple(columns) for table, columns in found.items()}

    def table_rows(self, tables: Sequence[str]) -> dict[str, float]:
        with self._transaction(read_only=True) as cursor:
            cursor.execute(
                "SELECT relname, greatest(reltuples, 0) FROM pg_class WHERE relname = ANY(%s) AND pg_table_is_visible(oid)",
                (list(tables),),
            )
            return {str(table): float(rows) for table, rows in cursor.fetchall()}

    def existing_indexes(self, tables: Sequence[str]) -> dict[str, list[ExistingIndex]]:
        found: dict[str, list[ExistingIndex]] = {}
        with self._transaction(read_only=True) as cursor:
            cursor.execute(
                "SELECT ic.relname, tc.relname, ARRAY(SELECT a.attname FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, n) "
                "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum WHERE k.n <= i.indnkeyatts ORDER BY k.n), "
                "coalesce(pg_get_expr(i.indpred, i.indrelid), ''), i.indnkeyatts = cardinality(ARRAY(SELECT 1 FROM unnest(i.indkey::int2[]) "
                "WITH ORDINALITY k(attnum, n) WHERE k.n <= i.indnkeyatts AND k.attnum > 0)) "
                "FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_class tc ON tc.oid = i.indrelid "
                "WHERE tc.relname = ANY(%s) AND pg_table_is_visible(tc.oid)", (list(tables),)
            )
            for name, table, columns, predicate, plain in cursor.fetchall():
                if plain:  # expression indexes serve no plain-column candidate
                    found.setdefault(table, []).append(ExistingIndex(name, table, tuple(columns), predicate))
        return found

    def sample(self, table: str, column: str, quantile: float | None) -> tuple[object, str] | None:
        from psycopg import sql

        stats = ("SELECT (most_common_vals::text::text[])[1] FROM pg_stats" if quantile is None else
                 "SELECT (histogram_bounds::text::text[])[greatest(1, ceil(%s * cardinality(histogram_bounds::text::text[])))::int] FROM pg_stats")
        params: tuple[object, ...] = (table, column) if quantile is None else (quantile, table, column)
        with self._transaction(read_only=True) as cursor:
            cursor.execute(stats + " WHERE tablename = %s AND attname = %s AND schemaname = ANY(current_schemas(false))", params)
            row = cursor.fetchone()
            if row and row[0] is not None:
                where = "the most common value in pg_stats" if quantile is None else f"the {quantile:.0%} quantile of pg_stats' histogram"
                return str(row[0]), where
            if quantile is None:
                cursor.execute(sql.SQL("SELECT {c}::text FROM {t} WHERE {c} IS NOT NULL LIMIT 1").format(
                    c=sql.Identifier(column), t=sql.Identifier(table)))
            else:
                cursor.execute(sql.SQL("SELECT (percentile_disc(%s) WITHIN GROUP (ORDER BY {c}))::text FROM "
                                       "(SELECT {c} FROM {t} WHERE {c} IS NOT NULL LIMIT 10000) sample").format(
                    c=sql.Identifier(column), t=sql.Identifier(table)), (quantile,))
            row = cursor.fetchone()
        return (str(row[0]), "a value sampled from the table") if row and row[0] is not None else None

    def explain(self, sql: str, analyze: bool) -> PlanNode:
        options = "ANALYZE, BUFFERS, FORMAT JSON" if analyze else "FORMAT JSON"
        with self._transaction(read_only=True) as cursor:
            return postgres_node(self._plan(cursor, f"EXPLAIN ({options}) {sql}"))

    def _plan(self, cursor: psycopg.Cursor[Any], query: str) -> dict[str, Any]:
        cursor.execute(query.encode("utf-8"))
        row = cursor.fetchone()
        document = row[0] if row else None
        if isinstance(document, str):
            import json

            document = json.loads(document)
        if not (isinstance(document, list) and document and isinstance(document[0], dict)):
            raise StatementError("EXPLAIN returned no plan")
        top: dict[str, Any] = document[0]
        plan = top.get("Plan")
        if not isinstance(plan, dict):
            raise StatementError("EXPLAIN returned no plan")
        if "Execution Time" in top:
            plan = {**plan, "Execution Time": top["Execution Time"]}
        return plan

    def can_try(self) -> bool:
        return self.method != "untested"

    def cost(self, sql: str, indexes: Sequence[IndexCandidate]) -> Costed:
        hypothetical = self.method == "hypopg"
        read_only = hypothetical and self.hypopg_installed
        with self._transaction(read_only=read_only) as cursor:
            names: dict[str, str] = {}
            if hypothetical and indexes:
                if not self.hypopg_installed:
                    cursor.execute("CREATE EXTENSION IF NOT EXISTS hypopg")  # undone by the rollback
                for index in indexes:
                    cursor.execute("SELECT indexname FROM hypopg_create_index(%s)", (create_index_sql(index, name=False),))
                    row = cursor.fetchone()
                    if row:
                        names[str(row[0])] = index.name
            else:
                for index in indexes:
                    cursor.execute(create_index_sql(index).encode("utf-8"))
                    names[index.name] = index.name
            try:
                plan = postgres_node(self._plan(cursor, f"EXPLAIN (FORMAT JSON) {sql}"))
            finally:
                if hypothetical and indexes:
                    cursor.execute("SELECT hypopg_reset()")
        used = frozenset(names[node.index] for node in plan.walk() if node.index in names)
        return Costed(plan.cost or 0.0, used, plan.sorts())

    def prove(self, sql: str, indexes: Sequence[IndexCandidate]) -> tuple[float, float]:
        with self._transaction(read_only=False) as cursor:
            self._plan(cursor, f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}")  # warms the cache
            before = float(self._plan(cursor, f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}").get("Execution Time", 0.0))
            for index in indexes:
                cursor.execute(create_index_sql(index).encode("utf-8"))
            self._plan(cursor, f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}")
            after = float(self._plan(cursor, f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}").get("Execution Time", 0.0))
        return before, after

    def create_index(self, candidate: IndexCandidate, *, concurrently: bool) -> str:
        return create_index_sql(candidate, concurrently=concurrently) + ";"

    def close(self) -> None:
        self.connection.close()

