"""The per-file facts of the ORM layer: what one module declares about data.

Kept in `ModuleFacts.models` (cached, sent to workers, compared), so only records of
strings, ints, bools, enums and tuples: no dicts, no sets (their repr order changes
between processes), no AST nodes.

- `ModelClass`: a Django model or SQLAlchemy/SQLModel/Flask-SQLAlchemy declarative class
  (or a mixin/abstract class that declares fields), with its fields, relations, managers.
- `DataHandle`: a module-level name bound to a database entry point (`db = SQLAlchemy()`,
  `SessionLocal = sessionmaker(...)`, `engine = create_engine(...)`,
  `Product = get_model("catalogue", "Product")`, `AUTH_USER_MODEL = "accounts.User"`).
- `FunctionDataAccess`: what a function does with the database: the queries it runs
  itself, the data value it returns (a query of model X with eager loads Y) or yields
  (a session, for `Depends(get_db)`), and whether it caches its answer.
"""

from __future__ import annotations

import enum

from backbone.findings import Confidence
from backbone.records import Record
from backbone.review.guards import Guard
from backbone.review.orm.values import DataLayer, DataValue, Origin, QueryKind


class RelationKind(enum.Enum):
    FOREIGN_KEY = "foreign key"
    ONE_TO_ONE = "one-to-one"
    MANY_TO_MANY = "many-to-many"
    GENERIC_FOREIGN_KEY = "generic foreign key"
    GENERIC_RELATION = "generic relation"
    # A SQLAlchemy `relationship()` / SQLModel `Relationship()`; its direction comes from
    # the annotation, `uselist`, `secondary` or the foreign keys (the model graph decides).
    RELATIONSHIP = "relationship"


class LoadStrategy(enum.Enum):
    """How a relation loads when read; Django relations are always LAZY."""

    LAZY = "select"
    JOINED = "joined"
    SELECTIN = "selectin"
    SUBQUERY = "subquery"
    IMMEDIATE = "immediate"
    DYNAMIC = "dynamic"
    WRITE_ONLY = "write_only"
    RAISE = "raise"
    NOLOAD = "noload"

    @property
    def eager(self) -> bool:
        return self in (LoadStrategy.JOINED, LoadStrategy.SELECTIN, LoadStrategy.SUBQUERY, LoadStrategy.IMMEDIATE)

    @property
    def never_queries_on_read(self) -> bool:
        """Reading the attribute runs no SQL (loaded with the row, raises, or stays empty)."""
        return self.eager or self in (LoadStrategy.RAISE, LoadStrategy.NOLOAD)


class Multiplicity(enum.Enum):
    UNKNOWN = "unknown"
    SINGLE = "single"
    MANY = "many"


class RelationDeclaration(Record, frozen=True):
    name: str
    kind: RelationKind
    # Qualified name of the target class, or the string reference as written
    # ("app.Model", "Model", "self", "<user>" for settings.AUTH_USER_MODEL); "" unknown.
    target: str
    target_is_reference: bool
    line: int
    # Django `related_name` (may be "+" or hold %(class)s) or SQLAlchemy `backref` name.
    related_name: str = ""
    back_populates: str = ""
    load: LoadStrategy = LoadStrategy.LAZY
    backref_load: LoadStrategy = LoadStrategy.LAZY
    multiplicity: Multiplicity = Multiplicity.UNKNOWN
    # SQLAlchemy `secondary=`: a many-to-many.
    secondary: bool = False


class ManagerDeclaration(Record, frozen=True):
    """A Django manager attribute (`objects = PostManager()`, `QS.as_manager()`)."""

    name: str
    # Qualified name of the manager (or queryset) class; "" for Django's own Manager.
    manager_class: str = ""
    queryset_class: str = ""


class ModelClass(Record, frozen=True):
    qualname: str
    name: str
    line: int
    # None when only the class's bases (in other files) can tell.
    layer: DataLayer | None
    bases: tuple[str, ...]
    abstract: bool = False
    proxy: bool = False
    app_label: str = ""
    table: str = ""
    fields: tuple[str, ...] = ()
    # SQLAlchemy columns with a ForeignKey: (attribute, "table.column").
    foreign_keys: tuple[tuple[str, str], ...] = ()
    relations: tuple[RelationDeclaration, ...] = ()
    managers: tuple[ManagerDeclaration, ...] = ()
    # Columns and Django fields declared `primary_key=True`.
    primary_keys: tuple[str, ...] = ()
    # Columns and Django fields declared `unique=True`: a filter on one picks out one row.
    unique_fields: tuple[str, ...] = ()
    # Sets of fields unique together (Django `unique_together`, an unconditional `UniqueConstraint`).
    unique_sets: tuple[tuple[str, ...], ...] = ()
    # SQLAlchemy `version_id_col`: concurrent updates are detected, not lost.
    version_counter: bool = False
    # Its own bases say it is mapped (Django Model, a declarative base, `db.Model`,
    # SQLModel with `table=True`); otherwise it is a mixin until an ancestor says so.
    derives_from_orm: bool = False
    # The class itself is an ORM base (`class Base(DeclarativeBase)`), not a table.
    is_base: bool = False
    # A SQLModel class without `table=True` (a plain pydantic schema).
    schema_only: bool = False


class DataHandle(Record, frozen=True):
    """A module-level name bound to a database entry point or a model reference."""

    qualname: str
    value: DataValue


class QuerySite(Record, frozen=True):
    """One query a function runs itself."""

    line: int
    column: int
    kind: QueryKind
    # How a message shows it: "session.get(...)".
    text: str
    confidence: Confidence
    # The query reads this relation of `self` (a model method reading `self.items`):
    # the caller may have eager-loaded it.
    self_relation: str = ""
    # A read that locks its rows (`select_for_update()`, `with_for_update()`): it takes the
    # row for a write of the same unit of work.
    locked: bool = False
    # A read keyed by the function's arguments (`filter_by(uuid=config["uuid"])`) that the
    # function follows with a write, found or not (`flush()`, `save()`, an INSERT): the lookup
    # of a create-or-update of the row the caller hands over. The parameters that key it, by
    # name and by position ("#0": the first argument a call writes).
    upsert_keys: tuple[str, ...] = ()
    # A SQLAlchemy get by primary key (`session.get(Model, key)`, `query(Model).get(key)`) keyed
    # by these parameters: called again with the same key, the session's identity map answers.
    identity_keys: tuple[str, ...] = ()
    # DDL (`CREATE TABLE`, `DROP INDEX`...): it changes the schema, not rows.
    schema: bool = False


class ParameterGuard(Record, frozen=True):
    """A query or call that runs only for some values of a parameter with a constant default.

    `if site_root_paths is None: site_root_paths = Site.get_site_root_paths()` runs the call only
    when the caller leaves `site_root_paths` out (or passes None); `if look_in_db:` under
    `def clean_tag(name, look_in_db=True)` runs it unless the caller passes a false constant.
    """

    line: int
    column: int
    guard: Guard


class SafeArgument(Record, frozen=True):
    """An argument, at a call in the function, that can't carry text an outsider chose: a
    constant, a number (`int(...)`, a value typed `int`), configuration (origins.py).

    The project knowledge gives a parameter the origin its callers pass when every call of
    the function passes such a value.
    """

    line: int
    # 1-based, as `CallSite` counts.
    column: int
    # Position among the positional arguments (-1: passed by keyword).
    position: int
    keyword: str
    origin: Origin


class PerRowMethodCall(Record, frozen=True):
    """A model method called on each row of a query in a loop or comprehension:
    `[check.to_dict() for check in Check.objects.filter(...)]` -> (Check, "to_dict")."""

    model: str
    method: str
    line: int


class FunctionDataAccess(Record, frozen=True):
    qualname: str
    queries: tuple[QuerySite, ...] = ()
    # What the function returns, when it is a data value (a query of model X...).
    result: DataValue | None = None
    # What a generator function yields (a session, for `Depends(get_db)`).
    yields: DataValue | None = None
    # Decorated with a cache (lru_cache, cached_property), or answering from a cache
    # (`cache.get(...)` first): repeated calls run no SQL.
    cached: bool = False
    # Queries and calls that run only for some values of parameters with a constant default.
    guards: tuple[ParameterGuard, ...] = ()
    # Where what it returns comes from, when every return says so (origins.py): a property
    # returning a dialect's SQL keyword is CONSTANT, `return request.args["q"]` REQUEST.
    returns: Origin | None = None
    # It takes a lock that serialises its writers: a PostgreSQL advisory lock, a row loaded
    # with select_for_update()/with_for_update(), a database or table write lock (`BEGIN
    # IMMEDIATE`, `LOCK TABLE`), an asyncio lock.
    locks: bool = False
    # Model methods it calls on each row of a query it iterates.
    per_row_methods: tuple[PerRowMethodCall, ...] = ()
    # It queries (itself or through its calls) only for keys a dict on `self` doesn't hold yet and
    # stores them there (`missing = [k for k in keys if k not in self.names]`): the parameters
    # the keys come from, by name and "#i" position; None when it doesn't memoise so.
    memo_keys: tuple[str, ...] | None = None


class FreshArgument(Record, frozen=True):
    """An argument, at a call in the function, that is a model object the function built
    (`FollowUp(...)`) and had not saved before the call: a row no other request can see yet."""

    line: int
    # 1-based, as `CallSite` counts.
    column: int
    # Position among the positional arguments (-1: passed by keyword).
    position: int
    keyword: str
    # The class the caller called to build it, as its imports qualify it, when the file alone
    # doesn't know it for a model (`f = FollowUp(...)` with FollowUp imported): the project
    # knowledge checks it is one. "" when the file knew.
    constructor: str = ""


class CallArguments(Record, frozen=True):
    """The arguments of a function's calls that carry no input (a fact of its own, so that a
    function that only passes numbers along still has no `FunctionDataAccess`), and those
    that are new, unsaved model objects."""

    qualname: str
    arguments: tuple[SafeArgument, ...]
    fresh: tuple[FreshArgument, ...] = ()


class ContributedMethod(Record, frozen=True):
    """A function module-level code adds to a model class as a method or property
    (`User.add_to_class("role", user_role)`): `user.role()` runs its body with `self` the row."""

    # The model as the file's imports qualify it.
    model: str
    name: str
    function: str


ModelDeclaration = ModelClass | DataHandle | FunctionDataAccess | CallArguments | ContributedMethod
