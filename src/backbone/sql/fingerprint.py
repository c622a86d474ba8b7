"""Query fingerprints: the statement with its literals, placeholders and IN-lists normalised.

Two statements that differ only in values (`WHERE id = 1` and `WHERE id = 2`,
`IN (?, ?)` and `IN (?, ?, ?)`) have the same fingerprint, which is what the N+1
detector groups on. sqlglot parses the statement; when it cannot (a vendor
extension, a truncated statement), a regular-expression normaliser gives the
same shape of answer.

Fingerprints are computed after the run, not while a request is being served,
and cached per distinct statement text: an ORM sends the same text every time.

This is the one fingerprint of backbone: `backbone profile` groups its queries on it and
`backbone debug` groups the statements of database logs on it, so that `Fingerprint.id`
(twelve hex digits) names the same query in both reports. The fast path a log of
millions of statements needs is the cache: one regular-expression pass gives the shape
of a statement (its values gone), and sqlglot parses each distinct shape once.
"""

from __future__ import annotations

import hashlib
import re
import threading

from backbone.records import Record
from backbone.sql.kinds import StatementKind, statement_kind

_SQLGLOT_DIALECTS = {
    "sqlite": "sqlite",
    "postgresql": "postgres",
    "postgres": "postgres",
    "mysql": "mysql",
    "mariadb": "mysql",
    "oracle": "oracle",
    "mssql": "tsql",
}


# Longer statements (generated bulk SQL) are not given to sqlglot, and not cached by their text.
_PARSE_LIMIT = 20_000
_CACHED_TEXT_LIMIT = 4_096


class Fingerprint(Record, frozen=True):
    text: str
    kind: StatementKind
    # False when sqlglot could not parse the statement and the regex fallback was used.
    parsed: bool
    # The fingerprint's short name, shared by every report: twelve hex digits of its SHA-1,
    # `query_id(text)`.
    id: str


def query_id(fingerprint_text: str) -> str:
    return hashlib.sha1(fingerprint_text.encode("utf-8", "surrogatepass")).hexdigest()[:12]


# One pass over the statement: quoted identifiers are kept, string literals (E'', X'', $$...$$ too), numbers and every
# driver placeholder style (qmark, numeric $1, named :name, format %s, pyformat %(name)s) become
# `?`, comments go. One alternation, so that a `--` inside a string is not taken for a comment.
# The leading lookahead lets the engine pass every character that cannot start a token at
# once (three times faster on log statements: this is debug's per-line cost).
_TOKEN = re.compile(
    r"""(?=["`'\-/$%:?\d]|[EeBbXxNn]')(?:"""
    r"""(?P<identifier>"(?:[^"]|"")*"|`[^`]*`)"""
    r"""|(?P<comment>--[^\n]*|/\*.*?\*/)"""
    r"""|(?P<value>(?:(?<!\w)[EeBbXxNn])?'(?:[^']|'')*'|\$(?P<tag>[A-Za-z_]\w*|)\$.*?\$(?P=tag)\$"""
    r"""|%\([A-Za-z_]\w*\)s|%s|\$\d+|(?<![:\w]):[A-Za-z_]\w*|\?"""
    r"""|(?<![\w.])-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?\b))""",
    re.DOTALL,
)
_PLACEHOLDER = re.compile(r"%\([A-Za-z_]\w*\)s|%s|\$\d+|(?<![:\w]):[A-Za-z_]\w*|\?")
_SPACE = re.compile(r"\s+")
_IN_LIST = re.compile(r"\bIN\s*\(\s*\?(?:\s*,\s*\?)*\s*\)", re.IGNORECASE)
_VALUES_ROWS = re.compile(r"(\bVALUES\s*\([^()]*\))(?:\s*,\s*\([^()]*\))+", re.IGNORECASE)


def _replace_token(match: re.Match[str]) -> str:
    if match.lastgroup == "identifier":
        return match.group(0)
    if match.lastgroup == "comment":
        return " "
    return "?"


def regex_fingerprint(sql: str) -> str:
    """The fallback normaliser: comments dropped, literals and placeholders as `?`, lists folded."""
    text = _TOKEN.sub(_replace_token, sql)
    text = _SPACE.sub(" ", text).strip()
    text = _IN_LIST.sub("IN (?)", text)
    text = _VALUES_ROWS.sub(r"\1", text)
    return text.rstrip(";").strip()


def _is_value(node: object) -> bool:
    from sqlglot import exp

    if isinstance(node, exp.Tuple):
        return all(map(_is_value, node.expressions))
    if isinstance(node, exp.Neg):
        return _is_value(node.this)
    return isinstance(node, (exp.Literal, exp.Placeholder, exp.Parameter))


def _sqlglot_fingerprint(sql: str, dialect: str | None) -> str | None:
    try:
        import sqlglot
        from sqlglot import exp
        from sqlglot.errors import SqlglotError
    except ImportError:  # pragma: no cover - sqlglot is a dependency; the fallback keeps working without it
        return None
    # Driver placeholders are unified first: sqlglot reads `%(name)s` and `$1` inconsistently.
    prepared = _PLACEHOLDER.sub("?", sql)
    read = _SQLGLOT_DIALECTS.get(dialect or "", None)
    try:
        statements = sqlglot.parse(prepared, read=read)
    except (SqlglotError, RecursionError):
        # Not SQL sqlglot can read: the caller falls back to the regex form (Fingerprint.parsed says which).
        return None
    if len(statements) != 1 or statements[0] is None:
        return None
    tree = statements[0]
    if isinstance(tree, exp.Command):
        # sqlglot's "I kept this as raw text" node: no literals were parsed out of it.
        return None

    def normalise(node: exp.Expr) -> exp.Expr:
        if isinstance(node, (exp.Placeholder, exp.Parameter)):
            return exp.Placeholder()
        if isinstance(node, exp.Literal):
            return exp.Placeholder()
        if isinstance(node, exp.In) and len(node.expressions) > 1 and all(map(_is_value, node.expressions)):
            node.set("expressions", [node.expressions[0]])
        if isinstance(node, exp.Neg) and _is_value(node.this):
            return exp.Placeholder()
        if isinstance(node, exp.Values) and len(node.expressions) > 1:
            node.set("expressions", [node.expressions[0]])
        return node

    try:
        # Written in sqlglot's neutral dialect, so that every driver's placeholders read `?`.
        return tree.transform(normalise).sql()
    except (SqlglotError, RecursionError):
        return None


class FingerprintCache:
    """Fingerprints per (statement, dialect), bounded so that a run with unbounded distinct SQL stays small.

    Two levels: the raw text (an ORM repeats it exactly) and its regex form (f-string SQL
    with a thousand distinct literals has one form), so sqlglot parses each shape once.
    """

    def __init__(self, limit: int = 20_000) -> None:
        self._limit = limit
        self._by_text: dict[tuple[str, str | None], Fingerprint] = {}
        self._by_shape: dict[tuple[str, str | None], Fingerprint] = {}
        self._lock = threading.Lock()

    def get(self, sql: str, dialect: str | None = None) -> Fingerprint:
        key = (sql, dialect)
        found = self._by_text.get(key)
        if found is not None:
            return found
        shape = regex_fingerprint(sql)
        found = self._by_shape.get((shape, dialect))
        if found is None:
            found = _fingerprint_of_shape(shape, dialect)
        with self._lock:
            if len(self._by_shape) >= self._limit or len(self._by_text) >= self._limit:
                self._by_text.clear()
                self._by_shape.clear()
            # Statements with their values inline (logs) rarely repeat exactly: only short ones
            # are kept by their text, so that the cache stays small whatever the input.
            if len(sql) <= _CACHED_TEXT_LIMIT:
                self._by_text[key] = found
            if len(shape) <= _CACHED_TEXT_LIMIT:
                self._by_shape[(shape, dialect)] = found
        return found


def _fingerprint_of_shape(shape: str, dialect: str | None) -> Fingerprint:
    kind = statement_kind(shape)
    text = _sqlglot_fingerprint(shape, dialect) if len(shape) <= _PARSE_LIMIT else None
    if text is not None:
        return Fingerprint(text, kind, parsed=True, id=query_id(text))
    return Fingerprint(shape, kind, parsed=False, id=query_id(shape))


def statement_ids(sql: str) -> frozenset[str]:
    """The ids `backbone debug` and `backbone profile` can give one statement: its fingerprint's
    id read as generic SQL and as PostgreSQL (debug reads PostgreSQL logs in that dialect)."""
    return frozenset(default_cache.get(sql, dialect).id for dialect in (None, "postgres"))


def fingerprint(sql: str, dialect: str | None = None) -> Fingerprint:
    """The fingerprint of one statement (uncached; `default_cache.get` is the cached form)."""
    return _fingerprint_of_shape(regex_fingerprint(sql), dialect)


default_cache = FingerprintCache()
