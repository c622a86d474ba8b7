"""`backbone explain` on SQLite files: EXPLAIN QUERY PLAN read, candidates tried on a copy
after ANALYZE (as `.expert` does), the fix in SQL, Django and Alembic terms."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest
from explain_support import explain_json, make_sqlite_shop, run_explain


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_sqlite_shop(tmp_path_factory.mktemp("shop") / "shop.db")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _indexes(document: dict[str, object]) -> list[tuple[str, list[str]]]:
    indexes = document["indexes"]
    assert isinstance(indexes, list)
    return [(index["table"], index["columns"]) for index in indexes]


def test_equality_then_sort_column_index_is_recommended_and_the_file_is_untouched(shop: Path) -> None:
    before = _digest(shop)
    code, document = explain_json("--database", f"sqlite:///{shop}",
                                  "SELECT id, total FROM orders WHERE status = ? ORDER BY created_at DESC LIMIT ?")
    assert code == 1
    assert _indexes(document) == [("orders", ["status", "created_at"])]
    [index] = document["indexes"]  # type: ignore[misc]
    assert index["create_index"] == "CREATE INDEX IF NOT EXISTS orders_status_created_at_idx ON orders (status, created_at);"
    [served] = index["queries"]
    assert served["unit"] == "ms" and served["cost_after"] < served["cost_before"] / 2
    [query] = document["queries"]  # type: ignore[misc]
    assert [f["code"] for f in query["findings"]] == ["EX101", "EX106", "EX110"]
    # The `?` was filled with a value sampled from the table.
    assert sorted(query["parameters"]) == ["LIMIT 20 (a page size)",
                                           "orders.status: 'paid' (the most common value in a sample of 10,000 rows)"]
    assert query["plan"]["children"][0]["detail"] == "SCAN orders" and query["plan"]["children"][0]["hot"] is True
    assert query["plan"]["children"][1]["kind"] == "USE TEMP B-TREE FOR ORDER BY"
    assert _digest(shop) == before
    assert [row[0] for row in sqlite3.connect(shop).execute("SELECT name FROM sqlite_master WHERE type = 'index'")] == []


def test_an_existing_index_is_respected_no_duplicate_and_no_covered_prefix(tmp_path: Path) -> None:
    db = make_sqlite_shop(tmp_path / "indexed.db", extra=["CREATE INDEX orders_by_customer ON orders (customer_id, created_at)"])
    code, document = explain_json("--database", f"sqlite:///{db}",
                                  "SELECT id FROM orders WHERE customer_id = ? ORDER BY created_at")
    assert code == 0 and _indexes(document) == []
    [query] = document["queries"]  # type: ignore[misc]
    tried = [trial["columns"] for trial in query["trials"]]
    assert ["customer_id", "created_at"] not in tried and ["customer_id"] not in tried


def test_a_join_gets_the_index_on_its_inner_side_and_the_filter_column(shop: Path) -> None:
    code, document = explain_json(
        "--database", f"sqlite:///{shop}",
        "SELECT o.id FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.email = 'c17@shop.test'",
    )
    assert code == 1
    assert sorted(_indexes(document)) == [("customers", ["email"]), ("orders", ["customer_id"])]
    [query] = document["queries"]  # type: ignore[misc]
    assert "EX101" not in [f["code"] for f in query["findings"]]  # the join's scan is no filter


def test_a_fast_query_gets_no_index(shop: Path) -> None:
    code, document = explain_json("--database", f"sqlite:///{shop}", "SELECT email FROM customers WHERE id = 3")
    assert code == 0 and _indexes(document) == []


def test_text_report_shows_the_plan_the_hot_node_and_a_partial_index_in_three_forms(shop: Path) -> None:
    code, out, _ = run_explain("--database", f"sqlite:///{shop}", "SELECT count(*) FROM orders WHERE status = 'pending' AND total > 500")
    assert code == 1
    assert "-> SCAN orders   ◀ hot" in out
    # The findings in the shared text format: place, code, severity, message.
    assert "EX101 [warning] A sequential scan reads all 60,000 rows of orders." in out
    assert "Django: models.Index(fields=" in out and "Alembic: op.create_index(" in out
    # The constant predicate makes a partial index, as narrow as the full one is fast.
    assert "CREATE INDEX IF NOT EXISTS orders_total_partial_idx ON orders (total) WHERE status = 'pending';" in out
    assert """models.Index(fields=["total"], name="orders_total_partial_idx", condition=Q(status='pending'))""" in out


def test_analyze_on_sqlite_says_what_it_does(shop: Path) -> None:
    code, out, _ = run_explain("--database", f"sqlite:///{shop}", "--analyze", "SELECT email FROM customers WHERE id = 3")
    assert code == 0 and "SQLite has no EXPLAIN ANALYZE" in out


def test_markdown_report(shop: Path) -> None:
    code, out, _ = run_explain("--database", f"sqlite:///{shop}", "--format", "markdown",
                               "SELECT id FROM orders WHERE customer_id = 12")
    assert code == 1 and out.startswith("# backbone explain: sqlite:///")
    # The shared Markdown report: the advice as list items, escaped like any text.
    assert "- Recommended index on orders" in out and "- SQL: CREATE INDEX IF NOT EXISTS orders\\_customer\\_id\\_idx" in out


def test_html_report_marks_the_hot_node_and_escapes_the_statement(shop: Path, tmp_path: Path) -> None:
    out_file = tmp_path / "explain.html"
    code, out, _ = run_explain("--database", f"sqlite:///{shop}", "--format", "html", "-o", str(out_file),
                               "SELECT id FROM orders WHERE customer_id = 12 AND status <> '<b>'")
    page = out_file.read_text()
    assert code == 1 and out == "" and page.startswith("<!DOCTYPE html>")
    assert '<span class="hot">    -&gt; SCAN orders   ◀ hot</span>' in page
    assert "status &lt;&gt; &#x27;&lt;b&gt;&#x27;" in page and "<b>'" not in page
    assert "Recommended index on orders" in page


def test_statements_from_a_file_keep_their_lines_and_a_broken_one_does_not_stop_the_rest(shop: Path, tmp_path: Path) -> None:
    sql = tmp_path / "queries.sql"
    sql.write_text("SELECT * FROM missing_table WHERE x = 1;\n\n-- the slow one\nSELECT id FROM orders\n WHERE customer_id = 5;\n")
    code, document = explain_json("--database", f"sqlite:///{shop}", "-f", str(sql))
    first, second = document["queries"]  # type: ignore[misc]
    assert (first["line"], first["findings"][0]["code"]) == (1, "EX100") and "missing_table" in first["error"]
    assert second["line"] == 4 and second["recommended"]
    assert code == 1


def test_profile_report_statements_keep_their_call_site(shop: Path, tmp_path: Path) -> None:
    profile = tmp_path / "profile.json"
    profile.write_text(json.dumps({
        "version": 1, "routes": [],
        "findings": [
            {"code": "RT101", "path": "shop/routers/orders.py", "line": 40, "route": "GET /customers",
             "fingerprint": "SELECT id, total FROM orders WHERE customer_id = ?",
             "sql": "SELECT id, total FROM orders WHERE customer_id = ?", "repeat_count": 25,
             "call_site": {"path": "shop/services/orders.py", "line": 88, "function": "orders_of"}},
            {"code": "RT103", "path": "shop/main.py", "line": 3},
        ],
    }))
    code, out, _ = run_explain("--database", f"sqlite:///{shop}", "--profile", str(profile))
    assert code == 1
    assert "from shop/services/orders.py:88 in orders_of() (RT101 N+1, 25 times in GET /customers)" in out
    assert "issued at shop/services/orders.py:88" in out
    code, document = explain_json("--database", f"sqlite:///{shop}", "--profile", str(profile))
    [query] = document["queries"]  # type: ignore[misc]
    assert {(f["path"], f["line"]) for f in query["findings"]} == {("shop/services/orders.py", 88)}


def test_a_postgres_slow_statement_log_is_an_input_and_query_ids_match_backbone_debug(shop: Path, tmp_path: Path) -> None:
    from backbone.logs import analyze

    log = tmp_path / "postgresql.log"
    log.write_text(
        "2025-03-01 10:00:00.000 UTC [42] LOG:  duration: 812.5 ms  statement: SELECT id FROM orders\n"
        "\tWHERE customer_id = 12\n"
        "2025-03-01 10:00:01.000 UTC [42] LOG:  checkpoint starting: time\n"
        "2025-03-01 10:00:02.000 UTC [42] LOG:  duration: 2.0 ms  statement: SELECT email FROM customers WHERE id = 1\n"
    )
    # The id `backbone debug` shows for the slow statement of this log.
    wanted = next(query.fingerprint for query in analyze([log]).slow_queries if "orders" in query.statement)
    code, document = explain_json("--database", f"sqlite:///{shop}", "--log", str(log), "--query", wanted)
    [query] = document["queries"]  # type: ignore[misc]
    assert query["id"] == wanted and query["note"] == "logged at 812.5 ms" and query["line"] == 1
    assert code == 1


def test_a_missing_or_broken_database_is_one_line_and_exit_2(tmp_path: Path) -> None:
    code, out, err = run_explain("--database", f"sqlite:///{tmp_path / 'nope.db'}", "SELECT 1")
    assert (code, out) == (2, "") and err.count("\n") == 1 and "no such SQLite file" in err
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not a database" * 100)
    code, out, err = run_explain("--database", f"sqlite:///{garbage}", "SELECT 1")
    assert (code, out) == (2, "") and err.count("\n") == 1 and "not a database" in err
    code, _, err = run_explain("--database", "mysql://root:topsecret@db/x", "SELECT 1")
    assert code == 2 and "topsecret" not in err


def test_an_unreadable_input_is_reported_after_the_rest_of_the_report(shop: Path, tmp_path: Path) -> None:
    broken = tmp_path / "profile.json"
    broken.write_text("{not json")
    code, out, err = run_explain("--database", f"sqlite:///{shop}", "--profile", str(broken), "SELECT id FROM orders WHERE id = 1")
    assert code == 2 and "1 queries explained" in out and "not a backbone profile JSON report" in err
    code, out, err = run_explain("--database", f"sqlite:///{shop}", "--profile", str(tmp_path / "absent.json"))
    assert code == 2 and "nothing to explain" in err and "absent.json" in err


def test_an_index_that_also_serves_the_order_by_beats_a_narrower_one_as_fast(shop: Path) -> None:
    # About 12 orders per customer: sorting them costs nothing measurable, but the index that
    # reads them in order leaves no sort in the plan.
    code, document = explain_json("--database", f"sqlite:///{shop}",
                                  "SELECT id FROM orders WHERE customer_id = ? ORDER BY created_at DESC")
    assert code == 1 and _indexes(document) == [("orders", ["customer_id", "created_at"])]
