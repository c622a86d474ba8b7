"""BB704 rewriting-type-change: a column type change that rewrites the table under ACCESS EXCLUSIVE."""

from __future__ import annotations

from backbone.findings import Severity
from backbone.review.migrations import Migration, StepKind
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


class RewritingTypeChange(MigrationRule):
    code = "BB704"
    name = "rewriting-type-change"
    summary = "A column's type changes in a way that makes PostgreSQL rewrite the table and its indexes under ACCESS EXCLUSIVE."
    severity = Severity.ERROR
    contexts = only_in_migrations(Severity.ERROR)
    postgres_locks = True
    # A Django AlterField is judged against the field the app's earlier migrations declare.
    scope = Scope.PROJECT
    doc = RuleDoc(
        what_it_does=(
            "Finds Alembic `op.alter_column(..., type_=...)` and `ALTER COLUMN ... TYPE` in SQL on an existing "
            "table, except the changes PostgreSQL makes without a rewrite: `varchar(n)` to a longer `varchar` "
            "or to `text` (Alembic `existing_type=sa.String(n)`). "
            "An Alembic change is also judged against the types the project's revisions' `upgrade()` declare for "
            "the column (`op.create_table`, `add_column`, `alter_column(type_=...)`, batch operations included), "
            "when one of them creates it: it is not reported when every declared type is the new one (a native "
            "`sa.Enum` of the same `name`, whatever an `existing_type` generated on SQLite says), or a `varchar` "
            "the new type widens, though `existing_type` is missing. Django `AlterField` does not say the old type: "
            "backbone replays the app's earlier migration files (`CreateModel`, `AddField`, `AlterField`, "
            "`RenameField`, `RemoveField`, `RenameModel`, `DeleteModel`, in `dependencies` order) to find the "
            "field before it, and flags the changes that rewrite: `IntegerField` to `BigIntegerField`, a shorter "
            "`max_length`, a `DecimalField` whose `decimal_places` change or whose `max_digits` shrink, another "
            "type family. `CharField` to `TextField` and a longer `max_length` do not rewrite; a `max_length` only "
            "spelled another way (`\"30\"` to `30`) is the same `varchar(30)`, no change at all (nor a BB710 lock). When the history "
            "is not in the project (a dependency missing, a squashed or hand-written history that never declares "
            "the field, a relation or a field of another package), the rule stays quiet; "
            "`backbone migrations trace` shows whether such a change rewrote."
        ) + NOT_ON_NEW_TABLES + NOT_ON_EMPTIED + NOT_ON_OTHER_DATABASES + APPLIED_BY_THE_PROJECT + NOT_IN_REPLACED,
        why_is_this_bad=(
            "A rewriting type change copies every row and rebuilds every index while holding ACCESS EXCLUSIVE: "
            "the table can be neither read nor written until it ends."
        ),
        example=(
            'import sqlalchemy as sa\n'
            'from alembic import op\n'
            '\n'
            'revision = "0002"\n'
            'down_revision = "0001"\n'
            '\n'
            '\n'
            'def upgrade():\n'
            '    op.alter_column("orders", "total", type_=sa.BigInteger())\n'
        ),
        use_instead=(
            'import sqlalchemy as sa\n'
            'from alembic import op\n'
            '\n'
            'revision = "0002"\n'
            'down_revision = "0001"\n'
            '\n'
            '\n'
            'def upgrade():\n'
            '    # expand: add the new column, write both, backfill in batches, switch reads, then drop the old one\n'
            '    op.add_column("orders", sa.Column("total_big", sa.BigInteger(), nullable=True))\n'
        ),
    )

    INVALID = (
        """
        from django.db import migrations, models

        class Migration(migrations.Migration):
            operations = [
                # the column exists; the state learns it here (the app's earlier migrations do the same)
                migrations.SeparateDatabaseAndState(state_operations=[
                    migrations.AddField("order", "total", models.IntegerField()),
                    migrations.AddField("order", "price", models.DecimalField(max_digits=8, decimal_places=2)),
                ]),
                migrations.AlterField("order", "total", models.BigIntegerField()),  # expect: BB704
                migrations.AlterField("order", "price", models.DecimalField(max_digits=8, decimal_places=3)),  # expect: BB704
            ]
        """,
        """
        import sqlalchemy as sa
        from alembic import op

        def upgrade():
            op.alter_column("orders", "total", type_=sa.BigInteger(), existing_type=sa.Integer())  # expect: BB704

        def downgrade():
            pass
        """,
        """
        from django.db import migrations

        class Migration(migrations.Migration):
            operations = [
                migrations.RunSQL("ALTER TABLE shop_order ALTER COLUMN total TYPE numeric(12, 2)",  # expect: BB704
                                  reverse_sql="ALTER TABLE shop_order ALTER COLUMN total TYPE integer"),
            ]
        """,
    )
    VALID = (
        """
        from django.db import migrations, models

        class Migration(migrations.Migration):
            dependencies = [("shop", "0001_initial")]

            # 0001_initial is not in the project: the field before is unknown, the rule stays quiet.
            operations = [
                migrations.AlterField("order", "total", models.BigIntegerField()),
            ]
        """,
        """
        from django.db import migrations, models

        class Migration(migrations.Migration):
            operations = [
                migrations.SeparateDatabaseAndState(state_operations=[
                    migrations.AddField("order", "note", models.CharField(max_length=100)),
                    migrations.AddField("order", "code", models.CharField(max_length=10)),
                    migrations.AddField("order", "price", models.DecimalField(max_digits=8, decimal_places=2)),
                ]),
                # varchar -> text, a longer varchar, more digits at the same scale: no rewrite
                migrations.AlterField("order", "note", models.TextField()),
                migrations.AlterField("order", "code", models.CharField(max_length=40)),
                migrations.AlterField("order", "price", models.DecimalField(max_digits=12, decimal_places=2)),
            ]
        """,
        """
        from django.db import migrations, models

        class Migration(migrations.Migration):
            operations = [
                migrations.CreateModel("Invoice", fields=[("number", models.IntegerField())]),
                # a table this migration creates is empty
                migrations.AlterField("invoice", "number", models.BigIntegerField()),
            ]
        """,
        """
        import sqlalchemy as sa
        from alembic import op

        def upgrade():
            op.alter_column("orders", "note", type_=sa.String(200), existing_type=sa.String(100))
            op.alter_column("orders", "title", type_=sa.Text(), existing_type=sa.String(100))
            op.execute("ALTER TABLE orders ALTER COLUMN code TYPE text")

        def downgrade():
            pass
        """,
    )

    def check(self, migration: Migration) -> None:
        for step in migration.steps:
            if step.kind is not StepKind.ALTER_TYPE or not step.rewrites or not migration.existing(step):
                continue
            change = f" ({step.change})" if step.change else ""
            self.report(
                step.node,
                f"Changes the type of `{step.column}`{change}: it {self.consequence(step)} and all its indexes.",
                fix=code_for(
                    migration,
                    "Expand and contract instead of changing the type in place:\n"
                    f"    migrations.AddField(\"{step.table}\", \"{step.column}_new\", <new field>(null=True))\n"
                    "    # write both columns in the code, backfill in batches (RunPython), switch reads,\n"
                    f"    # then RemoveField(\"{step.table}\", \"{step.column}\") and rename in state only",
                    "Expand and contract instead of changing the type in place:\n"
                    f"    op.add_column(\"{step.table}\", sa.Column(\"{step.column}_new\", <new type>, nullable=True))\n"
                    "    # write both columns in the code, backfill in batches, switch reads,\n"
                    f"    # then op.drop_column(\"{step.table}\", \"{step.column}\") in a later revision",
                ),
            )
