"""SQL text: does a string look like SQL, does it write, where does its constant part start.

Rules and the ORM layer ask this module rather than matching keywords themselves:
`statement_writes("INSERT INTO ...")` is True, `looks_like_sql("SELECT id FROM t")`
is True, `sql_of_literal(node)` gives the constant text an expression starts with
(an f-string's literal head, the left side of `%` or `+`, the receiver of `.format()`).
"""

from __future__ import annotations

import ast
import re

from backbone.sql.kinds import SQL_KEYWORDS, first_keyword, statement_kind

__all__ = ["first_keyword", "looks_like_sql", "sql_of_literal", "statement_writes"]

# Enough SQL shape to tell `SELECT a FROM t` from "Select an option".
_SQL_SHAPE = re.compile(
    r"\b(FROM|INTO|SET|WHERE|VALUES|TABLE|JOIN|RETURNING|ORDER\s+BY|GROUP\s+BY|LIMIT|INDEX|VIEW|DATABASE|SCHEMA)\b",
    re.IGNORECASE,
)


def statement_writes(sql: str) -> bool:
    """INSERT/UPDATE/DELETE/DDL, or a CTE that writes (backbone's one statement kind, backbone.sql.kinds)."""
    return statement_kind(sql).writes


def looks_like_sql(text: str) -> bool:
    """Starts with an SQL keyword and has the shape of a statement."""
    keyword = first_keyword(text)
    if keyword not in SQL_KEYWORDS:
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
