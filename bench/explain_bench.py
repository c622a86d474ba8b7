"""`backbone explain` on a generated shop of over a million rows and a workload of ORM queries,
against the indexes a careful engineer would add, written down before running anything.

Schema (only primary keys indexed): customers, products, orders, events. The workload is
32 statements compiled by SQLAlchemy from ORM-style selects (its SQL, its placeholders), each
with the index it needs, or none (a primary-key lookup, a whole-table aggregate, a filter
that keeps most rows). backbone explain runs on the SQLite variant (candidates tried on a
copy, timed) and, with --postgres DSN, on PostgreSQL with HypoPG and --prove (indexes built
in a rolled-back transaction and timed). Reported: how many needed indexes backbone
recommends, how many it recommends that are not needed, the measured speed-up of each
accepted index, and SQLite's `.expert` on the same statements side by side.

    .venv/bin/python bench/explain_bench.py                          # SQLite, 1,000,000 orders
    .venv/bin/python bench/explain_bench.py --postgres "host=/tmp/pg dbname=postgres user=postgres"
    .venv/bin/python bench/explain_bench.py --orders 200000          # a quicker run

Exit status: 0 ran, 2 could not run.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from backbone.sql.model import ExplainOptions, Statement
from backbone.sql.render import report_json
from backbone.sql.run import explain

metadata = sa.MetaData()
customers = sa.Table("customers", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("email", sa.String),
                     sa.Column("country", sa.String), sa.Column("tier", sa.String), sa.Column("created_at", sa.String))
products = sa.Table("products", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("sku", sa.String),
                    sa.Column("category_id", sa.Integer), sa.Column("price_cents", sa.Integer), sa.Column("active", sa.Boolean))
orders = sa.Table("orders", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("customer_id", sa.Integer),
                  sa.Column("product_id", sa.Integer), sa.Column("status", sa.String), sa.Column("total_cents", sa.Integer),
                  sa.Column("created_at", sa.String), sa.Column("shipped_at", sa.String))
events = sa.Table("events", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("customer_id", sa.Integer),
                  sa.Column("kind", sa.String), sa.Column("created_at", sa.String), sa.Column("payload", sa.String))
c, p, o, e = customers.c, products.c, orders.c, events.c
P = sa.bindparam


def pending() -> Any:
    return sa.literal_column("'pending'")


@dataclass(frozen=True)
class Case:
    name: str
    query: Any
    # The indexes a careful engineer adds for it: (table, leading columns); () when none is needed.
    expected: tuple[tuple[str, tuple[str, ...]], ...]


WORKLOAD: list[Case] = [
    Case("orders of a customer", sa.select(o.id, o.total_cents).where(o.customer_id == P("cid")), (("orders", ("customer_id",)),)),
    Case("latest orders of a customer", sa.select(o.id).where(o.customer_id == P("cid")).order_by(o.created_at.desc()).limit(P("n")),
         (("orders", ("customer_id", "created_at")),)),
    Case("pending orders older than", sa.select(o.id).where(o.status == pending(), o.created_at < P("t")), (("orders", ("created_at",)), ("orders", ("status", "created_at")))),
    Case("customer by email", sa.select(c).where(c.email == P("email")), (("customers", ("email",)),)),
    Case("customer by id", sa.select(c).where(c.id == P("id")), ()),
    Case("order by id", sa.select(o).where(o.id == P("id")), ()),
    Case("orders since", sa.select(sa.func.count(o.id)).where(o.created_at >= P("t")), (("orders", ("created_at",)),)),
    Case("latest events of a customer", sa.select(e.id, e.kind).where(e.customer_id == P("cid")).order_by(e.created_at.desc()).limit(P("n")),
         (("events", ("customer_id", "created_at")),)),
    Case("events of a kind since", sa.select(e.id).where(e.kind == sa.literal_column("'refund'"), e.created_at >= P("t")),
         (("events", ("kind", "created_at")), ("events", ("created_at",)))),
    Case("product by sku", sa.select(p).where(p.sku == P("sku")), (("products", ("sku",)),)),
    Case("products of a category by price", sa.select(p.id).where(p.category_id == P("cat")).order_by(p.price_cents),
         (("products", ("category_id", "price_cents")), ("products", ("category_id",)))),
    Case("orders of a customer by email", sa.select(o.id).join(customers, c.id == o.customer_id).where(c.email == P("email")),
         (("customers", ("email",)), ("orders", ("customer_id",)))),
    Case("revenue by status", sa.select(o.status, sa.func.sum(o.total_cents)).group_by(o.status), ()),
    Case("unshipped paid orders", sa.select(o.id).where(o.status == sa.literal_column("'paid'"), o.shipped_at.is_(None)),
         (("orders", ("status",)), ("orders", ("shipped_at",)))),  # 2% of orders are paid, none of them shipped
    Case("customers of a country", sa.select(c.id).where(c.country == P("country")), ()),  # 5 countries: no index pays
    Case("count of customers", sa.select(sa.func.count(c.id)), ()),
    Case("orders of a product", sa.select(o.id).where(o.product_id == P("pid")), (("orders", ("product_id",)),)),
    Case("orders of a product since", sa.select(o.id).where(o.product_id == P("pid"), o.created_at >= P("t")),
         (("orders", ("product_id", "created_at")), ("orders", ("product_id",)))),
    Case("big orders", sa.select(o.id).where(o.total_cents > P("amount")), (("orders", ("total_cents",)),)),
    Case("events of a customer of a kind", sa.select(e.id).where(e.customer_id == P("cid"), e.kind == P("kind")),
         (("events", ("customer_id", "kind")), ("events", ("customer_id",)))),
    Case("gold customers since", sa.select(c.id).where(c.tier == sa.literal_column("'gold'"), c.created_at >= P("t")),
         (("customers", ("created_at",)), ("customers", ("tier", "created_at")))),
    Case("newest customers", sa.select(c.id, c.email).order_by(c.created_at.desc()).limit(P("n")), (("customers", ("created_at",)),)),
    Case("newest orders", sa.select(o.id).order_by(o.created_at.desc()).limit(P("n")), (("orders", ("created_at",)),)),
    Case("active products", sa.select(p.id).where(p.active.is_(True)), ()),  # most products are active
    Case("product by id", sa.select(p).where(p.id == P("id")), ()),
    Case("events of a customer", sa.select(e.id).where(e.customer_id == P("cid")), (("events", ("customer_id",)),)),
    Case("orders of customers", sa.select(o.id).where(o.customer_id.in_([1, 2, 3])), (("orders", ("customer_id",)),)),
    Case("order lines with product", sa.select(o.id, p.sku).join(products, p.id == o.product_id).where(o.customer_id == P("cid")),
         (("orders", ("customer_id",)),)),
    Case("customer spend", sa.select(sa.func.sum(o.total_cents)).where(o.customer_id == P("cid")), (("orders", ("customer_id",)),)),
    Case("all events count", sa.select(sa.func.count(e.id)), ()),
    Case("orders by status page", sa.select(o.id).where(o.status == P("s")).order_by(o.id).limit(P("n")), ()),  # the pk order serves it
    Case("cancelled orders of a customer", sa.select(o.id).where(o.customer_id == P("cid"), o.status == sa.literal_column("'cancelled'")),
         (("orders", ("customer_id",)),)),
]


def sql_of(case: Case, dialect: str) -> str:
    compiled = case.query.compile(dialect=sqlite.dialect() if dialect == "sqlite" else postgresql.psycopg.dialect(),
                                  compile_kwargs={"render_postcompile": True})
    text = str(compiled)
    if dialect == "sqlite":
        return text.replace("\n", " ")
    return text.replace("\n", " ")


def generate_sqlite(path: Path, scale: int) -> None:
    db = sqlite3.connect(path)
    n_customers, n_products, n_events = scale // 10, max(scale // 50, 100), scale // 2
    db.executescript(f"""
    CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT, country TEXT, tier TEXT, created_at TEXT);
    CREATE TABLE products (id INTEGER PRIMARY KEY, sku TEXT, category_id INTEGER, price_cents INTEGER, active BOOLEAN);
    CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER, product_id INTEGER, status TEXT, total_cents INTEGER,
                         created_at TEXT, shipped_at TEXT);
    CREATE TABLE events (id INTEGER PRIMARY KEY, customer_id INTEGER, kind TEXT, created_at TEXT, payload TEXT);
    WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < {n_customers})
    INSERT INTO customers SELECT n, 'c' || n || '@shop.test', substr('frdeusukes', 1 + 2 * (n % 5), 2),
      CASE WHEN n % 20 = 0 THEN 'gold' ELSE 'basic' END, datetime('2020-01-01', '+' || (n * 10) || ' minutes') FROM g;
    WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < {n_products})
    INSERT INTO products SELECT n, 'SKU-' || n, n % 200, 100 + (n * 37) % 10000, n % 10 != 0 FROM g;
    WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < {scale})
    INSERT INTO orders SELECT n, 1 + (n * 7919) % {n_customers}, 1 + (n * 104729) % {n_products},
      CASE WHEN n % 100 < 80 THEN 'shipped' WHEN n % 100 < 93 THEN 'delivered' WHEN n % 100 < 95 THEN 'paid'
           WHEN n % 100 < 99 THEN 'pending' ELSE 'cancelled' END,
      (n * 31) % 50000, datetime('2020-01-01', '+' || n || ' minutes'),
      CASE WHEN n % 100 < 93 THEN datetime('2020-01-02', '+' || n || ' minutes') END FROM g;
    WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < {n_events})
    INSERT INTO events SELECT n, 1 + (n * 613) % {n_customers},
      CASE WHEN n % 50 = 0 THEN 'refund' WHEN n % 3 = 0 THEN 'login' ELSE 'view' END,
      datetime('2020-01-01', '+' || (n * 2) || ' minutes'), 'x' FROM g;
    ANALYZE;
    """)
    db.commit()
    db.close()


def generate_postgres(dsn: str, sqlite_path: Path) -> None:
    """The same rows on PostgreSQL, copied from the SQLite variant."""
    import psycopg

    source = sqlite3.connect(sqlite_path)
    with psycopg.connect(dsn, autocommit=True) as db:
        db.execute("DROP TABLE IF EXISTS customers, products, orders, events")
        db.execute("""
        CREATE TABLE customers (id int PRIMARY KEY, email text, country text, tier text, created_at text);
        CREATE TABLE products (id int PRIMARY KEY, sku text, category_id int, price_cents int, active boolean);
        CREATE TABLE orders (id int PRIMARY KEY, customer_id int, product_id int, status text, total_cents int,
                             created_at text, shipped_at text);
        CREATE TABLE events (id int PRIMARY KEY, customer_id int, kind text, created_at text, payload text);
        """)
        for table in ("customers", "products", "orders", "events"):
            rows = source.execute(f"SELECT * FROM {table}")
            columns = [d[0] for d in rows.description]
            with db.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row([bool(v) if table == "products" and i == 4 else v for i, v in enumerate(row)])
        db.execute("VACUUM ANALYZE")
    source.close()


def expert(path: Path, statements: list[str]) -> list[list[str]]:
    """SQLite's `.expert` on each statement: the CREATE INDEX lines it proposes."""
    found: list[list[str]] = []
    for statement in statements:
        script = f".expert\n{statement};\n"
        result = subprocess.run(["sqlite3", str(path)], input=script, capture_output=True, text=True, timeout=300)
        found.append([line.strip() for line in result.stdout.splitlines() if line.startswith("CREATE INDEX")])
    return found


def matches(index: dict[str, Any], expected: tuple[str, tuple[str, ...]]) -> bool:
    table, columns = expected
    return index["table"] == table and tuple(index["columns"][: len(columns)]) == columns


def score(document: dict[str, Any], label: str) -> dict[str, Any]:
    needed = recommended_needed = not_needed = missed = 0
    rows = []
    for case, query in zip(WORKLOAD, document["queries"]):
        recs = [index for index in document["indexes"] if any(q["query_id"] == query["id"] for q in index["queries"])]
        hit = [expected for expected in case.expected if any(matches(index, expected) for index in recs)]
        needed += 1 if case.expected else 0
        recommended_needed += 1 if case.expected and hit else 0
        missed += 1 if case.expected and not hit else 0
        extra = [index for index in recs if not any(matches(index, expected) for expected in case.expected)]
        not_needed += len(extra)
        for served in [q for index in recs for q in index["queries"] if q["query_id"] == query["id"]]:
            before = served["proven_ms_before"] if served["proven_ms_before"] is not None else served["cost_before"]
            after = served["proven_ms_after"] if served["proven_ms_after"] is not None else served["cost_after"]
            rows.append((case.name, before, after))
        status = "ok" if (bool(hit) == bool(case.expected) and not extra) else ("MISSED" if case.expected and not hit else "EXTRA")
        print(f"  [{label}] {status:6} {case.name:35} expected {list(case.expected) or 'none'}; "
              f"recommended {[(i['table'], i['columns'], i['where']) for i in recs] or 'none'}")
    return {"needed": needed, "recommended_needed": recommended_needed, "missed": missed, "not_needed": not_needed,
            "speedups": [(name, round(before, 3), round(after, 3), round(before / after, 1) if after else None)
                         for name, before, after in rows]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000, help="orders rows (customers 1/10, events 1/2, products 1/50)")
    parser.add_argument("--postgres", help="a libpq DSN of a PostgreSQL with HypoPG available (its tables are replaced)")
    parser.add_argument("--out", type=Path, default=Path("bench/.work/explain_bench.json"))
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="backbone-explain-bench-"))
    results: dict[str, Any] = {"orders": args.orders, "queries": len(WORKLOAD)}
    try:
        db = work / "shop.db"
        start = time.perf_counter()
        generate_sqlite(db, args.orders)
        total_rows = sum(sqlite3.connect(db).execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                         for t in ("customers", "products", "orders", "events"))
        print(f"generated {total_rows:,} rows in {time.perf_counter() - start:.1f}s")
        results["rows"] = total_rows
        statements = [Statement(sql_of(case, "sqlite"), "argument", case.name, 1) for case in WORKLOAD]
        start = time.perf_counter()
        report = report_json(explain(statements, ExplainOptions(database_url=f"sqlite:///{db}")))
        results["sqlite_seconds"] = round(time.perf_counter() - start, 1)
        results["sqlite"] = score(report, "sqlite")
        executed = [query["executed_sql"] for query in report["queries"]]
        proposals = expert(db, executed)
        results["sqlite_expert"] = {
            "recommended_needed": sum(1 for case, found in zip(WORKLOAD, proposals)
                                      if case.expected and any(_expert_matches(line, expected) for line in found for expected in case.expected)),
            "not_needed": sum(1 for case, found in zip(WORKLOAD, proposals) for line in found
                              if not any(_expert_matches(line, expected) for expected in case.expected)),
            "proposals": {case.name: found for case, found in zip(WORKLOAD, proposals)},
        }
        if args.postgres:
            generate_postgres(args.postgres, db)
            statements = [Statement(sql_of(case, "postgresql"), "argument", case.name, 1) for case in WORKLOAD]
            start = time.perf_counter()
            report = report_json(explain(statements, ExplainOptions(database_url=args.postgres, prove=True)))
            results["postgres_seconds"] = round(time.perf_counter() - start, 1)
            results["postgres"] = score(report, "postgres")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    for label in ("sqlite", "sqlite_expert", "postgres"):
        if label in results:
            r = results[label]
            print(f"{label}: {r['recommended_needed']}/{results['sqlite']['needed']} needed indexes recommended, "
                  f"{r['not_needed']} recommended that are not needed")
    print(f"wrote {args.out}")
    return 0


def _expert_matches(line: str, expected: tuple[str, tuple[str, ...]]) -> bool:
    table, columns = expected
    head, _, rest = line.partition(" ON ")
    name, _, column_text = rest.partition("(")
    found = tuple(part.strip().split()[0].strip('"') for part in column_text.rstrip(");").split(",") if part.strip())
    return name.strip() == table and found[: len(columns)] == columns


if __name__ == "__main__":
    sys.exit(main())
