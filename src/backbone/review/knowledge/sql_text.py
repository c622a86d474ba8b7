"""SQL text: does a string look like SQL, does it write, where does its constant part start.

Rules and the ORM layer ask this module rather than matching keywords themselves:
`statement_writes("INSERT INTO ...")` is True, `looks_like_sql("SELECT id FROM t")`
is True, `sql_of_literal(node)` gives the constant text an expression starts with
(an f-string's literal head, the left side of `%` or `+`, the receiver of `.format()`).
"""

from __future__ import annotations

import ast
import re

_LEADING_NOISE = re.compile(r"^(?:\s+|--[^\n]*\n|/\*.*?\*/)+", re.DOTALL)
_FIRST_WORD = re.compile(r"^\(?\s*([A-Za-z]+)")
_WRITE_WORDS = frozenset(
    {"INSERT", "UPDATE", "DELETE", "REPLACE", "MERGE", "UPSERT", "TRUNCATE", "CREATE", "DROP", "ALTER", "COPY", "GRANT", "REVOKE"}
)
_READ_WORDS = frozenset({"SELECT", "WITH", "VALUES", "SHOW", "EXPLAIN", "DESCRIBE", "PRAGMA", "TABLE"})
_OTHER_WORDS = frozenset({"SET", "BEGIN", "COMMIT", "ROLLBACK", "LOCK", "VACUUM", "ANALYZE", "CALL", "EXEC", "EXECUTE", "DECLARE", "SAVEPOINT", "RELEASE", "REINDEX", "CLUSTER", "REFRESH", "NOTIFY", "LISTEN"})
_SQL_WORDS = _WRITE_WORDS | _READ_WORDS | _OTHER_WORDS
# A write hidden behind a CTE: `WITH moved AS (DELETE ... RETURNING *) INSERT ...`.
_WRITE_ANYWHERE = re.compile(r"\b(INSERT\s+INTO|UPDATE\s+\S+\s+SET|DELETE\s+FROM)\b", re.IGNORECASE)
# Enough SQL shape to tell `SELECT a FROM t` from "Select an option".
_SQL_SHAPE = re.compile(
    r"\b(FROM|INTO|SET|WHERE|VALUES|TABLE|JOIN|RETURNING|ORDER\s+BY|GROUP\s+BY|LIMIT|INDEX|VIEW|DATABASE|SCHEMA)\b",
    re.IGNORECASE,
)


def first_keyword(sql: str) -> str:
    text = _LEADING_NOISE.sub("", sql)
    match = _FIRST_WORD.match(text)
    return match.group(1).upper() if match else ""


def statement_writes(sql: str) -> bool:
    """INSERT/UPDATE/DELETE/DDL, or a CTE that writes."""
    keyword = first_keyword(sql)
    if keyword in _WRITE_WORDS:
        return True
    if keyword == "WITH":
        return bool(_WRITE_ANYWHERE.search(sql))
    return False


def looks_like_sql(text: str) -> bool:
    """Starts with an SQL keyword and has the shape of a statement."""
    keyword = first_keyword(text)
    if keyword not in _SQL_WORDS:
        return False
    if keyword in ("BEGIN", "COMMIT", "ROLLBACK", "VACUUM", "ANALYZE", "PRAGMA", "SHOW", "EXPLAIN"):
        return True
    return bool(_SQL_SHAPE.search(text)) or keyword in ("SELECT", "TRUNCATE", "DROP", "CREATE", "CALL", "EXEC")


def sql_of_literal(node: ast.expr | None) -> str | None:
    """The constant text an SQL expression starts with; None when it starts with no literal.

    `"SELECT ..."`, `f"SELECT ... {x}"`, `"SELECT ... %s" % x`, `"SELECT " + x`,
    `"SELECT ... {}".format(x)` all give their literal head ("SELECT ...").
    """
    if node is None:
        return None
    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, str) else None
    if isinstance(node, ast.JoinedStr):
        head = []
        for part in node.values:
            if isinstance(part, ast.Constant) and isinstance(part.value, str):
                head.append(part.value)
            else:
                head.append("?")
        return "".join(head)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mod, ast.Add)):
        return sql_of_literal(node.left)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        return sql_of_literal(node.func.value)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "join":
        return None
    return None
