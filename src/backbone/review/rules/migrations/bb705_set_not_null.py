"""BB705 set-not-null: SET NOT NULL on an existing column without a validated CHECK constraint first."""

from __future__ import annotations

from backbone.findings import Severity
from backbone.review.migrations import ConstraintKind, Migration, StepKind, held_before
from backbone.review.migrations.rule_base import (
    APPLIED_BY_THE_PROJECT,
    NOT_IN_REPLACED,
    NOT_ON_EMPTIED,
    NOT_ON_NEW_TABLES,
    NOT_ON_OTHER_DATABASES,
    MigrationRule,
    code_for,
    only_in_migrations,
)
from backbone.review.rules.base import RuleDoc, Scope


class SetNotNull(MigrationRule):
    code = "BB705"
    name = "set-not-null"
    summary = (
        "A column is made NOT NULL without a validated `CHECK (column IS NOT NULL)` first, so PostgreSQL scans "
        "the whole table under ACCESS EXCLUSIVE."
    )
    severity = Severity.WARNING
    contexts = only_in_migrations(Severity.WARNING)
    postgres_locks = True
    # A Django AlterField is judged against the field the app's earlier migrations declare.
    scope = Scope.PROJECT
    doc = RuleDoc(
        what_it_does=(
            "Finds Alembic `op.alter_column(..., nullable=False)` (or its `batch_op.alter_column` in a "
            "`with op.batch_alter_table(...)` block, which PostgreSQL runs as the same ALTER TABLE; every batch "
            "operation counts as op's own) and `ALTER COLUMN ... SET NOT NULL` in SQL on "
            "an existing table when the migration did not validate a CHECK constraint on that table before it. "
            "From PostgreSQL 12 on, a valid `CHECK (column IS NOT NULL)` lets SET NOT NULL skip the scan. "
            "A Django `AlterField` without `null=True` counts when the app's earlier migration files declare the "
            "field `null=True` (backbone replays them in `dependencies` order); when that history is not in "
            "the project, the rule stays quiet. Not reported: a table that an earlier step of the same atomic "
            "migration locks ACCESS EXCLUSIVE (it adds the column, adds or drops another, changes a type, renames "
            "a column, adds a unique or check constraint): the lock is held until the commit, so a CHECK validated "
            "first cannot shorten it; of several columns set NOT NULL on one table in one atomic migration, the "
            "first is reported."
        ) + NOT_ON_NEW_TABLES + NOT_ON_EMPTIED + NOT_ON_OTHER_DATABASES + APPLIED_BY_THE_PROJECT + NOT_IN_REPLACED,
        why_is_this_bad=(
            "SET NOT NULL holds ACCESS EXCLUSIVE while it reads every row to prove none is null: the table is "
            "unavailable for the length of a full scan."
        ),
        example=(
            'from alembic import op\n'
            '\n'
            'revision = "0002"\n'
            'down_revision = "0001"\n'
            '\n'
            '\n'
            'def upgrade():\n'
            '    op.alter_column("orders", "reference", nullable=False)\n'
        ),
        use_instead=(
            'from alembic import op\n'
            '\n'
            'revision = "0002"\n'
            'down_revision = "0001"\n'
            '\n'
            '\n'
            'def upgrade():\n'
            '    op.execute("ALTER TABLE orders ADD CONSTRAINT reference_not_null CHECK (reference IS NOT NULL) NOT VALID")\n'
            '    # Its own transaction: ADD CONSTRAINT holds ACCESS EXCLUSIVE until its commit, and\n'
            '    # VALIDATE needs only SHARE UPDATE EXCLUSIVE once that lock is gone.\n'
            '    with op.get_context().autocommit_block():\n'
            '        op.execute("ALTER TABLE orders VALIDATE CONSTRAINT reference_not_null")\n'
            '    op.alter_column("orders", "reference", nullable=False)\n'
            '    op.drop_constraint("reference_not_null", "orders")\n'
        ),
    )

    INVALID = (
        """
        from django.db import migrations, models

        class Migration(migrations.Migration):
            operations = [
                # the column exists; the state learns it here (the app's earlier migrations do the same)
                migrations.SeparateDatabaseAndState(state_operations=[
                    migrations.AddField("order", "reference", models.CharField(max_length=20, null=True)),
                ]),
                migrations.AlterField("order", "reference", models.CharField(max_length=20)),  # expect: BB705
            ]
        """,
        """
        from alembic import op

        def upgrade():
            op.alter_column("orders", "reference", nullable=False)  # expect: BB705

        def downgrade():
            op.alter_column("orders", "reference", nullable=True)
        """,
    )
    VALID = (
        """
        from django.db import migrations, models

        class Migration(migrations.Migration):
            dependencies = [("shop", "0001_initial")]

            # 0001_initial is not in the project: whether `reference` was nullable is unknown.
            operations = [
                migrations.AlterField("order", "reference", models.CharField(max_length=20)),
            ]
        """,
        """
        from alembic import op

        def upgrade():
            op.execute("ALTER TABLE orders ADD CONSTRAINT reference_nn CHECK (reference IS NOT NULL) NOT VALID")
            op.execute("ALTER TABLE orders VALIDATE CONSTRAINT reference_nn")
            op.alter_column("orders", "reference", nullable=False)
            op.drop_constraint("reference_nn", "orders")

        def downgrade():
            op.alter_column("orders", "reference", nullable=True)
        """,
    )

    def check(self, migration: Migration) -> None:
        validated: set[str] = set()
        for step in migration.steps:
            if step.kind is StepKind.VALIDATE_CONSTRAINT or (
                step.kind is StepKind.ADD_CONSTRAINT and step.constraint is ConstraintKind.CHECK and not step.not_valid
            ):
                validated.add(step.table)
            if step.kind is not StepKind.SET_NOT_NULL or not migration.existing(step) or step.table in validated:
                continue
            # The table is ACCESS EXCLUSIVE-locked earlier in the same transaction (the column added,
            # another dropped, another set NOT NULL): the lock is held until the commit, so a CHECK
            # validated first could not shorten it.
            if held_before(migration, step, self.postgres_version) is not None:
                continue
            self.report(
                step.node,
                f"Sets `{step.column}` NOT NULL without a validated CHECK first: it {self.consequence(step)} to "
                "prove no row is null.",
                fix=code_for(
                    migration,
                    "Validate a CHECK first, in a migration of its own (PostgreSQL 12+ then skips the scan; in one "
                    "transaction the ACCESS EXCLUSIVE lock ADD CONSTRAINT takes is held through the VALIDATE scan):\n"
                    f"    migrations.AddConstraint(\"{step.table}\", models.CheckConstraint(check=models.Q({step.column}__isnull=False), "
                    f"name=\"{step.column}_not_null\"))  # as RunSQL ... NOT VALID, then VALIDATE CONSTRAINT\n"
                    "    migrations.AlterField(..., null=False)  # in the next migration",
                    "Validate a CHECK first, in a transaction of its own (PostgreSQL 12+ then skips the scan; in one "
                    "transaction the ACCESS EXCLUSIVE lock ADD CONSTRAINT takes is held through the VALIDATE scan):\n"
                    f"    op.execute(\"ALTER TABLE {step.table} ADD CONSTRAINT {step.column}_not_null CHECK ({step.column} IS NOT NULL) NOT VALID\")\n"
                    "    with op.get_context().autocommit_block():\n"
                    f"        op.execute(\"ALTER TABLE {step.table} VALIDATE CONSTRAINT {step.column}_not_null\")\n"
                    f"    op.alter_column(\"{step.table}\", \"{step.column}\", nullable=False)\n"
                    f"    op.drop_constraint(\"{step.column}_not_null\", \"{step.table}\")",
                ),
            )
