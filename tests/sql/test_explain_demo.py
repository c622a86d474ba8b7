"""The `make demo` step of backbone explain: the shop's own schema with 100,000 orders, and
the statements its ORM code sends."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from explain_support import explain_json

ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_database_and_statements_get_the_shops_missing_indexes(tmp_path: Path) -> None:
    database = tmp_path / "shop.db"
    subprocess.run([sys.executable, str(ROOT / "examples/shop/scripts/make_explain_db.py"), "--out", str(database)],
                   check=True, capture_output=True, timeout=240)
    code, document = explain_json("--database", f"sqlite:///{database}", "-f", str(ROOT / "examples/shop/slow_queries.sql"))
    assert code == 1
    indexes = {(index["table"], tuple(index["columns"]), index["where"]) for index in document["indexes"]}  # type: ignore[union-attr]
    # send_payment_reminders: only pending, unreminded orders, keyed on their age.
    assert ("orders", ("created_at",), "status = 'PENDING' AND reminder_sent_at IS NULL") in indexes
    # The existing ix_orders_customer_id is respected: no index on customer_id alone.
    assert not any(columns == ("customer_id",) for _, columns, _ in indexes)
