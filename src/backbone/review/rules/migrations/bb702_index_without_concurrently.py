"""BB702 index-without-concurrently: an index created or dropped on an existing table without CONCURRENTLY."""

from __future__ import annotations

from backbone.findings import Severity
from backbone.review.migrations import (
    ConstraintKind,
    Migration,
    StepKind,
    built_under_lock,
    locked_anyway,
)
from backbone.review.migrations.rule_base import (
    APPLIED_BY_THE_PROJECT,
    NOT_IN_REPLACED,
    NOT_ON_EMPTIED,
    NOT_ON_NEW_TABLES,
    NOT_ON_OTHER_DATABASES,
    NOT_UNDER_HELD_LOCK,
    MigrationRule,
    code_for,
    only_in_migrations,
)
from backbone.review.rules.base import RuleDoc, Scope


class IndexWithoutConcurrently(MigrationRule):
    code = "BB702"
    name = "index-without-concurrently"
    summary = (
        "An index is created (SHARE lock: no writes while it builds) or dropped (ACCESS EXCLUSIVE) on an "
        "existing table without CONCURRENTLY."
    )
    severity = Severity.ERROR
    contexts = only_in_migrations(Severity.ERROR)
    postgres_locks = True
    # A per-database revisions directory is known from the project's other directories.
    scope = Scope.PROJECT
    doc = RuleDoc(
        what_it_does=(
            "Finds Django `AddIndex`/`RemoveIndex` (instead of `AddIndexConcurrently`/`RemoveIndexConcurrently` "
            "in a migration with `atomic = False`), `AddConstraint` of a `UniqueConstraint` Django builds as a "
            "unique index (with `condition=`, `include=`, `opclasses=` or expressions: `CREATE UNIQUE INDEX`), Alembic `op.create_index`/`op.drop_index` without "
            "`postgresql_concurrently=True`, and `CREATE INDEX`/`DROP INDEX` without `CONCURRENTLY` in SQL, on "
            "a table the migration did not create. Not reported: an index dropped in an atomic migration that "
            "holds an ACCESS EXCLUSIVE lock on its table anyway (an earlier step took it, or a later step of "
            "another kind takes it: the table itself is dropped, a column renamed), where CONCURRENTLY would "
            "spare nothing; of several indexes dropped from one table, the first is reported."
        ) + NOT_UNDER_HELD_LOCK + NOT_ON_NEW_TABLES + NOT_ON_EMPTIED + NOT_ON_OTHER_DATABASES + APPLIED_BY_THE_PROJECT + NOT_IN_REPLACED,
        why_is_this_bad=(
            "`CREATE INDEX` holds a SHARE lock for the whole build: every INSERT, UPDATE and DELETE on the table "
            "waits, for minutes on a large table. `DROP INDEX` takes an ACCESS EXCLUSIVE lock. The CONCURRENTLY "
            "forms take SHARE UPDATE EXCLUSIVE, which lets reads and writes go on."
        ),
        example=(
            'from django.db import migrations, models\n'
            '\n'
            '\n'
            'class Migration(migrations.Migration):\n'
            '    dependencies = [("shop", "0001_initial")]\n'
            '\n'
            '    operations = [migrations.AddIndex("order", models.Index(fields=["created"], name="order_created"))]\n'
        ),
        use_instead=(
            'from django.db import migrations, models\n'
            'from django.contrib.postgres.operations import AddIndexConcurrently\n'
            '\n'
            'class Migration(migrations.Migration):\n'
            '    atomic = False\n'
            '    operations = [AddIndexConcurrently("order", models.Index(fields=["created"], name="order_created"))]\n'
        ),
    )

    INVALID = (
        """
        from django.db import migrations, models

        class Migration(migrations.Migration):
            operations = [
                migrations.AddIndex("order", models.Index(fields=["created"], name="order_created")),  # expect: BB702
                migrations.RemoveIndex("order", "order_status"),  # expect: BB702
            ]
        """,
        """
        from alembic import op

        def upgrade():
            op.create_index("ix_orders_created", "orders", ["created"])  # expect: BB702
            op.execute("DROP INDEX ix_orders_status")  # expect: BB702

        def downgrade():
            pass
        """,
        # Several indexes dropped from one table: the first takes the lock, the rest wait for nothing.
        """
        from django.db import migrations

        class Migration(migrations.Migration):
            dependencies = [("shop", "0007_order_note")]
            operations = [
                migrations.RemoveIndex(model_name="order", name="order_created_idx"),  # expect: BB702
                migrations.RemoveIndex(model_name="order", name="order_status_idx"),
            ]
        """,
    )
    VALID = (
        # The table is ACCESS EXCLUSIVE-locked by the transaction anyway: dropped, or its column renamed.
        """
        from alembic import op

        def upgrade():
            op.drop_index("ix_legacy_created", table_name="legacy")
            op.drop_table("legacy")

        def downgrade():
            pass
        """,
        """
        from django.db import migrations

        class Migration(migrations.Migration):
            dependencies = [("shop", "0007_order_note")]
            operations = [
                migrations.RemoveIndex(model_name="order", name="order_created_idx"),
                migrations.RenameField(model_name="order", old_name="created", new_name="date_created"),
            ]
        """,
        """
        from django.contrib.postgres.operations import AddIndexConcurrently
        from django.db import migrations, models

        class Migration(migrations.Migration):
            atomic = False
            operations = [
                AddIndexConcurrently("order", models.Index(fields=["created"], name="order_created")),
            ]
        """,
        """
        import sqlalchemy as sa
        from alembic import op

        def upgrade():
            op.create_table("coupons", sa.Column("id", sa.Integer(), primary_key=True), sa.Column("code", sa.Text()))
            op.create_index("ix_coupons_code", "coupons", ["code"])
            with op.get_context().autocommit_block():
                op.create_index("ix_orders_created", "orders", ["created"], postgresql_concurrently=True)
                op.execute("DROP INDEX CONCURRENTLY ix_orders_status")

        def downgrade():
            op.drop_table("coupons")
        """,
    )

    def check(self, migration: Migration) -> None:
        for step in migration.steps:
            if step.kind not in (StepKind.CREATE_INDEX, StepKind.DROP_INDEX) or step.concurrently:
                continue
            if step.kind is StepKind.CREATE_INDEX and (
                not migration.existing(step) or built_under_lock(migration, step, self.postgres_version)
            ):
                continue
            if step.kind is StepKind.DROP_INDEX and step.table and (
                not migration.existing(step) or locked_anyway(migration, step, self.postgres_version)
            ):
                continue
            creating = step.kind is StepKind.CREATE_INDEX
            verb = "Creates" if creating else "Drops"
            unique = creating and step.constraint is ConstraintKind.UNIQUE
            self.report(
                step.node,
                f"{verb} {'a unique' if unique else 'an'} index without CONCURRENTLY: it {self.consequence(step)}"
                f"{' for the whole build' if creating else ''}.",
                fix=_UNIQUE_INDEX_FIX if unique else code_for(
                    migration,
                    "Use the concurrent operation in a non-atomic migration:\n"
                    "    from django.contrib.postgres.operations import "
                    f"{'AddIndexConcurrently' if creating else 'RemoveIndexConcurrently'}\n"
                    "    class Migration(migrations.Migration):\n"
                    "        atomic = False\n"
                    f"        operations = [{'AddIndexConcurrently' if creating else 'RemoveIndexConcurrently'}(...)]",
                    "Run it concurrently, outside the revision's transaction:\n"
                    "    with op.get_context().autocommit_block():\n"
                    f"        op.{'create_index' if creating else 'drop_index'}(..., postgresql_concurrently=True)",
                ),
            )


_UNIQUE_INDEX_FIX = (
    "Build the unique index concurrently in a non-atomic migration and keep the constraint in Django's state:\n"
    "    class Migration(migrations.Migration):\n"
    "        atomic = False\n"
    "        operations = [migrations.SeparateDatabaseAndState(\n"
    "            database_operations=[migrations.RunSQL(\"CREATE UNIQUE INDEX CONCURRENTLY ... WHERE ...\", "
    "\"DROP INDEX CONCURRENTLY ...\")],\n"
    "            state_operations=[migrations.AddConstraint(...)],\n"
    "        )]"
)
