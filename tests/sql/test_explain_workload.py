"""`backbone explain --workload` on a real PostgreSQL 15 with HypoPG: one set of indexes for
many statements (greedy by cost saved x calls, no index a chosen one covers as a prefix), and
the write cost of each index on a write-heavy table."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from explain_support import POSTGRES_SHOP, explain_json, run_explain
from test_explain_postgres import _database

READS = (
    "SELECT id, total FROM orders WHERE customer_id = 42;\n"
    "SELECT id, total FROM orders WHERE customer_id = 43 AND status = 'pending';\n"
    "SELECT id FROM customers WHERE email = 'c42@shop.test';\n"
)
SIGNUPS = "".join(f"INSERT INTO customers (email, country) VALUES ('new{n}@shop.test', 'fr');\n" for n in range(300))


@pytest.fixture(scope="module")
def shop(postgres_dsn: str) -> Iterator[str]:
    yield from _database(postgres_dsn, "explain_workload", POSTGRES_SHOP)


def _workload(shop: str, tmp_path: Path, sql: str, *args: str) -> dict[str, object]:
    statements = tmp_path / "workload.sql"
    statements.write_text(sql)
    code, document = explain_json("--database", shop, "-f", str(statements), *args)
    assert code == 1, document
    return document


def _chosen(document: dict[str, object]) -> list[tuple[str, list[str]]]:
    return [(choice["table"], choice["columns"]) for choice in document["workload"] if choice["accepted"]]  # type: ignore[attr-defined]


def test_one_index_serves_the_queries_that_per_query_advice_gives_two(shop: str, tmp_path: Path) -> None:
    each = _workload(shop, tmp_path, READS)
    per_query = sorted((index["table"], index["columns"]) for index in each["indexes"])  # type: ignore[attr-defined]
    assert ("orders", ["customer_id"]) in per_query and len([t for t, _ in per_query if t == "orders"]) == 2
    document = _workload(shop, tmp_path, READS, "--workload")
    chosen = _chosen(document)
    assert [columns for table, columns in chosen if table == "orders"] == [["customer_id", "status"]]
    skipped = {tuple(c["columns"]): c["reason"] for c in document["workload"]
               if not c["accepted"] and not c["include"]}  # type: ignore[attr-defined]
    assert skipped[("customer_id",)] == "covered by the chosen index orders_customer_id_status_idx"
    indexes = {index["name"]: len(index["queries"]) for index in document["indexes"]}  # type: ignore[attr-defined]
    assert indexes["orders_customer_id_status_idx"] == 2  # both order queries use it
    statements = tmp_path / "workload.sql"
    code, text, _ = run_explain("--database", shop, "-f", str(statements), "--workload")
    assert code == 1
    assert "Workload: 1 indexes chosen for 3 statements" in text
    assert "  chosen: CREATE INDEX orders_customer_id_status_idx ON orders (customer_id, status): benefit " in text


def test_an_index_on_a_write_heavy_table_is_not_recommended_when_writes_outweigh_it(shop: str, tmp_path: Path) -> None:
    document = _workload(shop, tmp_path, READS + SIGNUPS, "--workload", "--min-cost", "50")
    assert ("customers", ["email"]) not in _chosen(document)
    [email] = [c for c in document["workload"] if c["columns"] == ["email"] and not c["include"]]  # type: ignore[attr-defined]
    assert email["writes"] == 300 and email["write_penalty"] == 3000.0 and 0 < email["benefit"] < 3000
    assert email["reason"].startswith(f"benefit {email['benefit']:,.1f} does not exceed its write penalty 3,000.0 (300 writes")
    assert not any(index["table"] == "customers" for index in document["indexes"])  # type: ignore[attr-defined]
    # The same reads repeated often enough outweigh the writes.
    document = _workload(shop, tmp_path, READS * 1 + "SELECT id FROM customers WHERE email = 'c7@shop.test';\n" * 40 + SIGNUPS,
                         "--workload", "--min-cost", "50")
    assert ("customers", ["email"]) in _chosen(document)
    # With no cost per write, the signups weigh nothing.
    document = _workload(shop, tmp_path, READS + SIGNUPS, "--workload", "--min-cost", "50", "--write-cost", "0")
    assert ("customers", ["email"]) in _chosen(document)
