"""SQL text: does a string look like SQL, does it write, where does its constant part start.

Rules and the ORM layer ask this module rather than matching keywords themselves:
`statement_writes("INSERT INTO ...")` is True, `looks_like_sql("SELECT id FROM t")`
is True, `sql_of_literal(node)` gives the constant text an expression starts with
(an f-string's literal head, the left side of `%` or `+`, the receiver of `.format()`),
`value_slots(["SELECT * FROM ", None, " WHERE id = ", None])` tells which formatted
slots of a statement take a value (`[False, True]`: a table name, then a value).
"""

from __future__ import annotations

import ast
import re

from backbone.sql.kinds import SQL_KEYWORDS, first_keyword, statement_kind

__all__ = ["first_keyword", "looks_like_sql", "sql_of_literal", "statement_writes", "value_slots"]

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


# What a slot takes when the SQL before it ends with an operator or keyword that is
# followed by a value: `= {x}`, `LIKE {x}`, `LIMIT {x}`, `IN ({x}`, `VALUES ({x}, {y}`.
_VALUE_BEFORE = re.compile(
    r"(?:<>|!=|<=|>=|=|<|>|\+|-|\*|/|%|\|\||=>|"
    r"\b(?:LIKE|ILIKE|GLOB|REGEXP|RLIKE|SIMILAR\s+TO|BETWEEN|LIMIT|OFFSET|TOP|FIRST|NEXT|INTERVAL|THEN|ELSE|AGAINST|ESCAPE))\s*$",
    re.IGNORECASE,
)
# `BETWEEN {low} AND {high}`: the AND of a BETWEEN takes a value too.
_BETWEEN_AND = re.compile(r"\bBETWEEN\s+[^\s]+\s+AND\s*$", re.IGNORECASE)
# What follows a slot that is the left operand of a comparison, a cast or an alias: a
# column or an expression (`{column} = %s`, `{column} IS NOT NULL`, `{column}::float8`).
_OPERAND_AFTER = re.compile(
    r"^\s*(?:<>|!=|<=|>=|=|<|>|::|\b(?:IS|IN|NOT|LIKE|ILIKE|BETWEEN|AS|ASC|DESC)\b)",
    re.IGNORECASE,
)
# What follows a slot that is an operand of arithmetic: a value (`SELECT {weight} * popularity`).
_ARITHMETIC_AFTER = re.compile(r"^\s*(?:\+|-|\*|/|%|\|\|)")
# Before an opening parenthesis, what makes its items values: `IN (`, `VALUES (`, `VALUES (...), (`.
_VALUE_LIST = re.compile(r"(?:\bIN|\bVALUES|\bVALUES\s*\(.*\)\s*,)\s*$", re.IGNORECASE | re.DOTALL)
# Functions whose arguments are columns of the rows they aggregate: `MAX({column})`.
_AGGREGATES = frozenset(
    {
        "COUNT", "MIN", "MAX", "SUM", "AVG", "STDDEV", "STDDEV_SAMP", "STDDEV_POP", "VARIANCE", "VAR_SAMP",
        "VAR_POP", "ARRAY_AGG", "STRING_AGG", "GROUP_CONCAT", "LISTAGG", "JSON_AGG", "JSONB_AGG", "BOOL_AND",
        "BOOL_OR", "BIT_AND", "BIT_OR", "MEDIAN", "MODE", "ANY_VALUE", "APPROX_COUNT_DISTINCT", "DISTINCT",
    }
)
_FUNCTION_NAME = re.compile(r"(?:\b(\w+)\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*$")
_SLOT = " _slot_ "
_COMMENT = re.compile(r"/\*.*?\*/|--[^\n]*(?=\n)", re.DOTALL)
# Words a table name follows, whose parenthesis lists its columns: `INSERT INTO t (a, b)`.
_TABLE_BEFORE = frozenset({"INTO", "TABLE", "UPDATE", "ON", "EXISTS", "REFERENCES", "VIEW", "INDEX", "AS"})


def value_slots(pieces: list[str | None]) -> list[bool]:
    """For each slot (`None`) among the literal pieces of an SQL statement, whether it takes a value.

    A value is what a query parameter can stand for: text in a string literal (`'{x}'`,
    `'%{x}%'`), the right side of a comparison or of arithmetic, what `LIKE`, `LIMIT`,
    `OFFSET` or `BETWEEN` take, an item of `IN (...)` or `VALUES (...)`, an argument of a
    function that isn't an aggregate (`pg_advisory_lock({key})`). Every other slot holds
    SQL that no parameter can stand for: a table or column name (`FROM {table}`,
    `SET {column} = :value`, `{column} IS NOT NULL`, `MAX({column})`), a clause
    (`WHERE {condition}`, `ORDER BY {order}`) or a whole statement (`FROM ({query}) AS t`).
    """
    found: list[bool] = []
    for index, piece in enumerate(pieces):
        if piece is not None:
            continue
        # Other slots read as a name (`_slot_`): what they take doesn't change this one's.
        before = "".join(text if text is not None else _SLOT for text in pieces[:index])
        after = "".join(text if text is not None else _SLOT for text in pieces[index + 1 :])
        found.append(_takes_value(_COMMENT.sub(" ", before), _COMMENT.sub(" ", after)))
    return found


def _takes_value(before: str, after: str) -> bool:
    quote, opened = _open_quote(before)
    if quote == "'":
        return True
    # In a quoted name (`"{name}"`), what the name follows decides.
    head = before[:opened] if quote is not None else before
    if _VALUE_BEFORE.search(head) or _BETWEEN_AND.search(head):
        return True
    if quote is None and _OPERAND_AFTER.match(after):
        return False
    if quote is None and _ARITHMETIC_AFTER.match(after):
        return True
    stripped = head.rstrip()
    if stripped.endswith(("(", ",")):
        opener = _enclosing_parenthesis(stripped)
        if opener is None:
            return False
        outside = stripped[:opener]
        if _VALUE_LIST.search(outside):
            return True
        name = _FUNCTION_NAME.search(outside)
        if name is not None and _is_function(name.group(2), name.group(1)):
            # An argument of a scalar function: `pg_advisory_lock({key})`, `lower({name})`.
            return True
    return False


def _open_quote(text: str) -> tuple[str | None, int]:
    """The quote a string literal or quoted name leaves open at the end of `text`, and where it opened."""
    open_quote: str | None = None
    opened = -1
    for position, character in enumerate(text):
        if open_quote is None:
            if character in ("'", '"', "`"):
                open_quote, opened = character, position
        elif character == open_quote:
            open_quote = None
    return open_quote, opened


def _enclosing_parenthesis(text: str) -> int | None:
    depth = 0
    for position in range(len(text) - 1, -1, -1):
        character = text[position]
        if character == ")":
            depth += 1
        elif character == "(":
            if depth == 0:
                return position
            depth -= 1
    return None


def _is_function(name: str, previous: str | None) -> bool:
    """`lower(` in `WHERE lower(`, not `users (` in `INSERT INTO users (` nor `MAX(` (an aggregate)."""
    if name == _SLOT.strip() or (previous or "").upper() in _TABLE_BEFORE:
        return False
    upper = name.upper()
    return upper not in _AGGREGATES and upper not in SQL_KEYWORDS and upper not in _CLAUSE_WORDS


_CLAUSE_WORDS = frozenset({"AS", "FROM", "JOIN", "WHERE", "AND", "OR", "NOT", "ON", "EXISTS", "TABLE", "INTO", "USING", "OVER", "FILTER", "WITHIN"})
