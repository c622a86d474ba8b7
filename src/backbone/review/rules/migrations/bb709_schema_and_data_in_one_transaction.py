"""BB709 schema-and-data-in-one-transaction: rows are rewritten while a schema lock is held."""

from __future__ import annotations

from backbone.findings import Severity
from backbone.review.migrations import LockMode, Migration, Step, StepKind, effect
from backbone.review.migrations.model import DJANGO_CATALOGUE_TABLES
from backbone.review.migrations.rule_base import (
    APPLIED_BY_THE_PROJECT,
    NOT_IN_REPLACED,
    NOT_ON_NEW_TABLES,
    NOT_ON_OTHER_DATABASES,
    MigrationRule,
    code_for,
    only_in_migrations,
)
from backbone.review.rules.base import RuleDoc, Scope


class SchemaAndDataInOneTransaction(MigrationRule):
    code = "BB709"
    name = "schema-and-data-in-one-transaction"
    summary = (
        "A migration changes the schema of an existing table and rewrites rows in the same transaction, so the "
        "schema change's lock is held for the whole data change."
    )
    severity = Severity.WARNING
    contexts = only_in_migrations(Severity.WARNING)
    postgres_locks = True
    # A per-database revisions directory is known from the project's other directories.
    scope = Scope.PROJECT
    doc = RuleDoc(
        what_it_does=(
            "Finds atomic Django migrations and Alembic revisions (one transaction, the default of both) that "
            "hold a DDL step on an existing table (ADD COLUMN, ALTER, a constraint, an index) together with a "
            "data step: `RunPython`, an UPDATE/INSERT/DELETE in `RunSQL`/`op.execute`, `op.bulk_insert` or "
            "`op.get_bind().execute(...)` that runs after the DDL. Not reported: a data step that runs before "
            "the first lock-taking DDL step (no schema lock is held while it changes rows); SQL that changes no "
            "row, such as a `DO $$ ... $$` block of DDL only or an f-string of DDL whose names are filled in at run "
            "time; the lock of a table the migration drops (it is gone, no query waits for it); SQL that changes "
            "only one of Django's bookkeeping tables (`django_content_type`, `django_migrations`, `auth_permission`, "
            "such as `UPDATE django_content_type SET app_label = ...` after moving a model to another app): "
            "`migrate` writes their rows, one per model or migration, so the change is a handful of rows, not a "
            "backfill; a `RunPython` whose forward code does nothing (`migrations.RunPython.noop`, or a function "
            "whose body is only `pass` or a docstring, with the real work in `reverse_code`)."
        ) + NOT_ON_NEW_TABLES + NOT_ON_OTHER_DATABASES + APPLIED_BY_THE_PROJECT + NOT_IN_REPLACED,
        why_is_this_bad=(
            "PostgreSQL keeps every lock until the transaction ends. The ACCESS EXCLUSIVE lock of the DDL is "
            "held while the data step reads and writes every row, so the table is unavailable for the whole "
            "backfill instead of for a moment."
        ),
        example=(
            'from django.db import migrations, models\n'
            '\n'
            '\n'
            'def backfill_reference(apps, schema_editor):\n'
            '    apps.get_model("shop", "Order").objects.filter(reference=None).update(reference="-")\n'
            '\n'
            '\n'
            'class Migration(migrations.Migration):\n'
            '    dependencies = [("shop", "0001_initial")]\n'
            '\n'
            '    operations = [\n'
            '        migrations.AddField("order", "reference", models.CharField(max_length=20, null=True)),\n'
            '        migrations.RunPython(backfill_reference, migrations.RunPython.noop),\n'
            '    ]\n'
        ),
        use_instead=(
            'from django.db import migrations, models\n'
            '\n'
            '\n'
            'def backfill_reference(apps, schema_editor):\n'
            '    apps.get_model("shop", "Order").objects.filter(reference=None).update(reference="-")\n'
            '\n'
            '\n'
            'class Migration(migrations.Migration):\n'
            '    dependencies = [("shop", "0001_initial")]\n'
            '\n'
            '    # 0005_order_reference.py\n'
            '    operations = [migrations.AddField("order", "reference", models.CharField(max_length=20, null=True))]\n'
            '    # 0006_backfill_reference.py: atomic = False, backfill in batches\n'
            '    operations = [migrations.RunPython(backfill_reference, migrations.RunPython.noop)]\n'
        ),
    )

    INVALID = (
        """
        from django.db import migrations, models

        def backfill(apps, schema_editor):
            apps.get_model("shop", "Order").objects.update(reference="")

        class Migration(migrations.Migration):
            operations = [
                migrations.AddField("order", "reference", models.CharField(max_length=20, null=True)),
                migrations.RunPython(backfill, migrations.RunPython.noop),  # expect: BB709
            ]
        """,
        """
        import sqlalchemy as sa
        from alembic import op

        def upgrade():
            op.add_column("orders", sa.Column("status", sa.Text(), nullable=True))
            op.execute("UPDATE orders SET status = 'new'")  # expect: BB709

        def downgrade():
            op.drop_column("orders", "status")
        """,
    )
    VALID = (
        """
        from django.db import migrations, models

        def backfill(apps, schema_editor):
            apps.get_model("shop", "Order").objects.update(reference="")

        class Migration(migrations.Migration):
            atomic = False
            operations = [
                migrations.AddField("order", "reference", models.CharField(max_length=20, null=True)),
                migrations.RunPython(backfill, migrations.RunPython.noop),
            ]
        """,
        """
        import sqlalchemy as sa
        from alembic import op

        def upgrade():
            op.create_table("coupons", sa.Column("id", sa.Integer(), primary_key=True), sa.Column("code", sa.Text()))
            op.execute("INSERT INTO coupons (id, code) VALUES (1, 'WELCOME')")

        def downgrade():
            op.drop_table("coupons")
        """,
    )

    def check(self, migration: Migration) -> None:
        if not migration.atomic:
            return
        # The first lock-taking DDL step seen so far: its lock is held from there to the commit,
        # so only a data step after it runs under the lock.
        held: Step | None = None
        for step in migration.steps:
            # A dropped table's lock keeps no query waiting for the data step: the table is gone.
            if held is None and migration.existing(step) and step.kind is not StepKind.DROP_TABLE \
                    and (found := effect(step, self.postgres_version)) is not None and found.lock.rank >= LockMode.SHARE.rank:
                held = step
                continue
            if step.kind is not StepKind.DATA or held is None:
                continue
            # Forward code that does nothing (the data function only runs on the way back).
            if step.no_op:
                continue
            # SQL that changes only a Django bookkeeping table (content types, applied migrations,
            # permissions): a handful of rows, one per model or migration, not a backfill.
            if step.from_sql and step.table in DJANGO_CATALOGUE_TABLES:
                continue
            lock = effect(held, self.postgres_version)
            mode = lock.lock.title if lock else "ACCESS EXCLUSIVE"
            self.report(
                step.node,
                f"Changes rows in the same transaction as `{held.text}`, so its {mode} lock on `{held.table}` "
                "is held until the data change ends.",
                fix=code_for(
                    migration,
                    "Move the data step to a migration of its own (with `atomic = False` and batches), after the schema change.",
                    "Move the data step to a revision of its own, or commit the DDL first "
                    "(`with op.get_context().autocommit_block():` around the backfill, in batches).",
                ),
            )
            return
