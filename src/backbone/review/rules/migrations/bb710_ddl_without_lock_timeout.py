"""BB710 ddl-without-lock-timeout: DDL that waits for its lock with no lock_timeout, blocking the queue behind it."""

from __future__ import annotations

from backbone.findings import Confidence, Severity
from backbone.review.migrations import LockMode, Migration, StepKind, effect
from backbone.review.migrations.rule_base import (
    APPLIED_BY_THE_PROJECT,
    NOT_IN_REPLACED,
    NOT_ON_NEW_TABLES,
    NOT_ON_OTHER_DATABASES,
    POSTGRES_VERSION,
    MigrationRule,
    code_for,
    only_in_migrations,
)
from backbone.review.rules.base import RuleDoc, RuleOption, Scope


class DdlWithoutLockTimeout(MigrationRule):
    code = "BB710"
    name = "ddl-without-lock-timeout"
    summary = (
        "A migration takes a blocking lock on an existing table without setting lock_timeout: while it waits "
        "behind a long query, every query on the table queues behind it."
    )
    severity = Severity.INFO
    confidence = Confidence.MEDIUM
    contexts = only_in_migrations(Severity.INFO)
    postgres_locks = True
    # A per-database revisions directory is known from the project's other directories.
    scope = Scope.PROJECT
    options = (
        POSTGRES_VERSION,
        RuleOption("large-tables", (), "Report only DDL on these tables (table or Django model names); empty: every existing table."),
    )
    doc = RuleDoc(
        what_it_does=(
            "Finds migrations with a step that takes SHARE or a stronger lock on a table that exists before "
            "the migration, and no `SET lock_timeout` (in `RunSQL`/`op.execute`) before it. With the "
            "`large-tables` option, only those tables count. Not reported on a table the migration drops "
            "(`DeleteModel`, `op.drop_table`, `DROP TABLE`) that no model of the project declares any more, in a "
            "project that declares its tables as models, whether the step is the drop or comes before it (a "
            "column removed first): no code of the release reads it, so no query of the service queues behind "
            "the lock (the code being replaced may still read it: BB706 says so)."
        ) + NOT_ON_NEW_TABLES + NOT_ON_OTHER_DATABASES + APPLIED_BY_THE_PROJECT + NOT_IN_REPLACED,
        why_is_this_bad=(
            "An ALTER TABLE waits for the running transactions on the table to finish; while it waits, its "
            "queued ACCESS EXCLUSIVE request blocks every new read and write. One slow report query turns a "
            "millisecond DDL into minutes of downtime. A short lock_timeout makes the migration fail fast and "
            "retry instead."
        ),
        example=(
            'from django.db import migrations, models\n'
            '\n'
            '\n'
            'class Migration(migrations.Migration):\n'
            '    dependencies = [("shop", "0001_initial")]\n'
            '\n'
            '    operations = [migrations.AddField("order", "note", models.TextField(null=True))]\n'
        ),
        use_instead=(
            'from django.db import migrations, models\n'
            '\n'
            '\n'
            'class Migration(migrations.Migration):\n'
            '    dependencies = [("shop", "0001_initial")]\n'
            '\n'
            '    operations = [\n'
            '        migrations.RunSQL("SET lock_timeout = \'5s\'", reverse_sql=migrations.RunSQL.noop),\n'
            '        migrations.AddField("order", "note", models.TextField(null=True)),\n'
            '    ]\n'
        ),
    )

    INVALID = (
        """
        from django.db import migrations, models

        class Migration(migrations.Migration):
            operations = [
                migrations.AddField("order", "note", models.TextField(null=True)),  # expect: BB710
            ]
        """,
        """
        import sqlalchemy as sa
        from alembic import op

        def upgrade():
            op.add_column("orders", sa.Column("note", sa.Text(), nullable=True))  # expect: BB710
            op.add_column("orders", sa.Column("tag", sa.Text(), nullable=True))

        def downgrade():
            op.drop_column("orders", "note")
        """,
    )
    VALID = (
        """
        from django.db import migrations, models

        class Migration(migrations.Migration):
            operations = [
                migrations.RunSQL("SET lock_timeout = '5s'", reverse_sql=migrations.RunSQL.noop),
                migrations.AddField("order", "note", models.TextField(null=True)),
            ]
        """,
        """
        import sqlalchemy as sa
        from alembic import op

        def upgrade():
            op.execute("SET lock_timeout TO '3s'")
            op.add_column("orders", sa.Column("note", sa.Text(), nullable=True))
            op.create_table("coupons", sa.Column("id", sa.Integer(), primary_key=True))

        def downgrade():
            op.drop_table("coupons")
        """,
    )

    def _retired(self, migration: Migration) -> frozenset[str]:
        """The tables the migration drops that no model of the project declares today, in a
        project that declares its tables as models: a step on one of them (the drop, or a column
        removed before it) retires it."""
        dropped = {step.table for step in migration.steps if step.kind is StepKind.DROP_TABLE and step.table}
        if not dropped or not self.declares_models():
            return frozenset()
        return frozenset(table for table in dropped if not self.declared_by(migration, table))

    def check(self, migration: Migration) -> None:
        large = self.option("large-tables")
        tables = {name.lower() for name in large} if isinstance(large, tuple) else set()
        retired = self._retired(migration)
        for step in migration.steps:
            if step.kind.name == "LOCK_TIMEOUT" and step.value not in ("", "0"):
                return
            if not migration.existing(step) or (tables and step.table not in tables):
                continue
            # Unless the step also locks a table a model declares (a foreign key's target).
            if step.table in retired and not (step.other_table and self.declared_by(migration, step.other_table)):
                continue
            found = effect(step, self.postgres_version)
            if found is None or found.lock.rank < LockMode.SHARE.rank:
                continue
            self.report(
                step.node,
                f"Waits for {found.lock.article} lock on `{step.table}` with no lock_timeout: queries on the "
                "table queue behind it while it waits.",
                fix=code_for(
                    migration,
                    "Set a short lock_timeout first (and retry the deploy if it times out):\n"
                    "    migrations.RunSQL(\"SET lock_timeout = '5s'\", reverse_sql=migrations.RunSQL.noop)",
                    "Set a short lock_timeout first (and retry the deploy if it times out):\n"
                    "    op.execute(\"SET lock_timeout = '5s'\")",
                ),
            )
            return
