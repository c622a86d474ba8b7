"""The ORM and driver APIs backbone knows: names, methods and what each one does.

Tables only; `flow.py` applies them to values. Qualified names are as `NameResolver`
gives them (`sqlalchemy.orm.Session` however it was imported).
"""

from __future__ import annotations

from backbone.review.orm.values import DataLayer, ValueKind

# --- Django ---------------------------------------------------------------------------

DJANGO_MODEL_BASES = frozenset(
    {
        "django.db.models.Model",
        "django.db.models.base.Model",
        "django.contrib.gis.db.models.Model",
        # django-polymorphic, django-model-utils and friends derive from Model.
        "polymorphic.models.PolymorphicModel",
        "model_utils.models.TimeStampedModel",
        "django.contrib.auth.models.AbstractUser",
        "django.contrib.auth.models.AbstractBaseUser",
        "django.contrib.auth.base_user.AbstractBaseUser",
        "django.contrib.auth.models.PermissionsMixin",
        "treebeard.mp_tree.MP_Node",
        "treebeard.ns_tree.NS_Node",
        "treebeard.al_tree.AL_Node",
        "mptt.models.MPTTModel",
        "modelcluster.models.ClusterableModel",
        "wagtail.models.Page",
        "wagtail.core.models.Page",
    }
)

DJANGO_MANAGER_BASES = frozenset(
    {
        "django.db.models.Manager",
        "django.db.models.manager.Manager",
        "django.db.models.manager.BaseManager",
        "django.db.models.QuerySet",
        "django.db.models.query.QuerySet",
    }
)

# Field constructors (last segment) that declare a relation, with what they declare.
DJANGO_FORWARD_SINGLE = frozenset({"ForeignKey", "OneToOneField", "ParentalKey", "TreeForeignKey", "TreeOneToOneField"})
DJANGO_ONE_TO_ONE = frozenset({"OneToOneField", "TreeOneToOneField"})
DJANGO_MANY_TO_MANY = frozenset({"ManyToManyField", "ParentalManyToManyField", "TreeManyToManyField", "SortedManyToManyField"})
DJANGO_GENERIC_FOREIGN_KEY = frozenset({"GenericForeignKey"})
DJANGO_GENERIC_RELATION = frozenset({"GenericRelation"})
# Packages whose field classes are Django model fields.
DJANGO_FIELD_PACKAGES = ("django.", "modelcluster.", "mptt.", "sortedm2m.", "treebeard.", "taggit.", "wagtail.")
# Form and serializer fields share the names but declare no columns.
DJANGO_NON_MODEL_PACKAGES = ("django.forms", "django.contrib.admin", "wagtail.admin", "wagtail.blocks", "django.test")

DJANGO_GET_MODEL = frozenset(
    {
        "django.apps.apps.get_model",
        "django.apps.registry.apps.get_model",
        "oscar.core.loading.get_model",
        "django.contrib.auth.get_user_model",
    }
)

# django-guardian: object permissions live in tables of their own. Its shortcuts query them on
# every call; an `ObjectPermissionChecker` queries on each `has_perm`/`get_perms` of an object it
# has not `prefetch_perms()`-ed; its utilities answer the permission model classes.
GUARDIAN_QUERY_FUNCTIONS = frozenset(
    {
        "guardian.shortcuts.get_perms",
        "guardian.shortcuts.get_user_perms",
        "guardian.shortcuts.get_group_perms",
        "guardian.shortcuts.get_users_with_perms",
        "guardian.shortcuts.get_groups_with_perms",
        "guardian.shortcuts.get_perms_for_model",
    }
)
GUARDIAN_CHECKERS = frozenset({"guardian.core.ObjectPermissionChecker"})
GUARDIAN_CHECKER_QUERIES = frozenset({"has_perm", "get_perms", "get_user_perms", "get_group_perms"})
GUARDIAN_MODEL_FACTORIES: dict[str, str] = {
    "guardian.utils.get_user_obj_perms_model": "guardian.UserObjectPermission",
    "guardian.utils.get_group_obj_perms_model": "guardian.GroupObjectPermission",
}

# Django models that ship with Django, with the relations code reads on them.
# model -> ((relation, target, many), ...)
DJANGO_BUILTIN_MODELS: dict[str, tuple[tuple[str, str, bool], ...]] = {
    "auth.User": (("groups", "auth.Group", True), ("user_permissions", "auth.Permission", True)),
    "auth.Group": (("permissions", "auth.Permission", True),),
    "auth.Permission": (("content_type", "contenttypes.ContentType", False),),
    "contenttypes.ContentType": (),
}
DJANGO_USER_MODEL_NAMES = frozenset(
    {"django.contrib.auth.models.User", "django.contrib.auth.get_user_model", "django.conf.settings.AUTH_USER_MODEL"}
)

# QuerySet / manager methods.
DJANGO_CHAIN = frozenset(
    {
        "all", "filter", "exclude", "order_by", "reverse", "distinct", "values", "values_list", "dates",
        "datetimes", "none", "union", "intersection", "difference", "select_related", "prefetch_related",
        "extra", "defer", "only", "using", "select_for_update", "annotate", "alias", "complex_filter",
        "get_queryset", "raw",
    }
)
# Evaluating methods that read; the value they return (None: not a model instance).
DJANGO_READ: dict[str, ValueKind | None] = {
    "get": ValueKind.INSTANCE,
    "first": ValueKind.INSTANCE,
    "last": ValueKind.INSTANCE,
    "earliest": ValueKind.INSTANCE,
    "latest": ValueKind.INSTANCE,
    "count": None,
    "exists": None,
    "aggregate": None,
    "in_bulk": None,
    "contains": None,
    "explain": None,
    "iterator": ValueKind.ROWS,
}
DJANGO_WRITE = frozenset(
    {"create", "bulk_create", "bulk_update", "update", "delete", "get_or_create", "update_or_create"}
)
DJANGO_INSTANCE_WRITE = frozenset({"save", "delete"})
DJANGO_INSTANCE_READ = frozenset({"refresh_from_db"})
DJANGO_RELATED_WRITE = frozenset({"add", "remove", "clear", "set", "create", "get_or_create", "update_or_create"})
# Evaluations a prefetched related manager answers from memory.
DJANGO_PREFETCH_SERVED = frozenset({"all", "count", "exists", "iteration", "list()", "len()", "bool()"})

# The bulk call a per-row write should become.
DJANGO_BULK_ALTERNATIVE = {
    "save": "bulk_update() (or one queryset update())",
    "create": "bulk_create()",
    "update": "one queryset update() over all the rows",
    "delete": "one queryset delete() over all the rows",
    "get_or_create": "one query for the existing rows and bulk_create() for the rest",
    "update_or_create": "bulk_create(update_conflicts=True) or bulk_update()",
    "add": "one add(*objects) call",
    "remove": "one remove(*objects) call",
    "set": "one set() call",
    "clear": "one delete() on the through model",
}


def django_async_name(name: str) -> str:
    """`aget` -> `get`: Django's async QuerySet API prefixes the sync name with "a"."""
    if name.startswith("a") and name[1:] in _DJANGO_ASYNC_BASES:
        return name[1:]
    return name


_DJANGO_ASYNC_BASES = frozenset(
    {
        "get", "first", "last", "earliest", "latest", "count", "exists", "aggregate", "in_bulk", "contains",
        "explain", "iterator", "create", "bulk_create", "bulk_update", "update", "delete", "get_or_create",
        "update_or_create", "save", "refresh_from_db", "add", "remove", "clear", "set",
    }
)

DJANGO_SHORTCUTS: dict[str, ValueKind] = {
    "django.shortcuts.get_object_or_404": ValueKind.INSTANCE,
    "django.shortcuts.get_list_or_404": ValueKind.ROWS,
    "rest_framework.generics.get_object_or_404": ValueKind.INSTANCE,
}
DJANGO_F = frozenset({"django.db.models.F", "django.db.models.expressions.F"})
DJANGO_PREFETCH = frozenset(
    {
        "django.db.models.Prefetch",
        "django.db.models.query.Prefetch",
        # Django 5.0: prefetches a generic foreign key (and the relations under it).
        "django.contrib.contenttypes.prefetch.GenericPrefetch",
    }
)
DJANGO_RAW_SQL = frozenset({"django.db.models.expressions.RawSQL", "django.db.models.RawSQL"})
DJANGO_CONNECTIONS = frozenset({"django.db.connection", "django.db.connections"})

# --- SQLAlchemy -----------------------------------------------------------------------

# Subclassing one of these declares a declarative base (`class Base(DeclarativeBase)`).
SQLALCHEMY_BASE_DECLARERS = frozenset(
    {
        "sqlalchemy.orm.DeclarativeBase",
        "sqlalchemy.orm.DeclarativeBaseNoMeta",
        "sqlalchemy.orm.decl_api.DeclarativeBase",
        "sqlalchemy.orm.decl_api.DeclarativeBaseNoMeta",
    }
)
# Subclassing one of these (directly or not) maps a model.
SQLALCHEMY_BASE_CLASSES = SQLALCHEMY_BASE_DECLARERS | frozenset(
    {
        "sqlalchemy.orm.MappedAsDataclass",
        "sqlmodel.SQLModel",
        "sqlmodel.main.SQLModel",
        # Flask-AppBuilder's declarative base.
        "flask_appbuilder.Model",
        "flask_appbuilder.models.sqla.Model",
    }
)
SQLALCHEMY_BASE_FACTORIES = frozenset(
    {
        "sqlalchemy.orm.declarative_base",
        "sqlalchemy.ext.declarative.declarative_base",
        "sqlalchemy.orm.decl_api.declarative_base",
        "sqlalchemy.orm.registry.generate_base",
    }
)
FLASK_SQLALCHEMY_CLASSES = frozenset(
    {
        "flask_sqlalchemy.SQLAlchemy",
        "flask_sqlalchemy.extension.SQLAlchemy",
        "quart_sqlalchemy.SQLAlchemy",
        "flask_appbuilder.SQLA",
        "flask_appbuilder.models.sqla.SQLA",
    }
)
# Constructors -> (kind, is_async).
SQLALCHEMY_CONSTRUCTORS: dict[str, tuple[ValueKind, bool]] = {
    "sqlalchemy.orm.Session": (ValueKind.SESSION, False),
    "sqlalchemy.orm.session.Session": (ValueKind.SESSION, False),
    "sqlmodel.Session": (ValueKind.SESSION, False),
    "sqlmodel.orm.session.Session": (ValueKind.SESSION, False),
    "sqlalchemy.orm.scoped_session": (ValueKind.SESSION, False),
    "sqlalchemy.orm.scoping.scoped_session": (ValueKind.SESSION, False),
    "sqlalchemy.ext.asyncio.AsyncSession": (ValueKind.SESSION, True),
    "sqlalchemy.ext.asyncio.async_scoped_session": (ValueKind.SESSION, True),
    "sqlmodel.ext.asyncio.session.AsyncSession": (ValueKind.SESSION, True),
    "sqlalchemy.orm.sessionmaker": (ValueKind.SESSION_FACTORY, False),
    "sqlalchemy.orm.session.sessionmaker": (ValueKind.SESSION_FACTORY, False),
    "sqlalchemy.ext.asyncio.async_sessionmaker": (ValueKind.SESSION_FACTORY, True),
    "sqlalchemy.create_engine": (ValueKind.ENGINE, False),
    "sqlalchemy.engine.create_engine": (ValueKind.ENGINE, False),
    "sqlmodel.create_engine": (ValueKind.ENGINE, False),
    "sqlalchemy.engine_from_config": (ValueKind.ENGINE, False),
    "sqlalchemy.ext.asyncio.create_async_engine": (ValueKind.ENGINE, True),
    "sqlalchemy.orm.Query": (ValueKind.QUERY, False),
}
# Type annotations of parameters.
SQLALCHEMY_ANNOTATIONS: dict[str, tuple[ValueKind, bool]] = {
    **{name: kind for name, kind in SQLALCHEMY_CONSTRUCTORS.items() if kind[0] is ValueKind.SESSION},
    "sqlalchemy.orm.Session": (ValueKind.SESSION, False),
    "sqlalchemy.engine.Connection": (ValueKind.CONNECTION, False),
    "sqlalchemy.Connection": (ValueKind.CONNECTION, False),
    "sqlalchemy.engine.base.Connection": (ValueKind.CONNECTION, False),
    "sqlalchemy.ext.asyncio.AsyncConnection": (ValueKind.CONNECTION, True),
    "sqlalchemy.engine.Engine": (ValueKind.ENGINE, False),
    "sqlalchemy.Engine": (ValueKind.ENGINE, False),
    "sqlalchemy.ext.asyncio.AsyncEngine": (ValueKind.ENGINE, True),
    "sqlalchemy.orm.Query": (ValueKind.QUERY, False),
}
SQLALCHEMY_SELECT = frozenset(
    {
        "sqlalchemy.select",
        "sqlalchemy.sql.select",
        "sqlalchemy.future.select",
        "sqlalchemy.sql.expression.select",
        "sqlmodel.select",
        "sqlmodel.sql.expression.select",
    }
)
SQLALCHEMY_WRITE_STATEMENTS = frozenset(
    {
        "sqlalchemy.insert",
        "sqlalchemy.update",
        "sqlalchemy.delete",
        "sqlalchemy.sql.insert",
        "sqlalchemy.sql.update",
        "sqlalchemy.sql.delete",
        "sqlalchemy.sql.expression.insert",
        "sqlalchemy.sql.expression.update",
        "sqlalchemy.sql.expression.delete",
        "sqlalchemy.dialects.postgresql.insert",
        "sqlalchemy.dialects.sqlite.insert",
        "sqlalchemy.dialects.mysql.insert",
        "sqlmodel.insert",
        "sqlmodel.update",
        "sqlmodel.delete",
    }
)
SQLALCHEMY_TEXT = frozenset({"sqlalchemy.text", "sqlalchemy.sql.text", "sqlalchemy.sql.expression.text", "sqlmodel.text"})
# Wrappers whose first argument is the SQL text they hold (psycopg's composable `sql.SQL("DROP TABLE {}")`).
SQL_TEXT_WRAPPERS = SQLALCHEMY_TEXT | frozenset({"psycopg2.sql.SQL", "psycopg.sql.SQL"})
# The statement builders Flask-SQLAlchemy exposes on `db` (last segment).
EXTENSION_STATEMENTS = {"select": False, "insert": True, "update": True, "delete": True, "text": False}

SQLALCHEMY_RELATIONSHIP = frozenset({"relationship", "relation", "Relationship", "dynamic_loader"})
SQLALCHEMY_COLUMN = frozenset({"Column", "mapped_column", "Field", "column_property", "deferred", "synonym"})
SQLALCHEMY_PACKAGES = ("sqlalchemy.", "sqlmodel.", "flask_sqlalchemy.")

# Session methods: method -> (query kind or None for none, result kind).
SESSION_READ: dict[str, ValueKind | None] = {
    "scalars": ValueKind.ROWS,
    "scalar": ValueKind.INSTANCE,
    "get": ValueKind.INSTANCE,
    "get_one": ValueKind.INSTANCE,
    "refresh": None,
    "stream": ValueKind.ROWS,
    "stream_scalars": ValueKind.ROWS,
    "exec": ValueKind.ROWS,
}
# Session methods that write (and what to do instead in a loop).
SESSION_WRITE = {
    "commit": "one commit() after the loop",
    "flush": "one flush() (or commit()) after the loop",
    "bulk_save_objects": "one bulk_save_objects() call after the loop",
    "bulk_insert_mappings": "one bulk_insert_mappings() call after the loop",
    "bulk_update_mappings": "one bulk_update_mappings() call after the loop",
}
# Session methods that execute whatever statement they get.
SESSION_EXECUTE = frozenset({"execute", "exec_driver_sql"})
SQLA_QUERY_CHAIN = frozenset(
    {
        "filter", "filter_by", "join", "outerjoin", "options", "order_by", "limit", "offset", "group_by",
        "having", "distinct", "with_for_update", "populate_existing", "execution_options", "select_from",
        "correlate", "with_entities", "add_columns", "add_entity", "enable_eagerloads", "yield_per", "params",
        "where", "union", "union_all", "slice", "autoflush", "from_self", "reset_joinpoint", "with_parent",
        "with_session", "join_from", "undefer", "with_labels", "set_label_style", "prefix_with",
        "suffix_with", "with_hint", "with_only_columns", "unique",
    }
)
SQLA_QUERY_READ: dict[str, ValueKind | None] = {
    "all": ValueKind.ROWS,
    "first": ValueKind.INSTANCE,
    "one": ValueKind.INSTANCE,
    "one_or_none": ValueKind.INSTANCE,
    "scalar": None,
    "count": None,
    "get": ValueKind.INSTANCE,
    "first_or_404": ValueKind.INSTANCE,
    "get_or_404": ValueKind.INSTANCE,
    "one_or_404": ValueKind.INSTANCE,
    "paginate": ValueKind.ROWS,
}
SQLA_QUERY_WRITE = frozenset({"update", "delete"})
# Flask-SQLAlchemy extension helpers that execute.
EXTENSION_READ: dict[str, ValueKind] = {
    "paginate": ValueKind.ROWS,
    "get_or_404": ValueKind.INSTANCE,
    "first_or_404": ValueKind.INSTANCE,
    "one_or_404": ValueKind.INSTANCE,
}
STATEMENT_CHAIN = frozenset(
    {
        "where", "filter", "filter_by", "options", "join", "outerjoin", "order_by", "limit", "offset", "values",
        "returning", "with_for_update", "group_by", "having", "distinct", "execution_options", "select_from",
        "join_from", "correlate", "add_columns", "with_only_columns", "union", "union_all", "on_conflict_do_nothing",
        "on_conflict_do_update", "on_duplicate_key_update", "ordered_values", "prefix_with", "suffix_with",
        "bindparams", "columns", "fetch", "slice", "inline", "from_select", "with_hint", "with_dialect_options",
    }
)
# Clauses only an INSERT statement has: a statement chained through one writes.
UPSERT_CLAUSES = frozenset({"on_conflict_do_update", "on_conflict_do_nothing", "on_duplicate_key_update"})
# Methods of an executed result (no SQL).
RESULT_METHODS: dict[str, ValueKind | None] = {
    "all": ValueKind.ROWS,
    "fetchall": ValueKind.ROWS,
    "fetchmany": ValueKind.ROWS,
    "partitions": ValueKind.ROWS,
    "unique": ValueKind.ROWS,
    "scalars": ValueKind.ROWS,
    "mappings": ValueKind.ROWS,
    "tuples": ValueKind.ROWS,
    "first": ValueKind.INSTANCE,
    "one": ValueKind.INSTANCE,
    "one_or_none": ValueKind.INSTANCE,
    "scalar_one": ValueKind.INSTANCE,
    "scalar_one_or_none": ValueKind.INSTANCE,
    "scalar": ValueKind.INSTANCE,
    "fetchone": ValueKind.INSTANCE,
}
# Loader options: name -> what they do to the path.
EAGER_LOADERS = frozenset({"joinedload", "selectinload", "subqueryload", "contains_eager", "immediateload"})
# Relations that raise or load nothing can't cause a lazy load.
NO_LOAD_LOADERS = frozenset({"raiseload", "noload"})
PATH_LOADERS = frozenset({"defaultload", "lazyload", "Load", "load_only", "defer", "undefer", "joinedload_all"})
SQLALCHEMY_LOAD_STRATEGIES = {
    "select": "lazy",
    "True": "lazy",
    "lazy": "lazy",
    "joined": "joined",
    "False": "joined",
    "selectin": "selectin",
    "subquery": "subquery",
    "immediate": "immediate",
    "dynamic": "dynamic",
    "write_only": "write_only",
    "raise": "raise",
    "raise_on_sql": "raise",
    "noload": "noload",
    "None": "noload",
}

# --- DB-API drivers, asyncpg, databases ---------------------------------------------

# Functions that open a connection (or pool) -> is_async.
DRIVER_CONNECT: dict[str, bool] = {
    "sqlite3.connect": False,
    "sqlite3.dbapi2.connect": False,
    "psycopg2.connect": False,
    "psycopg2.pool.SimpleConnectionPool": False,
    "psycopg2.pool.ThreadedConnectionPool": False,
    "psycopg.connect": False,
    "psycopg.Connection.connect": False,
    "psycopg.AsyncConnection.connect": True,
    "psycopg_pool.ConnectionPool": False,
    "psycopg_pool.AsyncConnectionPool": True,
    "pymysql.connect": False,
    "pymysql.connections.Connection": False,
    "MySQLdb.connect": False,
    "mysql.connector.connect": False,
    "cx_Oracle.connect": False,
    "oracledb.connect": False,
    "pyodbc.connect": False,
    "asyncpg.connect": True,
    "asyncpg.create_pool": True,
    "aiosqlite.connect": True,
    "aiomysql.connect": True,
    "aiomysql.create_pool": True,
    "aiopg.connect": True,
    "aiopg.create_pool": True,
    "databases.Database": True,
    "duckdb.connect": False,
}
DRIVER_ANNOTATIONS: dict[str, ValueKind] = {
    "sqlite3.Connection": ValueKind.CONNECTION,
    "sqlite3.Cursor": ValueKind.CURSOR,
    "psycopg2.extensions.connection": ValueKind.CONNECTION,
    "psycopg2.extensions.cursor": ValueKind.CURSOR,
    "psycopg.Connection": ValueKind.CONNECTION,
    "psycopg.AsyncConnection": ValueKind.CONNECTION,
    "psycopg.Cursor": ValueKind.CURSOR,
    "psycopg.AsyncCursor": ValueKind.CURSOR,
    "asyncpg.Connection": ValueKind.CONNECTION,
    "asyncpg.connection.Connection": ValueKind.CONNECTION,
    "asyncpg.Pool": ValueKind.CONNECTION,
    "asyncpg.pool.Pool": ValueKind.CONNECTION,
    "pymysql.connections.Connection": ValueKind.CONNECTION,
    "pymysql.cursors.Cursor": ValueKind.CURSOR,
    "databases.Database": ValueKind.CONNECTION,
    "aiosqlite.Connection": ValueKind.CONNECTION,
    "aiosqlite.Cursor": ValueKind.CURSOR,
    "django.db.backends.utils.CursorWrapper": ValueKind.CURSOR,
}
# Connection methods that run SQL and return rows (asyncpg, databases, sqlite3, psycopg 3).
CONNECTION_READ = frozenset(
    {"fetch", "fetchrow", "fetchval", "fetch_all", "fetch_one", "fetch_val", "iterate", "cursor_execute"}
)
# Methods that run whatever SQL they get.
EXECUTE_METHODS = frozenset({"execute", "exec_driver_sql", "executescript"})
EXECUTE_MANY_METHODS = frozenset({"executemany", "execute_many", "copy_records_to_table", "copy_from", "copy_expert"})
# Opening a cursor / acquiring a connection from a pool.
CURSOR_METHODS = frozenset({"cursor"})
ACQUIRE_METHODS = frozenset({"acquire", "connect", "begin", "connection", "transaction", "getconn"})

# --- Names used by convention --------------------------------------------------------

# Parameter and attribute names that usually hold a session or connection, when nothing
# better is known (low confidence).
SESSION_NAMES = frozenset({"session", "db_session", "dbsession", "db", "sess", "async_session", "database_session"})
CONNECTION_NAMES = frozenset({"conn", "connection", "db_conn", "dbconn", "con", "pool", "db_connection"})
CURSOR_NAMES = frozenset({"cursor", "cur", "db_cursor", "dbcursor"})

# Decorators whose function answers from a cache: calling it again runs no query.
CACHING_DECORATORS = frozenset(
    {
        "functools.lru_cache",
        "functools.cache",
        "functools.cached_property",
        "django.utils.functional.cached_property",
        "cached_property",
        "cachetools.cached",
        "cachetools.func.ttl_cache",
        "cachetools.func.lru_cache",
        "async_lru.alru_cache",
        "memoize",
        "django.views.decorators.cache.cache_page",
    }
)

LAYER_OF_KIND = {ValueKind.CURSOR: DataLayer.DRIVER}


# Every method name that can run SQL (or open what runs it), for cheap filtering.
SQL_METHOD_NAMES = frozenset(
    set(DJANGO_READ)
    | DJANGO_WRITE
    | DJANGO_INSTANCE_WRITE
    | DJANGO_INSTANCE_READ
    | DJANGO_RELATED_WRITE
    | {"a" + name for name in (*DJANGO_READ, *DJANGO_WRITE, *DJANGO_INSTANCE_WRITE, *DJANGO_INSTANCE_READ, *DJANGO_RELATED_WRITE)}
    | set(SESSION_READ)
    | set(SESSION_WRITE)
    | SESSION_EXECUTE
    | set(SQLA_QUERY_READ)
    | SQLA_QUERY_WRITE
    | set(EXTENSION_READ)
    | CONNECTION_READ
    | EXECUTE_METHODS
    | EXECUTE_MANY_METHODS
    | {"callproc", "commit", "flush", "scalar", "scalars", "query", "refresh"}
)
