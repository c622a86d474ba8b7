"""Reading a statement for index candidates, filling its parameters, and showing database URLs."""

from __future__ import annotations

import pytest

from backbone.sql.advice import alembic_index, django_index
from backbone.sql.database import DatabaseError, parse_database_url, without_password
from backbone.sql.inputs import split_statements
from backbone.sql.model import ExistingIndex, IndexCandidate
from backbone.sql.shape import ShapeError, candidates, fill_parameters, is_read_only, parse, table_uses


def _candidates(sql: str, existing: dict[str, list[ExistingIndex]] | None = None, include: bool = True) -> list[IndexCandidate]:
    return candidates(table_uses(parse(sql, "postgresql")), existing or {}, include=include, partial=True)


def test_columns_are_ordered_equality_then_range_then_sort() -> None:
    found = _candidates("SELECT id FROM orders WHERE created_at > %s AND customer_id = %s ORDER BY total")
    keys = [candidate.columns for candidate in found if not candidate.include]
    assert keys[:3] == [("customer_id", "created_at"), ("customer_id", "total"), ("customer_id",)]


def test_a_constant_predicate_makes_a_partial_candidate_and_read_columns_a_covering_one() -> None:
    found = _candidates("SELECT o.id, o.total FROM orders o WHERE o.status = 'pending' AND o.customer_id = $1")
    assert IndexCandidate("orders", ("customer_id",), where="status = 'pending'") in [
        IndexCandidate(c.table, c.columns, c.include, c.where) for c in found]
    covering = [c for c in found if c.include]
    assert [(c.columns, c.include) for c in covering] == [(("status", "customer_id"), ("id", "total"))]
    assert not [c for c in _candidates("SELECT * FROM orders WHERE customer_id = 1") if c.include]  # `*`: no covering


def test_existing_indexes_remove_duplicates_and_covered_prefixes() -> None:
    existing = {"orders": [ExistingIndex("orders_c_s", "orders", ("customer_id", "status"))]}
    found = _candidates("SELECT id FROM orders WHERE customer_id = 1 AND status = 'x'", existing, include=False)
    # (customer_id, status) is a duplicate, (customer_id) its prefix; (status) leads another index.
    assert [c.columns for c in found] == [("status",)]
    partial = [ExistingIndex("p", "orders", ("customer_id",), where="(status = 'x'::text)")]
    assert ExistingIndex("p", "orders", ("customer_id",), "status = 'x'").covers(IndexCandidate("orders", ("customer_id",), where="status = 'x'"))
    assert not partial[0].covers(IndexCandidate("orders", ("customer_id",)))


def test_unqualified_columns_of_a_join_are_placed_by_the_schema() -> None:
    tree = parse("SELECT title FROM books JOIN authors ON authors.id = books.author_id WHERE name = %s", "postgresql")
    uses = table_uses(tree, {"authors": ("id", "name"), "books": ("id", "author_id", "title")})
    assert uses["authors"].equality == ["name"] and uses["books"].joined == ["author_id"]


def test_parameters_are_filled_from_the_sampler_with_the_column_they_are_compared_with() -> None:
    asked: list[tuple[str, str]] = []

    def sample(table: str, column: str, quantile: float | None) -> tuple[object, str]:
        asked.append((table, column, quantile))
        return (7 if column == "customer_id" else "paid" if quantile is None else f"q{quantile}"), "sampled"

    tree = parse("SELECT id FROM orders WHERE customer_id = %s AND status IN (%s, %s) AND note LIKE %s "
                 "AND created_at >= %s AND %s > paid_at LIMIT %s OFFSET %s", "postgresql")
    sql, filled, shown = fill_parameters(tree, "postgresql", {}, sample)
    assert shown == sql
    assert sql == ("SELECT id FROM orders WHERE customer_id = 7 AND status IN ('paid', 'paid') AND note LIKE 'pai%' "
                   "AND created_at >= 'q0.9' AND 'q0.1' > paid_at LIMIT 20 OFFSET 0")
    # Equalities ask for the most common value; ranges for the value that keeps about 10% of the rows
    # (`? > paid_at` is `paid_at < ?`).
    assert sorted(set(asked), key=str) == [("orders", "created_at", 0.9), ("orders", "customer_id", None),
                                           ("orders", "note", None), ("orders", "paid_at", 0.1), ("orders", "status", None)]
    assert "orders.customer_id: 7 (sampled)" in filled


def test_placeholders_with_a_cast_are_read_as_sqlalchemy_writes_them_for_postgresql() -> None:
    tree = parse("SELECT orders.id FROM orders WHERE orders.customer_id = %(cid)s::INTEGER AND orders.total > $2", "postgresql")
    sql, filled, _ = fill_parameters(tree, "postgresql", {}, lambda table, column, quantile: (5, "sampled"))
    assert sql == "SELECT orders.id FROM orders WHERE orders.customer_id = CAST(5 AS INT) AND orders.total > 5"
    assert sorted(filled) == ["orders.customer_id: 5 (sampled)", "orders.total: 5 (sampled)"]


def test_reads_and_writes() -> None:
    assert is_read_only(parse("SELECT 1 FROM t WHERE a = 1", "postgresql"))
    assert not is_read_only(parse("WITH d AS (DELETE FROM t RETURNING id) SELECT * FROM d", "postgresql"))
    assert not is_read_only(parse("UPDATE t SET a = 1", "postgresql"))
    assert not is_read_only(parse("SELECT * FROM t FOR UPDATE", "postgresql"))
    with pytest.raises(ShapeError):
        parse("SELEC nonsense ((", "postgresql")


def test_fix_texts_in_the_projects_terms() -> None:
    candidate = IndexCandidate("orders", ("customer_id", "created_at"), include=("total",), where="status = 'paid' AND archived = FALSE")
    assert django_index(candidate) == ('models.Index(fields=["customer_id", "created_at"], name="orders_customer_id_created_at_", '
                                       'include=["total"], condition=Q(status=\'paid\', archived=False))')
    assert alembic_index(candidate, "postgresql") == (
        'op.create_index("orders_customer_id_created_at_partial_idx", "orders", ["customer_id", "created_at"], '
        'postgresql_include=["total"], postgresql_where=sa.text("status = \'paid\' AND archived = FALSE"), postgresql_concurrently=True)')


def test_database_urls_are_shown_without_their_password() -> None:
    assert without_password("postgresql://app:s3cret-pass@db:5432/shop") == "postgresql://app:***@db:5432/shop"
    assert without_password("postgresql://db/shop?user=app&password=s3cret-pass") == "postgresql://db/shop?user=app&password=***"
    assert without_password("host=db dbname=shop password=s3cret-pass") == "host=db dbname=shop password=***"
    assert parse_database_url("postgresql+psycopg://app@db/shop").target == "postgresql://app@db/shop"
    assert parse_database_url("sqlite:///data/app.db").target == "data/app.db"
    assert parse_database_url("sqlite:////srv/app.db").target == "/srv/app.db"
    with pytest.raises(DatabaseError, match="not a database URL"):
        parse_database_url("mysql://root:pw@db/x")


def test_statements_are_split_on_semicolons_outside_strings() -> None:
    statements = split_statements("SELECT ';' FROM t;\nSELECT 2;", "q.sql", "file")
    assert [(s.sql, s.line) for s in statements] == [("SELECT ';' FROM t", 1), ("SELECT 2", 2)]


def test_a_value_sampled_from_a_secret_like_column_is_never_shown() -> None:
    token = "a8f5f167f44f4964e6c998dee827110c"
    tree = parse("SELECT id FROM customers WHERE password_reset_token = ? AND email = ?", "sqlite")
    sql, filled, shown = fill_parameters(tree, "sqlite", {}, lambda table, column, quantile: (
        (token if column == "password_reset_token" else "c1@shop.test"), "sampled"))
    assert token in sql  # the statement that runs has the value
    assert token not in shown and token not in " ".join(filled)
    assert "customers.password_reset_token: 'a8f5…(32 chars)' (sampled)" in filled
    assert "customers.email: 'c1@shop.test' (sampled)" in filled
