"""A SQLite copy of the shop's database with a realistic amount of data, for `backbone explain`
in `make demo`: the shop's own tables (created from shop.models), 5,000 customers and
100,000 orders, so that a missing index shows in the plan and in the timings.

    python examples/shop/scripts/make_explain_db.py --out build/demo/shop.db
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import sys
from datetime import datetime, timedelta
from pathlib import Path

CUSTOMERS = 5_000
PRODUCTS = 40
ORDERS = 100_000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    out = parser.parse_args().out
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from sqlalchemy import create_engine

    from shop.models import Base

    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    engine = create_engine(f"sqlite:///{out}")
    Base.metadata.create_all(engine)
    engine.dispose()
    rng = random.Random(14)
    start = datetime(2025, 1, 1)
    with sqlite3.connect(out) as db:
        db.executemany(
            "INSERT INTO customers (id, email, full_name, password_hash, store_credit_cents, is_active, created_at)"
            " VALUES (?, ?, ?, '-', 0, 1, ?)",
            [(n, f"customer{n}@example.com", f"Customer {n}", str(start)) for n in range(1, CUSTOMERS + 1)],
        )
        db.executemany(
            "INSERT INTO products (id, sku, name, description, price_cents, currency, stock, created_at)"
            " VALUES (?, ?, ?, '', ?, 'EUR', 1000, ?)",
            [(n, f"MUG-{n:02d}", f"Enamel mug {n}", 1200 + 50 * n, str(start)) for n in range(1, PRODUCTS + 1)],
        )
        statuses = ["PAID"] * 80 + ["SHIPPED"] * 17 + ["PENDING"] * 2 + ["CANCELLED"]
        db.executemany(
            "INSERT INTO orders (id, customer_id, status, currency, total_cents, amount_due_cents, created_at)"
            " VALUES (?, ?, ?, 'EUR', ?, 0, ?)",
            [(n, rng.randint(1, CUSTOMERS), rng.choice(statuses), rng.randint(500, 20_000),
              str(start + timedelta(minutes=5 * n))) for n in range(1, ORDERS + 1)],
        )
    db.close()
    print(f"Wrote {out}: {CUSTOMERS:,} customers, {PRODUCTS} products, {ORDERS:,} orders.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
