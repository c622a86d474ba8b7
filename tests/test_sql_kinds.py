"""One statement kind for every part of backbone: the review's SQL knowledge and the profile agree."""

from __future__ import annotations

import pytest

from backbone.review.knowledge.sql_text import looks_like_sql, statement_writes
from backbone.sql.fingerprint import FingerprintCache
from backbone.sql.kinds import StatementKind, statement_kind


@pytest.mark.parametrize(
    ("sql", "kind"),
    [
        ("SELECT 1", StatementKind.READ),
        ("  ((SELECT 1)) UNION (SELECT 2)", StatementKind.READ),
        ("/* hint */ -- note\nselect * from t", StatementKind.READ),
        ("DESCRIBE orders", StatementKind.READ),
        ("WITH x AS (SELECT 1) SELECT * FROM x", StatementKind.READ),
        ("WITH x AS (SELECT 'delete from t') SELECT * FROM x", StatementKind.READ),
        ("WITH x AS (SELECT 1) DELETE FROM t WHERE id IN (SELECT * FROM x)", StatementKind.WRITE),
        ("WITH moved AS (DELETE FROM a RETURNING *) INSERT INTO b SELECT * FROM moved", StatementKind.WRITE),
        ("TRUNCATE orders", StatementKind.WRITE),
        ("CREATE INDEX ix ON t (a)", StatementKind.SCHEMA),
        ("GRANT SELECT ON t TO app", StatementKind.SCHEMA),
        ("PRAGMA foreign_keys = ON", StatementKind.OTHER),
        ("BEGIN", StatementKind.OTHER),
        ("", StatementKind.OTHER),
    ],
)
def test_one_statement_kind_for_review_and_profile(sql: str, kind: StatementKind) -> None:
    assert statement_kind(sql) is kind
    assert statement_writes(sql) is kind.writes
    if sql:
        assert FingerprintCache().get(sql).kind is kind


def test_review_still_tells_sql_from_prose() -> None:
    assert looks_like_sql("SELECT a FROM t") and looks_like_sql("PRAGMA table_info(t)")
    assert not looks_like_sql("Update your profile") and not looks_like_sql("Please select")


def test_fingerprint_cache_stays_bounded_on_statements_that_never_repeat() -> None:
    cache = FingerprintCache(limit=50)
    for number in range(500):
        found = cache.get(f"SELECT * FROM t{number % 80} WHERE id = {number}")
        assert found.text == f"SELECT * FROM t{number % 80} WHERE id = ?"
    assert len(cache._by_text) <= 50 and len(cache._by_shape) <= 50
    long = "SELECT " + ", ".join(f"'{n}'" for n in range(2000)) + " FROM t"
    assert cache.get(long).id == cache.get(long.replace("'1'", "'2'")).id
