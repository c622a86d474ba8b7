"""Databases for the `backbone explain` tests: a shop (customers, orders) on SQLite and on the
throwaway PostgreSQL server, large enough that a missing index shows in the plan."""

from __future__ import annotations

import json
import random
import sqlite3
from collections.abc import Sequence
from pathlib import Path

from backbone.cli import main

CUSTOMERS = 5_000
ORDERS = 60_000


def make_sqlite_shop(path: Path, *, extra: Sequence[str] = ()) -> Path:
    rng = random.Random(7)
    with sqlite3.connect(path) as db:
        db.executescript(
            "CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT NOT NULL, country TEXT NOT NULL);"
            "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, status TEXT NOT NULL,"
            " total INTEGER NOT NULL, created_at TEXT NOT NULL);"
        )
        db.executemany("INSERT INTO customers VALUES (?, ?, ?)",
                       [(n, f"c{n}@shop.test", rng.choice(["fr", "de", "us"])) for n in range(1, CUSTOMERS + 1)])
        db.executemany(
            "INSERT INTO orders (customer_id, status, total, created_at) VALUES (?, ?, ?, ?)",
            [(rng.randint(1, CUSTOMERS), "pending" if n % 50 == 0 else "paid", rng.randint(1, 900),
              f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}") for n in range(ORDERS)],
        )
        for statement in extra:
            db.execute(statement)
    db.close()
    return path


POSTGRES_SHOP = f"""
CREATE TABLE customers (id serial PRIMARY KEY, email text NOT NULL, country text NOT NULL);
CREATE TABLE orders (id serial PRIMARY KEY, customer_id int NOT NULL, status text NOT NULL, total int NOT NULL,
                     created_at timestamptz NOT NULL);
INSERT INTO customers (email, country)
  SELECT 'c' || g || '@shop.test', (ARRAY['fr', 'de', 'us'])[1 + g % 3] FROM generate_series(1, {CUSTOMERS}) g;
INSERT INTO orders (customer_id, status, total, created_at)
  SELECT 1 + (g * 7919) % {CUSTOMERS}, CASE WHEN g % 50 = 0 THEN 'pending' ELSE 'paid' END, g % 900,
         timestamptz '2025-01-01' + (g || ' minutes')::interval
  FROM generate_series(1, {ORDERS}) g;
ANALYZE;
"""


def run_explain(*args: str) -> tuple[int, str, str]:
    """`backbone explain ARGS` in-process: (exit code, stdout, stderr)."""
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["explain", *args])
    return code, out.getvalue(), err.getvalue()


def explain_json(*args: str) -> tuple[int, dict[str, object]]:
    code, out, err = run_explain(*args, "--format", "json")
    assert out, err
    document = json.loads(out)
    assert isinstance(document, dict)
    return code, document
