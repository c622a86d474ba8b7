"""Statement kinds: one answer, for every part of backbone, to "does this statement read or write?".

The review's SQL knowledge (`statement_writes`, `looks_like_sql`), the profile's N+1
detector (reads only) and the debug command ask `statement_kind` rather than matching
keywords themselves.
"""

from __future__ import annotations

import enum
import re


class StatementKind(enum.Enum):
    READ = "read"
    # Data changes: INSERT, UPDATE, DELETE, MERGE, TRUNCATE, COPY...
    WRITE = "write"
    # Schema and privilege changes: CREATE, DROP, ALTER, GRANT, REVOKE.
    SCHEMA = "schema"
    # Transactions, settings, maintenance: BEGIN, SET, PRAGMA, VACUUM...
    OTHER = "other"

    @property
    def writes(self) -> bool:
        return self in (StatementKind.WRITE, StatementKind.SCHEMA)


READ_KEYWORDS = frozenset({"SELECT", "WITH", "VALUES", "SHOW", "EXPLAIN", "DESCRIBE", "TABLE"})
WRITE_KEYWORDS = frozenset({"INSERT", "UPDATE", "DELETE", "REPLACE", "MERGE", "UPSERT", "TRUNCATE", "COPY"})
SCHEMA_KEYWORDS = frozenset({"CREATE", "DROP", "ALTER", "GRANT", "REVOKE"})
OTHER_KEYWORDS = frozenset({
    "SET", "BEGIN", "COMMIT", "ROLLBACK", "LOCK", "VACUUM", "ANALYZE", "CALL", "EXEC", "EXECUTE", "DECLARE",
    "SAVEPOINT", "RELEASE", "REINDEX", "CLUSTER", "REFRESH", "NOTIFY", "LISTEN", "PRAGMA",
})
SQL_KEYWORDS = READ_KEYWORDS | WRITE_KEYWORDS | SCHEMA_KEYWORDS | OTHER_KEYWORDS

_LEADING_NOISE = re.compile(r"^(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/|\()+", re.DOTALL)
_FIRST_WORD = re.compile(r"[A-Za-z]+")
_STRING = re.compile(r"'(?:[^']|'')*'")
# A write behind a CTE: `WITH moved AS (DELETE ... RETURNING *) INSERT ...`, `WITH x AS (...) DELETE FROM t`.
_WRITE_ANYWHERE = re.compile(
    r"\b(?:INSERT\s+INTO|UPDATE\s+\S+\s+SET|DELETE\s+FROM|MERGE\s+INTO)\b|\)\s*(?:INSERT|UPDATE|DELETE)\b",
    re.IGNORECASE,
)


def first_keyword(sql: str) -> str:
    """The statement's first word in capitals, past whitespace, comments and opening parentheses."""
    text = _LEADING_NOISE.sub("", sql, count=1)
    match = _FIRST_WORD.match(text)
    return match.group(0).upper() if match else ""


def kind_of_keyword(keyword: str) -> StatementKind:
    if keyword in READ_KEYWORDS:
        return StatementKind.READ
    if keyword in WRITE_KEYWORDS:
        return StatementKind.WRITE
    if keyword in SCHEMA_KEYWORDS:
        return StatementKind.SCHEMA
    return StatementKind.OTHER


def statement_kind(sql: str) -> StatementKind:
    """READ, WRITE, SCHEMA or OTHER; a CTE that writes is a WRITE."""
    keyword = first_keyword(sql)
    kind = kind_of_keyword(keyword)
    if keyword == "WITH" and _WRITE_ANYWHERE.search(_STRING.sub("?", sql)):
        return StatementKind.WRITE
    return kind
