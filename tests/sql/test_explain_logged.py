"""`backbone explain` on what a live PostgreSQL 15 recorded: auto_explain JSON plans in its log
(read as logged, with their actual times, not re-run) and the top statements of
pg_stat_statements, on a server started with both libraries preloaded."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from explain_support import POSTGRES_SHOP, explain_json, run_explain

from backbone.migrations.scratch import scratch_postgres

SETTINGS = (
    "shared_preload_libraries=auto_explain,pg_stat_statements",
    "auto_explain.log_min_duration=0",
    "auto_explain.log_format=json",
    "auto_explain.log_analyze=on",
)
BY_CUSTOMER = "SELECT id, total FROM orders WHERE customer_id = %s"


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, Path]]:
    """(the shop database's connection string, the server's log)."""
    with scratch_postgres(settings=SETTINGS) as dsn:
        log = Path(dsn.split()[0].removeprefix("host=")).parent / "server.log"
        with psycopg.connect(dsn, autocommit=True) as admin:
            admin.execute("CREATE DATABASE shop")
            admin.execute("CREATE DATABASE bare")
        shop = dsn.replace("dbname=postgres", "dbname=shop")
        with psycopg.connect(shop, autocommit=True) as connection:
            connection.execute(POSTGRES_SHOP.encode())
            connection.execute("CREATE EXTENSION pg_stat_statements")
        yield shop, log


def test_auto_explain_json_plans_are_read_as_logged_with_their_actual_times(server: tuple[str, Path], tmp_path: Path) -> None:
    shop, log = server
    start = log.stat().st_size
    with psycopg.connect(shop) as connection:  # the service's query, with a bound parameter
        connection.execute(BY_CUSTOMER, (42,)).fetchall()
    excerpt = tmp_path / "postgresql.log"
    with log.open("rb") as whole:
        whole.seek(start)
        excerpt.write_bytes(whole.read())
    assert "plan:" in excerpt.read_text()
    code, document = explain_json("--database", shop, "--log", str(excerpt))
    assert code == 1, document
    [query] = [q for q in document["queries"] if "customer_id" in q["sql"]]  # type: ignore[attr-defined]
    assert query["sql"] == "SELECT id, total FROM orders WHERE customer_id = $1"
    assert query["origin"] == "log" and query["analyzed"] is True
    assert any(note.startswith("plan read from the log (auto_explain), with its actual times") for note in query["notes"])
    scan = query["plan"]
    assert scan["kind"] == "Seq Scan" and scan["actual_rows"] == 12 and scan["rows_removed"] == 59_988  # as it ran for 42
    assert [f["code"] for f in query["findings"]] == ["EX101", "EX110"]
    assert "keeping about 0.0% of them" in query["findings"][0]["message"]
    [index] = document["indexes"]  # type: ignore[misc]
    assert (index["table"], index["columns"]) == ("orders", ["customer_id"])


def test_a_broken_auto_explain_plan_is_a_problem_line_not_a_traceback(tmp_path: Path) -> None:
    log = tmp_path / "postgresql.log"
    log.write_text("2026-01-05 10:00:00.000 UTC [7] LOG:  duration: 3.250 ms  plan:\n\t{\"Query Text\": \"SELECT 1\",\n\t  \"Plan\": {\n"
                   "2026-01-05 10:00:01.000 UTC [7] LOG:  duration: 1.000 ms  plan:\n\t{\"Plan\": {\"Node Type\": \"Result\"}}\n")
    code, out, err = run_explain("--database", f"sqlite:///{tmp_path / 'app.db'}", "--log", str(log))
    assert code == 2 and out == "" and "Traceback" not in err
    assert f"{log}:1: an auto_explain plan that is not JSON" in err
    assert f"{log}:4: an auto_explain plan without its \"Query Text\" and \"Plan\"" in err


def test_pg_stat_statements_top_statements_with_their_calls(server: tuple[str, Path]) -> None:
    shop, _ = server
    with psycopg.connect(shop) as connection:
        connection.execute("SELECT pg_stat_statements_reset()")
        for customer in range(30):
            connection.execute(BY_CUSTOMER, (customer,)).fetchall()
        connection.execute("SELECT count(*) FROM customers WHERE country = %s", ("fr",)).fetchall()
    code, document = explain_json("--database", shop, "--pg-stat-statements")
    assert code == 1, document
    queries = {q["sql"]: q for q in document["queries"]}  # type: ignore[attr-defined]
    assert set(queries) == {"SELECT id, total FROM orders WHERE customer_id = $1",
                            "SELECT count(*) FROM customers WHERE country = $1"}
    top = document["queries"][0]  # type: ignore[index]
    assert top["sql"] == "SELECT id, total FROM orders WHERE customer_id = $1"
    assert top["origin"] == "pg_stat_statements" and top["note"].startswith("30 calls, ")
    assert top["executed_sql"].startswith("SELECT id, total FROM orders WHERE customer_id = ")
    [index] = document["indexes"]  # type: ignore[misc]
    assert (index["table"], index["columns"]) == ("orders", ["customer_id"])


def test_pg_stat_statements_not_created_in_the_database(server: tuple[str, Path]) -> None:
    bare = server[0].replace("dbname=shop", "dbname=bare")
    code, out, err = run_explain("--database", bare, "--pg-stat-statements")
    assert code == 2 and out == ""
    assert "the pg_stat_statements extension is not created in this database: run CREATE EXTENSION pg_stat_statements" in err


def test_pg_stat_statements_not_loaded_by_the_server(postgres_dsn: str) -> None:
    code, out, err = run_explain("--database", postgres_dsn, "--pg-stat-statements")
    assert code == 2 and out == ""
    assert "pg_stat_statements is not loaded: add it to shared_preload_libraries" in err


def test_pg_stat_statements_on_sqlite_is_refused(tmp_path: Path) -> None:
    code, _, err = run_explain("--database", f"sqlite:///{tmp_path / 'app.db'}", "--pg-stat-statements")
    assert code == 2 and "--pg-stat-statements needs a PostgreSQL database" in err
