"""What an expression holds, as far as data access is concerned, and what a call does.

`DataValue` is the abstract value the ORM layer computes for an expression: a session,
a lazy query of a model with the relations it eager-loads, an executed result, one
model instance (one row of an iterated query), a DB-API cursor. Values are frozen and
hold only strings, tuples, bools and enums, so a function's result shape can be kept
in the per-file facts (and encoded into the cache) as it is.

`QueryEvent` is one place that executes SQL: a call, the iteration of a lazy query, a
`list(qs)`, a relationship read.
"""

from __future__ import annotations

import ast
import enum

from msgspec.structs import replace

from backbone.findings import Confidence
from backbone.records import Record


class DataLayer(enum.Enum):
    """Which API a value belongs to."""

    DJANGO = "Django ORM"
    SQLALCHEMY = "SQLAlchemy"
    # DB-API drivers (sqlite3, psycopg, pymysql...), asyncpg and `databases`.
    DRIVER = "database driver"


class ValueKind(enum.Enum):
    """The closed set of things an expression can hold for the ORM layer."""

    # A model class (`Post`), or `get_model("blog", "Post")`.
    MODEL_CLASS = "model class"
    # Django `Post.objects` or a custom manager: a query factory, lazy.
    MANAGER = "manager"
    # A lazy query: Django QuerySet, SQLAlchemy `session.query(...)`, Flask-SQLAlchemy
    # `Post.query`. Evaluating it (iteration, `list()`, `.all()`...) executes SQL.
    QUERY = "query"
    # The rows of a relation reached from an instance that run a query when evaluated:
    # a Django reverse FK / M2M manager (`post.comments`), a SQLAlchemy `lazy="dynamic"`
    # relationship.
    RELATED_MANAGER = "related manager"
    # A SQLAlchemy statement (`select()`, `insert()`, `text()`): nothing runs until a
    # session or connection executes it.
    STATEMENT = "statement"
    # Rows already fetched: a SQLAlchemy Result, an executed cursor, `list(qs)`,
    # `query.all()`, a loaded relationship collection. Iterating runs no SQL.
    ROWS = "rows"
    # One model instance.
    INSTANCE = "instance"
    SESSION = "session"
    SESSION_FACTORY = "session factory"
    ENGINE = "engine"
    # A SQLAlchemy Connection, or a DB-API / asyncpg / `databases` connection or pool.
    CONNECTION = "connection"
    CURSOR = "cursor"
    # The Flask-SQLAlchemy (or flask-sqlalchemy-like) `db` object.
    EXTENSION = "extension"
    # `declarative_base()`, a `DeclarativeBase` subclass, `db.Model`: what models derive from.
    DECLARATIVE_BASE = "declarative base"


class Origin(enum.Enum):
    """Where a value comes from, ordered from harmless to hostile (see origins.py).

    Combining values (string building, arithmetic) keeps the worst of their origins.
    """

    # A literal, a module constant, a property that returns a literal.
    CONSTANT = "constant"
    # A number or quoted text made from anything (`int(x)`, `len(x)`, `x.replace("'", "''")`):
    # whatever went in, what comes out can't end a quoted string or add SQL.
    ESCAPED = "escaped"
    # Settings and the environment: chosen by whoever deploys the service.
    CONFIGURATION = "configuration"
    # Read from the database by the application.
    DATABASE = "database"
    # A parameter or a call backbone can't follow.
    UNKNOWN = "unknown origin"
    # Read from the request being served: query string, form, body, headers, path.
    REQUEST = "request input"

    @property
    def rank(self) -> int:
        return _ORIGIN_RANK[self]

    def worst(self, other: Origin) -> Origin:
        return self if self.rank >= other.rank else other

    @property
    def carries_input(self) -> bool:
        """The value may hold text an outsider chose."""
        return self in (Origin.DATABASE, Origin.UNKNOWN, Origin.REQUEST)


_ORIGIN_RANK = {origin: rank for rank, origin in enumerate(Origin)}


class QueryKind(enum.Enum):
    READ = "read"
    WRITE = "write"


# Eager-load paths are dotted relation names relative to the instance ("author",
# "author.profile"). These two tokens stand for every relation at that level.
EVERY_RELATION = "*"
# Django `select_related()` with no argument: every forward FK/one-to-one, recursively.
EVERY_FORWARD_RELATION = "**forward"
# "key:<column>><model>.<key>": the rows' foreign key `column` is among the `key`s of rows of
# `model` the code holds (`where(Volume.project_id.in_(p.id for p in projects))`), written when
# the file alone can't tell which relation that column is: the session's identity map holds the
# many-to-one it is the key of.
HELD_KEY = "key:"


class DataValue(Record, frozen=True):
    kind: ValueKind
    layer: DataLayer
    # Qualified name of the model class as the code names it (re-exports not followed),
    # or an "app_label.Model" reference; "" when unknown.
    model: str = ""
    # Relation paths loaded with the rows (select_related, joinedload...), sorted.
    eager: tuple[str, ...] = ()
    # Many-to-one relations a statement's filter pins to one row (`where(M.key == value)`): a
    # synchronous session's identity map answers them after one load, so running the
    # statement there loads them; an async session can't lazy-load them at all.
    pinned: tuple[str, ...] = ()
    # False when the rows come from somewhere backbone can't see (a parameter), so it
    # can't say what was eager-loaded.
    eager_known: bool = True
    # The rows are model instances (not `.values()` dicts, Row tuples or scalars).
    entities: bool = True
    # Loaded under a row lock (select_for_update, with_for_update).
    locked: bool = False
    is_async: bool = False
    # The chained calls applied to a query, in order ("filter", "order_by", "slice").
    operations: tuple[str, ...] = ()
    # A statement or SQL text that writes (INSERT/UPDATE/DELETE/...).
    writes: bool = False
    # An instance created here (`Post(...)`, `create()`), not read from the database.
    new: bool = False
    # For RELATED_MANAGER: the rows are already in memory (prefetched), so `.all()`,
    # `count()` and iteration run no SQL.
    loaded: bool = False
    # The relation this value was reached through ("comments"), and the model owning it.
    relation: str = ""
    relation_owner: str = ""
    # Position (line, column) of the loop that produces this value as one of its rows;
    # (0, 0) when the value is not a per-row value of a loop.
    row_of: tuple[int, int] = (0, 0)
    confidence: Confidence = Confidence.HIGH

    @property
    def per_row(self) -> bool:
        return self.row_of != (0, 0)

    def but(self, **changes: object) -> DataValue:
        """A copy with `changes` applied."""
        return replace(self, **changes)

    def as_fact(self) -> DataValue:
        """The value without what only makes sense inside one function (its loops)."""
        if self.row_of == (0, 0):
            return self
        return replace(self, row_of=(0, 0))


def lower_confidence(first: Confidence, second: Confidence) -> Confidence:
    return first.at_most(second)


class RelationRead(Record, frozen=True):
    """A relationship of an instance read where that runs SQL."""

    # The `post.comments` / `post.author` attribute node.
    node: ast.Attribute
    relation: str
    owner_model: str
    target_model: str
    # The owner is one row of an iterated query (the loop at this position).
    row_of: tuple[int, int]
    # The relation was eager-loaded, but the call chain bypasses it (`.filter()` on a
    # prefetched manager runs a new query).
    bypasses_prefetch: bool = False


class QueryEvent(Record, frozen=True):
    """One place in a function that executes SQL."""

    # The call, iterated expression, subscript or attribute that runs the SQL.
    node: ast.AST
    kind: QueryKind
    layer: DataLayer
    # What runs it: a method name ("get", "commit"), "iteration", "list()", "slice".
    operation: str
    # How a message shows it: "Customer.objects.get(...)".
    text: str
    model: str = ""
    confidence: Confidence = Confidence.HIGH
    receiver: DataValue | None = None
    relation: RelationRead | None = None
    # For writes: the bulk alternative a message can propose.
    bulk_alternative: str = ""
    extra: tuple[str, ...] = ()
    # SQL text that changes the schema (CREATE, DROP, ALTER, GRANT...), not rows: one statement
    # per table or index, which no bulk form replaces.
    schema: bool = False
