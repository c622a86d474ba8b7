"""SQLite: EXPLAIN QUERY PLAN on the file (opened read-only), and candidates tried as SQLite's
`.expert` does, on a copy of the database after ANALYZE; SQLite has no plan cost, so a
candidate's effect is the query's measured time on that copy."""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from backbone.sql.backend import StatementError, create_index_sql, quote
from backbone.sql.database import DatabaseError, DatabaseURL, one_line
from backbone.sql.model import (
    Costed,
    ExistingIndex,
    ExplainOptions,
    IndexCandidate,
    PlanNode,
)
from backbone.sql.plan import sqlite_tree

TIMING_RUNS = 3
SAMPLE_ROWS = 10_000


class SqliteBackend:
    dialect = "sqlite"
    unit = "ms"
    supports_include = False
    supports_partial = True
    method = "scratch copy"

    def __init__(self, url: DatabaseURL, options: ExplainOptions) -> None:
        self.options = options
        path = Path(url.target)
        if not path.is_file():
            raise DatabaseError(f"{url.display}: no such SQLite file")
        try:
            self.connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
            self.server_version = str(self.connection.execute("SELECT sqlite_version()").fetchone()[0])
            self.connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.Error as error:
            raise DatabaseError(f"{url.display}: {one_line(error)}") from None
        self._scratch: sqlite3.Connection | None = None
        self._scratch_dir: str | None = None

    def _deadline(self, connection: sqlite3.Connection) -> None:
        limit = time.monotonic() + self.options.statement_timeout_ms / 1000
        connection.set_progress_handler(lambda: int(time.monotonic() > limit), 10_000)

    def schema(self, tables: Sequence[str]) -> dict[str, tuple[str, ...]]:
        found: dict[str, tuple[str, ...]] = {}
        for table in tables:
            rows = self.connection.execute("SELECT name FROM pragma_table_info(?)", (table,)).fetchall()
            if rows:
                found[table] = tuple(str(row[0]) for row in rows)
        return found

    def table_rows(self, tables: Sequence[str]) -> dict[str, float]:
        found: dict[str, float] = {}
        for table in self.schema(tables):
            try:
                self._deadline(self.connection)
                found[table] = float(self.connection.execute(f"SELECT count(*) FROM {quote(table)}").fetchone()[0])
            except sqlite3.Error:
                continue
        return found

    def existing_indexes(self, tables: Sequence[str]) -> dict[str, list[ExistingIndex]]:
        found: dict[str, list[ExistingIndex]] = {}
        for table in tables:
            columns = self.connection.execute("SELECT name, pk, type FROM pragma_table_info(?)", (table,)).fetchall()
            rowid = [name for name, pk, kind in columns if pk == 1 and str(kind).upper() == "INTEGER"]
            if rowid and sum(1 for _, pk, _ in columns if pk) == 1:  # INTEGER PRIMARY KEY is the rowid: an index
                found.setdefault(table, []).append(ExistingIndex("rowid", table, (str(rowid[0]),), ends_every_index=True))
            for _, name, _, _, partial in self.connection.execute("SELECT * FROM pragma_index_list(?)", (table,)).fetchall():
                keys = self.connection.execute("SELECT name FROM pragma_index_info(?) ORDER BY seqno", (name,)).fetchall()
                if any(key[0] is None for key in keys):
                    continue
                predicate = ""
                if partial:
                    row = self.connection.execute("SELECT sql FROM sqlite_master WHERE name = ?", (name,)).fetchone()
                    text = str(row[0]) if row and row[0] else ""
                    predicate = text[text.upper().rfind(" WHERE ") + 7:] if " WHERE " in text.upper() else ""
                found.setdefault(table, []).append(ExistingIndex(str(name), table, tuple(str(key[0]) for key in keys), predicate))
        return found

    def sample(self, table: str, column: str, quantile: float | None) -> tuple[object, str] | None:
        """From about SAMPLE_ROWS rows spread over the table (every k-th rowid)."""
        value, name = quote(column), quote(table)
        try:
            self._deadline(self.connection)
            total = int(self.connection.execute(f"SELECT count(*) FROM {name}").fetchone()[0])
            step = max(1, total // SAMPLE_ROWS)
            try:
                values = [row[0] for row in self.connection.execute(
                    f"SELECT {value} FROM {name} WHERE rowid % ? = 0 AND {value} IS NOT NULL", (step,))]
            except sqlite3.OperationalError:  # a WITHOUT ROWID table
                values = [row[0] for row in self.connection.execute(
                    f"SELECT {value} FROM {name} WHERE {value} IS NOT NULL LIMIT ?", (SAMPLE_ROWS,))]
        except sqlite3.Error:
            return None
        if not values:
            return None
        if quantile is None:
            counts: dict[object, int] = {}
            for item in values:
                counts[item] = counts.get(item, 0) + 1
            best = max(counts.items(), key=lambda pair: pair[1])[0]
            return best, f"the most common value in a sample of {len(values):,} rows"
        ordered = sorted(values, key=lambda item: (str(type(item)), item))
        return ordered[min(int(quantile * len(ordered)), len(ordered) - 1)], f"the {quantile:.0%} quantile of a sample of {len(values):,} rows"

    def explain(self, sql: str, analyze: bool) -> PlanNode:
        return self._plan(self.connection, sql)

    def _plan(self, connection: sqlite3.Connection, sql: str) -> PlanNode:
        try:
            rows = connection.execute(f"EXPLAIN QUERY PLAN {sql}").fetchall()
        except (sqlite3.Error, sqlite3.Warning) as error:
            raise StatementError(one_line(error)) from None
        return sqlite_tree([(int(r[0]), int(r[1]), str(r[3])) for r in rows])

    def can_try(self) -> bool:
        return True

    def _copy(self) -> sqlite3.Connection:
        """The scratch copy: the database copied to a temporary directory, ANALYZEd."""
        if self._scratch is None:
            self._scratch_dir = tempfile.mkdtemp(prefix="backbone-explain-")
            scratch = sqlite3.connect(Path(self._scratch_dir) / "scratch.db")
            self.connection.backup(scratch)
            scratch.execute("ANALYZE")
            scratch.commit()
            self._scratch = scratch
        return self._scratch

    def cost(self, sql: str, indexes: Sequence[IndexCandidate]) -> Costed:
        scratch = self._copy()
        try:
            for index in indexes:
                scratch.execute(create_index_sql(index))
            if indexes:
                scratch.execute("ANALYZE")
            plan = self._plan(scratch, sql)
            used = frozenset(node.index for node in plan.walk() if node.index in {index.name for index in indexes})
            return Costed(self._time(scratch, sql), used, plan.sorts())
        except sqlite3.Error as error:
            raise StatementError(one_line(error)) from None
        finally:
            for index in indexes:
                scratch.execute(f"DROP INDEX IF EXISTS {quote(index.name)}")
            scratch.commit()

    def _time(self, connection: sqlite3.Connection, sql: str) -> float:
        best = float("inf")
        for _ in range(TIMING_RUNS):
            self._deadline(connection)
            start = time.perf_counter()
            try:
                connection.execute(sql).fetchall()
            except sqlite3.OperationalError as error:
                raise StatementError(f"{one_line(error)} (statement timeout {self.options.statement_timeout_ms} ms)") from None
            best = min(best, (time.perf_counter() - start) * 1000)
        return best

    def prove(self, sql: str, indexes: Sequence[IndexCandidate]) -> tuple[float, float]:
        return self.cost(sql, []).cost, self.cost(sql, indexes).cost

    def create_index(self, candidate: IndexCandidate, *, concurrently: bool) -> str:
        return create_index_sql(candidate, include=False, if_not_exists=True) + ";"

    def close(self) -> None:
        self.connection.close()
        if self._scratch is not None:
            self._scratch.close()
        if self._scratch_dir is not None:
            shutil.rmtree(self._scratch_dir, ignore_errors=True)
