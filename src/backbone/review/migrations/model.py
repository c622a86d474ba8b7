"""What a migration does, as backbone sees it: one `Step` per schema or data operation.

Django operations, Alembic `op.*` calls and the SQL inside `RunSQL`/`op.execute` all become
the same steps, so that a rule reads one model whatever wrote the migration.
"""

from __future__ import annotations

import ast
import enum

import msgspec

from backbone.records import Record

# The name SQLAlchemy gives PostgreSQL's dialect (`bind.dialect.name`).
POSTGRESQL = "postgresql"
# Names of databases as SQLAlchemy's dialects spell them, and as per-database revision
# directories are named; each maps to the dialect name.
DATABASE_NAMES = {
    "postgresql": POSTGRESQL, "postgres": POSTGRESQL, "pg": POSTGRESQL, "sqlite": "sqlite", "mysql": "mysql",
    "mariadb": "mysql", "oracle": "oracle", "mssql": "mssql",
}


# Django's own bookkeeping tables: `migrate` writes their rows, one per model (content types, their
# permissions) or per migration applied, so their size follows the code, not the data.
DJANGO_CATALOGUE_TABLES = frozenset({"django_content_type", "django_migrations", "auth_permission"})


class Dialect(enum.Enum):
    DJANGO = "django"
    ALEMBIC = "alembic"


class StepKind(enum.Enum):
    CREATE_TABLE = "create table"
    ADD_COLUMN = "add column"
    CREATE_INDEX = "create index"
    DROP_INDEX = "drop index"
    ADD_CONSTRAINT = "add constraint"
    VALIDATE_CONSTRAINT = "validate constraint"
    ALTER_TYPE = "alter column type"
    SET_NOT_NULL = "set not null"
    DROP_COLUMN = "drop column"
    DROP_TABLE = "drop table"
    RENAME_COLUMN = "rename column"
    RENAME_TABLE = "rename table"
    # RunPython, an UPDATE/INSERT/DELETE in SQL: rows change, not the schema.
    DATA = "data"
    LOCK_TIMEOUT = "set lock_timeout"
    # ALTER TYPE ... ADD VALUE: PostgreSQL has no way to remove an enum value again.
    ADD_ENUM_VALUE = "add enum value"
    # GRANT/REVOKE, default privileges, a table added to a publication: who may read a table, not
    # what the table is; no lock a query waits on, nothing the code reads changes.
    GRANT = "grant access"
    OTHER_DDL = "other ddl"


class DefaultKind(enum.Enum):
    NONE = "none"
    CONSTANT = "constant"
    # An expression PostgreSQL evaluates per row (random(), gen_random_uuid(), clock_timestamp()).
    VOLATILE = "volatile"


class ConstraintKind(enum.Enum):
    FOREIGN_KEY = "foreign key"
    CHECK = "check"
    UNIQUE = "unique"
    PRIMARY_KEY = "primary key"
    EXCLUDE = "exclusion"


class Step(Record, frozen=True):
    kind: StepKind
    # Where a finding about the step points: the operation's call, or the RunSQL/op.execute call.
    node: ast.AST
    # How a message shows the step: "AddField(order.note)", "op.drop_index(...)", "ALTER TABLE orders ...".
    text: str
    # The table (Alembic, SQL) or model name, lowercased (Django).
    table: str = ""
    column: str = ""
    not_null: bool = False
    default: DefaultKind = DefaultKind.NONE
    concurrently: bool = False
    constraint: ConstraintKind | None = None
    # ADD CONSTRAINT ... NOT VALID (or a UNIQUE constraint added USING an existing index).
    not_valid: bool = False
    # ALTER COLUMN TYPE: False when the change is known not to rewrite (varchar(n) -> text).
    rewrites: bool = True
    # DATA steps: a way back exists (reverse_code, reverse_sql).
    reversible: bool = True
    # DATA steps: the name of the RunPython function.
    function: str = ""
    # DATA steps: the forward code does nothing (`RunPython.noop`, a function whose body is only
    # `pass` or a docstring): no row changes when the migration is applied.
    no_op: bool = False
    from_sql: bool = False
    # A second table the step locks (the referenced table of a foreign key).
    other_table: str = ""
    # The lock_timeout value (LOCK_TIMEOUT steps); "0" turns the timeout off.
    value: str = ""
    # ALTER_TYPE from a Django AlterField: the column types before and after ("integer -> bigint").
    change: str = ""
    # ADD_COLUMN of a field class backbone does not know (another package's): whether Django
    # fills the existing rows (a blank string field gets "") cannot be told from here.
    unknown_field: bool = False
    # DATA steps: every row of the table is gone after it (TRUNCATE, DELETE without WHERE).
    empties: bool = False
    # RunPython steps: the models (lowercased) whose every row the function deletes unconditionally
    # (`Model.objects.all().delete()` in its body): their tables are empty for the steps after it.
    emptied: frozenset[str] = frozenset()
    # ADD_CONSTRAINT of a foreign key declared inline on a column the same statement adds with NULL
    # in every row (Django's AddField of a nullable ForeignKey without a default): PostgreSQL has
    # no row to check, so it skips the validation scan.
    on_new_null_column: bool = False
    # RENAME_TABLE and RENAME_COLUMN steps: the table's or the column's name afterwards.
    new_name: str = ""
    # ADD_COLUMN of a NOT NULL Django foreign key whose default is a literal key (`default=1`): the model
    # of the app it points to (lowercased), whose row the default must name in every existing row.
    default_key_of: str = ""
    # A drop of something only if it is there: `DROP ... IF EXISTS`, `op.drop_index(..., if_exists=True)`.
    if_exists: bool = False
    # An OTHER_DDL step that drops something (a constraint, a type, a function): `ALTER TABLE ...
    # DROP CONSTRAINT`, `DROP TYPE`.
    removes: bool = False

    @property
    def fails_with_rows(self) -> bool:
        """An ADD COLUMN of a NOT NULL column that nothing fills (no default, a field class backbone
        knows): PostgreSQL rejects it when the table has a row, so a transaction that gets past it
        ran on an empty table."""
        return self.kind is StepKind.ADD_COLUMN and self.not_null and self.default is DefaultKind.NONE \
            and not self.unknown_field


class Migration(Record, frozen=True):
    dialect: Dialect
    # Where migration-wide findings point: the Migration class or the upgrade() function.
    node: ast.AST
    # Django `atomic = False` or an Alembic autocommit block makes this False.
    atomic: bool
    steps: tuple[Step, ...]
    # Tables (Alembic, SQL) and models (Django, lowercased) this migration creates.
    new_tables: frozenset[str]
    # Functions of the module by name (RunPython targets, upgrade/downgrade).
    functions: dict[str, ast.FunctionDef] = msgspec.field(default_factory=dict)
    # Steps that `SeparateDatabaseAndState` keeps out of the database (state only).
    state_only: tuple[Step, ...] = ()
    problems: tuple[str, ...] = ()
    # A Django `initial = True` migration: it runs when the app is installed, before the app
    # has written a row, so the app's own tables are empty while it runs.
    initial: bool = False
    # The database the revision runs on when it is not PostgreSQL ("sqlite", "oracle", ...): its
    # revisions directory is the per-database sibling of a PostgreSQL one, or it runs SQL that only
    # that database accepts (PRAGMA). "" means PostgreSQL, or any database.
    database: str = ""
    @property
    def runs_on_postgres(self) -> bool:
        return self.database in ("", POSTGRESQL)

    def existing(self, step: Step) -> bool:
        """Whether the step's table exists before this migration (so it may be large and busy).

        In an initial Django migration the app's own models (the operations name no other app's)
        are empty tables; SQL in it may name any table, so SQL steps keep counting. A table an
        earlier step of the same transaction emptied (TRUNCATE, DELETE without WHERE, a RunPython
        function that deletes every row of the model) has no rows, nor has one to which an earlier step
        added a NOT NULL column without a default (PostgreSQL fails that step on a table with rows), or
        a NOT NULL foreign key whose default points into a table created empty (`dangling_default`).
        """
        if not self.existed(step):
            return False
        # Emptied earlier in the same transaction: no row to rewrite, scan or fail on.
        if self.atomic:
            for earlier in self.steps:
                if earlier is step:
                    break
                if earlier.empties and earlier.table == step.table or step.table in earlier.emptied:
                    return False
                # (Another such column is reported all the same: it fails once the first is fixed.)
                if earlier.fails_with_rows and earlier.table == step.table and not step.fails_with_rows:
                    return False
                if earlier.table == step.table and self.dangling_default(earlier):
                    return False
        return True

    def dangling_default(self, step: Step) -> bool:
        """Whether `step` adds a NOT NULL foreign key whose default key points into a table this
        migration created and no data step has filled since: every existing row would name a row
        that does not exist, so PostgreSQL's check of the key fails unless the table has no row (a
        transaction that gets past it ran on an empty table)."""
        if step.kind is not StepKind.ADD_COLUMN or not step.not_null or not step.default_key_of \
                or step.default_key_of not in self.new_tables or not self.atomic:
            return False
        created = False
        for earlier in self.steps:
            if earlier is step:
                return created
            if earlier.kind is StepKind.CREATE_TABLE and earlier.table == step.default_key_of:
                created = True
            elif earlier.kind is StepKind.DATA:
                # Rows may have been written into it since.
                created = False
        return False

    def existed(self, step: Step) -> bool:
        """Whether the step's table exists before this migration, rows or none: the code deployed
        before it may read the table (a table emptied first still has its columns)."""
        if self.initial and not step.from_sql:
            return False
        return bool(step.table) and step.table not in self.new_tables

    def rebuilt(self, step: Step) -> bool:
        """Whether the table or column `step` drops is rebuilt: a later step renames another table (a
        copy filled in the meantime) to its name, or renames another column of the table to the
        dropped column's name, or adds a column of that name again, so what the code reads still
        exists afterwards (in an atomic migration nobody sees the gap)."""
        seen = False
        for other in self.steps:
            if other is step:
                seen = True
            elif not seen:
                continue
            elif step.kind is StepKind.DROP_TABLE:
                if other.kind is StepKind.RENAME_TABLE and other.new_name and other.new_name == step.table:
                    return True
            elif step.kind is StepKind.DROP_COLUMN and self.atomic and step.column and other.table == step.table and (
                other.kind is StepKind.RENAME_COLUMN and other.new_name == step.column
                or other.kind is StepKind.ADD_COLUMN and other.column == step.column
            ):
                return True
        return False

    def sets_lock_timeout(self) -> bool:
        return any(step.kind is StepKind.LOCK_TIMEOUT and step.value not in ("0", "") for step in self.steps)


# --- the field history of a Django app (per file, cached in `ModuleFacts.migrations`) --------


class FieldState(Record, frozen=True):
    """What a migration says about one field: `CharField(max_length=100, null=True)`."""

    # The Django field class ("CharField"), or the full dotted name of a field of another package.
    field_class: str
    max_length: int | None = None
    max_digits: int | None = None
    decimal_places: int | None = None
    null: bool = False
    # `db_column="..."`: the column's name whatever the field is called (a RenameField keeps it).
    db_column: str = ""


class FieldOperation(Record, frozen=True):
    """One state change: kind is create/add/alter/rename_field/remove/rename_model/delete_model."""

    kind: str
    model: str
    name: str = ""
    new_name: str = ""
    field: FieldState | None = None
    line: int = 0
    column: int = 0


class MigrationDeclaration(Record, frozen=True):
    """A Django migration file: `0003_alter_order_total` in `shop/migrations`."""

    name: str
    directory: str
    # (app label, migration name) pairs from `dependencies`.
    dependencies: tuple[tuple[str, str], ...]
    operations: tuple[FieldOperation, ...]
    # (app label, migration name) pairs from `replaces`: a squashed migration stands for these.
    replaces: tuple[tuple[str, str], ...] = ()


# --- how a project applies its own migrations (per file, cached in `ModuleFacts.self_migrations`) --


class SelfMigrationKind(enum.Enum):
    """How a project's own code runs its migrations, or makes its service wait for them."""

    # An upgrade command: `alembic.command.upgrade`, `flask_migrate.upgrade`, Alembic's command line
    # told to `upgrade` (`alembic.config.main(argv=[..., "upgrade", "head"])`).
    ALEMBIC_COMMAND = "alembic command"
    # Alembic's runtime: `run_migrations()` on a MigrationContext the code configures or on an
    # EnvironmentContext, or `run_env()` in a `with EnvironmentContext(...)` block.
    ALEMBIC_RUNTIME = "alembic runtime"
    # Django's `call_command("migrate")`.
    DJANGO_MIGRATE = "django migrate"
    # No migration runs: the service stops at start-up unless its database is at the head of the
    # migrations, so it is stopped while an operator migrates it.
    HEAD_CHECK = "head check"


class SelfMigration(Record, frozen=True):
    """A function of the project (outside tests and migrations) that applies the project's
    migrations, or stops unless they were applied."""

    # Its qualified name; "" for the module's own code (a start script's top level).
    function: str
    kind: SelfMigrationKind
    # The library call that shows it, qualified: "alembic.command.upgrade",
    # "alembic.runtime.migration.MigrationContext.run_migrations", "django.core.management.call_command".
    api: str
