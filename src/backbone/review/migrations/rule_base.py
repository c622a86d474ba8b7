"""The base of the BB7 rules (rules/migrations/): it reads the migration once and reports only in migrations."""

from __future__ import annotations

import ast
from typing import ClassVar

from backbone.findings import Confidence, Severity
from backbone.review.context_kinds import ExecutionContext
from backbone.review.migrations import (
    DEFAULT_POSTGRES_VERSION,
    Dialect,
    Migration,
    Step,
    effect,
    read_migration,
)
from backbone.review.migrations.history import replaced
from backbone.review.migrations.self_migration import applied_by
from backbone.review.rules.base import ContextPolicy, Rule, RuleOption

POSTGRES_VERSION = RuleOption(
    "postgres-version",
    DEFAULT_POSTGRES_VERSION,
    "The PostgreSQL major version the migrations run on (set once as `postgres-version` in [tool.backbone]).",
)
EXAMPLE_PATH = "shop/migrations/0002_example.py"
# The "not reported" sentence of every rule about PostgreSQL's locks (`postgres_locks`).
NOT_ON_OTHER_DATABASES = (
    " Not reported on other databases: an Alembic revision that runs elsewhere than PostgreSQL (it sits in a "
    "revisions directory named for its database beside one named for another, such as `versions/sqlite/` next to "
    "`versions/postgresql/`, or it runs SQL only SQLite accepts, such as `PRAGMA`), and the operations inside a "
    "branch for another database (`if op.get_bind().dialect.name == \"sqlite\":`, `if isinstance(bind.dialect, "
    "SQLiteDialect):`, the `else` of a PostgreSQL branch); nor any migration of a project whose only database "
    "is SQLite: its own code (tests aside) builds a SQLite URL (`create_engine(f\"sqlite:///{path}\")`) or sets "
    "Django's SQLite engine, not merely as the fallback of a configuration lookup (`os.getenv(\"DATABASE_URL\", "
    "\"sqlite:///app.db\")`, a settings field's default), and nothing in it names another database: no URL, "
    "engine or dialect name of one (`dialect.name == \"postgresql\"`), no import of its driver (psycopg, asyncpg, "
    "PyMySQL, ...) or of SQLAlchemy's dialect for it."
)

# The "not reported" sentence of every rule that reads the project's migrations (Scope.PROJECT).
NOT_IN_REPLACED = (
    " Not reported in a Django migration that a squashed migration of the same app lists in its `replaces`: a "
    "new database runs the squash instead (reported there, unless it is an `initial` migration), and the "
    "replaced one ran only on databases that applied it before the squash existed."
)

# The sentence of every rule about PostgreSQL's locks on migrations the application applies itself,
# or that its service waits for.
APPLIED_BY_THE_PROJECT = (
    " In a project whose own code (tests and migrations aside) applies its migrations, a self-hosted server "
    "that migrates its database as it starts or through its own migrate command while it is stopped, "
    "reported at low confidence, which the default report leaves out: no query waits on the lock; it matters "
    "only where other instances serve while one migrates. Its code applies them when it calls "
    "`alembic.command.upgrade` or `flask_migrate.upgrade`, runs Alembic's command line with `upgrade` "
    "(`alembic.config.main(argv=[\"upgrade\", \"head\"])`, `CommandLine().main(...)`), calls `run_migrations()` "
    "on a `MigrationContext` it configures or on an `EnvironmentContext` (or `run_env()` in a `with "
    "EnvironmentContext(...)` block), or runs Django's `call_command(\"migrate\")` as it starts (in "
    "`AppConfig.ready`, or a start script's top-level code) or anywhere in a self-hosted server (one whose own code "
    "runs its HTTP server: `cheroot`, `waitress.serve`, `uvicorn.run`, Django's own server started with "
    "`call_command(\"runserver\")`...); a setup command of an application "
    "that a deployment's server imports is no sign; not when it only stamps, fakes, checks or plans, and not in "
    "an Alembic `env.py`, which is what the `alembic` command line runs. The same holds, for another reason, "
    "in a project whose service refuses to start until its database is at the migrations' head (its code "
    "compares `MigrationContext.get_current_heads()` or `get_current_revision()` with the scripts' "
    "`get_heads()` or `get_current_head()` and raises or exits when they differ): it is stopped while an "
    "operator migrates it. The message says which."
)

# The "not reported" sentence of the rules about an existing table (`Migration.existed`).
NOT_ON_NEW_TABLES = (
    " Not reported on a table the migration creates (it is empty and nothing waits on it): one it creates "
    "itself, and, in an Alembic revision, one that a module-level function of the project called from "
    "`upgrade()` creates with `op.create_table` (a helper such as `create_table(\"reports\", sa.Column(...))`, "
    "the table named by the argument the call passes, or spelled in the helper)."
)

# The "not reported" sentence of the rules about a table's rows (`Migration.existing`).
NOT_ON_EMPTIED = (
    " Not reported on a table an earlier step of the same atomic migration empties: `TRUNCATE`, `DELETE` "
    "without `WHERE`, or a `RunPython` function of the migration's module whose own body (not under an `if` "
    "or a loop) deletes every row of the model (`Model.objects.all().delete()`, the model got from "
    "`apps.get_model`), a squashed migration's long list of operations included; nor on a table to which an "
    "earlier step of the same atomic migration adds a NOT NULL column without a default (PostgreSQL fails that "
    "step when the table has a row, so the steps after it run on an empty table; BB701 reports that step, and "
    "every other such column, which fails once the first is fixed), or a Django NOT NULL foreign key whose "
    "literal default (`default=1`) names a row of a table of the app that the same migration creates, with no "
    "data step between the two (every existing row would point to a row that does not exist, so the key's "
    "check fails unless the table is empty; the key itself is not reported either)."
)

# The "not reported" sentence of BB702 and BB703 (`built_under_lock`).
NOT_UNDER_HELD_LOCK = (
    " In an atomic migration that holds an ACCESS EXCLUSIVE lock on the table anyway (another step adds or "
    "drops a column, adds a unique or check constraint, changes a type), not reported: every index build or "
    "CHECK/UNIQUE validation on the table after the first one reported (by this rule or by the other of "
    "BB702/BB703), or after a step that already reads or rewrites every row of the table under that lock (a "
    "rewriting type change, a SET NOT NULL, a default written to every row, a primary key): the builds run "
    "one after the other under the one lock, the table is unavailable for a full pass over its rows anyway, "
    "and the table is reported once per migration. Alembic "
    "operations in a function defined inside `upgrade()` and called from it once on PostgreSQL (calls in "
    "a branch for another database left aside) count where it is called."
)


def only_in_migrations(severity: Severity) -> ContextPolicy:
    """Report in Django migrations and Alembic revisions, nowhere else."""
    return {context: (severity if context is ExecutionContext.MIGRATION else None) for context in ExecutionContext}


class MigrationRule(Rule):
    """A BB7 rule: `check` gets the file's migration (Django or Alembic), once per file."""

    subscribes: ClassVar[tuple[type[ast.AST], ...]] = (ast.Module,)
    options: ClassVar[tuple[RuleOption, ...]] = (POSTGRES_VERSION,)
    example_path: ClassVar[str] = EXAMPLE_PATH
    # The rule speaks of PostgreSQL's locks: a revision that runs on another database
    # (`Migration.database`) has none of them.
    postgres_locks: ClassVar[bool] = False
    # A migration a squash replaces is left to the squash (its findings stand for it), unless the rule
    # reads what only the replaced file holds (the functions its RunPython runs).
    squash_reports: ClassVar[bool] = True

    def visit(self, node: ast.AST) -> None:
        if self.squash_reports and replaced(self.context.project, self.context.facts):
            # A migration a squash in the project replaces: the squash's findings stand for it.
            return
        migration = read_migration(self.context)
        if migration is not None and (migration.runs_on_postgres or not self.postgres_locks):
            self.check(migration)

    def check(self, migration: Migration) -> None:
        raise NotImplementedError

    def qualified(self, message: str, confidence: Confidence) -> tuple[str, Confidence]:
        """A lock rule's finding in a project that applies its own migrations, or whose service
        does not start until they were applied (`applied_by`), is reported at low confidence,
        saying how: run while the service does not serve, no query waits on the lock; only a
        deployment that migrates while other instances serve (a rolling upgrade) does."""
        applier = applied_by(self.context.project) if self.postgres_locks else None
        if applier is None:
            return message, confidence
        return (
            f"{message} ({applier.evidence()}; this matters when other instances serve while it migrates.)",
            Confidence.LOW,
        )

    def declared_by(self, migration: Migration, table: str, column: str = "") -> str:
        """The name of the model of the project that declares `table` (and `column`, when given)
        today, or "". A Django migration names the models of its own app (the package that holds
        its `migrations/` folder): a model of the same name in another app is another table."""
        from backbone.review.orm import model_graph

        project = self.context.project
        if project is None:
            return ""
        app = ""
        parts = self.context.facts.module.split(".")
        if migration.dialect is Dialect.DJANGO and len(parts) > 2 and parts[-2] == "migrations":
            app = ".".join(parts[:-2]) + "."
        for info in model_graph(project).models.values():
            if info.builtin or table not in {name.lower() for name in info.table_names()}:
                continue
            if app and not info.qualname.startswith(app):
                continue
            if not column or column in info.fields:
                return info.name
        return ""

    def declares_models(self) -> bool:
        """Whether the project declares any model of its own: only then does a table no model
        declares tell that no code reads it."""
        from backbone.review.orm import model_graph

        project = self.context.project
        return project is not None and any(not info.builtin for info in model_graph(project).models.values())

    @property
    def postgres_version(self) -> int:
        value = self.option("postgres-version")
        return value if isinstance(value, int) and not isinstance(value, bool) else DEFAULT_POSTGRES_VERSION

    def lock_clause(self, migration: Migration, step: Step) -> str:
        """"; it takes an ACCESS EXCLUSIVE lock on ..." for a message, or "" when the migration runs on
        another database than PostgreSQL (`Migration.database`), whose locks are not PostgreSQL's."""
        return f"; it {self.consequence(step)}" if migration.runs_on_postgres else ""

    def consequence(self, step: Step) -> str:
        """"takes an ACCESS EXCLUSIVE lock on `orders` (blocks ...) and rewrites the table"."""
        found = effect(step, self.postgres_version)
        return found.describe(step.table) if found else "runs in the migration's transaction"


def code_for(migration: Migration, django: str, alembic: str) -> str:
    """The fix for the migration's framework, on one line: "What to do: `code`; `code`"."""
    text = django if migration.dialect is Dialect.DJANGO else alembic
    intro, *code = text.split("\n")
    lines = [line.strip() for line in code if line.strip()]
    return f"{intro} " + "; ".join(f"`{line}`" for line in lines) if lines else intro
