"""What a statement asks of each table, read with sqlglot: the columns it compares for
equality, by range and sorts on, its constant predicates and the columns it reads; the index
candidates that follow from them; and its parameters filled with representative values."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import msgspec
import sqlglot
from msgspec.structs import replace
from sqlglot import exp
from sqlglot.errors import SqlglotError

from backbone.redaction import is_secret_like_name, name_words, redact
from backbone.sql.fingerprint import _PLACEHOLDER, _SQLGLOT_DIALECTS
from backbone.sql.model import ExistingIndex, IndexCandidate

MAX_CANDIDATES = 16
MAX_INCLUDE = 5
_RANGE = (exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Between)


class ShapeError(ValueError):
    """The statement cannot be read as SQL."""


class TableUse(msgspec.Struct):
    table: str
    equality: list[str] = msgspec.field(default_factory=list)
    joined: list[str] = msgspec.field(default_factory=list)  # compared with another table's column
    ranges: list[str] = msgspec.field(default_factory=list)
    sort: list[str] = msgspec.field(default_factory=list)
    # Constant predicates written in the statement (`status = 'pending'`): column -> SQL.
    constants: dict[str, str] = msgspec.field(default_factory=dict)
    # The columns read from this table; None when it reads every column (`*`).
    selected: list[str] | None = msgspec.field(default_factory=list)

    def add(self, bucket: list[str], column: str) -> None:
        if column not in bucket:
            bucket.append(column)


def parse(sql: str, dialect: str) -> exp.Expr:
    # Every driver's placeholders as one style the dialect reads (`?::int` is no PostgreSQL).
    prepared = _PLACEHOLDER.sub("%s" if dialect == "postgresql" else "?", sql)
    try:
        statements = sqlglot.parse(prepared, read=_SQLGLOT_DIALECTS.get(dialect))
    except (SqlglotError, RecursionError) as error:
        raise ShapeError(f"cannot read the statement as SQL: {str(error).splitlines()[0][:200]}") from None
    if len(statements) != 1 or statements[0] is None or isinstance(statements[0], exp.Command):
        raise ShapeError("cannot read the statement as one SQL statement")
    return statements[0]


def is_read_only(tree: exp.Expr) -> bool:
    """A SELECT with no data-modifying part: the only statements `--analyze` executes."""
    if not isinstance(tree, (exp.Select, exp.Union, exp.Intersect, exp.Except)):
        return False
    return tree.find(exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.Into, exp.Lock) is None


def _tables(select: exp.Select) -> dict[str, str]:
    """alias or name -> table name, for the tables in this SELECT's FROM and JOINs."""
    found: dict[str, str] = {}
    sources = [select.args.get("from_") or select.args.get("from"), *(select.args.get("joins") or [])]
    for source in sources:
        if source is None:
            continue
        table = source.this if isinstance(source, (exp.From, exp.Join)) else source
        if isinstance(table, exp.Table) and table.name:
            found[table.alias_or_name] = table.name
    return found


def _conjuncts(node: exp.Expr | None) -> list[exp.Expr]:
    if node is None:
        return []
    if isinstance(node, (exp.Where, exp.Paren)):
        return _conjuncts(node.this)
    if isinstance(node, exp.And):
        return [*_conjuncts(node.this), *_conjuncts(node.expression)]
    return [node]


def _is_value(node: exp.Expr | None) -> bool:
    if isinstance(node, (exp.Cast, exp.Neg, exp.Paren)):
        return _is_value(node.this)
    return isinstance(node, (exp.Literal, exp.Placeholder, exp.Parameter, exp.Boolean))


def _is_constant(node: exp.Expr | None) -> bool:
    if isinstance(node, (exp.Cast, exp.Neg, exp.Paren)):
        return _is_constant(node.this)
    return isinstance(node, (exp.Literal, exp.Boolean))


class _Resolver:
    def __init__(self, tables: dict[str, str], schema: Mapping[str, tuple[str, ...]]) -> None:
        self.tables = tables
        self.schema = schema

    def table_of(self, column: exp.Column) -> str | None:
        if column.table:
            return self.tables.get(column.table)
        names = set(self.tables.values())
        if len(names) == 1:
            return next(iter(names))
        owners = [name for name in names if column.name in self.schema.get(name, ())]
        return owners[0] if len(owners) == 1 else None


def table_uses(tree: exp.Expr, schema: Mapping[str, tuple[str, ...]] = {}) -> dict[str, TableUse]:
    """What each table of the statement is asked, over all its SELECTs (subqueries included)."""
    uses: dict[str, TableUse] = {}
    selects = [tree] if isinstance(tree, exp.Select) else []
    selects += [node for node in tree.find_all(exp.Select) if node is not tree]
    for select in selects:
        tables = _tables(select)
        resolver = _Resolver(tables, schema)
        for name in tables.values():
            uses.setdefault(name, TableUse(name))
        conditions = _conjuncts(select.args.get("where"))
        for join in select.args.get("joins") or []:
            conditions += _conjuncts(join.args.get("on"))
        for condition in conditions:
            _condition(condition, resolver, uses)
        order = select.args.get("order")
        sort_tables: set[str] = set()
        sort_columns: list[tuple[str, str]] = []
        for ordered in order.expressions if order is not None else []:
            column = ordered.this
            if isinstance(column, exp.Column) and (table := resolver.table_of(column)):
                sort_tables.add(table)
                sort_columns.append((table, column.name))
        if len(sort_tables) == 1:  # an index serves a sort only on one table's columns
            for table, name in sort_columns:
                uses[table].add(uses[table].sort, name)
        for projection in select.expressions:
            if isinstance(projection, exp.Star) or (isinstance(projection, exp.Column) and isinstance(projection.this, exp.Star)):
                star_tables = [tables.get(projection.table)] if isinstance(projection, exp.Column) and projection.table else list(tables.values())
                for star_table in star_tables:
                    if star_table:
                        uses[star_table].selected = None
                continue
            for column in projection.find_all(exp.Column):
                table = resolver.table_of(column)
                if table and uses[table].selected is not None:
                    selected = uses[table].selected
                    assert selected is not None
                    if column.name not in selected:
                        selected.append(column.name)
    return uses


def _condition(condition: exp.Expr, resolver: _Resolver, uses: dict[str, TableUse]) -> None:
    if isinstance(condition, (exp.EQ, exp.Is, exp.NullSafeEQ)):
        left, right = condition.this, condition.expression
        if isinstance(left, exp.Column) and isinstance(right, exp.Column):
            for side in (left, right):  # a join: either side may be the inner one
                if table := resolver.table_of(side):
                    uses[table].add(uses[table].joined, side.name)
            return
        column, value = (left, right) if isinstance(left, exp.Column) else (right, left)
        if isinstance(column, exp.Column) and (_is_value(value) or isinstance(value, exp.Null)):
            if table := resolver.table_of(column):
                uses[table].add(uses[table].equality, column.name)
                if _is_constant(value) or isinstance(value, exp.Null):
                    unqualified = condition.copy()
                    for name in unqualified.find_all(exp.Column):
                        name.set("table", None)
                    uses[table].constants[column.name] = unqualified.sql()
        return
    if isinstance(condition, exp.In) and isinstance(condition.this, exp.Column):
        if (table := resolver.table_of(condition.this)) is not None:
            uses[table].add(uses[table].equality, condition.this.name)
        return
    if isinstance(condition, (*_RANGE, exp.Like)):
        column = condition.this
        if isinstance(condition, _RANGE[:4]) and not isinstance(column, exp.Column):
            column = condition.expression
        if isinstance(column, exp.Column) and (table := resolver.table_of(column)):
            uses[table].add(uses[table].ranges, column.name)


def candidates(
    uses: Mapping[str, TableUse], existing: Mapping[str, list[ExistingIndex]], *, include: bool, partial: bool
) -> list[IndexCandidate]:
    """Index candidates: equality columns, then one range column, then the sort columns;
    a partial index for constant predicates; INCLUDE for the columns read, where supported.
    Candidates an existing index already serves are left out."""
    found: dict[tuple[str, tuple[str, ...], tuple[str, ...], str], IndexCandidate] = {}

    def add(candidate: IndexCandidate) -> None:
        for index in existing.get(candidate.table, []):
            if index.ends_every_index and len(candidate.columns) > 1 and candidate.columns[-1:] == index.columns:
                candidate = replace(candidate, columns=candidate.columns[:-1])
        if not candidate.columns or any(index.covers(candidate) for index in existing.get(candidate.table, [])):
            return
        found.setdefault(candidate.key(), candidate)

    for table, use in uses.items():
        equality, ranges, sort = use.equality, use.ranges, use.sort
        if not (equality or ranges or sort or use.joined):
            continue
        eq_text = f"equality on {', '.join(equality)}" if equality else ""
        if ranges:
            add(IndexCandidate(table, (*equality, ranges[0]), why=_why(eq_text, f"range on {ranges[0]}")))
        if sort:
            columns = tuple(dict.fromkeys((*equality, *sort)))
            add(IndexCandidate(table, columns, why=_why(eq_text, f"sort on {', '.join(sort)}")))
        if equality:
            add(IndexCandidate(table, tuple(equality), why=eq_text))
        for column in (*equality, *ranges):
            add(IndexCandidate(table, (column,), why=f"filter on {column}"))
        for column in use.joined:
            if equality:
                add(IndexCandidate(table, (*equality, column), why=_why(eq_text, f"join on {column}")))
            add(IndexCandidate(table, (column,), why=f"join on {column}"))
        if partial and use.constants:
            variable = [column for column in equality if column not in use.constants]
            keys = tuple(dict.fromkeys((*variable, *ranges[:1], *sort)))
            if keys:
                where = " AND ".join(use.constants.values())
                add(IndexCandidate(table, keys, where=where, why=_why(f"only rows where {where}", f"keyed on {', '.join(keys)}")))
        if include and use.selected:
            keys = tuple(dict.fromkeys((*equality, *ranges[:1], *sort)))
            rest = tuple(column for column in use.selected if column not in keys)
            if keys and rest and len(rest) <= MAX_INCLUDE:
                add(IndexCandidate(table, keys, include=rest, why=_why("covering", f"includes {', '.join(rest)}")))
    return list(found.values())[:MAX_CANDIDATES]


def _why(*parts: str) -> str:
    return ", then ".join(part for part in parts if part)


# --- parameters ------------------------------------------------------------------------------

# Sampler(table, column, quantile) -> a representative value and where it came from, or None.
# quantile None asks for the most common value (an equality); a number asks for the value at
# that quantile (a range: `> ?` gets the 0.9 quantile, so that it keeps about 10% of the rows).
Sampler = Callable[[str, str, "float | None"], "tuple[object, str] | None"]


def _quantile(node: exp.Expr, column: exp.Column) -> float | None:
    parent = node.parent
    if isinstance(parent, (exp.Cast, exp.Paren)):
        parent = parent.parent
    if isinstance(parent, exp.Between):
        return 0.45 if node.arg_key == "low" else 0.55
    column_left = isinstance(parent, exp.Binary) and parent.this is column
    if isinstance(parent, (exp.GT, exp.GTE)):
        return 0.9 if column_left else 0.1
    if isinstance(parent, (exp.LT, exp.LTE)):
        return 0.1 if column_left else 0.9
    return None


_SECRET_WORDS = frozenset({"password", "passwd", "pwd", "secret", "token", "hash", "salt", "otp", "key", "credential", "pin"})


def is_secret_column(name: str) -> bool:
    """A column whose values are not shown: credentials, and whatever is named like one (a reset
    token, a password hash). Stricter than the display rules: these are values sampled from a database."""
    return is_secret_like_name(name) or any(word in _SECRET_WORDS for word in name_words(name))


def fill_parameters(tree: exp.Expr, dialect: str, schema: Mapping[str, tuple[str, ...]],
                    sample: Sampler) -> tuple[str, list[str], str]:
    """The statement with each placeholder replaced by a representative value of the column it
    is compared with; one line per filled value saying where it came from; and the statement as
    it may be shown (a value sampled from a secret-like column replaced by its redacted preview)."""
    placeholders = [node for node in tree.find_all(exp.Placeholder, exp.Parameter)]
    if not placeholders:
        sql = tree.sql(dialect=_SQLGLOT_DIALECTS.get(dialect))
        return sql, [], sql
    hidden: list[str] = []
    filled: list[str] = []
    cache: dict[tuple[str, str, float | None], tuple[object, str] | None] = {}
    for node in placeholders:
        parent = node.parent
        value: object = None
        origin = "no column to sample: NULL"
        if isinstance(parent, (exp.Limit, exp.Offset)):
            value = 20 if isinstance(parent, exp.Limit) else 0
            filled.append(f"LIMIT {value} (a page size)" if value else "OFFSET 0 (the first page)")
            node.replace(_literal(value))
            continue
        else:
            column = _compared_column(node)
            select = node.find_ancestor(exp.Select)
            if column is not None and select is not None:
                table = _Resolver(_tables(select), schema).table_of(column)
                if table is not None:
                    key = (table, column.name, _quantile(node, column))
                    if key not in cache:
                        cache[key] = sample(*key)
                    found = cache[key]
                    if found is not None:
                        value, origin = found
                        if isinstance(parent, exp.Like) and isinstance(value, str):
                            value = value[:3] + "%"
                    shown = _literal(value).sql()
                    if value is not None and is_secret_column(column.name):
                        hidden.append(shown)
                        shown = _literal(redact(str(value))).sql()
                    filled.append(f"{table}.{column.name}: {shown} ({origin})")
                    node.replace(_literal(value))
                    continue
        filled.append(f"parameter: {_literal(value).sql()} ({origin})")
        node.replace(_literal(value))
    sql = tree.sql(dialect=_SQLGLOT_DIALECTS.get(dialect))
    shown_sql = sql
    for literal in hidden:
        shown_sql = shown_sql.replace(literal, _literal(redact(literal.strip("'"))).sql())
    return sql, filled, shown_sql


def _compared_column(node: exp.Expr) -> exp.Column | None:
    parent = node.parent
    if isinstance(parent, (exp.Cast, exp.Paren, exp.Neg)):
        parent = parent.parent
    if isinstance(parent, (exp.In, exp.Between, exp.Like)) and isinstance(parent.this, exp.Column):
        return parent.this
    if isinstance(parent, exp.Binary):
        for side in (parent.this, parent.expression):
            if isinstance(side, exp.Column):
                return side
    return None


def _literal(value: object) -> exp.Expr:
    if value is None:
        return exp.Null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, (int, float)):
        return exp.Literal.number(value)
    if isinstance(value, bytes):
        return exp.Literal.string(value.hex())
    return exp.Literal.string(str(value))
