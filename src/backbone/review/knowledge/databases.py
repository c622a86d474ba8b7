"""Which databases a project runs on, from what its code configures.

Per file (`ModuleFacts.databases`): the databases its string constants name. A SQLAlchemy URL
(`sqlite:///app.db`, `postgresql+psycopg://...`, the constant head of an f-string or of a
`"sqlite:///{}".format(...)`), a Django `ENGINE` (`django.db.backends.sqlite3`), or a database's
dialect name on its own (`dialect.name == "postgresql"`). A SQLite URL or engine that is only the
fallback of a configuration lookup (`os.getenv("DATABASE_URL", "sqlite:///app.db")`, a `default=`,
the right of an `or`, a parameter's default, a class attribute such as a settings field) counts as
CONFIGURABLE: the configuration may name any database.

Project-wide (`sqlite_only`): the project builds a SQLite URL (or engine) in its own code, outside
tests, and nothing names another database: no URL, engine or dialect name of one, no fallback
the configuration overrides, no import of another database's driver or SQLAlchemy dialect.
"""

from __future__ import annotations

import ast
import re
from typing import TYPE_CHECKING

from backbone.review.knowledge.paths import is_test_path
from backbone.review.names import within

if TYPE_CHECKING:
    from backbone.review.project import ProjectIndex

SQLITE = "sqlite"
# A SQLite URL the code falls back to when the configuration names none.
CONFIGURABLE = "configurable"
# A database other than SQLite (PostgreSQL, MySQL, Oracle, SQL Server, CockroachDB, ...).
OTHER = "other"

_URL = re.compile(r"^([a-z][a-z0-9]*)(?:\+[a-z0-9_]+)?://", re.IGNORECASE)
# The URL schemes (SQLAlchemy's dialect names) and bare dialect names of databases other than SQLite.
_OTHER_DATABASES = frozenset({"postgresql", "postgres", "mysql", "mariadb", "oracle", "mssql", "cockroachdb"})
_DJANGO_BACKENDS = ("django.db.backends.", "django.contrib.gis.db.backends.")
_SQLITE_BACKENDS = frozenset({"sqlite3", "spatialite"})
# Drivers and SQLAlchemy/Django dialect modules of databases other than SQLite: a project that
# imports one talks to such a database.
OTHER_DATABASE_MODULES = (
    "psycopg2", "psycopg", "asyncpg", "pg8000", "aiopg", "MySQLdb", "pymysql", "aiomysql", "asyncmy",
    "mysql.connector", "cx_Oracle", "oracledb", "pyodbc", "pymssql", "sqlalchemy.dialects.postgresql",
    "sqlalchemy.dialects.mysql", "sqlalchemy.dialects.oracle", "sqlalchemy.dialects.mssql", "django.contrib.postgres",
)
_OTHER_DATABASE_PREFIXES = frozenset(OTHER_DATABASE_MODULES)


def database_mentions(tree: ast.Module, nodes: list[ast.AST] | None = None) -> tuple[str, ...]:
    """SQLITE, CONFIGURABLE and OTHER, as far as the file's string constants name them (sorted).
    `nodes`: the tree's string constants (or more), when already listed."""
    found: set[str] = set()
    sqlite: list[ast.Constant] = []
    for node in ast.walk(tree) if nodes is None else nodes:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            database = _database_of(node.value)
            if database == SQLITE:
                sqlite.append(node)
            elif database:
                found.add(database)
    if sqlite:
        parents = {child: parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}
        found.update(CONFIGURABLE if _is_fallback(constant, parents) else SQLITE for constant in sqlite)
    return tuple(sorted(found))


def _is_fallback(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    """Whether the expression holding `node` is what the code uses when the configuration names
    nothing: a call's argument after the first (`os.getenv("URL", "sqlite://")`) or its `default=`,
    the right of an `or`, a parameter's default, a value set in a class body (a settings field)."""
    child = node
    parent = parents.get(child)
    while parent is not None and not isinstance(parent, ast.stmt):
        if isinstance(parent, ast.Call) and (child in parent.args[1:] or any(
            keyword.arg == "default" and keyword.value is child for keyword in parent.keywords
        )):
            return True
        if isinstance(parent, ast.BoolOp) and isinstance(parent.op, ast.Or) and child is not parent.values[0]:
            return True
        if isinstance(parent, ast.arguments):
            return True
        child, parent = parent, parents.get(parent)
    return isinstance(parent, (ast.Assign, ast.AnnAssign)) and isinstance(parents.get(parent), ast.ClassDef)


def _database_of(text: str) -> str:
    """SQLITE or OTHER for a URL, Django engine or dialect name; "" for any other string."""
    text = text.strip()
    if text.lower() in _OTHER_DATABASES:
        return OTHER
    url = _URL.match(text)
    if url is not None:
        scheme = url.group(1).lower()
        return SQLITE if scheme == SQLITE else OTHER if scheme in _OTHER_DATABASES else ""
    for prefix in _DJANGO_BACKENDS:
        if text.startswith(prefix):
            return SQLITE if text[len(prefix):] in _SQLITE_BACKENDS else OTHER
    return ""


def sqlite_only(project: ProjectIndex) -> bool:
    """Whether the project's only database is SQLite (see the module's docstring)."""
    mentions: set[str] = set()
    for facts in project.modules.values():
        found = set(facts.databases)
        if is_test_path(facts.path):
            # Tests often run on SQLite whatever production runs on.
            found.discard(SQLITE)
        mentions |= found
    if mentions != {SQLITE}:
        return False
    return not any(
        within(target, _OTHER_DATABASE_PREFIXES) for facts in project.modules.values() for target in facts.imports.values()
    )
