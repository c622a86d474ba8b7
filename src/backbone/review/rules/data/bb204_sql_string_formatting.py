"""BB204 sql-string-formatting: SQL text built from values with f-strings, %, format() or +."""

from __future__ import annotations

import ast
import re
import string
from collections.abc import Mapping
from typing import TYPE_CHECKING

from backbone.findings import Confidence, Severity
from backbone.records import Record
from backbone.review.context_kinds import ExecutionContext
from backbone.review.knowledge.sql_text import (
    first_keyword,
    looks_like_sql,
    sql_of_literal,
    value_slots,
)
from backbone.review.orm import (
    ScopeFlow,
    ValueKind,
    catalog,
    is_migration,
    is_test_code,
    module_flows,
)
from backbone.review.orm.flow.bindings import BindingKind
from backbone.review.orm.origins import Provenance, origin_of
from backbone.review.orm.values import Origin, lower_confidence
from backbone.review.rules.base import OptionValue, Rule, RuleDoc, Scope

if TYPE_CHECKING:
    from backbone.review.context import FileContext

# Methods that send their first argument to the database as SQL.
_SQL_METHODS = frozenset(
    {
        "execute", "executemany", "executescript", "exec_driver_sql", "raw", "fetch", "fetchrow", "fetchval",
        "fetch_all", "fetch_one", "fetch_val", "execute_many", "iterate", "mogrify",
    }
)
_EXTRA_KEYWORDS = frozenset({"where", "select", "tables", "order_by"})
_SQL_FUNCTIONS = catalog.SQLALCHEMY_TEXT | catalog.DJANGO_RAW_SQL | frozenset(
    {"pandas.read_sql", "pandas.read_sql_query", "pandas.io.sql.read_sql"}
)
# The last name of every callee that may receive SQL text: a cheap first filter.
_RECEIVING_NAMES = _SQL_METHODS | {"extra", "text", "RawSQL", "read_sql", "read_sql_query"}
_HANDLE_KINDS = (ValueKind.SESSION, ValueKind.CONNECTION, ValueKind.CURSOR, ValueKind.ENGINE)
# Calls whose result is safe to put into SQL text: numbers, lengths, quoted identifiers.
_SAFE_CALLS = frozenset(
    {
        "int", "float", "len", "bool", "abs", "round", "quote_name", "quote_ident", "quote_identifier", "qn",
        "Identifier", "escape_string", "escape", "literal", "quote_value", "sql_identifier", "escape_identifier",
        "quote_literal", "escape_like", "quote_table_name", "quote_column_name", "placeholders", "hex",
        "format_identifier", "quote", "uuid4", "id",
    }
)
# Names that hold SQL fragments composed elsewhere, or identifiers from code (tables, columns).
_FRAGMENT_WORDS = (
    "sql", "query", "clause", "where", "stmt", "statement", "placeholder", "condition", "predicate",
    "subquery", "expression", "order_by", "join", "having", "group_by", "table", "column", "schema",
    "db_table", "constraint", "index_name", "sequence", "quoted", "operator", "direction", "lookup",
    "connector", "template", "qn", "alias", "fmt",
)
_LONGEST_SHOWN = 30
_INPUT_WORDS = frozenset(
    {"request", "req", "args", "form", "params", "query_params", "json", "get_json", "data", "input", "environ",
     "headers", "cookies", "get", "post", "files", "values", "body", "payload", "kwargs"}
)
# Statements that take no parameters: DDL and session settings are built from code and
# configuration (identifiers, sizes), not from request values.
_UNPARAMETERISABLE = frozenset({"CREATE", "ALTER", "DROP", "COMMENT", "PRAGMA", "SET", "GRANT", "REVOKE", "VACUUM", "ANALYZE", "REINDEX", "CLUSTER", "LISTEN", "NOTIFY", "SAVEPOINT", "RELEASE"})


class _Built(Record, frozen=True):
    """How SQL text was formatted, and from which values."""

    how: str
    values: tuple[ast.expr, ...]
    # The formatting happened in an earlier statement, not in the call's argument.
    earlier: bool = False
    # The worst origin of the values, and the expression that gives it.
    origin: Provenance = Provenance(Origin.UNKNOWN)


class _Judge:
    """Which formatted values can carry an injection, for one scope."""

    __slots__ = ("flow", "handler")

    def __init__(self, flow: ScopeFlow, handler: bool) -> None:
        self.flow = flow
        self.handler = handler

    def unsafe(self, node: ast.expr) -> Provenance | None:
        """The value's provenance when it may carry SQL: read from the request (whatever its
        name), or of unknown origin and not a constant, number, quoted name or fragment."""
        found = origin_of(node, self.flow, self.handler)
        if found.origin is Origin.REQUEST:
            return found
        items = self._mapping_items(node)
        if items is not None:
            # `.format(**params)`: each entry is a value of its own.
            worst: Provenance | None = None
            for item in items:
                entry = self.unsafe(item)
                if entry is not None:
                    worst = entry if worst is None else worst.worst(entry)
            return worst
        if not found.origin.carries_input or _safe(node, self.flow):
            return None
        return found

    def _mapping_items(self, node: ast.expr) -> list[ast.expr] | None:
        """The values of a dict display or `dict(...)` a name is bound to, in this scope."""
        if not isinstance(node, ast.Name):
            return None
        binding = self.flow.binding_at(node.id, node)
        value = binding.node if binding is not None and binding.kind is BindingKind.ASSIGN else None
        if isinstance(value, ast.Dict):
            return [item for item in value.values if item is not None]
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "dict" and not value.args:
            return [keyword.value for keyword in value.keywords]
        return None

    def built(
        self, items: list[ast.expr] | tuple[ast.expr, ...], how: str, values: list[bool] | None = None
    ) -> _Built | None:
        """`values`: for each item, whether its slot in the SQL takes a value (knowledge.sql_text);
        a slot that holds a name or a clause is counted only when the item comes from the request."""
        unsafe: list[ast.expr] = []
        worst: Provenance | None = None
        for position, item in enumerate(items):
            found = self.unsafe(item)
            if found is None:
                continue
            if values is not None and not values[position] and found.origin is not Origin.REQUEST:
                # `FROM {table}`, `ORDER BY {order}`: no parameter can stand for a name or a
                # clause; built from code, it is how SQL with names is composed.
                continue
            unsafe.append(item)
            worst = found if worst is None else worst.worst(found)
        if worst is None:
            return None
        return _Built(how, tuple(unsafe), origin=worst)


class SqlStringFormatting(Rule):
    code = "BB204"
    name = "sql-string-formatting"
    summary = (
        "SQL text built with an f-string, `%`, `.format()` or `+` from non-constant values and passed to "
        "execute/executemany/raw/extra/RawSQL/text(): SQL injection."
    )
    severity = Severity.ERROR
    scope = Scope.PROJECT
    subscribes = (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef)
    doc = RuleDoc(
        what_it_does=(
            "Finds SQL text formatted from values and handed to something that runs it: DB-API and driver "
            "`execute`/`executemany`/`executescript`, asyncpg and `databases` `fetch*`/`execute`, SQLAlchemy "
            "`Session`/`Connection` `execute`/`exec_driver_sql` and `text()`, Django `Model.objects.raw()`, "
            "`QuerySet.extra(where=..., select=...)`, `RawSQL()` and `connection.cursor().execute()`, and "
            "`pandas.read_sql`.\n\n"
            "The SQL counts as formatted when it is an f-string with a placeholder, `\"...\" % value`, "
            "`\"...\".format(value)` or a `+` concatenation, with at least one value that is not a constant. "
            "When the formatting happens inside the receiving call (`text(f\"...\")`, `cursor.execute(\"...\" % x)`) "
            "the finding is on that call; when the string was built earlier (`sql = f\"...\"`, `sql += ...`) it is "
            "on the call that executes it.\n\n"
            "Values that can't carry an injection are not counted: constants and UPPER_CASE names, numbers "
            "(`int(x)`, `len(x)`), quoted identifiers (`quote_name(...)`, `connection.ops.quote_name`, "
            "`sql.Identifier`), placeholder lists (`\", \".join([\"%s\"] * len(ids))`, `\"?\" * n`), names that "
            "hold SQL fragments or identifiers built elsewhere (`where_clause`, `order_sql`, `table_name`, "
            "`column`), loop variables over literal constants, `enumerate()` indexes and `range()` values, "
            "`%d`-style numeric conversions, values typed as numbers (a parameter annotated `int`, a function annotated `-> int` or returning `int(...)`/`int.from_bytes(...)`, a command-line option declared with argparse `type=int`, a parameter every project caller passes such a number or a constant), identifiers of reflected schema objects (the names of parameters typed SQLAlchemy `Column`/`Table`), and calls with only constant arguments (`self._dist_fn()`) that read "
            "no request input. psycopg's `sql.SQL(...).format(...)` is the safe way to compose identifiers and is "
            "not flagged. Statements that take no parameters (DDL such as CREATE/ALTER/DROP, PRAGMA, SET) are "
            "built from code and configuration and are not reported.\n\n"
            "Where each value comes from decides the confidence: a value read from the request (`request.args`, "
            "`request.GET`, `request.json`, `self.request.query_params`, a handler's own parameters, followed "
            "through assignments, string building, returns of project functions) gives a high-confidence "
            "finding when the receiver is a known connection, cursor, session, manager or `text()`; a value of "
            "unknown origin (a parameter of a helper) gives a medium one, and a value read from the database a "
            "low one. A value read from the request is reported whatever its name: a local called `query` or "
            "`order_by` holding `request.args[...]` is input, not a fragment.\n\n"
            "Deliberately not reported: constants, properties and project functions that return constants (a "
            "property returning the dialect's `now()`), configuration (`settings.X`, `config.get(...)`, "
            "`os.environ`), numbers and arithmetic (`rows_max + 1`), text quoted by doubling its quote "
            "characters (`'\"' + name.replace('\"', '\"\"') + '\"'`), a name under a test that compares it with "
            "constants (`if comparator in (\"IN\", \"NOT IN\"):` or `== \"LIKE\"`: it holds one of them), test "
            "modules and migrations. Names and clauses that don't come from the request: a value of unknown "
            "origin in a slot of the statement that no query parameter can stand for (a table or column name "
            "such as `FROM {table}`, `UPDATE {table} SET {column} = :value`, `WHERE {column} IS NOT NULL`, "
            "`MAX({column})`, a clause such as `WHERE {condition}` or `ORDER BY {order}`, a statement wrapped "
            "as a subquery `FROM ({query}) AS t`) is how SQL with names is composed, and is reported only when "
            "it comes from the request; a value slot (inside quotes, after `=`, `LIKE`, `IN (`, `LIMIT`, in "
            "`VALUES (...)`, an argument of a scalar function) is reported whatever its unknown origin. Values "
            "generated in the process: `uuid4().hex`, `secrets.token_hex()`, and letters picked at random from "
            "a constant alphabet (`\"\".join(random.choice(string.ascii_lowercase) for _ in range(5))`), "
            "also when a project function returns them. A name from the request that an allow-list "
            "has (`[c for c in requested if c in COLUMNS]`, `if sort in COLUMNS:`, `if sort not in "
            "COLUMNS: abort(400)` before the use) is one of the list's names, and comes from where they do."
        ),
        why_is_this_bad=(
            "A value formatted into SQL becomes SQL: a name like `O'Brien` breaks the query, and "
            "`' OR '1'='1` turns a lookup into a dump of the table (SQL injection, OWASP A03). Escaping by hand "
            "misses cases; query parameters don't, and they also let the database reuse the query plan."
        ),
        example=(
            "def find_user(cursor, email):\n"
            "    cursor.execute(f\"SELECT id, name FROM users WHERE email = '{email}'\")\n"
            "    return cursor.fetchone()\n"
        ),
        use_instead=(
            "def find_user(cursor, email):\n"
            "    cursor.execute(\"SELECT id, name FROM users WHERE email = %s\", [email])\n"
            "    return cursor.fetchone()\n"
        ),
    )

    INVALID = (
        # DB-API (sqlite3): f-string inside execute(), and % formatting.
        """
        import sqlite3

        def find_user(email):
            connection = sqlite3.connect("app.db")
            cursor = connection.cursor()
            cursor.execute(f"SELECT id FROM users WHERE email = '{email}'")  # expect: BB204
            return cursor.fetchone()

        def find_by_name(name):
            connection = sqlite3.connect("app.db")
            return connection.execute("SELECT id FROM users WHERE name = '%s'" % name).fetchall()  # expect: BB204
        """,
        # The string is built earlier (and extended with +=): reported where it is executed.
        """
        import sqlite3

        def search(term, limit):
            connection = sqlite3.connect("app.db")
            sql = "SELECT id FROM products WHERE name LIKE '%" + term + "%'"
            sql += " LIMIT {}".format(limit)
            return connection.execute(sql).fetchall()  # expect: BB204
        """,
        # SQLAlchemy (sync): text() with an f-string, reported at text().
        """
        from sqlalchemy import text
        from sqlalchemy.orm import Session

        def orders_of(session: Session, customer: str):
            return session.execute(text(f"SELECT * FROM orders WHERE customer = '{customer}'")).all()  # expect: BB204

        def delete_order(session: Session, order_id):
            statement = text("DELETE FROM orders WHERE id = " + str(order_id))  # expect: BB204
            session.execute(statement)
        """,
        # SQLAlchemy (async): exec_driver_sql on a connection.
        """
        from sqlalchemy.ext.asyncio import create_async_engine

        engine = create_async_engine("postgresql+asyncpg://localhost/app")

        async def rename(user_id, name):
            async with engine.begin() as connection:
                await connection.exec_driver_sql(f"UPDATE users SET name = '{name}' WHERE id = {user_id}")  # expect: BB204
        """,
        # Flask-SQLAlchemy: db.session.execute(db.text("..." % value)).
        """
        from flask_sqlalchemy import SQLAlchemy

        db = SQLAlchemy()

        def count_by_status(status):
            return db.session.execute(db.text("SELECT count(*) FROM orders WHERE status = '%s'" % status)).scalar()  # expect: BB204
        """,
        # Django: raw(), extra(where=...), RawSQL() and connection.cursor().
        """
        from django.db import connection, models
        from django.db.models.expressions import RawSQL

        class Product(models.Model):
            name = models.CharField(max_length=80)

        def by_name(name):
            return list(Product.objects.raw(f"SELECT * FROM shop_product WHERE name = '{name}'"))  # expect: BB204

        def cheaper_than(price):
            return Product.objects.extra(where=["price < %s" % price])  # expect: BB204

        def ranked(weight):
            return Product.objects.annotate(rank=RawSQL("SELECT %s * popularity" % weight, []))  # expect: BB204

        def purge(name):
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM shop_product WHERE name = '{}'".format(name))  # expect: BB204
        """,
        # asyncpg: fetch with an f-string.
        """
        import asyncpg

        async def events_since(dsn, since):
            connection = await asyncpg.connect(dsn)
            return await connection.fetch(f"SELECT * FROM events WHERE created > '{since}'")  # expect: BB204
        """,
        # An unknown receiver, but the text is plainly SQL.
        """
        def archive(db, table_id, reason):
            db.execute("UPDATE archive SET reason = '" + reason + "' WHERE id = 1")  # expect: BB204
        """,
        # Read from the request: a name that sounds like SQL (`query`, `order_by`) doesn't make it
        # a fragment, and a LIKE pattern built in an f-string is SQL built from input.
        """
        import sqlite3

        from flask import Flask, request

        app = Flask(__name__)

        @app.get("/search")
        def search():
            query = request.args.get("q", "")
            order_by = request.args.get("sort", "name")
            connection = sqlite3.connect("app.db")
            sql = f"SELECT id FROM products WHERE name LIKE '%{query}%' ORDER BY {order_by}"
            return {"ids": connection.execute(sql).fetchall()}  # expect: BB204
        """,
        # A name from the request is reported (no parameter can stand for it, so it must not come
        # from the client); a value next to names built from code is reported too.
        """
        import sqlite3

        from flask import Flask, request

        app = Flask(__name__)

        @app.get("/rows")
        def rows():
            table = request.args["table"]
            connection = sqlite3.connect("app.db")
            return {"rows": connection.execute(f"SELECT * FROM {table}").fetchall()}  # expect: BB204

        def count_since(connection, table_name, column, since):
            return connection.execute(f"SELECT count(*) FROM {table_name} WHERE {column} > '{since}'").fetchone()  # expect: BB204

        def first_rows(connection, table_name, limit):
            return connection.execute(f"SELECT * FROM {table_name} LIMIT {limit}").fetchall()  # expect: BB204
        """,
        # Django: a GET parameter through a helper that returns it; DRF's query_params.
        """
        from django.db import connection
        from django.http import JsonResponse

        def search_term(request):
            return request.GET.get("term", "")

        def search(request):
            term = search_term(request)
            with connection.cursor() as cursor:
                cursor.execute("SELECT id FROM shop_product WHERE name = '%s'" % term.strip())  # expect: BB204
                return JsonResponse({"ids": cursor.fetchall()})
        """,
    )

    VALID = (
        # Numbers can't carry an injection: a parameter typed `int`, a function annotated
        # `-> int` or returning `int.from_bytes(...)`, a module constant, an option argparse
        # converts with `type=int`.
        """
        import argparse
        import hashlib

        from django.core.management.base import BaseCommand
        from django.db import connection
        from sqlalchemy import text

        LOCK_ID = 0x4C6F636B

        def advisory_key(name: str) -> int:
            return int(hashlib.sha256(name.encode()).hexdigest()[:15], 16)

        def digest_key(name):
            return int.from_bytes(hashlib.sha256(name.encode()).digest()[:7], "big")

        async def lock(session, key: int) -> None:
            await session.execute(text(f"SELECT pg_advisory_lock({key})"))

        async def unlock(session, key: int | None = None) -> None:
            await session.execute(text(f"SELECT pg_advisory_unlock({key})"))

        async def lock_for(session, name):
            key = advisory_key(name)
            await session.execute(text(f"SELECT pg_advisory_lock({key})"))
            other = digest_key(name)
            await session.execute(text(f"SELECT pg_advisory_lock({other})"))

        def migrate_lock(session):
            lock_id = LOCK_ID
            session.execute(text(f"SELECT pg_try_advisory_lock({lock_id})"))

        class Command(BaseCommand):
            def add_arguments(self, parser):
                parser.add_argument("--lock-id", type=int, default=1000)

            def handle(self, *args, **options):
                lock_id = options.pop("lock_id")
                with connection.cursor() as cursor:
                    cursor.execute(f"SELECT pg_try_advisory_xact_lock({lock_id})")

        class LockedCommand(BaseCommand):
            def add_arguments(self, parser):
                parser.add_argument("--migrate-lock-id", type=int, default=1000)

            def handle(self, *args, **options):
                lock_id = options.pop("migrate_lock_id")
                self.acquire(connection, lock_id)
                self.acquire(connection, LOCK_ID)

            def acquire(self, lock_connection, lock_id):
                with lock_connection.cursor() as cursor:
                    cursor.execute(f"SELECT pg_try_advisory_xact_lock({lock_id})")

        def main(cursor):
            parser = argparse.ArgumentParser()
            parser.add_argument("--batch", dest="batch_size", type=int)
            args = parser.parse_args()
            cursor.execute(f"SELECT id FROM events LIMIT {args.batch_size}")
        """,
        # Identifiers of reflected schema objects (SQLAlchemy `Column`/`Table`): the
        # database's own names, quoted, not values a client sent.
        """
        import sqlalchemy as sa

        def copy_table(source: sa.Connection, table: sa.Table, columns: list[sa.Column]):
            names = [column.name for column in columns]
            selected = {name: f'"{name}"' for name in names}
            first = names[0]
            source.execute(sa.text(f'SELECT {selected[first]} FROM "{table.name}"'))
            return source.execute(sa.text(f'SELECT {", ".join(selected.values())} FROM "{table.name}"'))
        """,
        # Parameters, not formatting.
        """
        import sqlite3

        def find_user(email):
            connection = sqlite3.connect("app.db")
            return connection.execute("SELECT id FROM users WHERE email = ?", (email,)).fetchone()
        """,
        # Placeholder lists built with join() and *, and constants.
        """
        import sqlite3

        TABLE = "users"

        def find_many(ids):
            connection = sqlite3.connect("app.db")
            placeholders = ", ".join("?" for _ in ids)
            sql = f"SELECT id FROM {TABLE} WHERE id IN ({placeholders})"
            return connection.execute(sql, ids).fetchall()
        """,
        # SQLAlchemy (sync and async): bound parameters in text().
        """
        from sqlalchemy import text
        from sqlalchemy.ext.asyncio import AsyncSession
        from sqlalchemy.orm import Session

        def orders_of(session: Session, customer: str):
            return session.execute(text("SELECT * FROM orders WHERE customer = :customer"), {"customer": customer}).all()

        async def orders_of_async(session: AsyncSession, customer: str):
            result = await session.execute(text("SELECT * FROM orders WHERE customer = :c"), {"c": customer})
            return result.all()
        """,
        # Django: params in raw(), extra(), RawSQL(); quoted identifiers; int().
        """
        from django.db import connection, models
        from django.db.models.expressions import RawSQL

        class Product(models.Model):
            name = models.CharField(max_length=80)

        def by_name(name):
            return list(Product.objects.raw("SELECT * FROM shop_product WHERE name = %s", [name]))

        def cheaper_than(price):
            return Product.objects.extra(where=["price < %s"], params=[price])

        def ranked(weight):
            return Product.objects.annotate(rank=RawSQL("SELECT %s * popularity", [weight]))

        def truncate(model, limit):
            table = connection.ops.quote_name(model._meta.db_table)
            with connection.cursor() as cursor:
                cursor.execute(f"DELETE FROM {table} WHERE id > {int(limit)}")
        """,
        # psycopg's composition API for identifiers.
        """
        import psycopg2
        from psycopg2 import sql

        def count_rows(table_name):
            connection = psycopg2.connect("dbname=app")
            with connection.cursor() as cursor:
                cursor.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table_name)))
                return cursor.fetchone()[0]
        """,
        # Fragments composed elsewhere, and identifiers from a literal list.
        """
        def report(cursor, where_clause, params):
            cursor.execute(f"SELECT id FROM orders WHERE {where_clause}", params)
            for column in ("created", "updated"):
                cursor.execute(f"UPDATE orders SET {column} = now() WHERE id = %s", params)
        """,
        # Flask-SQLAlchemy: constant text, bound parameters.
        """
        from flask_sqlalchemy import SQLAlchemy

        db = SQLAlchemy()

        def count_by_status(status):
            return db.session.execute(db.text("SELECT count(*) FROM orders WHERE status = :s"), {"s": status}).scalar()
        """,
        # Values that cannot carry input: a property returning the dialect's SQL keyword, a
        # helper that doubles the quotes, a configured number.
        """
        import os
        import sqlite3

        class Database:
            def __init__(self, kind):
                self.kind = kind
                self.connection = sqlite3.connect("app.db")

            @property
            def timestamp_now(self):
                if self.kind == "postgres":
                    return "now()"
                return "CURRENT_TIMESTAMP"

            def execute(self, sql, params=()):
                return self.connection.execute(sql, params)

        db = Database(os.environ.get("DB_KIND", "sqlite"))

        def literal(text):
            return "'" + text.replace("'", "''") + "'"

        def identifier(name):
            return '"' + name.replace('"', '""') + '"'

        def purge_expired():
            db.execute(f"DELETE FROM audit WHERE delete_at < {db.timestamp_now}")

        def count_rows(cursor, table_name, owner):
            rows_max = int(os.environ.get("ROWS_MAX", "100"))
            cursor.execute(
                f"SELECT count(*) FROM {identifier(table_name)} WHERE owner = {literal(owner)} LIMIT {rows_max + 1}"
            )
        """,
        # Identifiers of the schema declared in code, and a mapping of quoted names for format(**...).
        """
        from sqlalchemy import text
        from sqlalchemy.orm import Session

        def quote_ident(name):
            return '"' + name.replace('"', '""') + '"'

        def reset_sequences(session: Session, metadata):
            for table in metadata.sorted_tables:
                for column in table.columns:
                    session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column.name}'), 1)"))

        def copy_rows(session: Session, source, target, columns):
            names = dict(source=quote_ident(source), target=quote_ident(target), columns=", ".join(quote_ident(c) for c in columns))
            session.execute(text("INSERT INTO {target} ({columns}) SELECT {columns} FROM {source}".format(**names)))
        """,
        # Formatting that isn't SQL, sent to something that isn't a database.
        """
        import logging

        logger = logging.getLogger(__name__)

        def notify(runner, name):
            logger.info("SELECT happened for %s" % name)
            runner.execute(f"echo hello {name}")
        """,
        # Names and clauses composed from code: a table, a column, a filter clause, a statement
        # wrapped as a subquery. No query parameter can stand for them.
        """
        import duckdb

        def quote_ident(name: str) -> str:
            return f'"{name}"'

        def histogram(conn, source: str, column: str, window: str, bins: int):
            quoted = quote_ident(column)
            conn.execute(f"SELECT MAX({quoted}) FROM {source} AS src WHERE {window}")
            query = (
                f"SELECT width_bucket({quoted}::float8, 0, 1, {bins}) AS bucket "
                f"FROM {source} WHERE {quoted} IS NOT NULL /* per bucket */ GROUP BY bucket"
            )
            return conn.execute(query).fetchall()

        def time_range(conn, entity_sql: str, timestamp_column: str):
            query = f"SELECT MIN({timestamp_column}), MAX({timestamp_column}) FROM ({entity_sql}) AS entities"
            return conn.execute(query).fetchone()

        def drop_mapping(client, project, table):
            client.sql.execute(f"DELETE FROM {project}_{table.name}")

        def rename(conn, table_name, column):
            conn.execute(f"UPDATE {table_name} SET {column} = ? WHERE id = ?", ("x", 1))
        """,
        # Names from the request kept only when an allow-list has them: they are the list's names.
        """
        import sqlite3

        from flask import Flask, abort, request

        app = Flask(__name__)
        PRODUCT_COLUMNS = frozenset({"name", "price", "stock"})

        @app.get("/products")
        def products():
            columns = [column for column in request.args.getlist("columns") if column in PRODUCT_COLUMNS]
            sort = request.args.get("sort", "name")
            if sort not in PRODUCT_COLUMNS:
                abort(400)
            connection = sqlite3.connect("app.db")
            sql = f"SELECT {', '.join(columns)} FROM products ORDER BY {sort}"
            return {"rows": connection.execute(sql).fetchall()}
        """,
        # Names generated here: letters picked from a constant alphabet, by a project function too.
        """
        import random
        import string
        import uuid

        def temporary_stage(cursor) -> str:
            stage = "".join(random.choice(string.ascii_lowercase) for _ in range(5))
            cursor.execute(f'CREATE TEMPORARY STAGE "{stage}"')
            return stage

        def load(cursor):
            stage = temporary_stage(cursor)
            file_format = '"' + "".join(random.choice(string.ascii_lowercase) for _ in range(5)) + '"'
            marker = uuid.uuid4().hex
            cursor.execute(f"SELECT * FROM table(infer_schema(location=>'@{stage}', file_format=>'{file_format}')) WHERE tag = '{marker}'")
        """,
        # A value compared with constants holds one of them under the test.
        """
        from sqlalchemy import bindparam, text

        def comparison(comparator, column, value):
            column_ref = f"{column.class_.__tablename__}.{column.key}"
            if comparator in ("IN", "NOT IN"):
                return text(f"({column_ref} {comparator} :values)").bindparams(bindparam("values", value=list(value), expanding=True))
            if comparator == "LIKE":
                return text(f"({column_ref} {comparator} :value)").bindparams(value=value)
            return None
        """,
    )

    def __init__(self, context: FileContext, settings: Mapping[str, OptionValue]) -> None:
        super().__init__(context, settings)
        self._skip = is_test_code(context) or is_migration(context) or context.project is None

    def visit(self, node: ast.AST) -> None:
        if self._skip or not isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef)):
            return
        flow = module_flows(self.context).flow(node)
        judge: _Judge | None = None
        for call in flow.calls:
            func = call.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if name not in _RECEIVING_NAMES:
                continue
            found = self._sql_arguments(call, flow)
            if found is None:
                continue
            receiver, arguments, confidence = found
            if judge is None:
                judge = _Judge(flow, self._handler(node))
            for argument in arguments:
                built = _built(argument, judge, call)
                if built is None:
                    continue
                head = flow.sql_text(argument) or ""
                if first_keyword(head) in _UNPARAMETERISABLE:
                    continue
                if confidence is not Confidence.HIGH and not _sql_like(argument, flow):
                    continue
                self._report(call, receiver, built, confidence)
                break

    def _handler(self, node: ast.AST) -> bool:
        """The scope is a request handler itself: the framework fills its parameters from the request."""
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return False
        return any(
            fact.context is ExecutionContext.REQUEST and len(fact.chain) == 1
            for fact in self.context.execution_contexts(node)
        )

    def _sql_arguments(self, call: ast.Call, flow: ScopeFlow) -> tuple[str, list[ast.expr], Confidence] | None:
        """(receiver shown, SQL arguments, confidence) when `call` runs SQL text it is given."""
        func = call.func
        qualname = self.context.qualified_name(func) if isinstance(func, (ast.Name, ast.Attribute)) else None
        first = _first_sql_argument(call)
        if qualname in _SQL_FUNCTIONS:
            return f"{qualname.rpartition('.')[2]}()", [first] if first is not None else [], Confidence.HIGH
        if not isinstance(func, ast.Attribute):
            return None
        receiver = flow.value(func.value)
        shown = f"{_clip(ast.unparse(func))}()"
        if func.attr == "text" and receiver is not None and receiver.kind is ValueKind.EXTENSION:
            return shown, [first] if first is not None else [], Confidence.HIGH
        if func.attr == "extra":
            if receiver is None or receiver.kind not in (ValueKind.MANAGER, ValueKind.QUERY):
                return None
            values = [keyword.value for keyword in call.keywords if keyword.arg in _EXTRA_KEYWORDS]
            arguments: list[ast.expr] = []
            for value in values:
                if isinstance(value, (ast.List, ast.Tuple)):
                    arguments.extend(value.elts)
                elif isinstance(value, ast.Dict):
                    arguments.extend(item for item in value.values if item is not None)
                else:
                    arguments.append(value)
            return shown, arguments, Confidence.HIGH
        if func.attr not in _SQL_METHODS or first is None:
            return None
        if receiver is not None:
            known = receiver.kind in _HANDLE_KINDS or (
                func.attr == "raw" and receiver.kind in (ValueKind.MANAGER, ValueKind.QUERY)
            )
            if not known:
                return None
            confidence = Confidence.HIGH if receiver.confidence is Confidence.HIGH else Confidence.MEDIUM
            return shown, [first], confidence
        return shown, [first], Confidence.MEDIUM

    def _report(self, call: ast.Call, receiver: str, built: _Built, confidence: Confidence) -> None:
        shown = list(dict.fromkeys(_clip(ast.unparse(value)) for value in built.values))
        values = ", ".join(f"`{value}`" for value in shown[:3])
        if len(shown) > 3:
            values += " and more"
        where = " (built earlier)" if built.earlier else ""
        origin = built.origin
        if origin.origin is Origin.REQUEST:
            source = f" `{_clip(ast.unparse(origin.source))}`" if origin.source is not None else ""
            where += f", which comes from the request{source}"
        elif origin.origin is Origin.DATABASE:
            # Second-order injection: text the application stored earlier.
            confidence = lower_confidence(confidence, Confidence.LOW)
            where += ", read from the database"
        else:
            confidence = lower_confidence(confidence, Confidence.MEDIUM)
        self.report(
            call,
            f"SQL passed to `{receiver}` is built with {built.how} from {values}{where}: a value with a quote "
            "in it changes the query (SQL injection).",
            fix=(
                "Pass the values as query parameters (`%s`/`?`/`:name` placeholders and a params argument) "
                "instead of formatting them into the SQL; quote identifiers with the driver's identifier API."
            ),
            confidence=confidence,
        )


def _first_sql_argument(call: ast.Call) -> ast.expr | None:
    if call.args:
        first = call.args[0]
        return None if isinstance(first, ast.Starred) else first
    for keyword in call.keywords:
        if keyword.arg in ("sql", "query", "statement", "operation", "raw_query", "text"):
            return keyword.value
    return None


def _sql_like(argument: ast.expr, flow: ScopeFlow) -> bool:
    text = flow.sql_text(argument)
    if text is None and isinstance(argument, ast.Name):
        for augmented in flow.augmented.get(argument.id, []):
            text = sql_of_literal(augmented.value)
            if text:
                break
    return bool(text) and looks_like_sql(text or "")


def _built(argument: ast.expr, judge: _Judge, call: ast.Call) -> _Built | None:
    """How the SQL argument was formatted from unsafe values, if it was."""
    flow = judge.flow
    direct = _formatted(argument, judge)
    if direct is not None:
        return direct
    if isinstance(argument, ast.Name):
        binding = flow.binding_at(argument.id, call)
        if binding is not None and binding.kind is BindingKind.ASSIGN and isinstance(binding.node, ast.expr):
            earlier = _formatted(binding.node, judge)
            if earlier is not None:
                return _Built(earlier.how, earlier.values, earlier=True, origin=earlier.origin)
        for augmented in flow.augmented.get(argument.id, []):
            if (augmented.lineno, augmented.col_offset) >= (call.lineno, call.col_offset):
                continue
            if not isinstance(augmented.op, ast.Add):
                continue
            extended = _formatted(augmented.value, judge)
            if extended is not None:
                return _Built(extended.how, extended.values, earlier=True, origin=extended.origin)
            concatenated = judge.built((augmented.value,), "`+=` concatenation")
            if concatenated is not None:
                return _Built(concatenated.how, concatenated.values, earlier=True, origin=concatenated.origin)
    return None


def _formatted(node: ast.expr, judge: _Judge) -> _Built | None:
    if isinstance(node, ast.IfExp):
        return _formatted(node.body, judge) or _formatted(node.orelse, judge)
    how = _how(node)
    if how is None:
        return None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and _numeric_conversions_only(node.left):
        # `"LIMIT %d" % n` can only ever produce a number.
        return None
    pieces = _pieces(node)
    if pieces is None:
        return None
    items = [piece for piece in pieces if not isinstance(piece, str)]
    if not items:
        return None
    values = value_slots([piece if isinstance(piece, str) else None for piece in pieces])
    return judge.built(items, how, values)


def _how(node: ast.expr) -> str | None:
    """How `node` formats SQL text, when it does."""
    if isinstance(node, ast.JoinedStr):
        return "an f-string"
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and _stringish(node.left):
        return "`%` formatting"
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format" and _stringish(node.func.value):
        return "`.format()`"
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add) and any(_stringish(operand) for operand in _added(node)):
        return "`+` concatenation"
    return None


def _pieces(node: ast.expr) -> list[str | ast.expr] | None:
    """The statement as literal text and the values formatted into it, in order."""
    if isinstance(node, ast.Constant):
        return [node.value] if isinstance(node.value, str) else [node]
    if isinstance(node, ast.JoinedStr):
        found: list[str | ast.expr] = []
        for part in node.values:
            if isinstance(part, ast.Constant) and isinstance(part.value, str):
                found.append(part.value)
            elif isinstance(part, ast.FormattedValue):
                found.append(part.value)
        return found
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and _stringish(node.left):
        return _percent_pieces(node.left, node.right)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format" and _stringish(node.func.value):
        return _format_pieces(node.func.value, node)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add) and any(_stringish(operand) for operand in _added(node)):
        concatenated: list[str | ast.expr] = []
        for operand in _added(node):
            inner = _pieces(operand) if _how(operand) is not None or _stringish(operand) else None
            concatenated.extend(inner if inner is not None else [operand])
        return concatenated
    return [node]


def _percent_pieces(template: ast.expr, right: ast.expr) -> list[str | ast.expr] | None:
    items = list(right.elts) if isinstance(right, ast.Tuple) else None
    named = (
        {key.value: value for key, value in zip(right.keys, right.values) if isinstance(key, ast.Constant)}
        if isinstance(right, ast.Dict) else None
    )
    if not (isinstance(template, ast.Constant) and isinstance(template.value, str)):
        # An f-string with `%` placeholders: its own slots, then the `%` values (as values).
        head = _pieces(template) or []
        tail = items if items is not None else list(named.values()) if named is not None else [right]
        return [*head, *[piece for value in tail for piece in ("=", value)]]
    found: list[str | ast.expr] = []
    text = template.value
    position = 0
    index = 0
    for match in _CONVERSION.finditer(text):
        found.append(text[position:match.start()])
        position = match.end()
        if match.group(1) == "%":
            found.append("%")
            continue
        key = re.match(r"%\(([^)]*)\)", match.group(0))
        if named is not None and key is not None and key.group(1) in named:
            found.append(named[key.group(1)])
        elif items is not None and index < len(items):
            found.append(items[index])
        elif items is None and named is None and index == 0:
            found.append(right)
        else:
            return None
        index += 1
    found.append(text[position:])
    if named is None and items is None and index == 0:
        found.append(right)
    return found


def _format_pieces(template: ast.expr, call: ast.Call) -> list[str | ast.expr] | None:
    if not (isinstance(template, ast.Constant) and isinstance(template.value, str)):
        head = _pieces(template) or []
        return [*head, *[piece for value in (*call.args, *(k.value for k in call.keywords)) for piece in ("=", value)]]
    keywords = {keyword.arg: keyword.value for keyword in call.keywords if keyword.arg is not None}
    spread = [keyword.value for keyword in call.keywords if keyword.arg is None]
    found: list[str | ast.expr] = []
    automatic = 0
    try:
        parsed = list(string.Formatter().parse(template.value))
    except ValueError:
        return None
    for literal, field, _spec, _conversion in parsed:
        found.append(literal)
        if field is None:
            continue
        name = re.split(r"[.\[]", field, maxsplit=1)[0]
        if name == "":
            name = str(automatic)
            automatic += 1
        if name.isdigit() and int(name) < len(call.args):
            found.append(call.args[int(name)])
        elif name in keywords:
            found.append(keywords[name])
        elif spread:
            # `.format(**names)`: which entry fills the field is not known here; its values
            # are judged as values.
            found.append(spread[0])
        else:
            return None
    if spread and all(piece is not spread[0] for piece in found):
        found.extend(("=", spread[0]))
    return found


_CONVERSION = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?([a-zA-Z%])")


def _numeric_conversions_only(node: ast.expr) -> bool:
    if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
        return False
    conversions = [match.group(1) for match in _CONVERSION.finditer(node.value) if match.group(1) != "%"]
    return bool(conversions) and all(conversion in "diouxXeEfFgG" for conversion in conversions)


def _added(node: ast.expr) -> list[ast.expr]:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return [*_added(node.left), *_added(node.right)]
    return [node]


def _stringish(node: ast.expr) -> bool:
    return (isinstance(node, ast.Constant) and isinstance(node.value, str)) or isinstance(node, ast.JoinedStr)


def _fragment_name(name: str) -> bool:
    lowered = name.lower()
    return name.isupper() or any(word in lowered for word in _FRAGMENT_WORDS)


def _safe(node: ast.expr, flow: ScopeFlow, depth: int = 0) -> bool:
    """A value that can't smuggle SQL in: constant, number, quoted identifier, placeholders, fragment."""
    if depth > 4:
        return False
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.Name):
        return _fragment_name(node.id) or _safe_binding(node, flow, depth)
    if isinstance(node, ast.Attribute):
        # `request.GET`, `form.data` are input, whatever their case.
        return _fragment_name(node.attr) and not _reads_input(node)
    if isinstance(node, ast.Call):
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if name in _SAFE_CALLS or _fragment_name(name):
            return True
        if name == "join" and node.args:
            return _safe_elements(node.args[0], flow, depth + 1)
        if name == "format" and isinstance(func, ast.Attribute):
            return _safe(func.value, flow, depth + 1) and all(_safe(item, flow, depth + 1) for item in node.args)
        if name == "str" and node.args:
            return _safe(node.args[0], flow, depth + 1)
        # `self._dist_fn()`, `author("{user,id}")`: computed from constants, not from input.
        return _constant_arguments(node) and not _reads_input(func)
    return _safe_other(node, flow, depth)


def _constant_arguments(call: ast.Call) -> bool:
    return all(isinstance(argument, ast.Constant) for argument in call.args) and all(
        isinstance(keyword.value, ast.Constant) for keyword in call.keywords
    )


def _reads_input(func: ast.expr) -> bool:
    """`request.args.get("q")`, `form.get("name")`, `input()`: a value from outside."""
    parts = []
    current: ast.expr = func
    while isinstance(current, ast.Attribute):
        parts.append(current.attr)
        current = current.value
    if isinstance(current, ast.Name):
        parts.append(current.id)
    lowered = {part.lower() for part in parts}
    return bool(lowered & _INPUT_WORDS) or (parts[:1] in (["get"], ["getlist"], ["pop"], ["input"]))


def _safe_other(node: ast.expr, flow: ScopeFlow, depth: int) -> bool:
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, ast.Mult) and (_constant_like(node.left) or _constant_like(node.right)):
            return True
        return _safe(node.left, flow, depth + 1) and _safe(node.right, flow, depth + 1)
    if isinstance(node, ast.JoinedStr):
        return all(_safe(part.value, flow, depth + 1) for part in node.values if isinstance(part, ast.FormattedValue))
    if isinstance(node, ast.IfExp):
        return _safe(node.body, flow, depth + 1) and _safe(node.orelse, flow, depth + 1)
    if isinstance(node, ast.Subscript):
        return not _reads_input(node.value) and _safe(node.value, flow, depth + 1)
    if isinstance(node, (ast.List, ast.Tuple)):
        return all(_safe(element, flow, depth + 1) for element in node.elts)
    return False


def _constant_like(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        return True
    return isinstance(node, (ast.List, ast.Tuple)) and all(isinstance(element, ast.Constant) for element in node.elts)


def _safe_elements(node: ast.expr, flow: ScopeFlow, depth: int) -> bool:
    """The items of a joined iterable are safe: placeholders, constants, quoted names."""
    if isinstance(node, (ast.ListComp, ast.GeneratorExp, ast.SetComp)):
        return _safe(node.elt, flow, depth + 1) or _uses_only_targets_safely(node, flow, depth)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("map",) and node.args:
        first = node.args[0]
        name = first.attr if isinstance(first, ast.Attribute) else first.id if isinstance(first, ast.Name) else ""
        return name in _SAFE_CALLS or _fragment_name(name)
    return _safe(node, flow, depth + 1)


def _uses_only_targets_safely(node: ast.ListComp | ast.GeneratorExp | ast.SetComp, flow: ScopeFlow, depth: int) -> bool:
    """`f"{column} = %s" for column in columns`: identifiers from a fragment-named or literal iterable."""
    generator = node.generators[0]
    if not isinstance(generator.target, ast.Name):
        return False
    return _safe(generator.iter, flow, depth + 1)


def _safe_binding(node: ast.Name, flow: ScopeFlow, depth: int) -> bool:
    owner = flow
    binding, _ = flow.local_binding(node)
    if binding is None and not isinstance(flow.scope, ast.Module):
        owner = flow.module.flow(flow.module.tree)
        binding = owner.binding_at(node.id, ast.Pass(lineno=10**9, col_offset=0))
    if binding is None:
        return False
    if binding.kind is BindingKind.ASSIGN and isinstance(binding.node, ast.expr):
        if owner is not flow and isinstance(binding.node, ast.Constant):
            return True
        return _safe(binding.node, owner, depth + 1)
    if binding.kind is BindingKind.ELEMENT and isinstance(binding.node, ast.expr):
        # A loop variable over constants, or over fragments; an enumerate() index; a range().
        iterable = binding.node
        if isinstance(iterable, ast.Call) and isinstance(iterable.func, ast.Name):
            if iterable.func.id == "range" or (iterable.func.id == "enumerate" and binding.path[:1] == (0,)):
                return True
        if isinstance(iterable, (ast.Tuple, ast.List, ast.Set)):
            return all(isinstance(element, ast.Constant) for element in iterable.elts)
        return _safe(iterable, owner, depth + 1)
    return False


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _LONGEST_SHOWN else text[: _LONGEST_SHOWN - 3] + "..."
