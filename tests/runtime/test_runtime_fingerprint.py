"""Query fingerprints: literals, placeholders and IN-lists normalised, with a regex fallback."""

from __future__ import annotations

import pytest

from backbone.runtime.fingerprint import FingerprintCache, StatementKind, fingerprint, regex_fingerprint


@pytest.mark.parametrize(
    ("sql", "dialect", "expected"),
    [
        ("SELECT * FROM books WHERE author_id = 7", "sqlite", "SELECT * FROM books WHERE author_id = ?"),
        ("select * from books where author_id = ?", "sqlite", "SELECT * FROM books WHERE author_id = ?"),
        ("SELECT * FROM t WHERE a = %s AND b = %(name)s", "postgresql", "SELECT * FROM t WHERE a = ? AND b = ?"),
        ("SELECT * FROM t WHERE a = :a AND b = $2", "postgresql", "SELECT * FROM t WHERE a = ? AND b = ?"),
        ("SELECT * FROM t WHERE id IN (1, 2, 3)", None, "SELECT * FROM t WHERE id IN (?)"),
        ("SELECT * FROM t WHERE id IN (?, ?, ?, ?)", None, "SELECT * FROM t WHERE id IN (?)"),
        ("SELECT * FROM t WHERE (a, b) IN ((1, 2), (3, 4))", None, "SELECT * FROM t WHERE (a, b) IN ((?, ?))"),
        ("SELECT * FROM t WHERE name = 'O''Brien -- not a comment'", None, "SELECT * FROM t WHERE name = ?"),
        ("SELECT * FROM t /* why */ WHERE x = -1.5e3 -- trailing", None, "SELECT * FROM t WHERE x = ?"),
        ("INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y')", None, "INSERT INTO t (a, b) VALUES (?, ?)"),
        ('SELECT "t1"."a" FROM "t1" LIMIT 10 OFFSET 20', "postgresql", 'SELECT "t1"."a" FROM "t1" LIMIT ? OFFSET ?'),
    ],
)
def test_values_are_normalised(sql: str, dialect: str | None, expected: str) -> None:
    found = fingerprint(sql, dialect)
    assert (found.text, found.parsed) == (expected, True)


def test_statements_that_differ_only_in_values_share_a_fingerprint() -> None:
    first = fingerprint("SELECT title FROM books WHERE author_id = 1 AND id IN (4, 5)")
    second = fingerprint("SELECT title FROM books WHERE author_id = 22 AND id IN (6)")
    assert first == second


def test_unparseable_sql_falls_back_to_the_regex_normaliser() -> None:
    sql = "SELECT * FROM t WHERE id IN (__[POSTCOMPILE_id_1]) AND x = 5"
    found = fingerprint(sql, "sqlite")
    assert found.parsed is False
    assert found.text == regex_fingerprint(sql) == "SELECT * FROM t WHERE id IN (__[POSTCOMPILE_id_1]) AND x = ?"


@pytest.mark.parametrize(
    ("sql", "kind"),
    [
        ("SELECT 1", StatementKind.READ),
        ("  (SELECT 1) UNION (SELECT 2)", StatementKind.READ),
        ("WITH x AS (SELECT 1) SELECT * FROM x", StatementKind.READ),
        ("WITH x AS (SELECT 1) DELETE FROM t WHERE id IN (SELECT * FROM x)", StatementKind.WRITE),
        ("UPDATE t SET a = 1", StatementKind.WRITE),
        ("insert into t values (1)", StatementKind.WRITE),
        ("PRAGMA foreign_keys = ON", StatementKind.OTHER),
        ("-- comment\nSELECT 1", StatementKind.READ),
    ],
)
def test_statement_kind(sql: str, kind: StatementKind) -> None:
    assert fingerprint(sql).kind is kind


def test_cache_parses_each_shape_once() -> None:
    cache = FingerprintCache(limit=100)
    first = cache.get("SELECT * FROM t WHERE id = 1")
    assert cache.get("SELECT * FROM t WHERE id = 2") is first
    assert cache.get("SELECT * FROM t WHERE id = 1") is first


def test_cache_stays_bounded() -> None:
    cache = FingerprintCache(limit=10)
    for number in range(25):
        cache.get(f"SELECT c{number} FROM t")
    assert len(cache._by_text) <= 10
